"""Errors of the bag package, all rooted in :class:`~humanoid_teleop.core.errors.TeleopError`."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError, EnvironmentProblem, TeleopError


class BagError(TeleopError):
    """A bag cannot be written, read or repaired; the message names the file."""


class BagFormatError(BagError):
    """A bag file or its metadata.yaml is malformed."""


class MessageDefinitionError(BagError):
    """A message type has no definition we can find (no .msg/.json in any share directory)."""


class DiskFullError(BagError, EnvironmentProblem):
    """The disk holding the bag ran out of space (or below the configured minimum)."""


class ProfileError(ConfigError):
    """A recording profile is malformed; the message names the file, key and allowed values."""
