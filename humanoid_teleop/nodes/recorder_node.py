"""recorder_node: records topics as raw CDR into rosbag2 MCAP episodes.

Parameters (all optional):
  robot (str): robot name or robot.yaml path; adds its sensor and command topics when the
      profile has ``robot_sensors: true`` and is stored with a hash of robot.yaml.
  profile (str): recording profile file; empty = the shipped ``config/record/default.yaml``.
  bag_dir (str): folder receiving one bag directory per episode (default ``bags``).
  topics (str[]): extra topics to record, added to the profile's explicit topics.
  task, operator, station, device (str): stored with every episode. An episode's folder is
      named ``<station>_<UTC start>_<n>`` (``episode_...`` without a station), so the
      episodes of a centre's stations keep apart in one archive.
  auto_start_episode (bool): start an episode as soon as the node is up (``record`` CLI).
  exit_on_episode_error (bool): stop the node with exit code 2 once an episode stopped with
      an error (e.g. disk full), after saying what was kept where (``record`` CLI); otherwise
      the node stays up in the error state until the next episode is started.
  status_period_s (float): period of ``/recorder/status`` [s] (default 1).
  console_status (bool): print a one-line live status to stderr every status period.

Services: ``/recorder/{start,stop,discard}_episode`` (std_srvs/Trigger; the stop answer's
message is the closed bag's path), ``/recorder/mark_success`` (std_srvs/SetBool).
Topics: ``/recorder/annotation`` (std_msgs/String, timed labels, also recorded),
``/recorder/status`` (diagnostic_msgs/DiagnosticArray).

Subscriptions are raw (no deserialization) and only hand bytes to the recorder's queue; a
writer thread does all disk work. Ctrl-C / SIGTERM close the running episode cleanly. Samples
that DDS reports lost before they reached the recorder (``message_lost`` event) are counted per
topic as ``lost_in_transport`` in the episode's loss summary and logged.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.event_handler import QoSMessageLostInfo, SubscriptionEventCallbacks
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    LivelinessPolicy,
    QoSProfile,
    ReliabilityPolicy,
)
from rclpy.subscription import Subscription
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from humanoid_teleop import __version__
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.msgdefs import COMMAND_INTERFACE_TYPES, normalize_type_name
from humanoid_teleop.core.bag.profile import RecordingProfile, TopicRule
from humanoid_teleop.core.bag.qos import DURATION_INFINITE_NS
from humanoid_teleop.core.bag.qos import QosProfile as BagQos
from humanoid_teleop.core.bag.recorder import (
    BagRecorder,
    EpisodeInfo,
    EpisodeResult,
    RecorderStatus,
    episode_prefix,
)
from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.resources import RECORD_PROFILES
from humanoid_teleop.nodes.executor import run_node

DEFAULT_PROFILE = "default"
DRAIN_MAX = 64
HANDOVER_MAX_S = 10.0
RECENT_SAMPLES = 1000
"""Samples per topic remembered so a new transient-local reader's replay is not recorded
twice."""
"""Longest time [s] two subscriptions of one topic record together while one replaces the
other (a publisher silent that long has nothing in flight to lose)."""
ERROR_CLOSE_WAIT_S = 10.0
"""Longest time [s] ``record`` waits, after an episode error, for the episode to be closed
so its last line can say what was kept."""
IMAGE_BYTES_PER_PIXEL = {"rgb8": 3, "bgr8": 3, "mono8": 1, "16UC1": 2, "32FC1": 4}
"""Bytes per pixel of the robot.yaml camera encodings (a frame's size bounds its reader)."""
ROBOT_TYPES = {
    "camera": "sensor_msgs/msg/Image",
    "camera_info": "sensor_msgs/msg/CameraInfo",
    "wrench": "geometry_msgs/msg/WrenchStamped",
    "joint_states": "sensor_msgs/msg/JointState",
    **COMMAND_INTERFACE_TYPES,  # the command interfaces', by kind
}


def shipped_profile(name: str = DEFAULT_PROFILE) -> Path:
    """A recording profile by name (``config/record/<name>.yaml`` on the resource search path)."""
    return RECORD_PROFILES.find(name)


def message_class(type_name: str) -> Any:
    """The Python class of ``pkg/msg/Type`` (needed for the type support of raw subscriptions)."""
    pkg, kind, name = normalize_type_name(type_name).split("/")
    try:
        return getattr(importlib.import_module(f"{pkg}.{kind}"), name)
    except (ImportError, AttributeError) as err:
        raise BagError(f"message type {type_name} is not importable here: {err}") from err


def to_bag_qos(qos: QoSProfile) -> BagQos:
    """rclpy QoS → the rosbag2 record of it."""

    def ns(duration: Any) -> int:
        value = int(duration.nanoseconds)
        return DURATION_INFINITE_NS if value >= DURATION_INFINITE_NS else max(0, value)

    def name(policy: Any) -> str:
        return str(policy.name).lower()

    return BagQos(
        history=name(qos.history),
        depth=int(qos.depth),
        reliability=name(qos.reliability),
        durability=name(qos.durability),
        deadline_ns=ns(qos.deadline),
        lifespan_ns=ns(qos.lifespan),
        liveliness=name(qos.liveliness),
        liveliness_lease_duration_ns=ns(qos.liveliness_lease_duration),
        avoid_ros_namespace_conventions=bool(qos.avoid_ros_namespace_conventions),
    )


def to_rclpy_qos(qos: BagQos) -> QoSProfile:
    """The subscription profile for a chosen rosbag2 QoS."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_ALL if qos.history == "keep_all" else HistoryPolicy.KEEP_LAST,
        depth=max(1, qos.depth),
        reliability=(
            ReliabilityPolicy.BEST_EFFORT
            if qos.reliability == "best_effort"
            else ReliabilityPolicy.RELIABLE
        ),
        durability=(
            DurabilityPolicy.TRANSIENT_LOCAL
            if qos.durability == "transient_local"
            else DurabilityPolicy.VOLATILE
        ),
        liveliness=LivelinessPolicy.AUTOMATIC,
    )


def robot_topics(robot: str) -> tuple[list[TopicRule], str]:
    """Sensor and command topics of ``robot`` (with types) and a hash of its robot.yaml."""
    from humanoid_teleop.core.robot import load_robot, robot_model_hash

    description = load_robot(robot)
    sensors = description.sensors
    rules = [TopicRule(sensors.joint_state_topic, ROBOT_TYPES["joint_states"])]
    for camera in sensors.cameras:
        frame = camera.width * camera.height * IMAGE_BYTES_PER_PIXEL.get(camera.encoding, 4)
        rules.append(TopicRule(camera.topic, ROBOT_TYPES["camera"], expected_bytes=frame))
        rules.append(TopicRule(camera.info_topic, ROBOT_TYPES["camera_info"]))
    for wrench in sensors.wrenches:
        rules.append(TopicRule(wrench.topic, ROBOT_TYPES["wrench"]))
    for interface in description.interfaces.values():
        rules.append(TopicRule(interface.topic, ROBOT_TYPES[interface.kind]))
    return rules, robot_model_hash(description)


@dataclass
class _TopicSubscription:
    """One recorded topic: its reader (and, during a handover, the reader it replaces)."""

    topic: str
    msg_type: Any
    qos: BagQos
    sub: Subscription[Any] | None = None
    largest_bytes: int = 0  # largest serialized message seen [bytes]
    old: Subscription[Any] | None = None
    seen: set[tuple[str, int]] | None = None  # (publisher, sequence) recorded in a handover
    # The last samples recorded: a transient-local reader replays the publishers' history.
    recent: deque[tuple[str, int]] = field(default_factory=lambda: deque(maxlen=RECENT_SAMPLES))
    publishers_old: set[str] = field(default_factory=set)
    publishers_new: set[str] = field(default_factory=set)
    handover_start_s: float = 0.0


class RecorderNode(Node):
    """Thin rclpy shell around :class:`BagRecorder` (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("recorder", **kwargs)
        p = self.declare_parameter
        robot = str(p("robot", "").value)
        profile_path = str(p("profile", "").value)
        bag_dir = Path(str(p("bag_dir", "bags").value)).expanduser()
        # rclpy infers Parameter[Never] from a list default: the annotation names the type.
        topics_param: Parameter[list[str]] = p("topics", [""])
        extra = [str(t) for t in (topics_param.value or []) if str(t)]
        self._info_params = {
            k: str(p(k, "").value) for k in ("task", "operator", "station", "device")
        }
        auto_start = bool(p("auto_start_episode", False).value)
        self._exit_on_error = bool(p("exit_on_episode_error", False).value)
        self._error_seen_s: float | None = None  # monotonic time the episode error was seen
        status_period = float(p("status_period_s", 1.0).value)
        self._console = bool(p("console_status", False).value)

        path = shipped_profile(profile_path or DEFAULT_PROFILE)
        profile = RecordingProfile.load(path).with_topics(extra)
        self._model_hash = ""
        if robot and profile.robot_sensors:
            rules, self._model_hash = robot_topics(robot)
            sizes = {r.name: r.expected_bytes for r in rules}
            named = tuple(
                replace(r, expected_bytes=r.expected_bytes or sizes.get(r.name, 0))
                for r in profile.topics
            )
            known = {r.name for r in profile.topics}
            extra_rules = tuple(r for r in rules if r.name not in known)
            profile = replace(profile, topics=named + extra_rules)
        self._robot = robot
        self.profile = profile
        config = profile.recorder_config(
            bag_dir,
            library=f"humanoid_teleop {__version__}",
            ros_distro=os.environ.get("ROS_DISTRO", "kilted"),
        )
        config = replace(config, episode_prefix=episode_prefix(self._info_params["station"]))
        self.recorder = BagRecorder(config)
        self._subs: dict[str, _TopicSubscription] = {}
        self._unrecordable: dict[str, str] = {}
        self._status_pub = self.create_publisher(DiagnosticArray, "/recorder/status", 10)
        self.create_service(Trigger, "/recorder/start_episode", self._on_start)
        self.create_service(Trigger, "/recorder/stop_episode", self._on_stop)
        self.create_service(Trigger, "/recorder/discard_episode", self._on_discard)
        self.create_service(SetBool, "/recorder/mark_success", self._on_mark)
        self.create_subscription(String, "/recorder/annotation", self._on_annotation, 100)
        for rule in profile.topics:
            if rule.type is not None:
                self._subscribe(rule.name, rule.type, [])
        self._discover()
        self.create_timer(1.0, self._discover)
        self.create_timer(status_period, self._publish_status)
        self.get_logger().info(
            f"recording profile {path} into {bag_dir} ({len(self._subs)} topics subscribed so far)"
        )
        if auto_start:
            self.start_episode()

    # ---- subscriptions ----

    def _subscribe(self, topic: str, type_name: str, offered: Sequence[BagQos]) -> None:
        """Record ``topic``; a topic already subscribed is handed over to a new subscription
        with the QoS wanted now (see :meth:`_replace`)."""
        current = self._subs.get(topic)
        largest = current.largest_bytes if current else 0
        qos = self.profile.subscription_qos(topic, offered, largest)
        try:
            cls = message_class(type_name)
            self.recorder.add_topic(topic, type_name, list(offered) or [qos])
        except TeleopError as err:
            if self._unrecordable.get(topic) != str(err):
                self.get_logger().error(f"cannot record {topic}: {err}")
            self._unrecordable[topic] = str(err)
            return
        if current is not None:
            self._replace(current, qos)
            return
        state = _TopicSubscription(topic, cls, qos)
        state.sub = self._create_reader(state, qos)
        self._subs[topic] = state
        self._unrecordable.pop(topic, None)
        self.get_logger().info(
            f"recording {topic} [{type_name}] ({qos.reliability}, {qos.durability}, "
            f"depth {qos.depth})"
        )

    def _create_reader(self, state: _TopicSubscription, qos: BagQos) -> Subscription[Any]:
        """A raw subscription handing each message of ``state.topic`` to the recorder."""
        topic = state.topic
        submit = self.recorder.submit
        holder: list[Subscription[Any]] = []

        def record(data: bytes, info: Any) -> None:
            gid = info.get("publisher_gid") if isinstance(info, dict) else None
            publisher = bytes(gid["data"]).hex() if gid and "data" in gid else ""
            sequence = int(info.get("publication_sequence_number") or 0)
            if len(data) > state.largest_bytes:
                state.largest_bytes = len(data)
            if state.seen is not None and sequence:
                # Two subscriptions during a handover: keep the first copy of each sample.
                via_old = holder[0] is state.old
                (state.publishers_old if via_old else state.publishers_new).add(publisher)
                key = (publisher, sequence)
                if key in state.seen:
                    return
                state.seen.add(key)
            state.recent.append((publisher, sequence))
            submit(
                topic,
                data,
                time.time_ns(),
                int(info.get("source_timestamp") or 0),
                sequence,
                publisher,
            )

        def on_message(data: bytes, info: Any) -> None:
            record(data, info)
            # The Python executors take one message per subscription per wait cycle, which
            # caps a topic at the cycle rate (well below 1 kHz under load); take what else is
            # waiting now, bounded so one busy topic cannot starve the others.
            sub = holder[0]
            for _ in range(DRAIN_MAX):
                try:
                    with sub.handle:
                        taken = sub.handle.take_message(sub.msg_type, True)
                except Exception:  # destroyed while draining (re-subscribe, shutdown)
                    return
                if taken is None:
                    return
                record(taken[0], taken[1])

        def on_lost(info: QoSMessageLostInfo) -> None:
            self._on_lost(topic, int(info.total_count_change), int(info.total_count))

        sub = self.create_subscription(
            state.msg_type,
            topic,
            on_message,
            to_rclpy_qos(qos),
            raw=True,
            event_callbacks=SubscriptionEventCallbacks(message_lost=on_lost),
        )
        holder.append(sub)
        return sub

    def _replace(self, state: _TopicSubscription, qos: BagQos) -> None:
        """Hand ``state.topic`` over to a new subscription with ``qos``, without a gap.

        The new reader is created first; both record until the new one has matched as many
        publishers as the old one and delivered samples of every publisher the old one
        delivered meanwhile (or HANDOVER_MAX_S passed); then the old one goes. A sample both
        deliver (same publisher and sequence number) is recorded once.
        """
        if state.old is not None:
            self._finish_handover(state, force=True)
        previous = state.qos
        state.old = state.sub
        state.qos = qos
        state.seen = {key for key in state.recent if key[1]}
        state.publishers_old = set()
        state.publishers_new = set()
        state.handover_start_s = time.monotonic()
        state.sub = self._create_reader(state, qos)
        self.get_logger().info(
            f"{state.topic}: new reader ({qos.reliability}, {qos.durability}, depth "
            f"{qos.depth}; was {previous.reliability}, {previous.durability}, depth "
            f"{previous.depth}; largest message {state.largest_bytes} bytes, reader history "
            f"limit {self.profile.reader_queue_mib:g} MiB)"
        )

    def _finish_handover(self, state: _TopicSubscription, force: bool = False) -> None:
        """Destroy the replaced subscription once the new one surely covers its publishers."""
        old = state.old
        if old is None or state.sub is None:
            return
        covered = (
            bool(state.publishers_new)
            and state.publishers_old <= state.publishers_new
            and state.sub.get_publisher_count() >= old.get_publisher_count()
        )
        if not (force or covered or time.monotonic() - state.handover_start_s > HANDOVER_MAX_S):
            return
        self.destroy_subscription(old)
        state.old = None
        state.seen = None

    def _on_lost(self, topic: str, count: int, total: int) -> None:
        """DDS gave up on ``count`` samples of ``topic``: the publisher no longer had them."""
        self.recorder.note_lost(topic, count)
        self.get_logger().warning(
            f"{topic}: DDS reports {count} samples lost before they reached the recorder "
            f"({total} since subscribing): the publisher's history was overwritten before a "
            "lost packet could be repaired (publisher depth too small for the load?)",
            throttle_duration_sec=5.0,
        )

    def _discover(self) -> None:
        """Subscribe to new wanted topics; re-subscribe when publishers need other QoS."""
        for topic, types in self.get_topic_names_and_types():
            if not self.profile.wants(topic) or not types:
                continue
            publishers = [
                info
                for info in self.get_publishers_info_by_topic(topic)
                if info.node_name != self.get_name()
            ]
            if not publishers:
                continue
            offered = [to_bag_qos(info.qos_profile) for info in publishers]
            current = self._subs.get(topic)
            if current is None:
                rule = self.profile.rule(topic)
                self._subscribe(topic, rule.type if rule and rule.type else types[0], offered)
                continue
            qos = current.qos
            wanted = self.profile.subscription_qos(topic, offered, current.largest_bytes)
            if (wanted.reliability, wanted.durability) != (qos.reliability, qos.durability):
                self.get_logger().warning(
                    f"{topic}: publishers offer {wanted.reliability}/{wanted.durability}; "
                    "re-subscribing to match"
                )
                self._subscribe(topic, types[0], offered)
        self._bound_reader_histories()

    def _bound_reader_histories(self) -> None:
        """Finish handovers; give a topic whose messages turned out large a shallower reader
        so its history stays within ``limits.reader_queue_mib``."""
        for state in self._subs.values():
            self._finish_handover(state)
            if state.old is not None or not state.largest_bytes:
                continue
            cap = self.profile.subscription_qos(state.topic, [], state.largest_bytes).depth
            if cap < state.qos.depth:
                self._replace(state, replace(state.qos, depth=cap))

    # ---- episodes ----

    def episode_info(self) -> EpisodeInfo:
        return EpisodeInfo(
            task=self._info_params["task"],
            operator=self._info_params["operator"],
            robot=self._robot,
            robot_model_hash=self._model_hash,
            device=self._info_params["device"],
            station=self._info_params["station"],
            software_version=f"humanoid_teleop {__version__}",
        )

    def start_episode(self) -> str:
        # Parameters may change between episodes (e.g. the task instruction).
        for key in self._info_params:
            self._info_params[key] = str(self.get_parameter(key).value)
        return str(self.recorder.start_episode(self.episode_info()))

    def _answer(self, response: Any, action: Any) -> Any:
        try:
            response.message = str(action())
            response.success = True
        except TeleopError as err:
            response.success = False
            response.message = str(err)
            self.get_logger().error(str(err))
        return response

    def _on_start(self, _req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        return self._answer(res, self.start_episode)

    def _on_stop(self, _req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        return self._answer(res, lambda: self.recorder.stop_episode().path)

    def _on_discard(self, _req: Trigger.Request, res: Trigger.Response) -> Trigger.Response:
        return self._answer(res, self.recorder.discard_episode)

    def _on_mark(self, req: SetBool.Request, res: SetBool.Response) -> SetBool.Response:
        def mark() -> str:
            self.recorder.mark_outcome(bool(req.data))
            return "success" if req.data else "failure"

        return self._answer(res, mark)

    def _on_annotation(self, msg: String) -> None:
        try:
            self.recorder.annotate(msg.data, time.time_ns())
        except BagError:
            self.get_logger().warning(f"annotation {msg.data!r} ignored: no episode is recording")

    # ---- status ----

    def _publish_status(self) -> None:
        status = self.recorder.status()
        self._status_pub.publish(status_message(status, self.get_clock().now().to_msg()))
        if self._console:
            print("\r" + status.console_line().ljust(100), end="", file=sys.stderr, flush=True)
        if self._exit_on_error and status.state == "error":
            result = self.recorder.last_result
            if result is None or result.error != status.error:
                # The writer thread is still closing (or repairing) the episode: say what
                # was kept once it is done, at a later tick (at most ERROR_CLOSE_WAIT_S on).
                now = time.monotonic()
                self._error_seen_s = self._error_seen_s or now
                if now - self._error_seen_s < ERROR_CLOSE_WAIT_S:
                    return
                result = None
            if self._console:
                print(file=sys.stderr)
            raise EpisodeFailed(episode_error_line(result, status.error))

    def close(self) -> EpisodeResult | None:
        """Close the running episode cleanly and stop the writer thread; returns the episode
        closed now, if any (its outcome is ``error`` when closing it failed)."""
        result = self.recorder.close()
        if result is not None:
            # The context may already be shut down (Ctrl-C), so no ROS logging here.
            newline = "\n" if self._console else ""
            line = (
                episode_error_line(result, result.error)
                if result.outcome == "error"
                else f"recorder: closed episode {result.path} ({result.messages} messages)"
            )
            print(f"{newline}{line}", file=sys.stderr, flush=True)
        return result


class EpisodeFailed(TeleopError):
    """An episode stopped with an error (raised to end the ``record`` command)."""


def episode_error_line(result: EpisodeResult | None, error: str) -> str:
    """One line saying an episode stopped with ``error`` and what was kept where."""
    if result is None:
        return f"episode stopped with an error: {error}"
    return (
        f"episode {result.path.name} stopped with an error: {error}; "
        f"{result.messages} messages kept in {result.path}, {result.lost_on_error} lost "
        "(outcome: error)"
    )


def status_message(status: RecorderStatus, stamp: Any) -> DiagnosticArray:
    """The ``/recorder/status`` message: one summary entry plus one per topic."""
    level = DiagnosticStatus.OK
    if status.error:
        level = DiagnosticStatus.ERROR
    elif status.low_disk or status.dropped:
        level = DiagnosticStatus.WARN
    summary = DiagnosticStatus(
        level=level,
        name="recorder",
        hardware_id="recorder",
        message=status.console_line(),
        values=[
            KeyValue(key=k, value=str(v))
            for k, v in (
                ("state", status.state),
                ("episode", status.episode),
                ("elapsed_s", f"{status.elapsed_s:.1f}"),
                ("bytes_written", status.bytes_written),
                ("messages_written", status.messages_written),
                ("messages_per_s", f"{status.messages_per_s:.1f}"),
                ("dropped", status.dropped),
                ("queue_bytes", status.queue_bytes),
                ("free_bytes", status.free_bytes),
                ("error", status.error),
            )
        ],
    )
    array = DiagnosticArray()
    array.header.stamp = stamp
    array.status = [summary] + [
        DiagnosticStatus(
            level=DiagnosticStatus.WARN if stats.get("dropped") else DiagnosticStatus.OK,
            name=f"recorder{topic}",
            hardware_id="recorder",
            message=f"{stats['written']} written, {stats['dropped']} dropped",
            values=[KeyValue(key=k, value=str(v)) for k, v in stats.items()],
        )
        for topic, stats in sorted(status.topics.items())
    ]
    return array


def run(args: Sequence[str] | None = None) -> int:
    """Run the node until Ctrl-C / SIGTERM, then close the bag; returns an exit code.

    0 after a clean close; 2 when the node could not start, when an episode stopped with an
    error and ``exit_on_episode_error`` is set, or when closing the last episode failed.
    A Python SingleThreadedExecutor, not the events executor: its callbacks drain each
    subscription (see ``on_message``), and the events executor once crashed the recorder.
    """
    closed: list[EpisodeResult | None] = []
    code = run_node(
        "recorder_node",
        RecorderNode,
        close=lambda node: closed.append(node.close()),
        args=args,
        executor=SingleThreadedExecutor,
    )
    failed_on_close = any(r is not None and r.outcome == "error" for r in closed)
    return code or (2 if failed_on_close else 0)


def main() -> None:
    sys.exit(run(sys.argv))


if __name__ == "__main__":
    main()
