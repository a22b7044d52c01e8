"""Errors of the simulated robot: bad limits, bad commands and bad scene settings."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError, TeleopError


class SimError(TeleopError):
    """Root of the errors the kinematic simulator raises."""


class SimConfigError(ConfigError, SimError):
    """A simulator setting or a joint limit it needs is missing or out of range."""


class InvalidCommand(SimError):
    """A joint command cannot be applied (NaN/inf, wrong length, unknown joint); nothing moved."""
