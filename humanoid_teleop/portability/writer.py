"""Episodes written offline with the recorder's own writer (:class:`BagRecorder`).

The porter and the offline scripted-episode generator produce episodes in the episode
format (docs/episode-format.md) without DDS: messages are serialized here and handed to the
recorder with simulated receive times, so the files, ``metadata.yaml``, the loss and sync
summaries are exactly what a live recording writes.
"""

from __future__ import annotations

import functools
import json
import struct
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.accounting import EpisodeAccounting, header_stamp_ns
from humanoid_teleop.core.bag.episode import (
    CachedMessage,
    EpisodeWriter,
    FileOptions,
    RecordedTopic,
)
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.msgdefs import (
    COMMAND_INTERFACE_TYPES,
    MessageDefinitionSource,
    default_prefixes,
)
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.cdr import (
    JointStateEncoder,
    JointTrajectoryEncoder,
    PoseArrayEncoder,
    PoseStampedEncoder,
    TfMessageEncoder,
    encode_forward_command,
    encode_pose_array,
    encode_pose_stamped,
)
from humanoid_teleop.core.motion.rotation import matrix_to_quat, quats_from_matrices
from humanoid_teleop.core.motion.topics import (
    CALIBRATED_TOPIC,
    EE_TARGET_PREFIX,
    ENGAGED_TOPIC,
    INTENT_PREFIX,
    STATE_TOPIC,
)
from humanoid_teleop.core.retarget.pipeline import PipelineOutput, TeleopPipeline
from humanoid_teleop.core.retarget.teleop_state import (
    STATE_RATE_HZ,
    STATE_TYPE,
    ClampTally,
    encode_teleop_state,
    teleop_status,
)
from humanoid_teleop.core.robot import RobotDescription, RobotModel
from humanoid_teleop.core.sim.robot_scene import RobotScene, object_frame
from humanoid_teleop.core.sim.settings import SimRobotSettings

from .errors import PortError

FloatArray = NDArray[np.float64]
_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
_LATCHED = QosProfile(durability="transient_local", depth=1)
_STREAM = QosProfile(depth=1000)
PUBLISHER = "humanoid_teleop.portability"
#: Messages (or bytes [B]) held before they are written in one batch (an image ~1 MB).
_BATCH_MESSAGES = 4096
_BATCH_BYTES = 8 * 1024 * 1024
POSE = "geometry_msgs/msg/PoseStamped"
POSE_ARRAY = "geometry_msgs/msg/PoseArray"
JOINT_STATE = "sensor_msgs/msg/JointState"
FORWARD = "std_msgs/msg/Float64MultiArray"
BOOL = "std_msgs/msg/Bool"
HEADER = "std_msgs/msg/Header"
STRING = "std_msgs/msg/String"
WRENCH = "geometry_msgs/msg/WrenchStamped"
IMAGE = "sensor_msgs/msg/Image"
TF = "tf2_msgs/msg/TFMessage"
#: The rate [Hz] a session's simulator publishes /tf at (sim_robot_node ``tf_rate_hz``).
TF_RATE_HZ = SimRobotSettings().tf_rate_hz
#: Each robot model's TF tree (built once per model: ~1-15 ms).
_SCENES: weakref.WeakKeyDictionary[RobotModel, RobotScene] = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=8)
def _definition_source(prefixes: tuple[Path, ...]) -> MessageDefinitionSource:
    """One message definition source per install prefixes for the whole process: every
    episode a port run writes declares the same ~10 types, each read from its ``.msg``
    files and hashed (~2-4 ms a port when each episode looked them up anew)."""
    return MessageDefinitionSource(prefixes)


def _string(text: str, offset: int) -> tuple[bytes, int]:
    """A CDR string at ``offset`` (after the 4-byte encapsulation): padding, length, text."""
    pad = -offset % 4
    data = text.encode() + b"\x00"
    return b"\x00" * pad + struct.pack("<I", len(data)) + data, offset + pad + 4 + len(data)


