"""A whole session per shipped robot: sim + replayed operator + teleop + recorder → a good bag.

One real ``humanoid-teleop demo`` (what ``make demo`` runs) per robot — module-scoped fixture,
real DDS in the isolated network; each test then checks one property of the episode.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rclpy.serialization import deserialize_message

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import BagSummary, iter_messages, read_bag
from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.nodes.ros_conversions import time_to_s

from ..core.bag.foxglove import assert_foxglove_reads

ROBOTS = [entry.name for entry in list_robots()]
SESSION_S = 9.0
MIN_REPRODUCED = 0.4
"""Share of the operator's (target's) motion the robot must reproduce, 1 - var(error) /
var(target): a robot that stands still scores about 0, one moving against the operator less.
Absolute error is only reported: the demo engages at a random phase of the looping clip, and
relative mode then puts some targets out of reach (bounded offline in test_arm_ik.py)."""
MAX_P50_M = 0.15
"""Sanity bound [m] on the median wrist error (a stuck arm with a constant offset)."""
LAGS_S = tuple(0.05 * k for k in range(1, 11))
"""Robot-behind-target delays [s] tried when comparing positions."""


@dataclass(frozen=True)
class WristTracking:
    """Robot wrist positions vs the teleop targets over an episode [m]."""

    robot_xyz: np.ndarray
    target_xyz: np.ndarray

    @property
    def errors_m(self) -> np.ndarray:
        return np.linalg.norm(self.robot_xyz - self.target_xyz, axis=1)

    @property
    def target_motion_m(self) -> float:
        """Spread of the target over the episode (RMS distance from its mean) [m]."""
        return float(np.sqrt(np.sum(np.var(self.target_xyz, axis=0))))

    @property
    def reproduced(self) -> float:
        """Share of the target's motion the robot reproduced: 1 - var(error) / var(target)."""
        error_var = np.sum(np.var(self.robot_xyz - self.target_xyz, axis=0))
        return float(1.0 - error_var / max(np.sum(np.var(self.target_xyz, axis=0)), 1e-12))

    def __str__(self) -> str:
        p50, p95 = np.percentile(self.errors_m, [50, 95]) * 100
        moved_cm = self.target_motion_m * 100
        return (
            f"error p50 {p50:.1f} cm, p95 {p95:.1f} cm; target moved {moved_cm:.1f} cm RMS, "
            f"{self.reproduced * 100:.0f}% of it reproduced"
        )


@dataclass(frozen=True)
class RecordedSession:
    robot: str
    model: RobotModel
    bag: Path
    summary: BagSummary
    log: str


def _messages(bag: Path, topic: str, msg_type: type) -> list[object]:
    return [deserialize_message(m.data, msg_type) for m in iter_messages(bag, topics=[topic])]


def _command_rows(bag: Path, kind: str, topic: str) -> list[np.ndarray]:
    """Joint targets of each recorded command, whatever the interface kind."""
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray
    from trajectory_msgs.msg import JointTrajectory

    if kind == "forward":
        return [np.asarray(m.data) for m in _messages(bag, topic, Float64MultiArray)]  # type: ignore[attr-defined]
    if kind == "trajectory":
        return [
            np.asarray(point.positions)
            for m in _messages(bag, topic, JointTrajectory)
            for point in m.points  # type: ignore[attr-defined]
        ]
    return [np.asarray(m.position) for m in _messages(bag, topic, JointState)]  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=ROBOTS)
