"""teleop_node over real DDS: stale input holds, e-stop latches, engage ramps.

One teleop_node process (robot g1, a joint_map profile so targets are exact) serves the
module; the test process plays robot and leader device on the same topics the real ones use.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import closing

import numpy as np
import pytest
import yaml

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.safety import SafetyConfig
from test.nodes.ros_helpers import SessionHarness, teleop_node_process

RATE_HZ = 100.0
STALE_S = 0.3
STATE_RATE_HZ = 50.0
ENGAGE_SPEED = 0.5
ARM = "right_arm"
PROFILE = {
    "name": "test_exo",
    "device": "exo",
    "retargeters": [{"plugin": "joint_map", "groups": [ARM]}],
    "safety": {"stale_timeout_s": STALE_S, "engage_speed_rad_s": ENGAGE_SPEED},
}


class Harness(SessionHarness):
    """Plays the robot (/joint_states) and a leader arm; records commands and teleop state."""

    def __init__(self, model: RobotModel) -> None:
        from sensor_msgs.msg import JointState

        super().__init__("teleop_test_harness")
        self.model = model
        self.arm_index = model.group_indices(ARM)
        self.arm_names = model.description.groups[ARM]
        node = self.client.node
        self._joint_state_type = JointState
        self.joint_pub = node.create_publisher(JointState, "/joint_states", 10)
        self.leader_pub = node.create_publisher(JointState, "/operator/leader_joints", 10)
        self.record_commands_and_state(model.description.interfaces[ARM].topic)

    def run(
        self, seconds: float, measured: np.ndarray, leader: Callable[[float], np.ndarray] | None
    ) -> None:
        """Publish robot state (and the leader, if given) at 100 Hz for ``seconds``."""
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            state = self._joint_state_type(
                name=list(self.model.joint_names), position=list(measured)
            )
            state.header.stamp = self.client.node.get_clock().now().to_msg()
            self.joint_pub.publish(state)
            if leader is not None:
                arm = leader(elapsed)
                msg = self._joint_state_type(
                    name=list(self.arm_names), position=[float(v) for v in arm]
                )
                msg.header.stamp = state.header.stamp
                self.leader_pub.publish(msg)
            self.client.spin_for(0.01)

    def reset(self) -> None:
        self.client.trigger("/teleop/disengage")
        self.client.trigger("/teleop/reset_estop")
        self.commands.clear()
        self.states.clear()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    folder = tmp_path_factory.mktemp("teleop")
    profile = folder / "test_exo.yaml"
    profile.write_text(yaml.safe_dump(PROFILE))
    node_params = {
        "robot": "g1",
        "profile": str(profile),
        "device": "exo",
        "rate_hz": RATE_HZ,
        "state_rate_hz": STATE_RATE_HZ,
    }
    with (
        teleop_node_process(folder, node_params),
        closing(Harness(RobotModel(load_robot("g1")))) as harness,
    ):
        harness.client.wait_for(["/teleop/engage", "/teleop/estop"], timeout_s=60)
        yield harness


def _moving_leader(home_arm: np.ndarray) -> Callable[[float], np.ndarray]:
    def leader(t: float) -> np.ndarray:
        arm = home_arm.copy()
        arm[3] += 0.3 * math.sin(2 * math.pi * 0.5 * t)  # elbow swings ±0.3 rad
        return arm

    return leader


@pytest.mark.ros
def test_stale_input_holds_within_the_timeout(harness: Harness) -> None:
    """When the leader stops, the node holds (state says stale) within the stale timeout."""
    harness.reset()
    home = harness.model.home_positions()
    leader = _moving_leader(home[harness.arm_index])
    harness.run(0.5, home, leader)
    harness.client.trigger("/teleop/engage")
    harness.run(1.5, home, leader)
    stopped_at, stopped_wall = time.monotonic(), time.time()
    harness.run(1.0, home, None)
    stale = [
        t for t, v in harness.states if t > stopped_wall and "stale" in v.get("hold_reason", "")
    ]
    assert stale, [v for _t, v in harness.states[-3:]]
    assert stale[0] - stopped_wall <= STALE_S + 0.15  # + one state period (10 Hz) + a step
    held = [c for t, c in harness.commands if t > stopped_at + STALE_S + 0.05]
    assert held and all(np.array_equal(c, held[0]) for c in held)


@pytest.mark.ros
def test_estop_latches_until_reset(harness: Harness) -> None:
    """After e-stop, commands freeze while input moves, and engage is refused until reset."""
    from humanoid_teleop.nodes.session_client import SessionServiceError

    harness.reset()
    home = harness.model.home_positions()
    leader = _moving_leader(home[harness.arm_index])
    harness.run(0.5, home, leader)
    harness.client.trigger("/teleop/engage")
    harness.run(1.0, home, leader)
    assert len({c.tobytes() for _t, c in harness.commands}) > 10  # following the leader
    harness.client.trigger("/teleop/estop")
    harness.run(1.0, home, leader)  # commands sent before the e-stop drain from our queue
    drained = len(harness.commands)
    harness.run(1.0, home, leader)
    last = harness.commands[drained - 1][1]
    assert all(np.array_equal(c, last) for _t, c in harness.commands[drained:])
    with pytest.raises(SessionServiceError, match="/teleop/engage failed"):
        harness.client.trigger("/teleop/engage")
    harness.client.trigger("/teleop/reset_estop")
    harness.client.trigger("/teleop/engage")


@pytest.mark.ros
def test_engage_far_from_target_ramps_at_bounded_speed(harness: Harness) -> None:
    """Engaging 0.6 rad away from the target starts at the measured pose and ramps ≤ 0.5 rad/s."""
    harness.reset()
    home = harness.model.home_positions()
    far = home.copy()
    elbow = harness.arm_index[3]
    far[elbow] += 0.6
    harness.run(0.5, far, lambda _t: home[harness.arm_index])
    engaged_at = time.monotonic()  # the node engages after this: receive times come later
    harness.client.trigger("/teleop/engage")
    harness.run(2.5, far, lambda _t: home[harness.arm_index])
    times = np.array([t for t, _c in harness.commands])
    elbows = np.array([c[3] for _t, c in harness.commands])
    assert abs(elbows[0] - far[elbow]) < 0.05  # starts where the robot is, no jump
    ramp = elbows > home[elbow] + 0.05  # the ramp ends within engage_tolerance_rad (0.05)
    steps = np.abs(np.diff(elbows))[ramp[1:]]
    assert (steps > 1e-9).any()
    # A ramp step moves at most engage speed x the longest step the filter sizes (max_step_s).
    assert steps.max() <= ENGAGE_SPEED * SafetyConfig().max_step_s + 1e-9
    # Mean speed over the ramp, timed from before the engage request: receive times are never
    # earlier than the commands were sent, so a stalled test executor can only lower it.
    duration = times[ramp][-1] - engaged_at
    travelled = far[elbow] - elbows[ramp][-1]
    assert 0.0 < travelled / duration <= ENGAGE_SPEED * 1.1
    assert travelled / duration > ENGAGE_SPEED * 0.5, "the ramp is far slower than engage speed"
    assert abs(elbows[-1] - home[elbow]) < 0.06  # arrived


@pytest.mark.ros
def test_state_reports_step_time(harness: Harness) -> None:
    """/teleop/state carries the step time percentiles [ms] (what bench/latency.py reads)."""
    harness.reset()
    home = harness.model.home_positions()
    harness.run(1.0, home, _moving_leader(home[harness.arm_index]))
    timed = [v for _t, v in harness.states if "step_ms_p50" in v]
    assert timed, harness.states[-1:]
    p50, p99 = float(timed[-1]["step_ms_p50"]), float(timed[-1]["step_ms_p99"])
    assert 0.0 < p50 <= p99


@pytest.mark.ros
def test_malformed_input_bytes_are_rejected_naming_the_topic(harness: Harness) -> None:
    """Bytes that are not a JointState on the leader topic are rejected (the state names the
    topic and what is wrong) and the node goes on with its well-formed joint states."""
    harness.reset()
    home = harness.model.home_positions()
    truncated = b"\x00\x01\x00\x00" + bytes(9)  # little-endian CDR, cut inside the header
    start = time.monotonic()
    while time.monotonic() - start < 1.0:
        harness.leader_pub.publish(truncated)
        harness.run(0.05, home, None)
    key = "rejected /operator/leader_joints: malformed"
    rejected = [v for _t, v in harness.states if key in v]
    assert rejected, harness.states[-1:]
    assert "malformed JointState" in rejected[-1][key]
    assert rejected[-1]["joint_states"] == "true"


@pytest.mark.ros
def test_each_calibration_is_recorded_with_its_step_stamp(harness: Harness) -> None:
    """An engage and a re-centre each capture the operator's neutral pose anew: each is one
    std_msgs/Header on /teleop/intent/calibrated (latched, recorded with the intent), stamped
    later than the one before, so a replay knows where the input's mapping changed."""
    from rclpy.qos import DurabilityPolicy, QoSProfile
    from std_msgs.msg import Header

    from humanoid_teleop.core.motion.topics import CALIBRATED_TOPIC

    stamps: list[float] = []
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    subscription = harness.client.node.create_subscription(
        Header,
        CALIBRATED_TOPIC,
        lambda msg: stamps.append(msg.stamp.sec + 1e-9 * msg.stamp.nanosec),
        latched,
    )
    try:
        harness.reset()
        home = harness.model.home_positions()
        leader = _moving_leader(home[harness.arm_index])
        harness.run(0.5, home, leader)
        engaged_at = time.time()  # stamps before it: an earlier test's (latched)
        harness.client.trigger("/teleop/engage")
        harness.run(0.5, home, leader)
        assert len([s for s in stamps if s >= engaged_at]) == 1, stamps
        recentred_at = time.time()
        harness.client.trigger("/teleop/recalibrate")
        harness.run(0.5, home, leader)
        assert len([s for s in stamps if s >= recentred_at]) == 1, stamps
        harness.run(0.3, home, leader)  # following on: nothing new was captured
        assert len([s for s in stamps if s >= engaged_at]) == 2, stamps
    finally:
        harness.client.node.destroy_subscription(subscription)
