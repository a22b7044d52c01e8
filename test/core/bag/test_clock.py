"""A recorded message's sample time: header stamp, else publish time, else log time; the
array form gives the one-message rule's numbers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from humanoid_teleop.core.bag.clock import sample_time_ns, sample_times_ns
from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource, is_stamped

JOINT_STATE = "sensor_msgs/msg/JointState"
FORWARD = "std_msgs/msg/Float64MultiArray"

#: Every stamped type the shipped robots' episodes hold (the readers' list before the rule
#: was read from definitions), and types that are not stamped.
STAMPED = (
    JOINT_STATE, "sensor_msgs/msg/Image", "sensor_msgs/msg/Joy",
    "geometry_msgs/msg/WrenchStamped", "geometry_msgs/msg/PoseStamped",
    "geometry_msgs/msg/PoseArray", "trajectory_msgs/msg/JointTrajectory",
    "diagnostic_msgs/msg/DiagnosticArray", "std_msgs/msg/Header",
    # an integrator's sensors: stamped by their definitions, on no list
    "sensor_msgs/msg/Imu", "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/CameraInfo",
)  # fmt: skip
UNSTAMPED = (
    FORWARD, "std_msgs/msg/Bool", "std_msgs/msg/String", "tf2_msgs/msg/TFMessage",
    "geometry_msgs/msg/Pose", "builtin_interfaces/msg/Time",
)  # fmt: skip


@pytest.mark.parametrize("type_name", STAMPED + UNSTAMPED)
def test_a_type_is_stamped_when_its_definition_starts_with_a_header(type_name: str) -> None:
    """The rule reads the installed definition (as a bag's schema carries it)."""
    definition = MessageDefinitionSource().get(type_name)
    assert definition.stamped == (type_name in STAMPED)
    assert is_stamped(type_name, definition.text) == (type_name in STAMPED)


def test_the_rule_reads_the_first_field_of_any_spelling() -> None:
    """Comments and blank lines before the first field; Header spelled three ways; a
    Header that is not the first field does not count."""
    for spelling in ("std_msgs/Header", "std_msgs/msg/Header", "Header"):
        assert is_stamped("pkg/msg/T", f"# about\n\n{spelling} header  # stamp\nfloat64 x\n")
    assert not is_stamped("pkg/msg/T", "float64 x\nstd_msgs/Header header\n")
    assert not is_stamped("pkg/msg/T", "")
    assert is_stamped("std_msgs/Header", "builtin_interfaces/Time stamp\nstring frame_id\n")


def _stamped(sec: int, nanosec: int, little: bool = True, tail: bytes = b"\0" * 8) -> bytes:
    order = "<" if little else ">"
    return bytes([0, 1 if little else 0, 0, 0]) + struct.pack(order + "iI", sec, nanosec) + tail


def test_a_stamped_message_is_at_its_stamp_an_unstamped_one_at_its_publish_time() -> None:
    assert sample_time_ns(True, _stamped(2, 5), 7, 9) == 2_000_000_005
    assert sample_time_ns(True, _stamped(2, 5, little=False), 7, 9) == 2_000_000_005
    # a stamp as a header-less type: its bytes mean something else
    assert sample_time_ns(False, _stamped(2, 5), 7, 9) == 7


def test_no_stamp_falls_back_to_publish_then_to_log_time() -> None:
    assert sample_time_ns(True, _stamped(0, 0), 7, 9) == 7  # a zero stamp: unset
    assert sample_time_ns(True, _stamped(-1, 0), 7, 9) == 7
    assert sample_time_ns(True, b"\0\1\0\0\1", 7, 9) == 7  # too short for a stamp
    assert sample_time_ns(False, b"", 0, 9) == 9  # a file without publish times


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
    for stamped in (True, False):
        got = sample_times_ns(
            stamped, buffer, starts, ends, publish.astype(np.uint64), log.astype(np.uint64)
        )
        expected = [
            sample_time_ns(stamped, d, int(p), int(g))
            for d, p, g in zip(datas, publish, log, strict=True)
        ]
        assert got.tolist() == expected
