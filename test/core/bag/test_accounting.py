"""The accounting's reading of a message's header stamp and its skew against the reference
stream."""

from __future__ import annotations

import struct

from humanoid_teleop.core.bag.accounting import EpisodeAccounting, header_stamp_ns

from .conftest import joint_state


def test_header_stamp_of_little_and_big_endian_cdr() -> None:
    stamp_ns = 1_700_000_123_456_789_012
    assert header_stamp_ns(joint_state(stamp_ns, [0.1, 0.2])) == stamp_ns
    big = b"\x00\x00\x00\x00" + struct.pack(">iI", -3, 999_999_999) + b"\x00" * 8
    assert header_stamp_ns(big) == -3 * 1_000_000_000 + 999_999_999


def test_a_message_too_short_for_a_stamp_has_none() -> None:
    assert header_stamp_ns(b"\x00\x01\x00\x00\x01\x00\x00\x00\x02\x00\x00") is None


def test_skew_of_stamps_ahead_of_the_reference_is_measured_once_it_passes_them() -> None:
    """A stamp newer than the reference stream waits until a reference stamp passes it,
    then counts its distance to the nearest; reference messages with nothing waiting (the
    usual case) settle nothing and change no skew."""
    accounting = EpisodeAccounting("/joint_states")
    ms = 1_000_000
    accounting.on_written("/joint_states", 0, 1, 0)
    accounting.on_written("/joint_states", 4 * ms, 2, 4 * ms)  # nothing waiting
    accounting.on_written("/camera", 5 * ms, 1, 4 * ms)  # at the newest reference: 0 ms
    accounting.on_written("/camera", 6 * ms, 2, 7 * ms)  # ahead: waits for the reference
    assert accounting.topics["/camera"].skew_ms.count == 1
    accounting.on_written("/joint_states", 8 * ms, 3, 8 * ms)  # passes it: 1 ms away
    accounting.on_written("/joint_states", 12 * ms, 4, 12 * ms)  # nothing waiting
    assert accounting.sync_summary() == {
        "reference": "/joint_states",
        "skew": {"/camera": {"mean_ms": 0.5, "max_ms": 1.0}},
    }


def test_skew_of_stamps_behind_the_newest_reference_is_measured_at_once() -> None:
    """A stamp the reference stream already passed counts its distance to the nearest
    reference stamp right away: 0 ms at the newest one (the usual case), else the
    distance to the nearer of its neighbours."""
    accounting = EpisodeAccounting("/joint_states")
    ms = 1_000_000
    for sequence, stamp in enumerate((0, 4 * ms, 8 * ms), start=1):
        accounting.on_written("/joint_states", stamp, sequence, stamp)
    accounting.on_written("/camera", 9 * ms, 1, 8 * ms)  # the newest reference: 0 ms
    accounting.on_written("/camera", 9 * ms, 2, 3 * ms)  # nearest 4 ms: 1 ms
    accounting.on_written("/camera", 9 * ms, 3, 6 * ms)  # between 4 and 8 ms: 2 ms
    assert accounting.topics["/camera"].skew_ms.count == 3
    assert accounting.sync_summary() == {
        "reference": "/joint_states",
        "skew": {"/camera": {"mean_ms": 1.0, "max_ms": 2.0}},
    }
