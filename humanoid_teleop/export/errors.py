"""Errors of the dataset exporter, rooted in :class:`TeleopError`."""

from __future__ import annotations

from humanoid_teleop.core.errors import TeleopError


class ExportError(TeleopError):
    """An episode or dataset could not be exported; the message names the file or topic."""


class ExportInputError(ExportError):
    """A source is not an episode we can export (missing topic, unknown robot, bad bag)."""


class VerifyError(ExportError):
    """A written dataset failed ``--verify``; the message lists every failed check."""
