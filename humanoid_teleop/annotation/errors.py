"""Errors of the annotation package, rooted in :class:`TeleopError`."""

from __future__ import annotations

from humanoid_teleop.core.errors import TeleopError


class AnnotationError(TeleopError):
    """An annotation file or record is malformed; the message names the file, line and field."""
