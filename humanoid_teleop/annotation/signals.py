"""The time series the annotation rules and the Label Studio preview use, read from a bag.

Times are episode time [ns] (each message's sample time, :mod:`humanoid_teleop.core.bag.clock`:
its header stamp, not the log time a late delivery shifts, minus ``starting_time_ns`` of
``metadata.yaml``), so they share the clock of the sidecar's spans, of the operator's live
labels and of the exported frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores.ros2_jazzy import (
    geometry_msgs__msg__WrenchStamped as WrenchStamped,
)
from rosbags.typesys.stores.ros2_jazzy import (
    sensor_msgs__msg__JointState as JointState,
)

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.reader import BagSummary, RawMessage, iter_messages, read_bag
from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.robot import RobotDescription
from humanoid_teleop.core.robot.shared import shared_robot

from .errors import AnnotationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
SIDES = ("left", "right")
SPEED_WINDOW_NS = 200_000_000
"""Arm speed is the joint displacement over this window [ns] divided by its length."""


@dataclass
class Series:
    """Samples of one signal: ``t_ns`` (n,) episode time and ``values`` (n,)."""

    t_ns: IntArray
    values: FloatArray


@dataclass
class EpisodeSignals:
    """What the rules need from one episode."""

    path: Path
    summary: BagSummary
    start_ns: int
    duration_ns: int
    closure: dict[str, Series] = field(default_factory=dict)
    """Hand closure per side in [0, 1] (0 open, 1 closed) from the measured hand joints."""
    force_n: dict[str, Series] = field(default_factory=dict)
    """Wrist force magnitude per side [N] from the robot.yaml wrench sensors."""
    arm_speed: Series | None = None
    """Norm of the velocity of the non-hand joints [rad/s], from positions over 0.2 s."""
    live_labels: list[tuple[int, str]] = field(default_factory=list)
    """The operator's live labels: (episode time [ns], text)."""

    @property
    def custom(self) -> dict[str, str]:
        return dict(self.summary.metadata.custom_data)


def robot_description(name: str) -> RobotDescription:
    """The robot named in an episode's metadata (:func:`~humanoid_teleop.core.robot.shared.
    shared_robot`: parsed once per process)."""
    try:
        return shared_robot(name)
    except TeleopError as err:
        raise AnnotationError(f"robot {name!r} of the episode: {err}") from err


def episode_start(summary: BagSummary) -> tuple[int, int]:
    """(start [ns since the epoch], duration [ns]) of the episode, from metadata.yaml."""
    return summary.metadata.starting_time_ns, summary.metadata.duration_ns


def read_summary(path: Path) -> BagSummary:
    try:
        return read_bag(path)
    except (BagFormatError, OSError) as err:
        raise AnnotationError(f"{path}: unreadable episode: {err}") from err


def live_labels(summary: BagSummary) -> list[tuple[int, str]]:
    """The operator's ``/recorder/annotation`` labels as (episode time [ns], text)."""
    text = summary.metadata.custom_data.get("annotations", "")
    if not text:
        return []
    start = summary.metadata.starting_time_ns
    try:
        return sorted((max(0, int(a["time_ns"]) - start), str(a["text"])) for a in json.loads(text))
    except (ValueError, KeyError, TypeError) as err:
        raise AnnotationError(
            f"{summary.path}: metadata.yaml custom_data.annotations: {err}"
        ) from err


def _unexpected(path: Path, raw: RawMessage, expected: str) -> AnnotationError:
    return AnnotationError(f"{path}: {raw.topic} holds {raw.type}, not {expected}")


