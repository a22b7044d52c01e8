"""Errors of the robot-description layer; all are ConfigError subclasses."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError


class RobotConfigError(ConfigError):
    """A ``robot.yaml`` is malformed or disagrees with its model.

    The message names the file (with the line when known), the key path, the bad value and
    what is allowed or what exists.
    """


class RobotNotFoundError(RobotConfigError):
    """No robot of that name is on the search path; the message lists the robots found."""


class RobotModelError(RobotConfigError):
    """The kinematic model file (URDF / MJCF) is missing or pinocchio cannot parse it."""


class JointLimitsError(RobotConfigError):
    """Joint limits are malformed or unfit for their user; the message names the joint."""
