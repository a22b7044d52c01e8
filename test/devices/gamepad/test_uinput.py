"""A virtual pad through /dev/uinput read back by EvdevDevice (where the kernel allows it)."""

from __future__ import annotations

import fcntl
import os
import struct
import time
from pathlib import Path

import pytest

from humanoid_teleop.devices.gamepad.evdev import (
    CODES,
    EV_ABS,
    EV_KEY,
    EV_SYN,
    SYN_REPORT,
    EvdevDevice,
    device_names,
    pack_event,
)
from humanoid_teleop.devices.gamepad.mapping import PadState, load_preset, preset_for

UINPUT = Path("/dev/uinput")
pytestmark = pytest.mark.skipif(
    not os.access(UINPUT, os.W_OK),
    reason=f"{UINPUT} is absent or not writable here (no uinput module in this kernel/container)",
)


def _ioc(direction: int, number: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("U") << 8) | number


UI_DEV_CREATE = _ioc(0, 1, 0)
UI_DEV_DESTROY = _ioc(0, 2, 0)
UI_DEV_SETUP = _ioc(1, 3, 92)  # struct uinput_setup: input_id (8) + name[80] + ff_effects_max
UI_ABS_SETUP = _ioc(1, 4, 28)  # struct uinput_abs_setup: u16 code + pad + input_absinfo (24)
UI_SET_EVBIT = _ioc(1, 100, 4)
UI_SET_KEYBIT = _ioc(1, 101, 4)
UI_SET_ABSBIT = _ioc(1, 103, 4)


def test_virtual_xbox_pad_is_found_and_read() -> None:
    """A uinput pad named like an Xbox pad is discovered, gets the xbox preset, and reads."""
    fd = os.open(UINPUT, os.O_WRONLY | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, UI_SET_EVBIT, EV_KEY)
        fcntl.ioctl(fd, UI_SET_EVBIT, EV_ABS)
        for name in ("BTN_SOUTH", "BTN_TL"):
            fcntl.ioctl(fd, UI_SET_KEYBIT, CODES[name])
        for name in ("ABS_X", "ABS_Y"):
            fcntl.ioctl(fd, UI_SET_ABSBIT, CODES[name])
            fcntl.ioctl(
                fd, UI_ABS_SETUP, struct.pack("<HH6i", CODES[name], 0, 0, -32768, 32767, 16, 128, 0)
            )
        setup = struct.pack("<HHHH80sI", 3, 0x045E, 0x02EA, 1, b"Test Xbox Wireless Controller", 0)
        fcntl.ioctl(fd, UI_DEV_SETUP, setup)
        fcntl.ioctl(fd, UI_DEV_CREATE)
        time.sleep(0.5)
        path = next(p for p, n in device_names().items() if n == "Test Xbox Wireless Controller")
        device = EvdevDevice(path)
        preset = preset_for(device.name)
        assert preset.name == "xbox"
        assert device.absinfo(CODES["ABS_X"]) is not None
        state = PadState(load_preset("xbox"), {0: device.absinfo(0), 1: device.absinfo(1)})  # type: ignore[dict-item]
        os.write(fd, pack_event(EV_KEY, CODES["BTN_TL"], 1) + pack_event(EV_ABS, 0, -32768))
        os.write(fd, pack_event(EV_SYN, SYN_REPORT, 0))
        samples = state.apply(device.read(1.0))
        device.close()
        assert samples and samples[-1].axes[0] == pytest.approx(1.0)
    finally:
        fcntl.ioctl(fd, UI_DEV_DESTROY)
        os.close(fd)