def encode_rgb_image(t_ns: int, frame_id: str, rgb: NDArray[np.uint8]) -> bytes:
    """A ``sensor_msgs/Image`` (rgb8, little endian) as CDR bytes, without a per-pixel copy
    through a message object (a 640 x 480 image is 0.9 MB)."""
    height, width, _ = rgb.shape
    sec, nanosec = _split_ns(t_ns)
    parts = [b"\x00\x01\x00\x00", struct.pack("<iI", sec, nanosec)]
    offset = 8
    text, offset = _string(frame_id, offset)
    parts.append(text)
    pad = -offset % 4
    parts.append(b"\x00" * pad + struct.pack("<II", height, width))
    offset += pad + 8
    text, offset = _string("rgb8", offset)
    parts.append(text)
    parts.append(b"\x00")  # is_bigendian
    offset += 1
    pad = -offset % 4
    parts.append(b"\x00" * pad + struct.pack("<II", 3 * width, height * width * 3))
    parts.append(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    return b"".join(parts)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).isoformat(timespec="milliseconds")


def _split_ns(t_ns: int) -> tuple[int, int]:
    return t_ns // 1_000_000_000, t_ns % 1_000_000_000


def _serialize(type_name: str, message: object) -> bytes:
    return bytes(_TYPESTORE.serialize_cdr(message, type_name))


def _header(t_ns: int, frame_id: str) -> Any:
    types = _TYPESTORE.types
    sec, nanosec = _split_ns(t_ns)
    stamp = types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)
    return types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


