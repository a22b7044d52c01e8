"""Messages convert to core types and back without losing information."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geometry_msgs.msg import Point, PoseArray, Quaternion
from geometry_msgs.msg import Pose as PoseMsg

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.motion.messages import hand_from_msg, pose_from_msg
from humanoid_teleop.nodes import ros_conversions as conv


def test_time_round_trip_keeps_nanoseconds() -> None:
    """Seconds → Time → seconds is exact to the nanosecond."""
    stamp = conv.s_to_time(1234.000000321)
    assert (stamp.sec, stamp.nanosec) == (1234, 321)
    assert conv.time_to_s(stamp) == pytest.approx(1234.000000321, abs=1e-9)


def test_pose_round_trip_through_cdr_bytes() -> None:
    """A core pose written as PoseStamped CDR bytes (as the teleop node publishes its
    end-effector targets) is the same pose when rclpy reads the message."""
    from geometry_msgs.msg import PoseStamped
    from rclpy.serialization import deserialize_message

    angle = math.radians(30)
    quat = np.array([0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2)])
    pose = Pose.from_quat(np.array([0.1, -0.2, 1.3]), quat)
    data = cdr.encode_pose_stamped(7, 250, "pelvis", (*pose.position_m, *pose.quat_xyzw()))
    msg = deserialize_message(data, PoseStamped)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
        7,
        250,
        "pelvis",
    )
    back = pose_from_msg(msg.pose)
    np.testing.assert_allclose(back.position_m, pose.position_m)
    np.testing.assert_allclose(back.rotation, pose.rotation, atol=1e-12)


def test_clock_stamp_splits_the_clock_time() -> None:
    """clock_stamp gives the clock's nanoseconds as (sec, nanosec), nothing rounded."""
    from rclpy.clock import Clock, ClockType

    clock = Clock(clock_type=ClockType.SYSTEM_TIME)
    before = clock.now().nanoseconds
    sec, nanosec = conv.clock_stamp(clock)
    after = clock.now().nanoseconds
    assert 0 <= nanosec < 1_000_000_000
    assert before <= sec * 1_000_000_000 + nanosec <= after


def test_zero_quaternion_gives_an_invalid_pose() -> None:
    """A zero quaternion (an unset message) becomes a non-finite pose, not identity."""
    msg = PoseMsg(position=Point(x=1.0), orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=0.0))
    assert not pose_from_msg(msg).is_finite()


def test_hand_with_wrong_joint_count_names_the_topic() -> None:
    """A hand PoseArray that is not 25 joints is rejected with the topic in the message."""
    msg = PoseArray(poses=[PoseMsg() for _ in range(21)])
    with pytest.raises(ValueError, match="/operator/right_hand: hand PoseArray has 21 poses"):
        hand_from_msg(msg, "/operator/right_hand")


def _hand_msg(positions: np.ndarray) -> PoseArray:
    msg = PoseArray()
    msg.poses = [
        PoseMsg(position=Point(x=x, y=y, z=z), orientation=Quaternion(w=1.0))
        for x, y, z in positions.tolist()
    ]
    return msg


def test_hand_from_a_pose_array() -> None:
    """25 joint positions of a PoseArray become the HandSkeleton's, in order."""
    positions = np.random.default_rng(1).normal(size=(25, 3))
    np.testing.assert_allclose(hand_from_msg(_hand_msg(positions), "t").positions_m, positions)


def test_joint_slots_map_known_joints_and_report_unknown_ones() -> None:
    """Known joints are copied by name; unknown names are reported, not silently dropped."""
    positions = np.zeros(2)
    robot, message, unknown = conv.joint_slots(["b", "x", "a"], {"a": 0, "b": 1})
    positions[robot] = np.array([2.0, 9.0, 1.0])[message]
    assert unknown == ["x"]
    np.testing.assert_array_equal(positions, [1.0, 2.0])


def test_slots_with_values_keep_only_names_that_have_a_position() -> None:
    """A JointState with fewer positions than names fills only the slots it has values for."""
    robot, message, _unknown = conv.joint_slots(["b", "x", "a"], {"a": 0, "b": 1})
    positions = np.zeros(2)
    kept_robot, kept_message = conv.slots_with_values(robot, message, 1)
    positions[kept_robot] = np.array([2.0])[kept_message]
    np.testing.assert_array_equal(positions, [0.0, 2.0])
    assert len(conv.slots_with_values(robot, message, 0)[0]) == 0


def test_trajectory_command_reaches_target_after_horizon() -> None:
    """A trajectory command is one point at the horizon with the group's joint names."""
    msg = conv.trajectory_command(["j1", "j2"], [0.1, 0.2], 10.0, 0.004)
    assert msg.joint_names == ["j1", "j2"]
    assert list(msg.points[0].positions) == [0.1, 0.2]
    assert msg.points[0].time_from_start.nanosec == 4_000_000


@pytest.mark.parametrize("n", [1, 2, 7, 12])
def test_forward_command_bytes_match_rclpy(n: int) -> None:
    """rclpy reads back the message it would have built, from as many bytes as it writes
    (its padding bytes are left uninitialised, so bytes are not compared one to one)."""
    from rclpy.serialization import deserialize_message, serialize_message
    from std_msgs.msg import Float64MultiArray, MultiArrayDimension

    values = np.linspace(-1.5, 2.5, n)
    msg = Float64MultiArray(data=values.tolist())
    msg.layout.dim = [MultiArrayDimension(label="joints", size=n, stride=n)]
    ours = cdr.encode_forward_command(values)
    assert deserialize_message(ours, Float64MultiArray) == msg
    assert len(ours) == len(serialize_message(msg))


def test_cdr_readers_read_what_rclpy_serializes() -> None:
    """The teleop node's raw-subscription readers (core.motion.cdr) get every field from the
    bytes rclpy writes for PoseStamped, PoseArray, Joy and JointState."""
    from geometry_msgs.msg import PoseStamped
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import JointState, Joy

    pose = PoseStamped()
    pose.header.stamp = conv.s_to_time(12.25)
    pose.header.frame_id = "operator_frame"
    pose.pose = PoseMsg(
        position=Point(x=0.1, y=-0.2, z=1.5), orientation=Quaternion(x=0.5, y=-0.5, z=0.5, w=0.5)
    )
    fields = cdr.decode_pose_stamped(serialize_message(pose), "t")
    assert (fields.header.stamp_s, fields.header.frame_id) == (12.25, "operator_frame")
    assert fields.position == (0.1, -0.2, 1.5) and fields.quat_xyzw == (0.5, -0.5, 0.5, 0.5)

    positions = np.random.default_rng(2).normal(size=(25, 3))
    hand = _hand_msg(positions)
    hand.header.stamp = conv.s_to_time(3.0)
    hand.header.frame_id = "op"
    header, rows = cdr.decode_pose_array(serialize_message(hand), "t")
    assert (header.stamp_s, header.frame_id) == (3.0, "op")
    np.testing.assert_array_equal(rows[:, :3], positions)
    np.testing.assert_array_equal(rows[:, 6], 1.0)

    joy = cdr.decode_joy(serialize_message(Joy(axes=[0.5, -0.25], buttons=[0, 1, 1])), "t")
    assert (joy.axes, joy.buttons) == ((0.5, -0.25), (0, 1, 1))

    state = JointState(name=["waist", "knee_joint"], position=[0.3, -1.25], velocity=[1.0])
    _h, names, values = cdr.JointStateDecoder("t").decode(serialize_message(state))
    assert names == ("waist", "knee_joint")
    np.testing.assert_array_equal(values, [0.3, -1.25])
