"""A recorded message's sample time: header stamp, else publish time, else log time; the
array form gives the one-message rule's numbers."""

from __future__ import annotations

import struct

import numpy as np

from humanoid_teleop.core.bag.clock import HEADER_TYPES, sample_time_ns, sample_times_ns

JOINT_STATE = "sensor_msgs/msg/JointState"
FORWARD = "std_msgs/msg/Float64MultiArray"


def _stamped(sec: int, nanosec: int, little: bool = True, tail: bytes = b"\0" * 8) -> bytes:
    order = "<" if little else ">"
    return bytes([0, 1 if little else 0, 0, 0]) + struct.pack(order + "iI", sec, nanosec) + tail


def test_a_stamped_message_is_at_its_stamp_an_unstamped_one_at_its_publish_time() -> None:
    assert JOINT_STATE in HEADER_TYPES and FORWARD not in HEADER_TYPES
    assert sample_time_ns(JOINT_STATE, _stamped(2, 5), 7, 9) == 2_000_000_005
    assert sample_time_ns(JOINT_STATE, _stamped(2, 5, little=False), 7, 9) == 2_000_000_005
    # a stamp as a header-less type: its bytes mean something else
    assert sample_time_ns(FORWARD, _stamped(2, 5), 7, 9) == 7


def test_no_stamp_falls_back_to_publish_then_to_log_time() -> None:
    assert sample_time_ns(JOINT_STATE, _stamped(0, 0), 7, 9) == 7  # a zero stamp: unset
    assert sample_time_ns(JOINT_STATE, _stamped(-1, 0), 7, 9) == 7
    assert sample_time_ns(JOINT_STATE, b"\0\1\0\0\1", 7, 9) == 7  # too short for a stamp
    assert sample_time_ns(FORWARD, b"", 0, 9) == 9  # a file without publish times


def test_the_array_form_gives_each_messages_rule() -> None:
    """Random stamps (zero, negative, positive; either byte order; one message too short)
    and publish times (some zero): sample_times_ns equals sample_time_ns per message."""
    rng = np.random.default_rng(3)
    datas = []
    for k in range(200):
        sec = int(rng.choice([0, -2, int(rng.integers(1, 2_000_000_000))]))
        datas.append(_stamped(sec, int(rng.integers(0, 10**9)), little=bool(k % 3)))
    datas[17] = b"\0\1\0\0\5\0"
    publish = rng.integers(0, 3, 200) * rng.integers(1, 2**62, 200)
    log = rng.integers(1, 2**62, 200)
    buffer = np.frombuffer(b"".join(datas), dtype=np.uint8)
    ends = np.cumsum([len(d) for d in datas]).astype(np.int64)
    starts = ends - np.array([len(d) for d in datas], dtype=np.int64)
    for type_name in (JOINT_STATE, FORWARD):
        got = sample_times_ns(
            type_name, buffer, starts, ends, publish.astype(np.uint64), log.astype(np.uint64)
        )
        expected = [
            sample_time_ns(type_name, d, int(p), int(g))
            for d, p, g in zip(datas, publish, log, strict=True)
        ]
        assert got.tolist() == expected
