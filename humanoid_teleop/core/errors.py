"""The one exception hierarchy of humanoid_teleop: every error we raise is a TeleopError."""

from __future__ import annotations


class TeleopError(Exception):
    """Root of every error humanoid_teleop raises on purpose."""


class ConfigError(TeleopError):
    """A configuration file or value is malformed; the message names the file and key."""


class EnvironmentProblem(TeleopError):
    """The machine cannot do what was asked (missing tool, no permission, no space)."""