class EpisodeOutput:
    """One episode being written; times are [ns] since the Unix epoch (the simulated clock).

    The recorder's own parts, driven from this thread: :class:`EpisodeWriter` writes the
    files (latched copies at each file start, split rules, ``metadata.yaml``) and
    :class:`EpisodeAccounting` the loss and sync summaries, with the metadata keys the
    recorder writes. (The threaded :class:`BagRecorder` wakes its writer for every message,
    which costs more than the port itself.) Declare topics with :meth:`topic`, write
    messages in time order, then :meth:`close`. Messages are held and written in batches
    (up to 4096 messages or 8 MB), so the files and :attr:`accounting` are complete only
    once :meth:`close` returns."""

    def __init__(
        self,
        bag_dir: Path,
        name: str,
        info: EpisodeInfo,
        start_ns: int,
        sync_reference: str = "/joint_states",
    ) -> None:
        self._start_ns = int(start_ns)
        self._now_ns = int(start_ns)
        self._sequence: dict[str, int] = {}
        self._definitions = _definition_source(default_prefixes())
        self._topics: dict[str, RecordedTopic] = {}
        self._stamped: dict[str, bool] = {}
        self._joint_encoders: dict[str, JointStateEncoder] = {}
        self._latched: dict[str, list[CachedMessage]] = {}
        self._info = info
        self.accounting = EpisodeAccounting(sync_reference)
        record = info.custom_data()
        record.update({"episode": name, "start_time": _iso(start_ns), "outcome": "incomplete"})
        try:
            bag_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PortError(f"{bag_dir}: cannot create the output folder: {err.strerror}") from err
        self.episode = EpisodeWriter(bag_dir, name, FileOptions(reserve_bytes=0), record)
        self._started = False
        self._pending: list[tuple[str, int, bytes]] = []  # submitted, not yet written
        self._pending_bytes = 0

    def topic(self, name: str, type_name: str, latched: bool = False) -> None:
        """Record ``name`` (``package/msg/Type``) in this episode."""
        qos = (_LATCHED if latched else _STREAM,)
        topic = RecordedTopic(name, self._definitions.get(type_name), qos, latched)
        self._topics[name] = topic
        self._stamped[name] = topic.definition.stamped
        if latched:
            self._latched[name] = []
        self.episode.add_topic(topic)

    def _latched_now(self) -> dict[str, list[CachedMessage]]:
        return dict(self._latched)

    def _flush(self) -> None:
        """Write the held messages, in order, with the recorder's writer and accounting."""
        pending = self._pending
        self._pending, self._pending_bytes = [], 0
        if not pending:
            return
        if not self._started:
            self.episode.begin(self._start_ns, {})
            self._started = True
        sequences, latched, stamped = self._sequence, self._latched, self._stamped
        now = self._now_ns
        # (topic, receive time, publish time, sequence, data): received when submitted
        messages: list[tuple[str, int, int, int, bytes]] = []
        for topic, t_ns, data in pending:
            t_ns = int(t_ns)
            if t_ns > now:
                now = self._now_ns = t_ns
            sequence = sequences.get(topic, 0) + 1
            sequences[topic] = sequence
            if topic in latched:
                latched[topic] = [CachedMessage(now, t_ns, sequence, data)]
            messages.append((topic, now, t_ns, sequence, data))
        for topic, sequence in sequences.items():
            self.accounting.topic(topic).received = sequence
        # the episode never splits (no split limit): the latched copies are only asked for
        # by the first file, which begin opened
        self.episode.write_batch(messages, self._latched_now)
        on_written = self.accounting.on_written
        for topic, receive_ns, _, sequence, data in messages:
            stamp = header_stamp_ns(data) if stamped[topic] else None
            on_written(topic, receive_ns, sequence, stamp, PUBLISHER)

    def raw(self, topic: str, t_ns: int, data: bytes) -> None:
        """A message already serialized (CDR bytes), e.g. copied from another episode; every
        message of the episode comes through here (RobotEpisode's ~8 per port step)."""
        # Held, then written in batches (a port's step loop goes faster when the writer's
        # code and data stay warm over many messages than when they alternate with the
        # pipeline's every step): the same messages in the same order, the same files.
        self._pending.append((topic, t_ns, data))
        self._pending_bytes += len(data)
        if len(self._pending) >= _BATCH_MESSAGES or self._pending_bytes >= _BATCH_BYTES:
            self._flush()

    def pose(self, topic: str, t_ns: int, frame_id: str, xyz_xyzw: FloatArray) -> None:
        """A PoseStamped: position [m] and quaternion (x, y, z, w)."""
        sec, nanosec = _split_ns(t_ns)
        self.raw(topic, t_ns, encode_pose_stamped(sec, nanosec, frame_id, xyz_xyzw))

    def pose_array(self, topic: str, t_ns: int, frame_id: str, poses: FloatArray) -> None:
        """A PoseArray from an N x 7 array (x, y, z [m], qx, qy, qz, qw)."""
        sec, nanosec = _split_ns(t_ns)
        self.raw(topic, t_ns, encode_pose_array(sec, nanosec, frame_id, poses))

    def joint_state(
        self,
        topic: str,
        t_ns: int,
        names: Sequence[str],
        position: FloatArray,
        velocity: FloatArray | None = None,
        effort: FloatArray | None = None,
    ) -> None:
        """A JointState: positions [rad or m], velocities [rad/s], efforts [N m] (optional)."""
        encoder = self._joint_encoders.get(topic)
        # the same names tuple every step (the model's): its identity, before a compare of
        # every name
        if encoder is None or (encoder.names is not names and encoder.names != tuple(names)):
            encoder = self._joint_encoders[topic] = JointStateEncoder(names)
        sec, nanosec = _split_ns(t_ns)
        if velocity is None and effort is None:  # the encoder's empty tail is theirs
            self.raw(topic, t_ns, encoder.encode(sec, nanosec, position))
            return
        data = encoder.encode(sec, nanosec, position)[:-8]  # without the empty tail
        for values in (velocity, effort):
            array = np.zeros(0) if values is None else np.asarray(values, dtype="<f8")
            head = struct.pack("<I", len(array))
            pad = -(len(data) + 4 - 4) % 8 if len(array) else 0
            data += head + b"\x00" * pad + array.tobytes()
        self.raw(topic, t_ns, data)

    def image(self, topic: str, t_ns: int, frame_id: str, rgb: NDArray[np.uint8]) -> None:
        """A sensor_msgs/Image (``rgb8``) of an (h, w, 3) uint8 array."""
        self.raw(topic, t_ns, encode_rgb_image(t_ns, frame_id, rgb))

    def flag(self, topic: str, t_ns: int, value: bool) -> None:
        """A std_msgs/Bool."""
        self.raw(topic, t_ns, struct.pack("<4s?", b"\x00\x01\x00\x00", value))

    def header(self, topic: str, t_ns: int, frame_id: str) -> None:
        """A std_msgs/Header stamped ``t_ns`` [ns]."""
        sec, nanosec = _split_ns(t_ns)
        self.raw(topic, t_ns, struct.pack("<4siI", b"\x00\x01\x00\x00", sec, nanosec)
                 + _string(frame_id, 8)[0])  # fmt: skip

    def text(self, topic: str, t_ns: int, value: str) -> None:
        """A std_msgs/String."""
        self.raw(topic, t_ns, _serialize(STRING, _TYPESTORE.types[STRING](data=value)))

    def wrench(
        self, topic: str, t_ns: int, frame_id: str, force: FloatArray, torque: FloatArray
    ) -> None:
        """A WrenchStamped: force [N], torque [N m] in ``frame_id``."""
        types = _TYPESTORE.types
        vector = types["geometry_msgs/msg/Vector3"]
        wrench = types["geometry_msgs/msg/Wrench"](
            force=vector(*map(float, force)), torque=vector(*map(float, torque))
        )
        message = types[WRENCH](header=_header(t_ns, frame_id), wrench=wrench)
        self.raw(topic, t_ns, _serialize(WRENCH, message))

    def close(
        self, outcome: str | None, end_ns: int, extra: Mapping[str, str] | None = None
    ) -> Path:
        """Close the episode with ``outcome`` (success / failure; None: unknown); ``extra``
        adds ``custom.<key>`` fields known only at the end."""
        try:
            self._flush()
        except BagError as err:
            self.episode.discard()
            raise PortError(f"{self.episode.path}: cannot write the episode: {err}") from err
        self._now_ns = max(self._now_ns, int(end_ns))
        custom = self._info.custom_data()
        custom.update(
            {
                "episode": self.episode.name,
                "start_time": _iso(self._start_ns),
                "end_time": _iso(self._now_ns),
                "outcome": outcome if outcome in ("success", "failure") else "unknown",
                "error": "",
                "annotations": json.dumps([]),
                "loss": json.dumps(self.accounting.loss_summary()),
                "sync": json.dumps(self.accounting.sync_summary()),
            }
        )
        custom.update({f"custom.{k}": v for k, v in (extra or {}).items()})
        try:
            return self.episode.close(custom)
        except BagError as err:
            self.episode.discard()
            raise PortError(f"{self.episode.path}: cannot close the episode: {err}") from err

    def abandon(self) -> None:
        """Drop the episode (an error stopped the port): nothing half-written is left."""
        self._pending, self._pending_bytes = [], 0
        self.episode.discard()


