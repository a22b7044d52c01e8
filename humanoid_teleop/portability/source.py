"""A recorded episode read for porting: joints, commands, operator intent, objects.

All times are the messages' sample times [ns] (:mod:`humanoid_teleop.core.bag.clock`: the
header stamp, else the publish time, the export's clock too; not the log time, which carries
the transport's delays), turned into seconds since the episode's engage (the first ``true`` on
``/teleop/intent/engaged``; without it the first intent or command message, else the first
joint state: joint-only data).
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.metadata import BagMetadata
from humanoid_teleop.core.bag.reader import BagSummary, TopicMessages, gather_messages, read_bag
from humanoid_teleop.core.config import show_value
from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.motion.cdr import (
    JointStateDecoder,
    byte_order,
    decode_joint_trajectory,
    decode_joint_trajectory_span,
    pose_array_values,
    pose_stamped_values,
)
from humanoid_teleop.core.motion.rotation import (
    quat_to_matrix,
    quats_from_matrices,
    rotations_from_quats,
)
from humanoid_teleop.core.motion.topics import (
    CALIBRATED_TOPIC,
    EE_TARGET_PREFIX,
    ENGAGED_TOPIC,
    OPERATOR_PREFIX,
    RECORDED_PREFIXES,
    used_input_topic,
)
from humanoid_teleop.core.retarget.calibration import engaged_at, later_calibrations_ns
from humanoid_teleop.core.robot import RobotConfigError, RobotDescription
from humanoid_teleop.core.robot.shared import shared_robot
from humanoid_teleop.core.sim.scene import load_scene, scene_dirs

from .errors import PortInputError

FloatArray = NDArray[np.float64]
OBJECTS_TOPIC = "/sim/objects"
OBJECT_NAMES_TOPIC = "/sim/object_names"
OUTCOME_TOPIC = "/sim/task/outcome"
SCENE_KEY = "custom.scene"
#: Metadata key of the seed a scripted episode's scene was laid out with.
SCENE_SEED_KEY = "custom.scene_seed"
#: Metadata key of the physics.yaml hash a simulated episode (scripted, ported in physics)
#: was made with (:func:`~humanoid_teleop.core.sim.physics_config.physics_hash`).
PHYSICS_HASH_KEY = "custom.physics_hash"
SAMPLE_CLOCK_TOLERANCE_S = 5.0
"""How far [s] a stream's sample times (header stamps, publish times) may lie outside the
span the recorder logged the episode in: a live recording's worst delivery delay seen was
1.8 s (2026-12-06); a stream stamped by a clock not synchronised with the station's lies
hours or decades off, and is refused rather than aligned with the others by guesswork."""
_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
#: How far a recorded quaternion's length may be from 1 (float32 senders round to ~1e-7;
#: a zero or unnormalised quaternion is not a rotation).
QUAT_NORM_TOLERANCE = 1e-3


@dataclass
class Samples:
    """Times [s since engage] (n,) and values (n, ...) of one stream, in time order."""

    t_s: FloatArray
    values: FloatArray
    #: ``t_s`` as a list, for :meth:`index` (kept with the array it was made from).
    _times: tuple[FloatArray, list[float]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    #: A pose stream's rotation matrices, for :meth:`rotation_at` (kept with its values; None
    #: when one of them has no direction).
    _rotations: tuple[FloatArray, FloatArray | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def index(self, t_s: float) -> int:
        """The row of the newest sample at or before ``t_s`` (0 before the stream starts)."""
        # bisect on a list: the index np.searchsorted(side="right") gives, without its ~1.5
        # us per call (a port looks up several streams at every step)
        times = self._times
        if times is None or times[0] is not self.t_s:
            times = self._times = (self.t_s, self.t_s.tolist())
        return max(bisect.bisect_right(times[1], t_s) - 1, 0)

    def at(self, t_s: float) -> FloatArray:
        """The newest value at or before ``t_s`` (the first one before the stream starts)."""
        value: FloatArray = self.values[self.index(t_s)]
        return value

    def rotation_at(self, t_s: float) -> FloatArray:
        """The rotation matrix (read-only) of the newest pose at or before ``t_s``, of a
        stream of poses (x, y, z, qx, qy, qz, qw rows): ``quat_to_matrix`` of its
        quaternion, every row converted in one go at the first call (a port asks at every
        step; the same numbers); if one row has no direction, row by row (a row that is
        used raises, as quat_to_matrix does)."""
        i = self.index(t_s)
        cached = self._rotations
        if cached is None or cached[0] is not self.values:
            try:
                rotations: FloatArray | None = rotations_from_quats(self.values[:, 3:7])
                assert rotations is not None
                rotations.flags.writeable = False
            except ValueError:
                rotations = None
            cached = self._rotations = (self.values, rotations)
        if cached[1] is None:
            return quat_to_matrix(self.values[i, 3:7])
        rotation: FloatArray = cached[1][i]
        return rotation

    def interpolated(self, t_s: FloatArray) -> FloatArray:
        """Values linearly interpolated at the times ``t_s`` (held beyond both ends)."""
        flat = self.values.reshape(len(self.t_s), -1)
        out = np.empty((len(t_s), flat.shape[1]))
        for k in range(flat.shape[1]):
            out[:, k] = np.interp(t_s, self.t_s, flat[:, k])
        return out.reshape((len(t_s), *self.values.shape[1:]))


@dataclass
class SourceEpisode:
    """What the porter reads from one episode (see the module docstring for times)."""

    path: Path
    custom: dict[str, str]
    robot: str
    engage_ns: int
    joint_names: tuple[str, ...]
    joints: Samples
    commands: dict[str, Samples]
    wrists: dict[str, Samples]  # side -> (n, 7) x, y, z, qx, qy, qz, qw (operator frame)
    hands: dict[str, Samples]  # side -> (n, 25, 3) WebXR joints (operator frame)
    intent_source: str  # "/teleop/intent/", "/operator/" or "" (joint-only)
    objects: Samples | None  # (n, k, 7) poses in the source base frame
    object_names: tuple[str, ...]
    scene: str
    outcome: str
    ee_targets: dict[str, Samples] = field(default_factory=dict)
    #: The seed the recorded scene was laid out with (metadata ``custom.scene_seed``, as
    #: scripted episodes record it), else 0.
    scene_seed: int = 0
    #: Its MCAP files in split order (as its metadata.yaml lists them); empty: not listed.
    files: tuple[Path, ...] = ()
    #: Times [s since engage] from which the operator's input was mapped through a new
    #: calibration: each calibration on ``/teleop/intent/calibrated`` after the one the
    #: episode began with (a re-centre, an engage after a pause); in episodes recorded
    #: without that topic, each engage after the first. See :meth:`in_first_calibration`.
    recalibrations_s: tuple[float, ...] = ()
    #: ``sha256:`` content hash of its MCAP files (:func:`~humanoid_teleop.core.bag.reader.
    #: bag_content_hash`: what provenance, export and the catalog name it by); "": not taken.
    content_hash: str = ""
    #: What was left out of the streams read, one line each (messages with a NaN or an
    #: infinity, :func:`_finite_only`); the report repeats them as notes.
    left_out: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def duration_s(self) -> float:
        """Time from engage to the last joint state [s]."""
        return float(self.joints.t_s[-1])

    def first_mapped_wrist(self, side: str) -> tuple[FloatArray, FloatArray] | None:
        """The calibration in effect at the start, as recorded: :meth:`mapped_wrist` from the
        ``side`` arm's first operator wrist; None without a wrist or an EE target after it."""
        wrists = self.wrists.get(side)
        if wrists is None or not len(wrists.t_s):
            return None
        return self.mapped_wrist(side, float(wrists.t_s[0]))

    def mapped_wrist(self, side: str, t_s: float) -> tuple[FloatArray, FloatArray] | None:
        """The calibration in effect from ``t_s`` [s], as recorded: the ``side`` arm's first
        EE target (``/teleop/ee_target/<side>``) at or after it, and the newest wrist at or
        before that target (the one the pipeline mapped to it), as pose rows (x, y, z, qx, qy,
        qz, qw); None without either stream or a target from ``t_s`` on. Raises
        PortInputError naming the topic when a row is not a pose (non-finite, or a
        quaternion not of unit length within :data:`QUAT_NORM_TOLERANCE`)."""
        mapped = self._mapped(side, t_s)
        return None if mapped is None else mapped[1]

    def _mapped(self, side: str, t_s: float) -> tuple[int, tuple[FloatArray, FloatArray]] | None:
        """:meth:`mapped_wrist`'s rows, after the index of that wrist in its stream."""
        wrists, targets = self.wrists.get(side), self.ee_targets.get(side)
        if wrists is None or targets is None or not len(wrists.t_s):
            return None
        j = int(np.searchsorted(targets.t_s, t_s))
        if j >= len(targets.t_s):
            return None
        t_target = float(targets.t_s[j])
        i = wrists.index(t_target)
        rows = (wrists.values[i], targets.values[j])
        topics = (f"{self.intent_source}{side}_wrist", f"{EE_TARGET_PREFIX}{side}")
        for topic, row in zip(topics, rows, strict=True):
            norm = float(np.linalg.norm(row[3:7]))
            if not (np.isfinite(row).all() and abs(norm - 1.0) <= QUAT_NORM_TOLERANCE):
                shown = show_value([float(v) for v in row])
                raise PortInputError(
                    f"{self.path}: {topic} at {t_target:.3f} s: {shown} is not a pose (x, y, "
                    "z and a unit quaternion): the calibration in effect cannot be read from it"
                )
        return i, rows

    def in_first_calibration(self, side: str, scale: float) -> SourceEpisode:
        """This episode with the ``side`` operator input (wrist and hand) recorded after each
        of :attr:`recalibrations_s` re-expressed in the calibration the episode began with:
        moved and turned so that calibration maps it onto the EE targets the new one did (an
        operator who paused, moved their hand and engaged again, or re-centred, drove the
        robot on from where it was; read through the first calibration, the replay would
        jump by the hand's move). ``scale``: the calibration's position scale (a relative
        calibration maps wrist ``p``, ``R`` to ``a + scale (p - b)``, ``R c``). Each
        calibration is read where :meth:`first_mapped_wrist` reads the first one: its first
        EE target at or after it and the newest wrist at or before that. Raises
        PortInputError naming the topic when a later calibration cannot be read (no EE
        target recorded for that arm)."""
        wrists, hands = self.wrists.get(side), self.hands.get(side)
        if not self.recalibrations_s or wrists is None:
            return self
        first = self.first_mapped_wrist(side)
        if first is None:  # no EE target recorded for this arm
            raise PortInputError(
                f"{self.path}: the operator input was calibrated anew at "
                f"{self.recalibrations_s[0]:.3f} s, but no {EE_TARGET_PREFIX}{side} targets "
                "were recorded to read the new calibration from"
            )
        p_first, c_first = _calibration_pair(*first)
        positions = wrists.values[:, :3].copy()
        try:
            rotations = rotations_from_quats(wrists.values[:, 3:7])
        except ValueError as err:
            topic = f"{self.intent_source}{side}_wrist"
            raise PortInputError(f"{self.path}: {topic}: {err}") from None
        turns = np.broadcast_to(np.eye(3), (len(wrists.t_s), 3, 3)).copy()
        for t_s in self.recalibrations_s:
            mapped = self._mapped(side, t_s)
            if mapped is None:  # no target after it: no input was mapped through it
                break
            i = mapped[0]  # the wrist it was captured on, on
            p_new, c_new = _calibration_pair(*mapped[1])
            shift = (p_new[1] - p_first[1]) / scale - (p_new[0] - p_first[0])
            positions[i:] = wrists.values[i:, :3] + shift
            turns[i:] = c_new @ c_first.T
        moved_rotations = rotations @ turns
        values = np.column_stack([positions, quats_from_matrices(moved_rotations)])
        rebased = {**self.wrists, side: Samples(wrists.t_s, values)}
        moved_hands = self.hands
        if hands is not None:
            k = np.clip(np.searchsorted(wrists.t_s, hands.t_s, side="right") - 1, 0, None)
            local = np.matmul(hands.values - wrists.values[k, None, :3], rotations[k])
            points = positions[k, None, :] + np.matmul(local, moved_rotations[k].transpose(0, 2, 1))
            moved_hands = {**self.hands, side: Samples(hands.t_s, points)}
        return replace(self, wrists=rebased, hands=moved_hands)

    @property
    def command_rate_hz(self) -> float:
        """The recorded command rate [Hz] (median spacing of the first command stream; the
        joint-state rate for joint-only data), from the spacing in whole ns as the sample times
        are: 4 ms is 250.0 Hz, the rate a 250 Hz recorder stepped at, where the difference of
        two times in seconds gives 249.99999999999778 Hz, whose step replays another episode
        (its clock drifts from the recording's by ~1e-15 s a step)."""
        stream = next(iter(self.commands.values()), None) or self.joints
        steps = np.diff(stream.t_s)
        steps = steps[steps > 0]
        if not len(steps):
            raise PortInputError(f"{self.path}: cannot tell the command rate (one sample)")
        return 1e9 / max(round(float(np.median(steps)) * 1e9), 1)


