"""Errors raised by operator devices; all are :class:`TeleopError` subclasses."""

from __future__ import annotations

from humanoid_teleop.core.errors import TeleopError


class DeviceError(TeleopError):
    """An operator device failed; the message names the device (path, port or address)."""


class DeviceDisconnected(DeviceError):
    """The device went away (unplugged pad, closed serial port, dead camera)."""


class DeviceTimeout(DeviceError):
    """The device did not answer within its timeout; the message names the timeout [s]."""


class FrameRejected(DeviceError):
    """An incoming frame was refused; ``reason`` is the counter it is accounted under."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
