"""One recorded episode (a bag folder) read into time-stamped arrays per stream.

Every stream keeps the time of each sample in [ns]: its sample time
(:mod:`humanoid_teleop.core.bag.clock`: the header stamp when the message has a header with a
positive stamp, otherwise the DDS publish time: commands are ``Float64MultiArray`` without a
header; a port reads episodes on the same clock). Messages are decoded with rosbags'
ROS 2 type store; the bag itself is read through :mod:`humanoid_teleop.core.bag.reader`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.clock import sample_time_ns
from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.metadata import PORT_KEY_PREFIX
from humanoid_teleop.core.bag.reader import (
    BagSummary,
    RawMessage,
    bag_content_hash,
    iter_messages,
    mcap_files,
    read_bag,
)
from humanoid_teleop.core.motion.topics import (
    CALIBRATED_TOPIC,
    ENGAGED_TOPIC,
    RECORDED_PREFIXES,
    STATE_TOPIC,
    used_input_topic,
)
from humanoid_teleop.core.retarget.calibration import later_calibrations_ns
from humanoid_teleop.core.robot import RobotDescription

from .errors import ExportInputError
from .resample import frame_grid

LOG = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float64]

INTENT_PREFIXES = RECORDED_PREFIXES
POSE_INPUTS = ("head", "left_wrist", "right_wrist")
HAND_INPUTS = ("left_hand", "right_hand")
ANNOTATION_TOPIC = "/recorder/annotation"

_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)


@dataclass
class Stream:
    """Samples of one topic: ``t_ns`` (n,) int64 and ``values`` (n, k) float64."""

    t_ns: npt.NDArray[np.int64]
    values: FloatArray

    @classmethod
    def build(cls, times: list[int], rows: list[Any], width: int | None = None) -> Stream:
        order = np.argsort(np.asarray(times, dtype=np.int64), kind="stable")
        t = np.asarray(times, dtype=np.int64)[order]
        values = np.asarray(rows, dtype=np.float64)[order] if rows else np.zeros((0, width or 0))
        return cls(t, values.reshape(len(t), -1))


@dataclass
class ImageStream:
    """Raw RGB images of one camera: ``t_ns`` (n,) and the frames, (H, W, 3) uint8 each."""

    t_ns: npt.NDArray[np.int64]
    frames: list[npt.NDArray[np.uint8]]


@dataclass
class EpisodeData:
    """What the exporter needs from one bag, on the bag's own clock [ns]."""

    path: Path
    summary: BagSummary
    content_hash: str
    custom: dict[str, str]
    joint_names: tuple[str, ...]
    position: Stream
    velocity: Stream | None
    effort: Stream | None
    commands: dict[str, Stream]
    wrenches: dict[str, Stream]
    images: dict[str, ImageStream]
    intent_poses: dict[str, Stream]
    intent_hands: dict[str, Stream]
    joy: Stream | None
    leader: Stream | None
    leader_names: tuple[str, ...]
    engaged: Stream | None
    estop: Stream | None
    annotations: list[tuple[int, str]] = field(default_factory=list)
    #: Sample times [ns] from which the operator input went through a new calibration (a
    #: re-centre, an engage after a pause: ``later_calibrations_ns``), sorted.
    recalibrations_ns: list[int] = field(default_factory=list)

    @property
    def robot(self) -> str:
        return self.custom.get("robot", "")


def _pose_row(pose: Any) -> list[float]:
    p, o = pose.position, pose.orientation
    return [p.x, p.y, p.z, o.x, o.y, o.z, o.w]


def _command_row(msg: Any, kind: str, names: tuple[str, ...]) -> list[float] | None:
    """Joint targets of one command in group order [rad or m], or None if it has none."""
    if kind == "forward":
        values = np.asarray(msg.data, dtype=np.float64)
    elif kind == "trajectory":
        if not len(msg.points):
            return None
        by_name = dict(zip(msg.joint_names, msg.points[-1].positions, strict=False))
        values = np.asarray([by_name.get(n, np.nan) for n in names], dtype=np.float64)
    else:
        by_name = dict(zip(msg.name, msg.position, strict=False))
        values = np.asarray([by_name.get(n, np.nan) for n in names], dtype=np.float64)
    if values.shape != (len(names),):
        return None
    return [float(v) for v in values]