def _calibration_pair(
    wrist: FloatArray, target: FloatArray
) -> tuple[tuple[FloatArray, FloatArray], FloatArray]:
    """A calibration read from a wrist row and the EE target row it was mapped to (x, y, z,
    qx, qy, qz, qw each): ((wrist position, target position) [m], ``c``: the rotation from
    the wrist's to the target's)."""
    r_wrist, r_target = quat_to_matrix(wrist[3:7]), quat_to_matrix(target[3:7])
    return (np.asarray(wrist[:3]), np.asarray(target[:3])), r_wrist.T @ r_target


def _pose_row(pose: Any) -> list[float]:
    p, o = pose.position, pose.orientation
    return [p.x, p.y, p.z, o.x, o.y, o.z, o.w]


def _samples(times: list[int], rows: list[Any], origin_ns: int) -> Samples:
    t: FloatArray = (np.asarray(times, dtype=np.int64) - origin_ns) * np.float64(1e-9)
    order = np.argsort(t, kind="stable")
    return Samples(t[order], np.asarray(rows, dtype=np.float64)[order])


def _float64_layout(data: bytes, source: str) -> tuple[str, int, int]:
    """Byte order, offset and count of a ``std_msgs/Float64MultiArray``'s values."""
    e = byte_order(data, source)
    u32 = struct.Struct(e + "I")
    offset = 4  # CDR offsets count from after the 4-byte encapsulation header
    (dims,) = u32.unpack_from(data, offset)
    offset += 4
    for _ in range(dims):
        offset += -(offset - 4) % 4
        (length,) = u32.unpack_from(data, offset)
        offset += 4 + length
        offset += -(offset - 4) % 4
        offset += 8  # size, stride
    offset += -(offset - 4) % 4
    offset += 4  # data_offset
    (count,) = u32.unpack_from(data, offset)
    offset += 4
    offset += -(offset - 4) % 8 if count else 0
    return e, offset, count


