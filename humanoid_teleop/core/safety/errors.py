"""Errors of the safety layer."""

from __future__ import annotations

from humanoid_teleop.core.errors import ConfigError, TeleopError


class SafetyError(TeleopError):
    """The safety layer refuses a request (e.g. engaging with a non-finite measured state)."""


class SafetyConfigError(SafetyError, ConfigError):
    """A safety setting or limit is malformed; the message names the key and value."""
