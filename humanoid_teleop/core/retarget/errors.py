"""Errors of the retargeting layer."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError, TeleopError


class RetargetError(TeleopError):
    """Retargeting cannot proceed (bad calibration input, solver given bad data)."""


class RetargetConfigError(RetargetError, ConfigError):
    """A teleop profile or retargeter parameter is malformed; names the file, key and value."""


class PluginError(RetargetConfigError):
    """A retargeter plugin is missing, fails to load or does not fit the API version."""