def decode_float64_array(data: bytes, source: str) -> FloatArray:
    """The values of a ``std_msgs/Float64MultiArray`` from its CDR bytes."""
    e, offset, count = _float64_layout(data, source)
    return np.frombuffer(data, dtype=e + "f8", count=count, offset=offset).astype(np.float64)


class Float64ArrayDecoder:
    """:func:`decode_float64_array` for one stream: a command stream repeats its layout
    (dimensions, count) in every message, so the bytes before the values are compared with
    the previous message's instead of walked again."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._prefix = b""  # the last message's bytes before its values
        self._dtype = "<f8"
        self._count = 0

    def decode(self, data: bytes) -> FloatArray:
        """The values of one message (see :func:`decode_float64_array`)."""
        prefix = self._prefix
        start = len(prefix)
        if not (prefix and len(data) >= start + 8 * self._count and data[:start] == prefix):
            e, start, self._count = _float64_layout(data, self.source)
            self._dtype = e + "f8"
            self._prefix = bytes(data[:start])
        values: FloatArray = np.frombuffer(
            data, dtype=self._dtype, count=self._count, offset=start
        ).astype(np.float64)
        return values


def scene_from_objects(names: tuple[str, ...]) -> str:
    """The shipped scene whose objects are ``names`` ('' when none or several match)."""
    found = []
    for folder in scene_dirs():
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
            try:
                config = load_scene(str(path))
            except TeleopError:  # a broken scene file is not this episode's scene
                continue
            if tuple(o.name for o in config.objects) == names:
                found.append(path.stem)
    return found[0] if len(set(found)) == 1 else ""


def _laid_out_alike(
    datas: list[bytes], start: int, stop: int, dtype: str, stamped: bool, free_tail: bool
) -> FloatArray | None:
    """The values at ``[start, stop)`` of every message as rows of float64, when every
    message has the first's length and the first's bytes everywhere else (except the header
    stamp, bytes 4-12, when ``stamped``, and what follows the values when ``free_tail``):
    then each has the first's layout and its values lie there. Else None."""
    size = len(datas[0])
    if set(map(len, datas)) != {size}:  # in C: one pass over ~3 000 messages
        return None
    rows = np.frombuffer(b"".join(datas), dtype=np.uint8).reshape(len(datas), size)
    fixed = np.ones(size, dtype=bool)
    fixed[start:stop] = False
    if stamped:
        fixed[4:12] = False
    if free_tail:
        fixed[stop:] = False
    # the fixed bytes as runs of columns, compared as views (a column mask copies every row)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], fixed, [False])))).tolist()
    first = rows[0]
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        if not (rows[:, begin:end] == first[begin:end]).all():
            return None
    # the columns copied once (np.array: always a new, writable array), then seen as float64
    # in native byte order without a second copy (a fresh ~4 MB copy per hand stream costs
    # more than the rest of this function)
    values: FloatArray = np.array(rows[:, start:stop]).view(dtype).astype(np.float64, copy=False)
    return values