def command_topics(description: RobotDescription) -> Mapping[str, str]:
    """Group -> command topic of every group robot.yaml commands (through any interface kind)."""
    return {g: s.topic for g, s in description.interfaces.items()}


def quat_xyzw(rotation: FloatArray) -> FloatArray:
    """A rotation matrix as a quaternion (x, y, z, w)."""
    return matrix_to_quat(rotation)


def robot_scene(model: RobotModel) -> RobotScene:
    """``model``'s TF tree (:class:`RobotScene`, as the simulator node publishes it)."""
    scene = _SCENES.get(model)
    if scene is None:
        scene = _SCENES[model] = RobotScene(model)
    return scene


#: One step's command message of a group: stamp (sec, nanosec), values -> CDR bytes.
_CommandEncoder = Callable[[int, int, FloatArray], bytes]


def _forward_command(sec: int, nanosec: int, values: FloatArray) -> bytes:
    """A ``forward`` interface's message (no stamp: a Float64MultiArray)."""
    return encode_forward_command(values)


class _Periodic:
    """Whether a message at ``rate_hz`` is due at ``t_ns``: the first call is, then one per
    period on the grid it started (steps falling between grid points take the next)."""

    def __init__(self, rate_hz: float) -> None:
        self._period_ns = round(1e9 / rate_hz)
        self._next_ns: int | None = None

    def __call__(self, t_ns: int) -> bool:
        if self._next_ns is not None and t_ns < self._next_ns:
            return False
        self._next_ns = (t_ns if self._next_ns is None else self._next_ns) + self._period_ns
        return True


