"""The accounting's reading of a message's header stamp."""

from __future__ import annotations

import struct

from humanoid_teleop.core.bag.accounting import header_stamp_ns

from .conftest import joint_state


def test_header_stamp_of_little_and_big_endian_cdr() -> None:
    stamp_ns = 1_700_000_123_456_789_012
    assert header_stamp_ns(joint_state(stamp_ns, [0.1, 0.2])) == stamp_ns
    big = b"\x00\x00\x00\x00" + struct.pack(">iI", -3, 999_999_999) + b"\x00" * 8
    assert header_stamp_ns(big) == -3 * 1_000_000_000 + 999_999_999


def test_a_message_too_short_for_a_stamp_has_none() -> None:
    assert header_stamp_ns(b"\x00\x01\x00\x00\x01\x00\x00\x00\x02\x00\x00") is None