def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> RecordedSession:
    """Run `humanoid-teleop demo --device replay` (both arms follow the CMU clip) for one
    robot; its bag. The scripted default is test_scripted_demo.py's."""
    robot = request.param
    bag_dir = tmp_path_factory.mktemp(f"bags_{robot}")
    command = [
        sys.executable, "-m", "humanoid_teleop.cli.main", "demo", "--robot", robot,
        "--device", "replay", "--duration", str(SESSION_S), "--bag-dir", str(bag_dir),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    printed = re.findall(r"^bag: (\S.*)$", result.stdout, flags=re.MULTILINE)
    assert len(printed) == 1, f"demo must print one 'bag: <path>' line\n{log[-2000:]}"
    bag = Path(printed[0])
    assert bag.parent == bag_dir and (bag / "metadata.yaml").is_file(), bag
    model = RobotModel(load_robot(robot))
    return RecordedSession(robot, model, bag, read_bag(bag), log)


@pytest.mark.ros
@pytest.mark.slow
def test_bag_holds_every_stream_of_the_session(session: RecordedSession) -> None:
    """Images, wrenches, joint states, commands, operator intent, tf and the URDF are recorded."""
    description = session.model.description
    required = {
        description.sensors.joint_state_topic,
        "/tf",
        "/tf_static",
        "/robot_description",
        "/operator/right_wrist",
        "/teleop/intent/right_wrist",
        "/teleop/ee_target/right",
        "/teleop/state",
        *(camera.topic for camera in description.sensors.cameras),
        *(wrench.topic for wrench in description.sensors.wrenches),
        *(description.interfaces[arm.group].topic for arm in description.arms.values()),
    }
    counts = session.summary.counts
    empty = sorted(topic for topic in required if counts.get(topic, 0) == 0)
    assert empty == [], f"{session.robot}: no messages on {empty}"


@pytest.mark.ros
@pytest.mark.slow
def test_no_message_was_lost_and_the_bag_checks_clean(session: RecordedSession) -> None:
    """The recorder lost nothing and `bag check` finds no defect."""
    loss = session.summary.custom_json("loss")
    assert loss is not None
    report = check_bag(session.bag)
    assert report.ok, [d.__dict__ for d in report.defects]


@pytest.mark.ros
@pytest.mark.slow
def test_foxglove_decodes_every_message_of_the_demo_bag(session: RecordedSession) -> None:
    """Foxglove's own reader decodes every message of the `make demo` bag."""
    counts = {topic: n for topic, n in session.summary.counts.items() if n}
    assert assert_foxglove_reads(session.bag) == counts


@pytest.mark.ros
@pytest.mark.slow
def test_arm_commands_stay_within_position_limits(session: RecordedSession) -> None:
    """Every recorded arm command is inside its joints' position limits."""
    description = session.model.description
    limits = session.model.limits
    violations = 0
    commands = 0
    for arm in description.arms.values():
        index = session.model.group_indices(arm.group)
        interface = description.interfaces[arm.group]
        for values in _command_rows(session.bag, interface.kind, interface.topic):
            outside = (values < limits.lower[index]) | (values > limits.upper[index])
            violations += int(np.sum(outside))
            commands += 1
    assert commands > 0
    assert violations == 0


@pytest.mark.ros
@pytest.mark.slow
def test_robot_followed_the_operator(session: RecordedSession) -> None:
    """The simulated wrist reproduces ≥ 40% of the operator's motion; p50/p95 error printed."""
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import JointState

    description = session.model.description
    model = session.model
    states = _messages(session.bag, description.sensors.joint_state_topic, JointState)
    times = np.array([time_to_s(m.header.stamp) for m in states])
    report = []
    trackings: dict[str, WristTracking] = {}
    for side, arm in description.arms.items():
        targets = _messages(session.bag, f"/teleop/ee_target/{side}", PoseStamped)
        targets = targets[len(targets) // 4 :]  # skip the engage ramp
        target_t = np.array([time_to_s(t.header.stamp) for t in targets])
        target_xyz = np.array(
            [[t.pose.position.x, t.pose.position.y, t.pose.position.z] for t in targets]  # type: ignore[attr-defined]
        )
        # The robot trails its target (first-order lag + velocity limits): compare each target
        # with the robot state LAG_S later (header stamps, not recorder log times), at the lag
        # that fits best, and report it.
        candidates = []
        for lag_s in LAGS_S:
            k = np.searchsorted(times, target_t + lag_s)
            ok = k < len(states)
            robot_xyz = []
            for msg in (states[i] for i in k[ok]):
                q = model.home_positions()
                q[model.index_of(msg.name)] = msg.position  # type: ignore[attr-defined]
                robot_xyz.append(model.fk(q, arm.ee_frame)[1])
            tracking = WristTracking(np.array(robot_xyz), target_xyz[ok])
            candidates.append((float(np.median(tracking.errors_m)), lag_s, tracking))
        _p50, lag_s, trackings[side] = min(candidates, key=lambda c: c[0])
        report.append(f"{side} (robot {lag_s * 1000:.0f} ms behind): {trackings[side]}")
    summary = f"{session.robot} wrist tracking (robot vs target): {'; '.join(report)}"
    print(summary)
    for tracking in trackings.values():
        assert tracking.reproduced >= MIN_REPRODUCED, summary
        assert float(np.median(tracking.errors_m)) < MAX_P50_M, summary