class RobotEpisode:
    """The topics of a robot episode as a session records them (see docs/episode-format.md),
    written step by step: joint states, the commands (each group through its robot.yaml
    interface, as the teleop node publishes them), the intent the pipeline used, EE
    targets, ``/tf`` (at :data:`TF_RATE_HZ`) and latched ``/tf_static`` as the simulator node
    publishes them, ``/teleop/state`` (at the teleop node's 10 Hz), and with a scene the
    object poses (also on ``/tf`` as ``sim/<object>``), their names, the task outcome and the
    wrist wrenches. ``command_period_s``: the step period [s], a ``trajectory`` command's
    time from start (the teleop node's control period)."""

    def __init__(
        self, output: EpisodeOutput, model: RobotModel, sides: Sequence[str],
        object_names: Sequence[str] | None, command_period_s: float,
    ) -> None:  # fmt: skip
        description = model.description
        self.output = output
        self.model = model
        self.description = description
        self.sides = tuple(sides)
        self.joint_topic = description.sensors.joint_state_topic
        self.commands = command_topics(description)
        self.intent_prefix = INTENT_PREFIX
        self.engaged_topic = ENGAGED_TOPIC
        output.topic("/robot_description", STRING, latched=True)
        output.topic("/tf_static", TF, latched=True)
        output.topic("/tf", TF)
        output.topic(STATE_TOPIC, STATE_TYPE)
        output.topic(self.joint_topic, JOINT_STATE)
        horizon = _split_ns(round(command_period_s * 1e9))
        #: Per commanded group: its topic and its interface's message for one step's values
        #: (stamp sec, nanosec, values), settled once (the kind does not change in an episode).
        self._command_encoders: dict[str, tuple[str, _CommandEncoder]] = {}
        for group, topic in self.commands.items():
            kind = description.interfaces[group].kind
            output.topic(topic, COMMAND_INTERFACE_TYPES[kind])
            names = description.groups[group]
            encode: _CommandEncoder = _forward_command
            if kind == "trajectory":
                encode = JointTrajectoryEncoder(names, *horizon).encode
            elif kind == "joint_state":
                encode = JointStateEncoder(names).encode
            self._command_encoders[group] = (topic, encode)
        output.topic(ENGAGED_TOPIC, BOOL, latched=True)
        output.topic(CALIBRATED_TOPIC, HEADER, latched=True)
        for side in self.sides:
            output.topic(f"{INTENT_PREFIX}{side}_wrist", POSE)
            output.topic(f"{INTENT_PREFIX}{side}_hand", POSE_ARRAY)
            output.topic(f"{EE_TARGET_PREFIX}{side}", POSE)
        self.object_names = tuple(object_names) if object_names is not None else None
        if self.object_names is not None:
            output.topic("/sim/objects", POSE_ARRAY)
            output.topic("/sim/object_names", STRING, latched=True)
            output.topic("/sim/task/outcome", STRING, latched=True)
            for sensor in description.sensors.wrenches:
                output.topic(sensor.topic, WRENCH)
        self._outcome = ""
        self._hand_poses = np.zeros((0, 7))
        self._hand_encoder = PoseArrayEncoder("operator", 0)
        self._operator_pose = PoseStampedEncoder("operator")
        self._base_pose = PoseStampedEncoder(description.base_frame)
        self._scene = robot_scene(model)
        self._moving = self._scene.moving_edges
        frames = [(e.parent, e.child) for e in self._moving]
        self._tf = TfMessageEncoder(frames)
        self._tf_objects = TfMessageEncoder(
            frames + [(description.base_frame, object_frame(n)) for n in self.object_names or ()]
        )
        self._tf_due = _Periodic(TF_RATE_HZ)
        self._state_due = _Periodic(STATE_RATE_HZ)
        self._steps = 0
        self._clamps = ClampTally()
        self._calibrations: int | None = None  # the pipeline's count last written

    def cameras(self) -> None:
        """Declare the robot's camera topics (raw images; call before writing)."""
        for camera in self.description.sensors.cameras:
            self.output.topic(camera.topic, IMAGE)

    def image(self, t_ns: int, camera: str, rgb: NDArray[np.uint8]) -> None:
        """One rendered image of robot.yaml camera ``camera``."""
        spec = next(c for c in self.description.sensors.cameras if c.name == camera)
        self.output.image(spec.topic, t_ns, spec.frame_id, rgb)

    def begin(self, t_ns: int) -> None:
        """The latched messages at the episode start: model text, the static transforms,
        object names, engaged."""
        self.output.text("/robot_description", t_ns, self.description.model.path.read_text())
        static = self._scene.static_edges
        quats, translations = self._scene.edge_transforms(self.model.home_positions(), static)
        sec, nanosec = _split_ns(t_ns)
        encoder = TfMessageEncoder([(e.parent, e.child) for e in static])
        self.output.raw("/tf_static", t_ns, encoder.encode(sec, nanosec, translations, quats))
        if self.object_names is not None:
            self.output.text("/sim/object_names", t_ns, ",".join(self.object_names))
        self.output.flag(self.engaged_topic, t_ns, True)

    def intent(self, t_ns: int, side: str, wrist: tuple[FloatArray, FloatArray],
               hand: FloatArray | None, wrist_xyzw: FloatArray | None = None) -> None:  # fmt: skip
        """The operator wrist (rotation, position [m]) and 25 hand joints [m] (operator frame);
        ``wrist_xyzw``: the quaternion (x, y, z, w) the rotation was made from, written as it
        is (the rotation's own quaternion can differ in its last bits, and a replay would turn
        the pipeline's hand by another ~1e-16)."""
        rotation, position = wrist
        sec, nanosec = _split_ns(t_ns)
        xyzw = quat_xyzw(rotation) if wrist_xyzw is None else wrist_xyzw
        data = self._operator_pose.encode(sec, nanosec, position, xyzw)
        self.output.raw(f"{self.intent_prefix}{side}_wrist", t_ns, data)
        if hand is not None:
            poses = self._hand_poses
            if len(poses) != len(hand):  # identity orientations, positions filled per step
                poses = self._hand_poses = np.zeros((len(hand), 7))
                poses[:, 6] = 1.0
                self._hand_encoder = PoseArrayEncoder("operator", len(hand))
            poses[:, :3] = hand
            data = self._hand_encoder.encode(sec, nanosec, poses)
            self.output.raw(f"{self.intent_prefix}{side}_hand", t_ns, data)

    def ee_target(self, t_ns: int, side: str, rotation: FloatArray, position: FloatArray) -> None:
        """An arm IK target in the base frame."""
        sec, nanosec = _split_ns(t_ns)
        data = self._base_pose.encode(sec, nanosec, position, quat_xyzw(rotation))
        self.output.raw(f"{EE_TARGET_PREFIX}{side}", t_ns, data)

    def state(
        self,
        t_ns: int,
        names: Sequence[str],
        q: FloatArray,
        velocity: FloatArray | None = None,
        effort: FloatArray | None = None,
    ) -> None:
        """Measured joints."""
        self.output.joint_state(self.joint_topic, t_ns, names, q, velocity, effort)

    def tf(
        self,
        t_ns: int,
        q: FloatArray,
        objects: Sequence[tuple[FloatArray, FloatArray]] | None = None,
    ) -> None:
        """The link transforms at measured joints ``q`` and the scene's object poses
        (rotation, position [m] in the base frame) on ``/tf``, when one is due: call every
        step; they are written at :data:`TF_RATE_HZ` from the first call, stamped ``t_ns``."""
        if not self._tf_due(t_ns):
            return
        quats, translations = self._scene.edge_transforms(q, self._moving)
        encoder = self._tf
        if objects:
            encoder = self._tf_objects
            rotations = np.array([r for r, _ in objects])
            quats = np.vstack([quats, quats_from_matrices(rotations)])
            translations = np.vstack([translations, [p for _, p in objects]])
        sec, nanosec = _split_ns(t_ns)
        self.output.raw("/tf", t_ns, encoder.encode(sec, nanosec, translations, quats))

    def teleop_state(self, t_ns: int, pipeline: TeleopPipeline, step: PipelineOutput) -> None:
        """``/teleop/state`` after the pipeline's ``step``, when one is due: call every step;
        it is written at the teleop node's rate from the first call, with the node's keys
        (:func:`teleop_status`; no step times: an offline step's wall time is not the
        robot's). A calibration the pipeline captured since the last call (its first, an
        engage's, a re-centre's) goes on ``/teleop/intent/calibrated``, stamped ``t_ns``, as
        the teleop node records it."""
        self._steps += 1
        self._clamps.add(step.report)
        if pipeline.calibrations != self._calibrations:  # as the teleop node records them
            self._calibrations = pipeline.calibrations
            self.output.header(CALIBRATED_TOPIC, t_ns, self.description.base_frame)
        if not self._state_due(t_ns):
            return
        status = teleop_status(
            self.description.name,
            engaged=pipeline.engaged,
            estopped=pipeline.estopped,
            steps=self._steps,
            joint_states=True,
            report=step.report,
            faults=step.faults,
            held=step.held,
            clamps=self._clamps,
        )
        sec, nanosec = _split_ns(t_ns)
        self.output.raw(STATE_TOPIC, t_ns, encode_teleop_state(sec, nanosec, status))

    def command(self, t_ns: int, commands: Mapping[str, FloatArray]) -> None:
        """The safe commands of the groups robot.yaml commands, each through its interface."""
        sec, nanosec = _split_ns(t_ns)
        raw, encoders = self.output.raw, self._command_encoders
        for group, values in commands.items():
            settled = encoders.get(group)
            if settled is not None:
                topic, encode = settled
                raw(topic, t_ns, encode(sec, nanosec, values))

    def scene(self, t_ns: int, objects: Sequence[tuple[FloatArray, FloatArray]], outcome: str,
              wrenches: Mapping[str, tuple[FloatArray, FloatArray]]) -> None:  # fmt: skip
        """Object poses (rotation, position) in the base frame, outcome, wrenches by name."""
        rows = np.array([np.concatenate([p, quat_xyzw(r)]) for r, p in objects])
        self.output.pose_array("/sim/objects", t_ns, self.description.base_frame, rows)
        if outcome != self._outcome:
            self._outcome = outcome
            self.output.text("/sim/task/outcome", t_ns, outcome)
        for sensor in self.description.sensors.wrenches:
            if sensor.name in wrenches:
                force, torque = wrenches[sensor.name]
                self.output.wrench(sensor.topic, t_ns, sensor.frame_id, force, torque)

    def end(self, t_ns: int) -> None:
        """Disengage."""
        self.output.flag(self.engaged_topic, t_ns, False)