def _alike_rows(
    topic: str,
    datas: list[bytes],
    joint_topic: str,
    joints: JointStateDecoder,
    command_topics: dict[str, str],
    commands: dict[str, Float64ArrayDecoder],
    named_commands: Mapping[str, tuple[tuple[str, ...], str]] | None = None,
) -> FloatArray | None:
    """A numeric stream's values, one row per message, read as one array when all its
    messages share the first's layout (the first decoded already, which checked it); None:
    decode them one by one. The same numbers as the one-by-one decoders, bit for bit."""
    first = datas[0]
    if len(datas) < 2:
        return None
    order = "<" if first[1] & 0x01 else ">"
    if topic == joint_topic:  # positions; the velocities and efforts after them are not read
        joints.decode(first)
        start, stop = joints.positions_span
        return _laid_out_alike(datas, start, stop, order + "f8", True, True)
    if topic in command_topics:
        e, start, count = _float64_layout(first, commands[topic].source)
        return _laid_out_alike(datas, start, start + 8 * count, e + "f8", False, False)
    if named_commands is not None and topic in named_commands:
        return _named_rows(datas, order, *named_commands[topic])
    if topic.endswith("_hand") or topic == OBJECTS_TOPIC:  # PoseArray: the poses end it
        poses = pose_array_values(first, topic)
        start = len(first) - 56 * len(poses)
        if first[start:] != poses.astype(order + "f8").tobytes():
            return None
        rows = _laid_out_alike(datas, start, len(first), order + "f8", True, False)
        return None if rows is None else rows.reshape(len(datas), len(poses), 7)
    start = len(first) - 56  # PoseStamped: the pose ends it
    if first[start:] != struct.pack(order + "7d", *pose_stamped_values(first, topic)):
        return None
    return _laid_out_alike(datas, start, len(first), order + "f8", True, False)


