"""evdev event parsing and device reading, with a recorded stream through the same code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from humanoid_teleop.devices.errors import DeviceDisconnected
from humanoid_teleop.devices.gamepad.evdev import (
    EV_KEY,
    EVENT,
    EvdevDevice,
    device_names,
    pack_event,
    parse_events,
)
from test.devices.gamepad import recording


def test_events_round_trip_and_keep_the_partial_tail() -> None:
    """Two packed events plus 5 stray bytes parse into two events and a 5-byte remainder."""
    data = pack_event(EV_KEY, 0x130, 1, 12.5) + pack_event(EV_KEY, 0x130, 0, 13.0) + b"12345"
    events, rest = parse_events(data)
    assert [(e.type, e.code, e.value) for e in events] == [(1, 0x130, 1), (1, 0x130, 0)]
    assert events[0].time_s == pytest.approx(12.5)
    assert rest == b"12345"


def test_event_is_the_kernel_size() -> None:
    """struct input_event is 24 bytes on 64-bit Linux (16 on 32-bit)."""
    assert EVENT.size == (24 if os.sys.maxsize > 2**32 else 16)


def test_recording_reads_through_the_device_code(tmp_path: Path) -> None:
    """A recorded stream file is read by EvdevDevice like /dev/input/event*."""
    path = tmp_path / "pad.events"
    path.write_bytes(recording.SESSION)
    device = EvdevDevice(str(path))
    try:
        events = device.read(0.1)
    finally:
        device.close()
    assert len(events) == len(recording.SESSION) // EVENT.size
    assert device.name == ""  # not an evdev node: no EVIOCGNAME


def test_end_of_stream_is_an_unplug_naming_the_device(tmp_path: Path) -> None:
    """After the last event, reading raises DeviceDisconnected naming the path."""
    path = tmp_path / "pad.events"
    path.write_bytes(recording.DEADMAN_DOWN)
    device = EvdevDevice(str(path))
    device.read(0.1)
    with pytest.raises(DeviceDisconnected, match=rf"{path}: end of input stream"):
        device.read(0.1)
    device.close()


def test_missing_device_is_a_clear_error() -> None:
    """Opening a pad that is not plugged in names the path."""
    with pytest.raises(DeviceDisconnected, match="cannot open /dev/input/event999"):
        EvdevDevice("/dev/input/event999")


def test_discovery_of_an_empty_directory_finds_nothing(tmp_path: Path) -> None:
    """With no event nodes, discovery returns no devices (rather than failing)."""
    assert device_names(tmp_path) == {}
