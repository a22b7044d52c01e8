"""Conversions between the pure core's types and ROS 2 messages (commands, poses, joint-state
slots, time).

Messages → HumanFrame parts are in :mod:`humanoid_teleop.core.motion.messages` (from message
fields, or from CDR bytes for raw subscriptions), and messages written as CDR bytes (poses,
forward commands) in :mod:`humanoid_teleop.core.motion.cdr`. Nodes stay thin: they touch
message fields only through these modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from builtin_interfaces.msg import Duration, Time
from numpy.typing import NDArray
from rclpy.clock import Clock
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

_NS = 1_000_000_000
FloatArray = NDArray[np.float64]


def time_to_s(stamp: Time) -> float:
    """A ROS time stamp as seconds [s]."""
    return float(stamp.sec) + float(stamp.nanosec) / _NS


def s_to_time(t_s: float) -> Time:
    """Seconds [s] as a ROS time stamp."""
    total_ns = round(t_s * _NS)
    return Time(sec=total_ns // _NS, nanosec=total_ns % _NS)


def clock_stamp(clock: Clock) -> tuple[int, int]:
    """The clock's time now as a stamp's (sec, nanosec), for messages written as CDR bytes."""
    sec, nanosec = divmod(clock.now().nanoseconds, _NS)
    return sec, nanosec


def s_to_duration(dt_s: float) -> Duration:
    """Seconds [s] as a ROS duration."""
    total_ns = round(dt_s * _NS)
    return Duration(sec=total_ns // _NS, nanosec=total_ns % _NS)


def joint_slots(
    names: Sequence[str], index_of: Mapping[str, int]
) -> tuple[NDArray[np.intp], NDArray[np.intp], list[str]]:
    """Where a JointState's values go: ``positions[robot] = values[message]``.

    Returns:
        (robot indices, message indices, names in the message the robot does not have).
    """
    robot, message, unknown = [], [], []
    for k, name in enumerate(names):
        index = index_of.get(name)
        if index is None:
            unknown.append(name)
        else:
            robot.append(index)
            message.append(k)
    return np.array(robot, dtype=np.intp), np.array(message, dtype=np.intp), unknown


def slots_with_values(
    robot: NDArray[np.intp], message: NDArray[np.intp], count: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The :func:`joint_slots` a message with ``count`` positions fills (a JointState may carry
    fewer positions than names, e.g. none when it reports only efforts)."""
    keep = message < count
    return robot[keep], message[keep]


def trajectory_command(
    names: Sequence[str], values: Sequence[float] | FloatArray, t_s: float, horizon_s: float
) -> JointTrajectory:
    """A one-point JointTrajectory reaching ``values`` after ``horizon_s`` [s]."""
    msg = JointTrajectory()
    msg.header.stamp = s_to_time(t_s)
    msg.joint_names = list(names)
    msg.points = [
        JointTrajectoryPoint(
            positions=[float(v) for v in values], time_from_start=s_to_duration(horizon_s)
        )
    ]
    return msg


def joint_state_command(
    names: Sequence[str], values: Sequence[float] | FloatArray, t_s: float
) -> JointState:
    """A JointState carrying target positions."""
    msg = JointState()
    msg.header.stamp = s_to_time(t_s)
    msg.name = list(names)
    msg.position = [float(v) for v in values]
    return msg
