"""Operator input messages → :class:`HumanFrame` parts.

Duck-typed on the message fields, so the same code reads live rclpy messages (teleop_node)
and messages decoded from a bag by ``mcap_ros2`` (offline retargeting): ``PoseStamped`` for
the head and wrists, ``PoseArray`` (25 WebXR joints, wrist first) for hands, ``Joy``, and
``JointState`` from a leader device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from humanoid_teleop.core.motion.frame import (
    WEBXR_HAND_JOINTS,
    HandSkeleton,
    JoyState,
    LeaderJoints,
    Pose,
)
from humanoid_teleop.core.motion.rotation import rotation_from_quat

PartValue = Pose | HandSkeleton | JoyState | LeaderJoints


def pose_from_msg(msg: Any) -> Pose:
    """geometry_msgs/Pose → core Pose (non-finite numbers are kept; validity checks them).

    A quaternion that is not finite or shorter than 1e-9 gives a NaN rotation. Plain float
    math, one array per field: this runs in every wrist and head callback."""
    p, q = msg.position, msg.orientation
    position = np.array((p.x, p.y, p.z), dtype=np.float64)
    x, y, z, w = float(q.x), float(q.y), float(q.z), float(q.w)
    finite = math.isfinite(x) and math.isfinite(y) and math.isfinite(z) and math.isfinite(w)
    if not finite or math.hypot(x, y, z, w) < 1e-9:
        return Pose(position, np.full((3, 3), np.nan))
    return Pose(position, rotation_from_quat(x, y, z, w))


def hand_from_msg(msg: Any, source: str) -> HandSkeleton:
    """A 25-joint WebXR hand (PoseArray, wrist first) → HandSkeleton.

    Raises:
        ValueError: naming ``source`` when the array does not hold 25 poses.
    """
    if len(msg.poses) != len(WEBXR_HAND_JOINTS):
        raise ValueError(
            f"{source}: hand PoseArray has {len(msg.poses)} poses; expected "
            f"{len(WEBXR_HAND_JOINTS)} WebXR joints, wrist first"
        )
    positions = np.array([[p.position.x, p.position.y, p.position.z] for p in msg.poses])
    return HandSkeleton(positions.astype(np.float64))


def joy_from_msg(msg: Any) -> JoyState:
    """sensor_msgs/Joy → JoyState."""
    return JoyState(tuple(float(a) for a in msg.axes), tuple(int(b) for b in msg.buttons))


def leader_from_msg(msg: Any) -> LeaderJoints:
    """sensor_msgs/JointState from a leader device → LeaderJoints."""
    return LeaderJoints(tuple(msg.name), np.asarray(msg.position, dtype=np.float64))


def part_from_message(field: str, msg: Any, source: str) -> PartValue:
    """The HumanFrame part ``field`` (``head``, ``left_wrist``, ..., ``leader``) from its
    message; ``source`` (topic, file) names it in errors (ValueError)."""
    if field in ("head", "left_wrist", "right_wrist"):
        return pose_from_msg(msg.pose)
    if field in ("left_hand", "right_hand"):
        return hand_from_msg(msg, source)
    if field == "joy":
        return joy_from_msg(msg)
    return leader_from_msg(msg)
