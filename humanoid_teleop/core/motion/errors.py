"""Errors of the motion package (human input types, mocap and hand-skeleton readers)."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError, TeleopError


class MotionError(TeleopError):
    """Human motion data cannot be used as given."""


class MotionFileError(MotionError, ConfigError):
    """A motion file (BVH, keypoint array) is malformed; the message names file and line."""
