"""Errors of the episode porter, rooted in :class:`TeleopError`."""

from __future__ import annotations

from humanoid_teleop.core.errors import TeleopError


class PortError(TeleopError):
    """An episode could not be ported; the message names the episode, topic or field."""


class PortInputError(PortError):
    """A source is not an episode we can port (unreadable bag, missing topic, unknown robot)."""
