"""Linux evdev input: ``struct input_event`` parsing, device ioctls, hot-plug discovery.

No third-party ``evdev`` package is needed: an event is ``struct timeval`` (two native longs),
``u16 type``, ``u16 code``, ``s32 value``. :class:`EvdevDevice` reads any file descriptor with
that layout, so a recorded stream (a file or FIFO of raw events) goes through exactly the code
a ``/dev/input/event*`` node does.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import struct
from dataclasses import dataclass
from pathlib import Path

from humanoid_teleop.devices.errors import DeviceDisconnected, DeviceError

EVENT = struct.Struct("llHHi")
ABSINFO = struct.Struct("6i")  # value, minimum, maximum, fuzz, flat, resolution

EV_SYN = 0x00
EV_KEY = 0x01
EV_ABS = 0x03
SYN_REPORT = 0
SYN_DROPPED = 3

#: Names usable in mapping presets (linux/input-event-codes.h).
CODES: dict[str, int] = {
    "ABS_X": 0x00,
    "ABS_Y": 0x01,
    "ABS_Z": 0x02,
    "ABS_RX": 0x03,
    "ABS_RY": 0x04,
    "ABS_RZ": 0x05,
    "ABS_THROTTLE": 0x06,
    "ABS_RUDDER": 0x07,
    "ABS_GAS": 0x09,
    "ABS_BRAKE": 0x0A,
    "ABS_HAT0X": 0x10,
    "ABS_HAT0Y": 0x11,
    "BTN_SOUTH": 0x130,
    "BTN_EAST": 0x131,
    "BTN_C": 0x132,
    "BTN_NORTH": 0x133,
    "BTN_WEST": 0x134,
    "BTN_Z": 0x135,
    "BTN_TL": 0x136,
    "BTN_TR": 0x137,
    "BTN_TL2": 0x138,
    "BTN_TR2": 0x139,
    "BTN_SELECT": 0x13A,
    "BTN_START": 0x13B,
    "BTN_MODE": 0x13C,
    "BTN_THUMBL": 0x13D,
    "BTN_THUMBR": 0x13E,
    "BTN_DPAD_UP": 0x220,
    "BTN_DPAD_DOWN": 0x221,
    "BTN_DPAD_LEFT": 0x222,
    "BTN_DPAD_RIGHT": 0x223,
    "BTN_TRIGGER": 0x120,
    "BTN_THUMB": 0x121,
    "BTN_THUMB2": 0x122,
    "BTN_TOP": 0x123,
    "BTN_TOP2": 0x124,
    "BTN_PINKIE": 0x125,
    "BTN_BASE": 0x126,
    "BTN_BASE2": 0x127,
    "BTN_BASE3": 0x128,
    "BTN_BASE4": 0x129,
}


def _ioc(direction: int, number: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("E") << 8) | number


_IOC_READ = 2


def eviocgname(length: int = 256) -> int:
    return _ioc(_IOC_READ, 0x06, length)


def eviocgabs(code: int) -> int:
    return _ioc(_IOC_READ, 0x40 + code, ABSINFO.size)


@dataclass(frozen=True)
class InputEvent:
    """One kernel input event; ``time_s`` is the kernel timestamp [s]."""

    time_s: float
    type: int
    code: int
    value: int


@dataclass(frozen=True)
class AbsInfo:
    """Range of an absolute axis as the kernel reports it (raw units)."""

    minimum: int
    maximum: int
    flat: int = 0
    #: The axis value when it was queried (None: unknown, assume the middle of the range).
    value: int | None = None


def pack_event(event_type: int, code: int, value: int, time_s: float = 0.0) -> bytes:
    """Raw bytes of one event (for recordings and tests)."""
    sec = int(time_s)
    return EVENT.pack(sec, int((time_s - sec) * 1e6), event_type, code, value)


def parse_events(data: bytes) -> tuple[list[InputEvent], bytes]:
    """Split ``data`` into events; return them and the incomplete remainder."""
    usable = len(data) - len(data) % EVENT.size
    events = [
        InputEvent(sec + usec * 1e-6, etype, code, value)
        for sec, usec, etype, code, value in EVENT.iter_unpack(data[:usable])
    ]
    return events, data[usable:]


class EvdevDevice:
    """A readable evdev node (or a recorded stream with the same layout), non-blocking."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as err:
            raise DeviceDisconnected(f"cannot open {path}: {err.strerror}") from err
        self._pending = b""
        self.name = self._query_name()

    def _query_name(self) -> str:
        try:
            buffer = fcntl.ioctl(self._fd, eviocgname(), bytes(256))
        except OSError:
            return ""  # not an evdev node (a recording): the preset must be named
        return bytes(buffer).split(b"\0", 1)[0].decode(errors="replace")

    def absinfo(self, code: int) -> AbsInfo | None:
        """The kernel's range for axis ``code``, or None (no such axis / a recording)."""
        try:
            raw = fcntl.ioctl(self._fd, eviocgabs(code), bytes(ABSINFO.size))
        except OSError:
            return None
        value, minimum, maximum, _fuzz, flat, _res = ABSINFO.unpack(raw)
        return AbsInfo(minimum, maximum, flat, value)

    def read(self, wait_s: float = 0.0) -> list[InputEvent]:
        """Events that arrived (waiting up to ``wait_s`` [s] for the first).

        Raises:
            DeviceDisconnected: the pad was unplugged (ENODEV) or the stream ended.
        """
        ready, _, _ = select.select([self._fd], [], [], wait_s)
        if not ready:
            return []
        try:
            data = os.read(self._fd, EVENT.size * 64)
        except BlockingIOError:
            return []
        except OSError as err:
            if err.errno in (errno.ENODEV, errno.EIO, errno.EBADF):
                raise DeviceDisconnected(f"{self.path} unplugged ({err.strerror})") from err
            raise DeviceError(f"{self.path}: read failed: {err.strerror}") from err
        if not data:
            raise DeviceDisconnected(f"{self.path}: end of input stream (device gone)")
        events, self._pending = parse_events(self._pending + data)
        return events

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def device_names(directory: Path = Path("/dev/input")) -> dict[str, str]:
    """Readable ``event*`` nodes in ``directory`` and their device names."""
    found: dict[str, str] = {}
    for node in sorted(directory.glob("event*")):
        path = str(node)
        try:
            device = EvdevDevice(path)
        except DeviceError:
            continue
        found[path] = device.name
        device.close()
    return found