def read_signals(path: Path) -> EpisodeSignals:
    """Hand closure, wrist force and arm speed of the episode at ``path``."""
    summary = read_summary(path)
    custom = summary.metadata.custom_data
    robot = custom.get("robot", "")
    if not robot:
        raise AnnotationError(f"{path}: metadata.yaml custom_data has no robot name")
    description = robot_description(robot)
    start, duration = episode_start(summary)
    signals = EpisodeSignals(path, summary, start, duration, live_labels=live_labels(summary))
    joint_topic = description.sensors.joint_state_topic
    wrench_side: dict[str, str] = {}
    for wrench in description.sensors.wrenches:
        for side in SIDES:
            if side in wrench.name or side in wrench.frame_id:
                wrench_side[wrench.topic] = side
    counts = summary.counts
    topics = [t for t in (joint_topic, *wrench_side) if counts.get(t)]
    joint_t: list[int] = []
    joint_rows: list[npt.NDArray[np.float64]] = []
    names: tuple[str, ...] = ()
    forces: dict[str, tuple[list[int], list[float]]] = {}
    where = ""  # the message being decoded, for the line an undecodable one raises
    try:
        for raw in iter_messages(path, topics=topics):
            where = f"{raw.topic}: the message at {(raw.log_time_ns - start) / 1e9:.3f} s: "
            msg = _TYPESTORE.deserialize_cdr(raw.data, raw.type)
            t_ns = raw.sample_time_ns - start
            if raw.topic == joint_topic:
                if not isinstance(msg, JointState):
                    raise _unexpected(path, raw, "sensor_msgs/msg/JointState")
                if not names:
                    names = tuple(msg.name)
                if tuple(msg.name) != names:
                    continue
                joint_t.append(t_ns)
                joint_rows.append(np.asarray(msg.position, dtype=np.float64))
            else:
                if not isinstance(msg, WrenchStamped):
                    raise _unexpected(path, raw, "geometry_msgs/msg/WrenchStamped")
                f = msg.wrench.force
                times, values = forces.setdefault(wrench_side[raw.topic], ([], []))
                times.append(t_ns)
                values.append(float(np.sqrt(f.x * f.x + f.y * f.y + f.z * f.z)))
    except BagFormatError as err:
        raise AnnotationError(f"{path}: {err}") from err
    except AnnotationError:
        raise
    except Exception as err:  # rosbags raises several error types for bad CDR
        what = f"{type(err).__name__}: {err}"
        raise AnnotationError(f"{path}: {where or 'a message: '}undecodable ({what})") from err
    for side, (times, values) in forces.items():
        signals.force_n[side] = Series(np.asarray(times, np.int64), np.asarray(values))
    if not joint_t:
        return signals
    t = np.asarray(joint_t, dtype=np.int64)
    q = np.vstack(joint_rows)
    index = {n: i for i, n in enumerate(names)}
    hand_joints: set[str] = set()
    for side, hand in description.hands.items():
        if hand.kind == "none" or not hand.group:
            continue
        joints = description.groups[hand.group]
        hand_joints.update(joints)
        if not all(j in index for j in joints) or not hand.closed_positions:
            continue
        cols = [index[j] for j in joints]
        opened = np.asarray(hand.open_positions, dtype=np.float64)
        closed = np.asarray(hand.closed_positions, dtype=np.float64)
        travel = closed - opened
        moving = np.abs(travel) > 1e-9
        if not moving.any():
            continue
        # each moving joint's own fraction, averaged: not HandSpec.closure_of's projection
        # (the export's and the port report's), where a joint with little travel weighs
        # little: G1's Dex3 grip reads 0.66 here and 0.53 by projection (its thumb_1 goes past
        # its closed position), too near the rules' 0.5 to mark the grasp in time
        fraction = (q[:, cols][:, moving] - opened[moving]) / travel[moving]
        signals.closure[str(side)] = Series(t, np.clip(fraction.mean(axis=1), 0.0, 1.0))
    arm_cols = [i for n, i in index.items() if n not in hand_joints]
    if len(t) > 1 and arm_cols:
        # over SPEED_WINDOW_NS, so the noise of single samples does not read as motion
        back = np.searchsorted(t, t - SPEED_WINDOW_NS, side="left")
        keep = back < np.arange(len(t))
        dt = (t[keep] - t[back[keep]]).astype(np.float64) / 1e9
        dq = q[keep][:, arm_cols] - q[back[keep]][:, arm_cols]
        signals.arm_speed = Series(t[keep], np.linalg.norm(dq, axis=1) / dt)
    return signals
