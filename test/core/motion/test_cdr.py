"""CDR readers against an encoder we did not write (rosbags), in both byte orders."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import HandSkeleton, JoyState, LeaderJoints, Pose
from humanoid_teleop.core.motion.messages import CdrPartReader

STORE = get_typestore(Stores.ROS2_KILTED)
T = STORE.types

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
frame_ids = st.text(max_size=12)
stamps = st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 999_999_999))
orders = st.booleans()


def _header(stamp: tuple[int, int], frame_id: str) -> Any:
    sec, nanosec = stamp
    return T["std_msgs/msg/Header"](
        stamp=T["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id
    )


def _pose(values: list[float]) -> Any:
    x, y, z, qx, qy, qz, qw = values
    return T["geometry_msgs/msg/Pose"](
        position=T["geometry_msgs/msg/Point"](x=x, y=y, z=z),
        orientation=T["geometry_msgs/msg/Quaternion"](x=qx, y=qy, z=qz, w=qw),
    )


def _bytes(msg: Any, little_endian: bool) -> bytes:
    return bytes(STORE.serialize_cdr(msg, msg.__msgtype__, little_endian=little_endian))


@settings(max_examples=60, deadline=None)
@given(stamps, frame_ids, st.lists(finite, min_size=7, max_size=7), orders)
def test_pose_stamped_fields_equal_the_encoded_ones(
    stamp: tuple[int, int], frame_id: str, values: list[float], little: bool
) -> None:
    msg = T["geometry_msgs/msg/PoseStamped"](header=_header(stamp, frame_id), pose=_pose(values))
    fields = cdr.decode_pose_stamped(_bytes(msg, little), "/operator/head")
    assert fields.header.frame_id == frame_id
    assert fields.header.stamp_s == stamp[0] + stamp[1] * 1e-9
    assert (*fields.position, *fields.quat_xyzw) == tuple(values)


@settings(max_examples=40, deadline=None)
@given(frame_ids, st.lists(st.lists(finite, min_size=7, max_size=7), max_size=30), orders)
def test_pose_array_rows_equal_the_encoded_poses(
    frame_id: str, poses: list[list[float]], little: bool
) -> None:
    msg = T["geometry_msgs/msg/PoseArray"](
        header=_header((1, 2), frame_id), poses=[_pose(p) for p in poses]
    )
    header, rows = cdr.decode_pose_array(_bytes(msg, little), "/operator/left_hand")
    assert header.frame_id == frame_id
    np.testing.assert_array_equal(rows, np.array(poses, dtype=np.float64).reshape(-1, 7))
    assert rows.dtype == np.float64 and rows.flags.writeable


@settings(max_examples=40, deadline=None)
@given(
    frame_ids,
    st.lists(st.floats(width=32, allow_nan=False), max_size=9),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=17),
    orders,
)
def test_joy_axes_and_buttons_equal_the_encoded_ones(
    frame_id: str, axes: list[float], buttons: list[int], little: bool
) -> None:
    msg = T["sensor_msgs/msg/Joy"](
        header=_header((5, 6), frame_id),
        axes=np.array(axes, dtype=np.float32),
        buttons=np.array(buttons, dtype=np.int32),
    )
    joy = cdr.decode_joy(_bytes(msg, little), "/operator/joy")
    assert (joy.header.frame_id, joy.axes, joy.buttons) == (frame_id, tuple(axes), tuple(buttons))


def _joint_state(
    names: list[str], positions: list[float], stamp: tuple[int, int] = (1, 2), velocity: bool = True
) -> Any:
    return T["sensor_msgs/msg/JointState"](
        header=_header(stamp, "base"),
        name=names,
        position=np.array(positions, dtype=np.float64),
        velocity=np.array(positions[:1] if velocity else [], dtype=np.float64),
        effort=np.array([], dtype=np.float64),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=12), st.data(), orders)
def test_joint_state_names_and_positions_equal_the_encoded_ones(
    names: list[str], data: st.DataObject, little: bool
) -> None:
    positions = data.draw(st.lists(finite, max_size=len(names)))
    decoder = cdr.JointStateDecoder("/joint_states")
    _header, got_names, got = decoder.decode(_bytes(_joint_state(names, positions), little))
    assert got_names == tuple(names)
    np.testing.assert_array_equal(got, np.array(positions, dtype=np.float64))


def test_joint_state_names_are_reused_while_they_repeat_and_reread_when_they_change() -> None:
    decoder = cdr.JointStateDecoder("/joint_states")
    _h, first, _p = decoder.decode(_bytes(_joint_state(["a", "b"], [1.0, 2.0]), True))
    _h, again, positions = decoder.decode(
        _bytes(_joint_state(["a", "b"], [3.0, 4.0], (9, 9)), True)
    )
    assert again is first
    np.testing.assert_array_equal(positions, [3.0, 4.0])
    _h, changed, _p = decoder.decode(_bytes(_joint_state(["a", "c"], [1.0, 2.0]), True))
    assert changed == ("a", "c")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.text(max_size=6), max_size=4), st.text(max_size=5), orders),
        min_size=1,
        max_size=8,
    )
)
def test_joint_state_stream_decodes_each_message_as_a_fresh_decoder_does(
    messages: list[tuple[list[str], str, bool]],
) -> None:
    """One decoder over a stream whose names, frame ids (name offsets) and byte orders change
    (names that extend the previous ones included) reads what a new decoder reads."""
    decoder = cdr.JointStateDecoder("/joint_states")
    for names, frame_id, little in [*messages, *messages]:
        msg = _joint_state(names, [0.5] * len(names))
        msg.header.frame_id = frame_id
        data = _bytes(msg, little)
        _h, got_names, got = decoder.decode(data)
        _h, fresh_names, fresh = cdr.JointStateDecoder("/joint_states").decode(data)
        assert got_names == fresh_names == tuple(names)
        np.testing.assert_array_equal(got, fresh)


@settings(max_examples=40, deadline=None)
@given(stamps, frame_ids, st.lists(finite, min_size=7, max_size=7), orders)
def test_pose_stamped_values_equal_the_decoded_pose(
    stamp: tuple[int, int], frame_id: str, values: list[float], little: bool
) -> None:
    """pose_stamped_values reads the 7 numbers decode_pose_stamped reads."""
    msg = T["geometry_msgs/msg/PoseStamped"](header=_header(stamp, frame_id), pose=_pose(values))
    data = _bytes(msg, little)
    fields = cdr.decode_pose_stamped(data, "/teleop/ee_target/right")
    assert cdr.pose_stamped_values(data, "/teleop/ee_target/right") == (
        *fields.position,
        *fields.quat_xyzw,
    )


@settings(max_examples=40, deadline=None)
@given(frame_ids, st.lists(st.lists(finite, min_size=7, max_size=7), max_size=30), orders)
def test_pose_array_values_equal_the_decoded_poses(
    frame_id: str, poses: list[list[float]], little: bool
) -> None:
    """pose_array_values reads the rows decode_pose_array reads."""
    msg = T["geometry_msgs/msg/PoseArray"](
        header=_header((1, 2), frame_id), poses=[_pose(p) for p in poses]
    )
    data = _bytes(msg, little)
    rows = cdr.pose_array_values(data, "/sim/objects")
    np.testing.assert_array_equal(rows, cdr.decode_pose_array(data, "/sim/objects")[1])
    assert rows.dtype == np.float64 and rows.flags.writeable


def _truncation_cases() -> list[tuple[Any, Any, int]]:
    """(reader, message, bytes at the end the reader does not read)."""
    head = _header((1, 2), "operator")
    return [
        (
            lambda d: cdr.decode_pose_stamped(d, "/operator/head"),
            T["geometry_msgs/msg/PoseStamped"](header=head, pose=_pose([1.0] * 7)),
            0,
        ),
        (
            lambda d: cdr.decode_pose_array(d, "/operator/head"),
            T["geometry_msgs/msg/PoseArray"](header=head, poses=[_pose([1.0] * 7)] * 2),
            0,
        ),
        (
            lambda d: cdr.pose_stamped_values(d, "/operator/head"),
            T["geometry_msgs/msg/PoseStamped"](header=head, pose=_pose([1.0] * 7)),
            0,
        ),
        (
            lambda d: cdr.pose_array_values(d, "/operator/head"),
            T["geometry_msgs/msg/PoseArray"](header=head, poses=[_pose([1.0] * 7)] * 2),
            0,
        ),
        (
            lambda d: cdr.decode_joy(d, "/operator/head"),
            T["sensor_msgs/msg/Joy"](
                header=head,
                axes=np.ones(3, dtype=np.float32),
                buttons=np.ones(4, dtype=np.int32),
            ),
            0,
        ),
        (
            lambda d: cdr.JointStateDecoder("/operator/head").decode(d),
            _joint_state(["shoulder", "elbow"], [1.0, 2.0], velocity=False),
            8,  # empty velocity and effort: only positions are read
        ),
    ]


@pytest.mark.parametrize(("read", "msg", "unread"), _truncation_cases())
def test_truncated_bytes_are_rejected_naming_the_topic(read: Any, msg: Any, unread: int) -> None:
    whole = _bytes(msg, True)
    read(whole)  # the whole message reads
    for end in (0, 3, 6, 17, 25, len(whole) - unread - 1):
        with pytest.raises(ValueError, match="/operator/head"):
            read(whole[:end])


def test_other_encapsulations_are_rejected_naming_the_topic() -> None:
    data = b"\x00\x07\x00\x00" + bytes(64)  # XCDR2 little endian
    with pytest.raises(ValueError, match=r"/operator/head: unsupported CDR encapsulation 00070000"):
        cdr.decode_pose_stamped(data, "/operator/head")


def test_part_reader_builds_each_input_part() -> None:
    """The CDR part reader gives the same parts, stamps included, the message path gives."""
    q = [0.0, 0.0, np.sin(0.3), np.cos(0.3)]
    wrist = T["geometry_msgs/msg/PoseStamped"](
        header=_header((7, 500_000_000), "operator"), pose=_pose([0.1, 0.2, 0.3, *q])
    )
    t_s, pose = CdrPartReader("right_wrist", "/operator/right_wrist").read(_bytes(wrist, True))
    expected = Pose.from_quat(np.array([0.1, 0.2, 0.3]), np.array(q))
    assert t_s == 7.5 and isinstance(pose, Pose)
    np.testing.assert_allclose(pose.rotation, expected.rotation, atol=1e-12)
    np.testing.assert_array_equal(pose.position_m, expected.position_m)

    joints = np.random.default_rng(3).normal(size=(25, 3))
    hand = T["geometry_msgs/msg/PoseArray"](
        header=_header((1, 0), "operator"), poses=[_pose([*p, 0, 0, 0, 1]) for p in joints]
    )
    _t, skeleton = CdrPartReader("left_hand", "/operator/left_hand").read(_bytes(hand, False))
    assert isinstance(skeleton, HandSkeleton)
    np.testing.assert_array_equal(skeleton.positions_m, joints)

    joy = T["sensor_msgs/msg/Joy"](
        header=_header((1, 0), ""),
        axes=np.array([0.5, -1.0], dtype=np.float32),
        buttons=np.array([1, 0, 1], dtype=np.int32),
    )
    _t, state = CdrPartReader("joy", "/operator/joy").read(_bytes(joy, True))
    assert state == JoyState((0.5, -1.0), (1, 0, 1))

    leader = _joint_state(["j1", "j2"], [0.25, -0.5])
    _t, angles = CdrPartReader("leader", "/operator/leader").read(_bytes(leader, True))
    assert isinstance(angles, LeaderJoints) and angles.names == ("j1", "j2")
    np.testing.assert_array_equal(angles.positions_rad, [0.25, -0.5])


def test_part_reader_errors_name_the_topic() -> None:
    hand = T["geometry_msgs/msg/PoseArray"](
        header=_header((1, 0), "operator"), poses=[_pose([0, 0, 0, 0, 0, 0, 1])] * 21
    )
    with pytest.raises(ValueError, match="/operator/right_hand: hand PoseArray has 21 poses"):
        CdrPartReader("right_hand", "/operator/right_hand").read(_bytes(hand, True))
    leader = _joint_state(["j1", "j2"], [0.25])
    with pytest.raises(ValueError, match="/operator/leader: leader joints: 2 names but 1"):
        CdrPartReader("leader", "/operator/leader").read(_bytes(leader, True))


@settings(max_examples=60, deadline=None)
@given(stamps, frame_ids, st.lists(finite, min_size=7, max_size=7))
def test_encoded_pose_stamped_decodes_with_rosbags(
    stamp: tuple[int, int], frame_id: str, values: list[float]
) -> None:
    data = cdr.encode_pose_stamped(*stamp, frame_id, tuple(values))
    msg = STORE.deserialize_cdr(data, "geometry_msgs/msg/PoseStamped")
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == stamp
    assert msg.header.frame_id == frame_id
    p, q = msg.pose.position, msg.pose.orientation
    assert (p.x, p.y, p.z, q.x, q.y, q.z, q.w) == tuple(values)
    assert data == _bytes(msg, True)


@settings(max_examples=40, deadline=None)
@given(stamps, frame_ids, st.lists(st.lists(finite, min_size=7, max_size=7), max_size=26))
def test_encoded_pose_array_decodes_with_rosbags(
    stamp: tuple[int, int], frame_id: str, poses: list[list[float]]
) -> None:
    rows = np.array(poses, dtype=np.float64).reshape(-1, 7)
    data = cdr.encode_pose_array(*stamp, frame_id, rows)
    msg = STORE.deserialize_cdr(data, "geometry_msgs/msg/PoseArray")
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
        *stamp,
        frame_id,
    )
    got = [
        [p.position.x, p.position.y, p.position.z, *(getattr(p.orientation, a) for a in "xyzw")]
        for p in msg.poses
    ]
    np.testing.assert_array_equal(np.array(got, dtype=np.float64).reshape(-1, 7), rows)
    assert data == _bytes(msg, True)


@settings(max_examples=40, deadline=None)
@given(
    stamps,
    frame_ids,
    st.lists(st.floats(width=32, allow_nan=False), max_size=9),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=17),
)
def test_encoded_joy_decodes_with_rosbags(
    stamp: tuple[int, int], frame_id: str, axes: list[float], buttons: list[int]
) -> None:
    data = cdr.encode_joy(*stamp, frame_id, axes, buttons)
    msg = STORE.deserialize_cdr(data, "sensor_msgs/msg/Joy")
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
        *stamp,
        frame_id,
    )
    assert (msg.axes.tolist(), msg.buttons.tolist()) == (axes, buttons)
    assert data == _bytes(msg, True)


@settings(max_examples=40, deadline=None)
@given(stamps, frame_ids, st.lists(st.text(max_size=20), max_size=12), st.data())
def test_encoded_joint_state_decodes_with_rosbags(
    stamp: tuple[int, int], frame_id: str, names: list[str], data: st.DataObject
) -> None:
    positions = data.draw(st.lists(finite, min_size=len(names), max_size=len(names)))
    encoded = cdr.JointStateEncoder(names, frame_id).encode(*stamp, positions)
    msg = STORE.deserialize_cdr(encoded, "sensor_msgs/msg/JointState")
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
        *stamp,
        frame_id,
    )
    assert msg.name == names
    np.testing.assert_array_equal(msg.position, np.array(positions, dtype=np.float64))
    assert len(msg.velocity) == len(msg.effort) == 0
    assert encoded == _bytes(msg, True)


def test_joint_state_encoder_refuses_a_wrong_number_of_positions() -> None:
    with pytest.raises(ValueError, match="2 joint names but positions of shape"):
        cdr.JointStateEncoder(["a", "b"]).encode(0, 0, [1.0])


def test_encoded_forward_command_decodes_with_rosbags() -> None:
    """A CDR reader we did not write (rosbags) decodes the values and the layout."""
    values = np.array([0.25, -1.0, 3.5, 1e-300, -0.0, 2.0, 7.125])
    decoded = STORE.deserialize_cdr(
        cdr.encode_forward_command(values), "std_msgs/msg/Float64MultiArray"
    )
    np.testing.assert_array_equal(decoded.data, values)
    (dim,) = decoded.layout.dim
    assert (dim.label, dim.size, dim.stride, decoded.layout.data_offset) == ("joints", 7, 7, 0)


@settings(max_examples=40, deadline=None)
@given(stamps, st.lists(st.tuples(frame_ids, frame_ids), max_size=6), st.data())
def test_encoded_tf_message_equals_rosbags_serialization(
    stamp: tuple[int, int], frames: list[tuple[str, str]], data: st.DataObject
) -> None:
    """The TFMessage encoder writes the bytes rosbags writes for the same transforms, for
    any frame names (every padding case) and numbers."""
    rows = data.draw(st.lists(st.lists(finite, min_size=7, max_size=7), min_size=len(frames),
                              max_size=len(frames)))  # fmt: skip
    numbers = np.array(rows, dtype=np.float64).reshape(len(frames), 7)
    encoded = cdr.TfMessageEncoder(frames).encode(*stamp, numbers[:, :3], numbers[:, 3:])
    vector, quaternion = T["geometry_msgs/msg/Vector3"], T["geometry_msgs/msg/Quaternion"]
    transforms = [
        T["geometry_msgs/msg/TransformStamped"](
            header=_header(stamp, parent),
            child_frame_id=child,
            transform=T["geometry_msgs/msg/Transform"](
                translation=vector(*row[:3]), rotation=quaternion(*row[3:])
            ),
        )
        for (parent, child), row in zip(frames, numbers.tolist(), strict=True)
    ]
    assert encoded == _bytes(T["tf2_msgs/msg/TFMessage"](transforms=transforms), True)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1)),
             min_size=1, max_size=4),
    st.lists(st.tuples(frame_ids, frame_ids), max_size=6),
    st.data(),
)  # fmt: skip
def test_reused_tf_message_encoder_writes_what_its_piecewise_layout_writes(
    stamp_list: list[tuple[int, int]], frames: list[tuple[str, str]], data: st.DataObject
) -> None:
    """One TfMessageEncoder reused over a stream (float64 arrays: filled into its laid-out
    message) writes at every stamp the bytes it puts together piece by piece for the same
    numbers given as lists, whatever the previous message held."""
    encoder = cdr.TfMessageEncoder(frames)
    for stamp in stamp_list:
        rows = data.draw(st.lists(st.lists(finite, min_size=7, max_size=7),
                                  min_size=len(frames), max_size=len(frames)))  # fmt: skip
        numbers = np.array(rows, dtype=np.float64).reshape(len(frames), 7)
        as_lists = [row[:3] for row in rows], [row[3:] for row in rows]
        filled = encoder.encode(*stamp, numbers[:, :3], numbers[:, 3:])
        if frames:  # (no numbers: lists make no n x 3 array)
            assert filled == encoder.encode(*stamp, *as_lists)
            assert filled[8:16] == struct.pack("<iI", *stamp)


def test_tf_message_encoder_refuses_a_stamp_out_of_range() -> None:
    """A stamp outside int32 seconds / uint32 nanoseconds is refused, not wrapped."""
    encoder = cdr.TfMessageEncoder([("a", "b")])
    with pytest.raises(struct.error):
        encoder.encode(2**31, 0, np.zeros((1, 3)), np.zeros((1, 4)))


def test_tf_message_encoder_refuses_a_wrong_number_of_transforms() -> None:
    """Numbers for another number of frame pairs are refused, naming both counts."""
    with pytest.raises(ValueError, match="2 transforms"):
        cdr.TfMessageEncoder([("a", "b"), ("b", "c")]).encode(
            0, 0, np.zeros((1, 3)), np.zeros((1, 4))
        )


@settings(max_examples=40, deadline=None)
@given(
    stamps,
    frame_ids,
    st.lists(
        st.tuples(
            st.integers(0, 3), frame_ids, frame_ids, frame_ids,
            st.lists(st.tuples(frame_ids, frame_ids), max_size=4),
        ),
        max_size=3,
    ),
)  # fmt: skip
def test_encoded_diagnostic_array_equals_rosbags_serialization(
    stamp: tuple[int, int],
    frame_id: str,
    statuses: list[tuple[int, str, str, str, list[tuple[str, str]]]],
) -> None:
    """The DiagnosticArray encoder writes the bytes rosbags writes for the same statuses."""
    fields = [cdr.DiagnosticStatusFields(lv, n, m, h, tuple(v)) for lv, n, m, h, v in statuses]
    encoded = cdr.encode_diagnostic_array(*stamp, frame_id, fields)
    key_value = T["diagnostic_msgs/msg/KeyValue"]
    message = T["diagnostic_msgs/msg/DiagnosticArray"](
        header=_header(stamp, frame_id),
        status=[
            T["diagnostic_msgs/msg/DiagnosticStatus"](
                level=lv, name=n, message=m, hardware_id=h,
                values=[key_value(key=k, value=x) for k, x in v],
            )
            for lv, n, m, h, v in statuses
        ],
    )  # fmt: skip
    assert encoded == _bytes(message, True)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(stamps, min_size=1, max_size=4),
    frame_ids,
    st.lists(finite, min_size=7, max_size=7),
    st.integers(0, 30),
)
def test_reused_pose_encoders_write_rosbags_bytes_at_every_stamp(
    stamp_list: list[tuple[int, int]], frame_id: str, numbers: list[float], count: int
) -> None:
    """One PoseStampedEncoder / PoseArrayEncoder, reused over a stream's stamps (as the
    porter's writer does), writes rosbags' serialization of each message."""
    stamped = cdr.PoseStampedEncoder(frame_id)
    array = cdr.PoseArrayEncoder(frame_id, count)
    pose = np.array(numbers)
    for stamp in stamp_list:
        expected = T["geometry_msgs/msg/PoseStamped"](header=_header(stamp, frame_id),
                                                      pose=_pose(numbers))  # fmt: skip
        assert stamped.encode(*stamp, pose[:3], pose[3:]) == _bytes(expected, True)
        expected = T["geometry_msgs/msg/PoseArray"](header=_header(stamp, frame_id),
                                                    poses=[_pose(numbers)] * count)  # fmt: skip
        assert array.encode(*stamp, np.tile(pose, (count, 1))) == _bytes(expected, True)


def test_pose_of_other_than_seven_numbers_is_refused() -> None:
    """A pose row of another length is one error naming its shape."""
    with pytest.raises(ValueError, match=r"7 numbers .* shape \(6,\)"):
        cdr.encode_pose_stamped(0, 0, "base", np.zeros(6))


joint_names = st.lists(st.text("abz_019", max_size=10), max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 1e6), st.sampled_from([0.004, 0.02, 1.0 / 30.0, 1.5]), joint_names, st.data())
def test_encoded_joint_trajectory_is_what_the_teleop_node_publishes(
    t_s: float, horizon_s: float, names: list[str], data: st.DataObject
) -> None:
    """rclpy's serialization of ``trajectory_command``'s message, byte for byte but for what
    rclpy leaves unwritten (alignment padding, and its buffer's bytes past the message end):
    rclpy reads ours back as that message, and rosbags writes rclpy's bytes as ours; the
    names and positions read back."""
    serialization = pytest.importorskip("rclpy.serialization")
    from trajectory_msgs.msg import JointTrajectory

    from humanoid_teleop.nodes.ros_conversions import trajectory_command

    positions = data.draw(st.lists(finite, min_size=len(names), max_size=len(names)))
    msg = trajectory_command(names, positions, t_s, horizon_s)
    (point,) = msg.points
    encoder = cdr.JointTrajectoryEncoder(
        names, point.time_from_start.sec, point.time_from_start.nanosec
    )
    encoded = encoder.encode(msg.header.stamp.sec, msg.header.stamp.nanosec, positions)
    assert serialization.deserialize_message(encoded, JointTrajectory) == msg
    rclpy_bytes = serialization.serialize_message(msg)[: len(encoded)]
    from_rclpy = STORE.deserialize_cdr(rclpy_bytes, "trajectory_msgs/msg/JointTrajectory")
    assert _bytes(from_rclpy, True) == encoded
    read_names, read_positions = cdr.decode_joint_trajectory(encoded, "/cmd")
    assert read_names == tuple(names)
    np.testing.assert_array_equal(read_positions, np.array(positions, dtype=np.float64))


def test_joint_trajectory_decodes_its_last_point_in_either_byte_order() -> None:
    """Several points (the export reads the last too), big endian, and none at all."""
    point = T["trajectory_msgs/msg/JointTrajectoryPoint"]
    duration = T["builtin_interfaces/msg/Duration"]
    points = [
        point(
            positions=np.array(p), velocities=np.array([1.0, 2.0]), accelerations=np.zeros(0),
            effort=np.array([3.0]), time_from_start=duration(sec=i, nanosec=5),
        )
        for i, p in enumerate(([0.5, 1.5], [-2.0, 4.0]))
    ]  # fmt: skip
    msg = T["trajectory_msgs/msg/JointTrajectory"](
        header=_header((1, 2), "base"), joint_names=["b", "a"], points=points
    )
    for little in (True, False):
        names, positions = cdr.decode_joint_trajectory(_bytes(msg, little), "/cmd")
        assert names == ("b", "a")
        np.testing.assert_array_equal(positions, [-2.0, 4.0])
    msg.points = []
    assert cdr.decode_joint_trajectory(_bytes(msg, True), "/cmd")[1].shape == (0,)
    with pytest.raises(ValueError, match="/cmd: malformed JointTrajectory"):
        cdr.decode_joint_trajectory(_bytes(msg, True)[:-3] + b"\x05\x00\x00", "/cmd")
