"""Operator input messages → :class:`HumanFrame` parts.

Two readers, one set of rules: :func:`part_from_message` is duck-typed on the message fields
(messages decoded from a bag by ``mcap_ros2``, offline retargeting; rclpy messages);
:class:`CdrPartReader` reads the serialized bytes a raw subscription gets (teleop_node, see
:mod:`humanoid_teleop.core.motion.cdr`). Inputs: ``PoseStamped`` for the head and wrists,
``PoseArray`` (25 WebXR joints, wrist first) for hands, ``Joy``, and ``JointState`` from a
leader device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import (
    WEBXR_HAND_JOINTS,
    HandSkeleton,
    JoyState,
    LeaderJoints,
    Pose,
)
from humanoid_teleop.core.motion.rotation import rotation_from_quat

PartValue = Pose | HandSkeleton | JoyState | LeaderJoints


POSE_FIELDS = frozenset({"head", "left_wrist", "right_wrist"})
HAND_FIELDS = frozenset({"left_hand", "right_hand"})


def pose_from_msg(msg: Any) -> Pose:
    """geometry_msgs/Pose → core Pose (see :func:`pose_from_values`)."""
    p, q = msg.position, msg.orientation
    return pose_from_values((p.x, p.y, p.z), (q.x, q.y, q.z, q.w))


def pose_from_values(
    position: tuple[float, float, float], quat_xyzw: tuple[float, float, float, float]
) -> Pose:
    """Position [m] and quaternion → core Pose (non-finite numbers are kept; validity checks
    them).

    Any finite non-zero quaternion is normalised (see :func:`rotation_from_quat`: scaled
    first, so (1e300, 0, 0, 0) works); a zero or non-finite one gives a NaN rotation. Plain
    float math, one array per field: this runs in every wrist and head callback."""
    position_m = np.array(position, dtype=np.float64)
    x, y, z, w = (float(v) for v in quat_xyzw)
    scale = max(abs(x), abs(y), abs(z), abs(w))
    if not (scale > 0.0 and math.isfinite(scale)):
        return Pose(position_m, np.full((3, 3), np.nan))
    return Pose(position_m, rotation_from_quat(x, y, z, w))


def hand_from_msg(msg: Any, source: str) -> HandSkeleton:
    """A 25-joint WebXR hand (PoseArray, wrist first) → HandSkeleton.

    Raises:
        ValueError: naming ``source`` when the array does not hold 25 poses.
    """
    positions = np.array([[p.position.x, p.position.y, p.position.z] for p in msg.poses])
    return hand_from_positions(positions.reshape(-1, 3), source)


def hand_from_positions(positions_m: np.ndarray, source: str) -> HandSkeleton:
    """An N×3 array of WebXR joint positions [m], wrist first → HandSkeleton.

    Raises:
        ValueError: naming ``source`` when N is not 25.
    """
    if len(positions_m) != len(WEBXR_HAND_JOINTS):
        raise ValueError(
            f"{source}: hand PoseArray has {len(positions_m)} poses; expected "
            f"{len(WEBXR_HAND_JOINTS)} WebXR joints, wrist first"
        )
    return HandSkeleton(np.array(positions_m, dtype=np.float64))


def joy_from_msg(msg: Any) -> JoyState:
    """sensor_msgs/Joy → JoyState."""
    return JoyState(tuple(float(a) for a in msg.axes), tuple(int(b) for b in msg.buttons))


def leader_from_msg(msg: Any) -> LeaderJoints:
    """sensor_msgs/JointState from a leader device → LeaderJoints."""
    return LeaderJoints(tuple(msg.name), np.asarray(msg.position, dtype=np.float64))


def part_from_message(field: str, msg: Any, source: str) -> PartValue:
    """The HumanFrame part ``field`` (``head``, ``left_wrist``, ..., ``leader``) from its
    message; ``source`` (topic, file) names it in errors (ValueError)."""
    if field in POSE_FIELDS:
        return pose_from_msg(msg.pose)
    if field in HAND_FIELDS:
        return hand_from_msg(msg, source)
    if field == "joy":
        return joy_from_msg(msg)
    return leader_from_msg(msg)


class CdrPartReader:
    """Reads one input's HumanFrame part from the serialized messages of its topic.

    One per input topic (a leader's joint names are decoded once per stream). ``source``
    (the topic) names it in errors (ValueError: malformed bytes, a hand without 25 poses).
    """

    def __init__(self, field: str, source: str) -> None:
        self.field = field
        self.source = source
        self._joint_states = cdr.JointStateDecoder(source)

    def read(self, data: bytes) -> tuple[float, PartValue]:
        """The message's header stamp [s] (0.0 when unset) and its part."""
        field, source = self.field, self.source
        if field in POSE_FIELDS:
            pose = cdr.decode_pose_stamped(data, source)
            return pose.header.stamp_s, pose_from_values(pose.position, pose.quat_xyzw)
        if field in HAND_FIELDS:
            header, poses = cdr.decode_pose_array(data, source)
            return header.stamp_s, hand_from_positions(poses[:, :3], source)
        if field == "joy":
            joy = cdr.decode_joy(data, source)
            return joy.header.stamp_s, JoyState(joy.axes, joy.buttons)
        header, names, positions = self._joint_states.decode(data)
        try:
            return header.stamp_s, LeaderJoints(names, positions)
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from err