def _needed(stamps: list[int], grid_ns: npt.NDArray[np.int64]) -> list[int]:
    """Indices of the samples any frame can use: both neighbours of every frame time, and
    the first and last sample (held, interpolated and nearest values need no others)."""
    t = np.asarray(stamps, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    last = len(ts) - 1
    left = np.clip(np.searchsorted(ts, grid_ns, side="right") - 1, 0, last)
    right = np.clip(np.searchsorted(ts, grid_ns, side="left"), 0, last)
    keep = np.unique(np.concatenate([left, right, [0, last]]))
    return sorted(order[keep].tolist())


def _time_ns(raw: RawMessage) -> int:
    """When ``raw`` counts [ns]: its sample time (header stamp, else publish time), or for
    an input teleop_node republished (``used_input_topic``) its publish time, when a step
    used it, as the port reads it."""
    stamped = raw.stamped and not used_input_topic(raw.topic)
    return sample_time_ns(stamped, raw.data, raw.publish_time_ns, raw.log_time_ns)


def _messages(files: list[Path], topics: list[str]) -> Iterator[RawMessage]:
    """The recorded messages of ``topics``, file by file in stored order."""
    for file in files:
        try:
            yield from iter_messages(file, topics=topics, log_time_order=False)
        except BagFormatError as err:
            raise ExportInputError(
                f"{err} (a recording cut short: `humanoid-teleop bag recover` repairs it)"
            ) from err


def read_episode(
    path: Path, description: RobotDescription, content_hash: str | None = None,
    fps: int | None = None,
) -> EpisodeData:  # fmt: skip
    """Decode the streams of ``path`` the exporter uses, for the robot ``description``.

    ``content_hash`` is the bag's :func:`bag_content_hash` when the caller computed it. With
    ``fps`` [Hz], only the samples the frames of that rate can use are decoded (the stamps of
    all are read from their CDR header), which gives the same frames for less work."""
    try:
        summary = read_bag(path)
    except (BagFormatError, OSError) as err:
        raise ExportInputError(f"{path}: unreadable episode: {err}") from err
    custom = dict(summary.metadata.custom_data)
    counts = summary.counts
    sensors = description.sensors
    joint_topic = sensors.joint_state_topic
    if not counts.get(joint_topic):
        raise ExportInputError(f"{path}: no messages on {joint_topic} (joint states)")
    command_topics = {
        spec.topic: (group, spec.kind) for group, spec in description.interfaces.items()
    }
    wrench_topics = {w.topic: w.name for w in sensors.wrenches}
    camera_topics = {c.topic: c for c in sensors.cameras}
    intent_topics: dict[str, str] = {}
    for name in (*POSE_INPUTS, *HAND_INPUTS, "joy", "leader_joints"):
        for prefix in INTENT_PREFIXES:
            if counts.get(prefix + name):
                intent_topics[prefix + name] = name
                break
    topics = [
        joint_topic, *command_topics, *wrench_topics, *camera_topics, *intent_topics,
        ENGAGED_TOPIC, CALIBRATED_TOPIC, STATE_TOPIC,
    ]  # fmt: skip
    topics = [t for t in topics if counts.get(t)]

    joint_names: tuple[str, ...] = ()
    pos_t: list[int] = []
    pos_rows: list[list[float]] = []
    vel_rows: list[list[float]] = []
    eff_rows: list[list[float]] = []
    cmd: dict[str, tuple[list[int], list[list[float]]]] = {}
    wrench: dict[str, tuple[list[int], list[list[float]]]] = {}
    images: dict[str, tuple[list[int], list[npt.NDArray[np.uint8]]]] = {}
    poses: dict[str, tuple[list[int], list[list[float]]]] = {}
    hands: dict[str, tuple[list[int], list[list[float]]]] = {}
    joy_t: list[int] = []
    joy_rows: list[list[float]] = []
    leader_t: list[int] = []
    leader_rows: list[list[float]] = []
    leader_names: tuple[str, ...] = ()
    engaged_t: list[int] = []
    engaged_rows: list[list[float]] = []
    calibrated_t: list[int] = []
    estop_t: list[int] = []
    estop_rows: list[list[float]] = []
    files = [path / f.path for f in summary.metadata.files] or mcap_files(path)
    raws = _messages(files, topics)
    # (sample time [ns], message): each message's time taken once
    selected: Iterable[tuple[int, RawMessage]] = ((_time_ns(raw), raw) for raw in raws)
    if fps is not None:
        by_topic: dict[str, tuple[list[int], list[RawMessage]]] = {}
        for raw in raws:
            stamps, kept = by_topic.setdefault(raw.topic, ([], []))
            stamps.append(_time_ns(raw))
            kept.append(raw)
        if joint_topic not in by_topic:
            raise ExportInputError(f"{path}: no messages on {joint_topic} (joint states)")
        joint_stamps = by_topic[joint_topic][0]
        grid = frame_grid(min(joint_stamps), max(joint_stamps), fps)
        selected = [
            (stamps[i], kept[i])
            for topic, (stamps, kept) in by_topic.items()
            for i in (
                range(len(kept))
                if topic in (ENGAGED_TOPIC, CALIBRATED_TOPIC, STATE_TOPIC)
                else _needed(stamps, grid)
            )
        ]
    for t, raw in selected:
        try:
            # rosbags builds each message type's class at run time: its fields are Any here
            msg: Any = _TYPESTORE.deserialize_cdr(raw.data, raw.type)
        except Exception as err:  # rosbags raises several error types for bad CDR
            raise ExportInputError(f"{path}: {raw.topic}: undecodable {raw.type}: {err}") from err
        topic = raw.topic
        if topic == joint_topic:
            if not joint_names:
                joint_names = tuple(msg.name)
            if tuple(msg.name) != joint_names or len(msg.position) != len(joint_names):
                raise ExportInputError(
                    f"{path}: {topic}: joint names or count change within the episode"
                )
            pos_t.append(t)
            pos_rows.append(list(msg.position))
            n = len(joint_names)
            vel_rows.append(list(msg.velocity) if len(msg.velocity) == n else [])
            eff_rows.append(list(msg.effort) if len(msg.effort) == n else [])
        elif topic in command_topics:
            group, kind = command_topics[topic]
            row = _command_row(msg, kind, description.groups[group])
            if row is None:
                LOG.warning("%s: %s: command of the wrong size skipped", path, topic)
                continue
            times, rows = cmd.setdefault(group, ([], []))
            times.append(t)
            rows.append(row)
        elif topic in wrench_topics:
            times, rows = wrench.setdefault(wrench_topics[topic], ([], []))
            f, m = msg.wrench.force, msg.wrench.torque
            times.append(t)
            rows.append([f.x, f.y, f.z, m.x, m.y, m.z])
        elif topic in camera_topics:
            camera = camera_topics[topic]
            if msg.encoding not in ("rgb8", "bgr8"):
                raise ExportInputError(
                    f"{path}: {topic}: image encoding {msg.encoding!r} (rgb8 or bgr8 expected)"
                )
            frame = np.frombuffer(bytes(msg.data), dtype=np.uint8)
            frame = frame.reshape(msg.height, msg.step)[:, : msg.width * 3]
            frame = frame.reshape(msg.height, msg.width, 3)
            if msg.encoding == "bgr8":
                frame = frame[:, :, ::-1]
            times, frames = images.setdefault(camera.name, ([], []))
            times.append(t)
            frames.append(np.ascontiguousarray(frame))
        elif topic in intent_topics:
            name = intent_topics[topic]
            if name in POSE_INPUTS:
                times, rows = poses.setdefault(name, ([], []))
                times.append(t)
                rows.append(_pose_row(msg.pose))
            elif name in HAND_INPUTS:
                if len(msg.poses) != 25:
                    continue
                times, rows = hands.setdefault(name, ([], []))
                times.append(t)
                rows.append([c for p in msg.poses for c in _pose_row(p)[:3]])
            elif name == "joy":
                joy_t.append(t)
                axes = list(msg.axes)[:JOY_AXES] + [0.0] * max(0, JOY_AXES - len(msg.axes))
                buttons = [float(b) for b in list(msg.buttons)[:JOY_BUTTONS]]
                joy_rows.append(axes + buttons + [0.0] * (JOY_BUTTONS - len(buttons)))
            else:
                if not leader_names:
                    leader_names = tuple(msg.name)[:LEADER_JOINTS]
                values = list(msg.position)[:LEADER_JOINTS]
                leader_t.append(t)
                leader_rows.append(values + [0.0] * (LEADER_JOINTS - len(values)))
        elif topic == ENGAGED_TOPIC:
            engaged_t.append(raw.publish_time_ns)
            engaged_rows.append([1.0 if msg.data else 0.0])
        elif topic == CALIBRATED_TOPIC:
            calibrated_t.append(t)
        elif topic == STATE_TOPIC:
            for status in msg.status:
                pairs = {kv.key: kv.value for kv in status.values}
                if "estopped" in pairs:
                    estop_t.append(t)
                    estop_rows.append([1.0 if pairs["estopped"] == "true" else 0.0])
    if not pos_t:
        raise ExportInputError(f"{path}: no messages on {joint_topic} (joint states)")
    annotations = []
    text = custom.get("annotations")
    if text:
        try:
            annotations = sorted((int(a["time_ns"]), str(a["text"])) for a in json.loads(text))
        except (ValueError, KeyError, TypeError) as err:
            raise ExportInputError(f"{path}: metadata.yaml custom_data.annotations: {err}") from err
    # the calibration in effect at the first engage (or, without one, the first recorded) is
    # the one the episode began with
    engages = [t for t, row in zip(engaged_t, engaged_rows, strict=True) if row[0]]
    start_ns = min(engages or calibrated_t or [0])
    recalibrations = later_calibrations_ns(calibrated_t, engages, start_ns)
    has_vel = all(len(r) == len(joint_names) for r in vel_rows)
    has_eff = all(len(r) == len(joint_names) for r in eff_rows)
    return EpisodeData(
        path=path,
        summary=summary,
        content_hash=content_hash or bag_content_hash(path, files),
        custom=custom,
        joint_names=joint_names,
        position=Stream.build(pos_t, pos_rows),
        velocity=Stream.build(pos_t, vel_rows) if has_vel else None,
        effort=Stream.build(pos_t, eff_rows) if has_eff else None,
        commands={g: Stream.build(*v) for g, v in cmd.items()},
        wrenches={w: Stream.build(*v) for w, v in wrench.items()},
        images={
            name: ImageStream(
                np.asarray(t, dtype=np.int64)[np.argsort(t, kind="stable")],
                [f[i] for i in np.argsort(t, kind="stable")],
            )
            for name, (t, f) in images.items()
        },
        intent_poses={k: Stream.build(*v) for k, v in poses.items()},
        intent_hands={k: Stream.build(*v) for k, v in hands.items()},
        joy=Stream.build(joy_t, joy_rows) if joy_t else None,
        leader=Stream.build(leader_t, leader_rows) if leader_t else None,
        leader_names=leader_names,
        engaged=Stream.build(engaged_t, engaged_rows) if engaged_t else None,
        estop=Stream.build(estop_t, estop_rows) if estop_t else None,
        annotations=annotations,
        recalibrations_ns=recalibrations,
    )


JOY_AXES = 8
"""Joy axes kept per frame (VR controllers: left 4 + right 4; pads fewer, zero-padded)."""
JOY_BUTTONS = 16
"""Joy buttons kept per frame (VR controllers: left 8 + right 8)."""
LEADER_JOINTS = 16
"""Leader-arm joints kept per frame (zero-padded)."""


def port_provenance(path: Path, custom: dict[str, str]) -> dict[str, Any]:
    """A ported episode's provenance from its metadata (``custom``: its ``custom_data``):
    each ``custom.port.<key>`` as ``<key>`` (source episode, its content hash and robot,
    its recorded outcome, the intent read, physics, tool version; docs/portability.md),
    ``report`` parsed from its JSON; ``{}`` for an episode recorded on its own robot. A
    report that is no JSON object raises :class:`ExportInputError` naming the key."""
    out: dict[str, Any] = {
        key[len(PORT_KEY_PREFIX) :]: value
        for key, value in custom.items()
        if key.startswith(PORT_KEY_PREFIX)
    }
    if "report" in out:
        try:
            report = json.loads(out["report"])
        except ValueError as err:
            raise ExportInputError(
                f"{path}: metadata.yaml custom_data.{PORT_KEY_PREFIX}report: {err}"
            ) from err
        if not isinstance(report, dict):
            raise ExportInputError(
                f"{path}: metadata.yaml custom_data.{PORT_KEY_PREFIX}report: not a JSON object"
            )
        out["report"] = report
    return out