def _named_rows(
    datas: list[bytes], order: str, group: tuple[str, ...], kind: str
) -> FloatArray | None:
    """A ``trajectory`` or ``joint_state`` command stream's positions in the order of the
    group's joints ``group``, one row per message, when every message has the first's
    layout (:func:`_laid_out_alike`: the same names, so the same order): a trajectory's
    bytes all alike but the stamp and its last point's positions, a JointState's up to its
    positions (the velocities and efforts after them are not read). Else None."""
    first = datas[0]
    if kind == "trajectory":
        names, _, (start, stop) = decode_joint_trajectory_span(first, "")
        free_tail = False
    else:
        decoder = JointStateDecoder("")
        _, names, _ = decoder.decode(first)
        (start, stop), free_tail = decoder.positions_span, True
    rows = _laid_out_alike(datas, start, stop, order + "f8", True, free_tail)
    if rows is None:
        return None
    # the column of each name as _in_group_order pairs them (the first decoded already,
    # which refused a group joint without a position)
    column = dict(zip(names, range(rows.shape[1]), strict=False))
    return rows[:, [column[name] for name in group]]


def _in_group_order(
    names: tuple[str, ...], positions: FloatArray, group: tuple[str, ...], where: str
) -> FloatArray:
    """A command's ``positions`` (one per name in ``names``) [rad or m] in the order of the
    group's joints ``group``; PortInputError naming ``where`` when it misses one of them."""
    by_name = dict(zip(names, positions, strict=False))
    missing = [n for n in group if n not in by_name]
    if missing:
        raise PortInputError(f"{where}: a command without {', '.join(missing)}")
    return np.array([by_name[n] for n in group], dtype=np.float64)


def _check_sample_clock(
    path: Path, metadata: BagMetadata, messages: dict[str, TopicMessages]
) -> None:
    """Refuse a stream whose sample times lie more than :data:`SAMPLE_CLOCK_TOLERANCE_S`
    outside the span the recorder logged the episode in (``metadata``: its
    ``starting_time_ns`` and ``duration_ns``), naming the topic and how far."""
    tolerance_ns = round(SAMPLE_CLOCK_TOLERANCE_S * 1e9)
    start_ns = metadata.starting_time_ns
    end_ns = start_ns + metadata.duration_ns
    for topic, (_, times, _) in messages.items():
        if not times:
            continue
        first, last = min(times), max(times)
        if first < start_ns - tolerance_ns or last > end_ns + tolerance_ns:
            off_ns = start_ns - first if first < start_ns - tolerance_ns else last - end_ns
            side = "before" if first < start_ns - tolerance_ns else "after"
            raise PortInputError(
                f"{path}: {topic}: its header stamps lie {off_ns / 1e9:.1f} s {side} the span "
                "the recorder logged the episode in: stamped by a clock not synchronised with "
                "the recording station's (synchronise it, e.g. with chrony/PTP)"
            )


