"""teleop_node: operator input → retargeting + safety → per-group joint commands.

Parameters:
    robot (str): robot name or robot.yaml path.
    profile (str): teleop profile name (``config/teleop/<name>.yaml``) or path; empty: the
        device's default profile.
    device (str): vr | gamepad | exo | replay (selects the default profile).
    rate_hz (float): command rate [Hz] (default 250).
    auto_engage (bool): engage once input and joint states have arrived.
    state_rate_hz (float): rate of ``/teleop/state`` [Hz] (default 10).

Subscribes to ``/operator/*`` (see README "Topics") and the robot's joint-state topic. Runs the
pipeline at ``rate_hz`` on the freshest input, and also right away when a new wrist, joy or
leader message completes one device frame of the streaming trigger inputs (both wrists of a
headset, same stamp; see :mod:`humanoid_teleop.core.retarget.input_sync`), so input-to-command
latency is the compute time, not a timer phase. Input subscriptions keep only the newest
message and are raw: the callbacks read the fields they need from the CDR bytes
(:mod:`humanoid_teleop.core.motion.cdr`). Each message passes the stamp rules of
:mod:`humanoid_teleop.core.retarget.input_guard` (future, backwards or non-finite stamps and
NaN/inf values are rejected, counted on ``/teleop/state`` and logged at most once a second
per topic and reason), and each step uses a part only while its own stamp is fresh: groups
driven by a stale part hold. A part that has sent nothing since the stale timeout after an
engage is named missing (``input_guard.missing_parts``: log line and state). Publishes
each group's command on its configured interface, republishes the input it used on
``/teleop/intent/*`` (each message once), the engaged flag on ``/teleop/intent/engaged``
(latched, on change), each calibration (the operator's neutral pose captured after an
engage or a re-centre) on
``/teleop/intent/calibrated`` (std_msgs/Header stamped with that step's time), the arm
end-effector targets on ``/teleop/ee_target/{left,right}`` (when new input was used) and its
state on ``/teleop/state`` (including the step time p50/p99 [ms] over the last steps).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from rclpy.clock import Clock
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, Float64MultiArray, Header
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import HumanFrame, Input
from humanoid_teleop.core.motion.messages import CdrPartReader
from humanoid_teleop.core.motion.topics import (
    CALIBRATED_TOPIC,
    EE_TARGET_PREFIX,
    ENGAGED_TOPIC,
    STATE_TOPIC,
)
from humanoid_teleop.core.retarget.input_guard import (
    MALFORMED,
    MISSING,
    InputGuard,
    PartFault,
    RejectionLog,
    missing_parts,
    part_faults,
)
from humanoid_teleop.core.retarget.input_sync import InputSync
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.retarget.teleop_state import (
    STATE_RATE_HZ,
    ClampTally,
    encode_teleop_state,
    teleop_status,
)
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.nodes import ros_conversions as conv
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import (
    INPUT_NAMES,
    INTENT_PREFIX,
    OPERATOR_PREFIX,
    OPERATOR_TOPICS,
)

"""End-effector targets of the arm retargeters (PoseStamped in the robot's base frame)."""

PUBLISHER_DEPTH = 1000
"""History [messages] of the command, intent and target publishers: ~4 s at 250 Hz. A reliable
reader that misses a packet asks for it again only after the writer's next heartbeat (3 s in
Fast DDS); the sample must still be in the writer's history then, or it is lost for good."""

STEP_SPACING = 0.9
"""The timer starts a step only if none ran for this many periods."""

INPUT_STEP_SPACING = 0.5
"""New input starts a step only if none ran for this many periods (caps bursts at 2x rate)."""

STEP_TIME_WINDOW = 1000
"""Steps [count] over which ``/teleop/state`` reports step time percentiles."""

_TRIGGERS_STEP = frozenset({Input.LEFT_WRIST, Input.RIGHT_WRIST, Input.JOY, Input.LEADER})
#: Parts a device frame's step also waits for when stamped as its triggers (InputSync).
_FOLLOWERS = frozenset({Input.HEAD, Input.LEFT_HAND, Input.RIGHT_HAND})
_COMMAND_TYPES = {
    "forward": Float64MultiArray,
    "trajectory": JointTrajectory,
    "joint_state": JointState,
}


class TeleopNode(Node):
    """Thin rclpy shell around :class:`TeleopPipeline`."""

    def __init__(self) -> None:
        super().__init__("teleop")
        robot = str(self.declare_parameter("robot", "g1").value)
        profile = str(self.declare_parameter("profile", "").value)
        device = str(self.declare_parameter("device", "vr").value)
        self._rate_hz = float(self.declare_parameter("rate_hz", 250.0).value)
        self._auto_engage = bool(self.declare_parameter("auto_engage", False).value)
        state_rate_hz = float(self.declare_parameter("state_rate_hz", STATE_RATE_HZ).value)
        if not self._rate_hz > 0 or not state_rate_hz > 0:
            raise TeleopError(
                f"rate_hz ({self._rate_hz}) and state_rate_hz ({state_rate_hz}) must be > 0 [Hz]"
            )

        self._teleop_clock: Clock = self.get_clock()
        self._description = load_robot(robot)
        self._model = RobotModel(self._description)
        self._pipeline = TeleopPipeline.create(self._description, self._model, profile, device)
        self._index_of = {name: i for i, name in enumerate(self._model.joint_names)}
        self._measured = self._model.home_positions().copy()
        self._have_state = False
        self._lock = threading.Lock()
        self._latest: dict[Input, bytes] = {}  # newest message per input (for the intent topics)
        # The newest accepted part of each input and its stamp: the only input clock kept.
        self._guard = InputGuard(self._pipeline.profile.safety)
        self._new_inputs: set[Input] = set()
        self._period_s = 1.0 / self._rate_hz
        self._sync = InputSync(
            _TRIGGERS_STEP, INPUT_STEP_SPACING * self._period_s, followers=_FOLLOWERS
        )
        self._rejections = RejectionLog()
        self._fault_log = RejectionLog(verb="not using")
        self._faulted: frozenset[Input] = frozenset()
        self._unknown_joints: set[str] = set()
        joint_state_topic = self._description.sensors.joint_state_topic
        self._joint_states = cdr.JointStateDecoder(joint_state_topic)
        self._joint_slots: tuple[tuple[str, ...], Any, Any] = ((), None, None)
        self._last_report: Any = None
        self._clamps = ClampTally()
        self._last_faults: Mapping[Input, PartFault] = {}
        self._last_held: Mapping[str, str] = {}
        self._engaged_at_s: float | None = None  # teleop clock [s] of the last engage
        self._steps = 0
        self._step_times_s: deque[float] = deque(maxlen=STEP_TIME_WINDOW)

        # Depth 1: teleop wants the freshest input; a backlog of older samples would only add
        # latency (each queued message is handled before the newest one). Raw: the callbacks
        # read the fields they need from the serialized bytes (core.motion.cdr), and the
        # intent topics republish those bytes.
        sensor_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
        for which in self._pipeline.inputs:
            name = INPUT_NAMES[which]
            topic, msg_type = OPERATOR_PREFIX + name, OPERATOR_TOPICS[name]
            self.create_subscription(
                msg_type,
                topic,
                self._input_callback(which, CdrPartReader(which.value, topic)),
                sensor_qos,
                raw=True,
            )
        self.create_subscription(
            JointState, joint_state_topic, self._on_joint_state, sensor_qos, raw=True
        )
        self._command_pubs: dict[str, tuple[str, Any]] = {}
        for group in self._pipeline.groups:
            interface = self._description.interfaces.get(group)
            if interface is None:
                raise TeleopError(
                    f"{self._description.source_file}: the teleop profile drives group "
                    f"{group!r} but robot.yaml has no interfaces.{group}; add its command topic"
                )
            pub = self.create_publisher(
                _COMMAND_TYPES[interface.kind], interface.topic, PUBLISHER_DEPTH
            )
            self._command_pubs[group] = (interface.kind, pub)
        self._intent_pubs: dict[Input, Publisher[Any]] = {
            which: self.create_publisher(
                OPERATOR_TOPICS[INPUT_NAMES[which]],
                INTENT_PREFIX + INPUT_NAMES[which],
                PUBLISHER_DEPTH,
            )
            for which in self._pipeline.inputs
        }
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        self._engaged_pub = self.create_publisher(Bool, ENGAGED_TOPIC, latched)
        self._published_engaged: bool | None = None
        self._calibrated_pub = self.create_publisher(Header, CALIBRATED_TOPIC, latched)
        self._published_calibrations = 0
        self._ee_target_pubs = {
            side: self.create_publisher(PoseStamped, f"{EE_TARGET_PREFIX}{side}", PUBLISHER_DEPTH)
            for side in self._description.arms
        }
        self._state_pub = self.create_publisher(DiagnosticArray, STATE_TOPIC, 10)
        for name, action in (
            ("engage", self._engage),
            ("disengage", self._pipeline.disengage),
            ("estop", self._pipeline.estop),
            ("reset_estop", self._pipeline.reset_estop),
            ("recalibrate", self._recalibrate),
        ):
            self.create_service(Trigger, f"/teleop/{name}", self._service(name, action))
        self.create_timer(self._period_s, self._on_timer)
        self.create_timer(1.0 / state_rate_hz, self._publish_state)
        self.get_logger().info(
            f"robot {self._description.name}: groups {', '.join(self._pipeline.groups)}; inputs "
            f"{', '.join(i.value for i in self._pipeline.inputs)}; {self._rate_hz:.0f} Hz"
        )

    # -- inputs -------------------------------------------------------------------------------

    def _reject(self, topic: str, reason: str, detail: str) -> None:
        """Count a rejected message (``/teleop/state`` lists the counts); log at most one
        line per second per topic and reason."""
        line = self._rejections.record(topic, reason, detail, time.monotonic())
        if line is not None:
            self.get_logger().error(line)

    def _input_callback(self, which: Input, reader: CdrPartReader) -> Callable[[bytes], None]:
        topic = reader.source

        def callback(data: bytes) -> None:
            try:
                t_s, part = reader.read(data)
            except (ValueError, TeleopError) as err:
                self._reject(topic, MALFORMED, str(err))
                return
            now_s = self._now_s()
            if t_s == 0.0:
                t_s = now_s  # an unset stamp: the message is taken as captured now
            with self._lock:
                rejection = self._guard.admit(which, t_s, part, now_s)
                if rejection is None:
                    self._latest[which] = data
                    self._new_inputs.add(which)
            if rejection is not None:
                self._reject(topic, rejection.reason, rejection.detail)
                return
            if self._sync.arrived(which, t_s, time.monotonic()):
                self._step(on_input=True)

        return callback

    def _on_joint_state(self, data: bytes) -> None:
        try:
            _header, names, positions = self._joint_states.decode(data)
        except ValueError as err:
            self._reject(self._joint_states.source, MALFORMED, str(err))
            return
        seen, robot, message = self._joint_slots
        if names is not seen:  # the decoder returns the same tuple while names repeat
            robot, message, unknown = conv.joint_slots(names, self._index_of)
            self._joint_slots = (names, robot, message)
            self._warn_unknown_joints(unknown)
        if len(positions) < len(names):
            robot, message = conv.slots_with_values(robot, message, len(positions))
        with self._lock:
            self._measured[robot] = positions[message]
            self._have_state = True

    def _warn_unknown_joints(self, unknown: list[str]) -> None:
        new_unknown = set(unknown) - self._unknown_joints
        if new_unknown:
            self._unknown_joints |= new_unknown
            self.get_logger().warning(
                f"{self._description.sensors.joint_state_topic}: joints not in "
                f"{self._description.name}: {', '.join(sorted(new_unknown))}"
            )

    # -- loop ---------------------------------------------------------------------------------

    def _now_s(self) -> float:
        return self._teleop_clock.now().nanoseconds * 1e-9

    def _frame(self) -> tuple[HumanFrame, dict[Input, float], set[Input]]:
        """The newest accepted parts, their stamps, and the inputs new since the last call."""
        with self._lock:
            frame, stamps = self._guard.frame()
            used = set(self._new_inputs)
            self._new_inputs.clear()
        return frame, stamps, used

    def _on_timer(self) -> None:
        now = time.monotonic()
        due = now - self._sync.last_step_s >= STEP_SPACING * self._period_s
        if due and not self._sync.awaiting_followers(now):  # else its hand completes the frame
            self._step(on_input=False)

    def _step(self, on_input: bool) -> None:
        """One pipeline step and its publications, timed for ``/teleop/state``.

        ``on_input``: a new device frame started it (else the timer)."""
        started = time.perf_counter()
        self._sync.stepped(time.monotonic(), on_input)
        try:
            self._step_and_publish()
        finally:
            self._step_times_s.append(time.perf_counter() - started)

    def _step_and_publish(self) -> None:
        if self._auto_engage and not self._pipeline.engaged and self._ready_to_engage():
            self._engage()
        frame, stamps, used = self._frame()
        with self._lock:
            measured = self._measured.copy()
        sec, nanosec = conv.clock_stamp(self._teleop_clock)
        now = sec + nanosec * 1e-9
        output = self._pipeline.step(frame, measured, now, stamps)
        self._last_report = output.report
        self._clamps.add(output.report)
        faults, held = output.faults, output.held
        if self._pipeline.engaged and self._engaged_at_s is not None:
            missing = missing_parts(
                stamps, self._pipeline.inputs, self._engaged_at_s, now,
                self._pipeline.profile.safety,
            )  # fmt: skip
            if missing:
                faults, held = {**faults, **missing}, dict(held)
                for which in missing:
                    for group in self._pipeline.groups_of_input.get(which, ()):
                        held.setdefault(group, f"{which.value} {MISSING}")
        self._last_faults = faults
        self._last_held = held
        if faults.keys() != self._faulted:
            self._log_faults(faults)
        self._steps += 1
        if not self._pipeline.engaged:
            return
        for group, (kind, pub) in self._command_pubs.items():
            values = output.commands[group]
            names = self._description.groups[group]
            if kind == "forward":
                pub.publish(cdr.encode_forward_command(values))
            elif kind == "trajectory":
                pub.publish(conv.trajectory_command(names, values, now, self._period_s))
            else:
                pub.publish(conv.joint_state_command(names, values, now))
        self._publish_engaged()
        if self._pipeline.calibrations != self._published_calibrations:
            # before this step's EE targets, which the new calibration mapped
            self._published_calibrations = self._pipeline.calibrations
            header = Header(frame_id=self._description.base_frame)
            header.stamp.sec, header.stamp.nanosec = sec, nanosec
            self._calibrated_pub.publish(header)
        if not used:
            return  # a hold step on old input: intent and EE targets are unchanged
        for which in used:
            self._intent_pubs[which].publish(self._latest[which])
        base = self._description.base_frame
        for side, pose in self._pipeline.ee_targets().items():
            xyz_xyzw = (*pose.position_m, *pose.quat_xyzw())
            self._ee_target_pubs[side].publish(
                cdr.encode_pose_stamped(sec, nanosec, base, xyz_xyzw)
            )

    def _log_faults(self, faults: Mapping[Input, PartFault]) -> None:
        """Log the parts a step stopped using (at most once a second per topic and kind)."""
        for which in faults.keys() - self._faulted:
            fault = faults[which]
            groups = ", ".join(self._pipeline.groups_of_input.get(which, ())) or "nothing"
            topic = OPERATOR_PREFIX + INPUT_NAMES[which]
            detail = f"{fault.detail}; holding {groups}"
            line = self._fault_log.record(topic, fault.kind, detail, time.monotonic())
            if line is not None:
                self.get_logger().warning(line)
        self._faulted = frozenset(faults)

    def _publish_engaged(self) -> None:
        """Publish the engaged flag when it changes (latched, so late subscribers get it)."""
        engaged = self._pipeline.engaged
        if engaged != self._published_engaged:
            self._engaged_pub.publish(Bool(data=engaged))
            self._published_engaged = engaged

    def _ready_to_engage(self) -> bool:
        return self._have_state and bool(self._latest)

    # -- services and state -------------------------------------------------------------------

    def _engage(self) -> str:
        with self._lock:
            measured = self._measured.copy()
            have_state = self._have_state
        if not have_state:
            raise TeleopError(
                f"no joint states yet on {self._description.sensors.joint_state_topic}; "
                "cannot engage without knowing where the robot is"
            )
        now_s = self._now_s()
        self._pipeline.engage(measured, now_s)
        self._engaged_at_s = now_s
        self.get_logger().info("engaged")
        return "engaged"

    def _recalibrate(self) -> str:
        with self._lock:
            frame, stamps = self._guard.frame()
        faults = part_faults(stamps, self._now_s(), self._pipeline.profile.safety)
        left_out: dict[str, Any] = {which.value: None for which in faults}
        self._pipeline.recalibrate(replace(frame, **left_out))  # never on a stale pose
        return "recalibrated on the current operator pose"

    def _service(self, name: str, action: Callable[[], Any]) -> Callable[[Any, Any], Any]:
        def handle(_request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            try:
                result = action()
                response.success = True
                response.message = result if isinstance(result, str) else name
                if name != "engage":
                    self.get_logger().info(f"{name}: {response.message}")
            except TeleopError as err:
                response.success = False
                response.message = str(err)
                self.get_logger().error(f"{name} refused: {err}")
            self._publish_engaged()
            return response

        return handle

    def _publish_state(self) -> None:
        for line in self._rejections.flush(time.monotonic()):
            self.get_logger().error(line)
        for line in self._fault_log.flush(time.monotonic()):
            self.get_logger().warning(line)
        status = teleop_status(
            self._description.name,
            engaged=self._pipeline.engaged,
            estopped=self._pipeline.estopped,
            steps=self._steps,
            joint_states=self._have_state,
            report=self._last_report,
            faults=self._last_faults,
            held=self._last_held,
            step_times_s=self._step_times_s,
            rejections=self._rejections.counts(),
            clamps=self._clamps,
        )
        sec, nanosec = self.get_clock().now().seconds_nanoseconds()
        self._state_pub.publish(encode_teleop_state(sec, nanosec, status))


def main(args: list[str] | None = None) -> int:
    return run_node("teleop_node", TeleopNode, args=args)


if __name__ == "__main__":
    sys.exit(main())