def scene_in_metadata(summary: BagSummary) -> str | None:
    """The scene :func:`read_source` gives the episode, from its metadata alone
    (``summary``): its ``custom.scene``, "" when it recorded no objects; None when only its
    object names can tell (``custom.scene`` missing, objects recorded)."""
    scene = summary.metadata.custom_data.get(SCENE_KEY, "")
    if scene:
        return scene
    return None if summary.counts.get(OBJECTS_TOPIC) else ""


def read_source(path: Path, description: RobotDescription | None = None) -> SourceEpisode:
    """Read episode ``path``; ``description`` is the source robot (else from its metadata)."""
    try:
        summary = read_bag(path)
    except (BagFormatError, OSError) as err:
        raise PortInputError(f"{path}: unreadable episode: {err}") from err
    custom = dict(summary.metadata.custom_data)
    files = summary.files
    robot = description.name if description is not None else custom.get("robot", "")
    if description is None:
        if not robot:
            raise PortInputError(
                f"{path}: metadata.yaml custom_data has no 'robot'; name it with --from ROBOT"
            )
        try:
            description = shared_robot(robot)
        except RobotConfigError as err:  # unknown, or its robot.yaml broken
            raise PortInputError(
                f"{path}: metadata.yaml custom_data robot: {err} (or name it with --from ROBOT)"
            ) from None
    counts = summary.counts
    joint_topic = description.sensors.joint_state_topic
    if not counts.get(joint_topic):
        raise PortInputError(f"{path}: no messages on {joint_topic} (joint states)")
    # the arms' and hands' commands: the goal path and closure come from those alone
    driven = {a.group for a in description.arms.values()}
    driven |= {h.group for h in description.hands.values() if h.group is not None}
    command_topics = {
        s.topic: g for g, s in description.interfaces.items() if s.kind == "forward" and g in driven
    }
    # trajectory and joint_state commands name their joints: read message by message
    named_commands = {
        s.topic: (g, s.kind)
        for g, s in description.interfaces.items()
        if s.kind != "forward" and g in driven
    }
    intent_source = ""
    for prefix in RECORDED_PREFIXES:
        if any(counts.get(f"{prefix}{s}_wrist") for s in ("left", "right")):
            intent_source = prefix
            break
    wanted = [
        joint_topic,
        *command_topics,
        *named_commands,
        ENGAGED_TOPIC,
        CALIBRATED_TOPIC,
        OBJECTS_TOPIC,
        OBJECT_NAMES_TOPIC,
    ]
    wanted += [EE_TARGET_PREFIX + s for s in ("left", "right")]
    if intent_source:
        wanted += [f"{intent_source}{s}_{p}" for s in ("left", "right") for p in ("wrist", "hand")]
    wanted = [t for t in wanted if counts.get(t)]
    # per stream its sample times and rows: a list of rows, or one array of them (_alike_rows)
    joint_t: list[int] = []
    joint_rows: Any = []
    names: tuple[str, ...] = ()
    cmd: dict[str, tuple[list[int], Any]] = {}
    poses: dict[str, tuple[list[int], Any]] = {}
    hands: dict[str, tuple[list[int], Any]] = {}
    obj_t: list[int] = []
    obj_rows: Any = []
    object_names: tuple[str, ...] = ()
    engaged: list[tuple[int, bool]] = []
    calibrated: list[int] = []
    joint_decoder = JointStateDecoder(f"{path}: {joint_topic}")
    places = {topic: f"{path}: {topic}" for topic in wanted}
    commands = {topic: Float64ArrayDecoder(f"{path}: {topic}") for topic in command_topics}
    named_decoders = {topic: JointStateDecoder(f"{path}: {topic}") for topic in named_commands}
    types: dict[str, str] = {}

    def decode(topic: str, t: int, data: bytes) -> None:
        """One message into the streams (names and object names kept as they change)."""
        nonlocal names, object_names
        where = places[topic]
        try:
            if topic == joint_topic:
                _, msg_names, positions = joint_decoder.decode(data)
                if not names:
                    names = msg_names
                if msg_names != names or len(positions) != len(names):
                    raise PortInputError(f"{where}: joint names or count change within the episode")
                joint_t.append(t)
                joint_rows.append(positions)
            elif topic in command_topics:
                group = command_topics[topic]
                values = commands[topic].decode(data)
                if len(values) != len(description.groups[group]):
                    raise PortInputError(
                        f"{where}: {len(values)} values for the "
                        f"{len(description.groups[group])} joints of {group}"
                    )
                times, rows = cmd.setdefault(group, ([], []))
                times.append(t)
                rows.append(values)
            elif topic in named_commands:
                group, kind = named_commands[topic]
                if kind == "trajectory":
                    msg_names, positions = decode_joint_trajectory(data, where)
                else:
                    _, msg_names, positions = named_decoders[topic].decode(data)
                times, rows = cmd.setdefault(group, ([], []))
                times.append(t)
                rows.append(_in_group_order(msg_names, positions, description.groups[group], where))
            elif topic == OBJECTS_TOPIC:
                obj_t.append(t)
                obj_rows.append(pose_array_values(data, where))
            elif topic.endswith("_wrist") or topic.startswith(EE_TARGET_PREFIX):
                times, pose_rows = poses.setdefault(topic, ([], []))
                times.append(t)
                pose_rows.append(pose_stamped_values(data, where))
            elif topic.endswith("_hand"):
                points = pose_array_values(data, where)
                if len(points) != 25:
                    raise PortInputError(
                        f"{where}: {len(points)} hand joints (25 WebXR joints expected)"
                    )
                times, hand_rows = hands.setdefault(topic, ([], []))
                times.append(t)
                hand_rows.append(points[:, :3])
            else:
                msg: Any = _TYPESTORE.deserialize_cdr(data, types[topic])
                if topic == ENGAGED_TOPIC:
                    engaged.append((t, bool(msg.data)))
                elif topic == CALIBRATED_TOPIC:
                    calibrated.append(t)
                elif topic == OBJECT_NAMES_TOPIC:
                    object_names = tuple(n for n in msg.data.split(",") if n)
        except PortInputError:
            raise
        except Exception as err:  # the CDR readers raise several error types
            raise PortInputError(f"{where}: undecodable {types[topic]}: {err}") from err

    # The numeric streams are gathered and decoded per stream: a stream whose messages all
    # share the first's layout (:func:`_laid_out_alike`) is one array view of their bytes;
    # any other is decoded message by message.
    streams = {joint_topic, OBJECTS_TOPIC, *command_topics, *named_commands}
    streams |= {t for t in wanted if t.endswith(("_wrist", "_hand"))}
    streams |= {t for t in wanted if t.startswith(EE_TARGET_PREFIX)}
    gathered: dict[str, tuple[list[int], list[bytes]]] = {}
    named_groups = {
        topic: (description.groups[group], kind) for topic, (group, kind) in named_commands.items()
    }
    try:
        # the intent topics at their publish times (used_input_topic): when a step used
        # them, the step whose commands (unstamped: at their publish times) followed them
        used = [t for t in wanted if used_input_topic(t)]
        messages = gather_messages(path, wanted, files, sample_times=True, publish_clock=used)
    except BagFormatError as err:
        raise PortInputError(f"{path}: {err}") from err
    clocked = (streams | set(named_commands)) & messages.keys()
    _check_sample_clock(path, summary.metadata, {t: messages[t] for t in clocked})
    for topic, (type_name, times, datas) in messages.items():
        types[topic] = type_name
        if topic in streams:
            gathered[topic] = (times, datas)
        else:
            for t, data in zip(times, datas, strict=True):
                decode(topic, t, data)
    for topic, (times, datas) in gathered.items():
        decode(topic, times[0], datas[0])  # the first as any message: its layout, checked
        rows = _alike_rows(
            topic, datas, joint_topic, joint_decoder, command_topics, commands, named_groups
        )
        if rows is None:
            for t, data in zip(times[1:], datas[1:], strict=True):
                decode(topic, t, data)
        elif topic == joint_topic:
            joint_t, joint_rows = times, rows
        elif topic in command_topics:
            cmd[command_topics[topic]] = (times, rows)
        elif topic in named_commands:
            cmd[named_commands[topic][0]] = (times, rows)
        elif topic == OBJECTS_TOPIC:
            obj_t, obj_rows = times, rows
        elif topic.endswith("_hand"):
            hands[topic] = (times, rows[:, :, :3])
        else:
            poses[topic] = (times, rows)
    if intent_source == OPERATOR_PREFIX and engaged:
        # raw device input goes on while the teleop node holds (a pause): what the robot
        # followed is the input while engaged, as the intent topics hold it
        for stream_rows in (poses, hands):
            for topic, (times, rows) in list(stream_rows.items()):
                if topic.startswith(OPERATOR_PREFIX):
                    kept = engaged_at(times, engaged)
                    if not kept.all():
                        stream_rows[topic] = (list(np.asarray(times)[kept]), np.asarray(rows)[kept])
    starts = sorted(t for t, on in engaged if on)
    if starts:
        # an episode started while engaged holds the latched engage (its publish time before
        # the episode: the recorder logs latched messages at the file's start): from its start
        engage_ns = max(starts[0], summary.metadata.starting_time_ns)
    else:
        firsts = [v[0][0] for v in cmd.values()] + [v[0][0] for v in poses.values()]
        engage_ns = min(firsts) if firsts else joint_t[0]
    left_out: list[str] = []
    joint_t, joint_rows = _finite_only(path, joint_topic, joint_t, joint_rows, engage_ns, left_out)
    topic_of = {g: t for t, g in command_topics.items()}
    topic_of |= {g: t for t, (g, _) in named_commands.items()}
    for group, (times, rows) in list(cmd.items()):
        cmd[group] = _finite_only(path, topic_of[group], times, rows, engage_ns, left_out)
    for stream_rows in (poses, hands):
        for topic, (times, rows) in list(stream_rows.items()):
            stream_rows[topic] = _finite_only(path, topic, times, rows, engage_ns, left_out)
    # the calibrations after the one the episode began with (a calibration at or before its
    # start: latched, of an operator engaged before the recorder started)
    later = later_calibrations_ns(calibrated, starts, engage_ns)
    # rows read as one array (_alike_rows) share one object count by their shape: only a
    # list of rows decoded one by one can change it (a walk over thousands of array rows)
    if isinstance(obj_rows, list) and len({len(r) for r in obj_rows}) > 1:
        raise PortInputError(f"{path}: {OBJECTS_TOPIC}: the number of objects changes")
    if len(obj_rows):
        obj_t, obj_rows = _finite_only(path, OBJECTS_TOPIC, obj_t, obj_rows, engage_ns, left_out)
    scene = scene_in_metadata(summary)
    if scene is None:  # only the recorded object names tell
        scene = scene_from_objects(object_names) if len(obj_rows) else ""
    elif scene:
        try:
            load_scene(scene)
        except TeleopError as err:  # a scene not shipped here, or its file broken
            raise PortInputError(f"{path}: metadata.yaml custom_data {SCENE_KEY}: {err}") from None
    prefix_len = len(intent_source)
    seed_text = custom.get(SCENE_SEED_KEY, "0")
    try:
        scene_seed = int(seed_text)
    except ValueError:
        raise PortInputError(
            f"{path}: metadata.yaml custom_data {SCENE_SEED_KEY}: {show_value(seed_text)} is "
            "not an integer (the seed the scene was laid out with)"
        ) from None
    return SourceEpisode(
        path=path,
        custom=custom,
        robot=description.name,
        engage_ns=engage_ns,
        joint_names=names,
        joints=_samples(joint_t, joint_rows, engage_ns),
        commands={g: _samples(*v, engage_ns) for g, v in cmd.items()},
        wrists={
            topic[prefix_len:].split("_")[0]: _samples(*v, engage_ns)
            for topic, v in poses.items()
            if topic.endswith("_wrist")
        },
        hands={
            topic[prefix_len:].split("_")[0]: _samples(*v, engage_ns) for topic, v in hands.items()
        },
        intent_source=intent_source,
        objects=_samples(obj_t, obj_rows, engage_ns) if len(obj_rows) else None,
        object_names=object_names,
        scene=scene,
        outcome=custom.get("outcome", ""),
        ee_targets={
            topic[len(EE_TARGET_PREFIX) :]: _samples(*v, engage_ns)
            for topic, v in poses.items()
            if topic.startswith(EE_TARGET_PREFIX)
        },
        scene_seed=scene_seed,
        files=tuple(files),
        recalibrations_s=tuple((t - engage_ns) / 1e9 for t in later),
        left_out=tuple(left_out),
    )


def _finite_only(
    path: Path, topic: str, times: Any, rows: Any, engage_ns: int, left_out: list[str]
) -> tuple[Any, Any]:
    """``(times, rows)`` of ``topic`` without its messages holding a NaN or an infinity (a
    broken driver's joint state, a device's pose it lost), which the port would otherwise
    feed to the target's pipeline or compare with; each stream that had some adds a line to
    ``left_out``. A stream with no finite message raises :class:`PortInputError` naming it."""
    array = np.asarray(rows, dtype=np.float64)
    if not len(array):
        return times, rows
    bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    if not bad.any():
        return times, rows
    if bad.all():
        raise PortInputError(f"{path}: {topic}: no message without a NaN or an infinity")
    first_s = (int(times[int(np.argmax(bad))]) - engage_ns) / 1e9
    left_out.append(
        f"{topic}: {int(bad.sum())} of {len(array)} messages hold a NaN or an infinity (the "
        f"first {first_s:.3f} s after the engage): left out, the samples around them used"
    )
    keep = ~bad
    return list(np.asarray(times)[keep]), array[keep]
