"""teleop_node over real DDS with hostile stamps: a stale part holds its arm, a far-future
stamp does not stop teleop, a NaN pose is rejected and shown, and the log stays short.

One teleop_node process (robot g1, the vr profile: a wrist drives its arm) serves the
module; the test process plays the robot (/joint_states) and the headset (head and wrists).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.nodes.ros_conversions import time_to_s
from test.nodes.ros_helpers import SessionHarness, teleop_node_process

RATE_HZ = 100.0
STATE_RATE_HZ = 20.0
STALE_S = 0.25  # the vr profile's stale_timeout_s
LIFT_M = 0.25

Wrists = Callable[[float], tuple[float, float]]  # elapsed [s] -> (left z, right z) offsets [m]


class Headset(SessionHarness):
    """Plays robot and headset; records arm commands, teleop state and the node's log."""

    def __init__(self, model: RobotModel, log: Path) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Float64MultiArray

        super().__init__("teleop_stamps_harness")
        self.model = model
        self.log = log
        node = self.client.node
        self._pose_type, self._joint_state_type = PoseStamped, JointState
        self.joint_pub = node.create_publisher(JointState, "/joint_states", 10)
        self.pubs = {
            part: node.create_publisher(PoseStamped, f"/operator/{part}", 10)
            for part in ("head", "left_wrist", "right_wrist")
        }
        self.commands: dict[str, list[tuple[float, np.ndarray]]] = {"left": [], "right": []}
        for side in self.commands:
            topic = model.description.interfaces[f"{side}_arm"].topic
            node.create_subscription(
                Float64MultiArray,
                topic,
                lambda m, s=side: self.commands[s].append((time.monotonic(), np.array(m.data))),
                1000,
            )
        self.states: list[tuple[float, dict[str, str], str]] = []

        def on_state(msg: DiagnosticArray) -> None:
            values = {kv.key: kv.value for kv in msg.status[0].values}
            self.states.append((time_to_s(msg.header.stamp), values, msg.status[0].message))

        node.create_subscription(DiagnosticArray, "/teleop/state", on_state, 100)

    def pose(self, part: str, stamp_s: float, z_offset: float, nan: bool = False) -> object:
        msg = self._pose_type()
        sec, nanosec = divmod(round(stamp_s * 1e9), 1_000_000_000)
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(sec), int(nanosec)
        msg.header.frame_id = "operator"
        y = {"head": 0.0, "left_wrist": 0.2, "right_wrist": -0.2}[part]
        z = 1.6 if part == "head" else 1.0
        msg.pose.position.x, msg.pose.position.y = 0.3, y
        msg.pose.position.z = math.nan if nan else z + z_offset
        msg.pose.orientation.w = 1.0
        return msg

    def run(
        self,
        seconds: float,
        wrists: Wrists,
        right: Callable[[float, float, float], object | None] | None = None,
        send_right: bool = True,
    ) -> None:
        """Publish robot state, head and wrists at 100 Hz for ``seconds``.

        ``right(now, elapsed, z)``, when given, returns the right wrist message to send
        instead of the fresh one (None: send the fresh one); ``send_right`` False sends no
        right wrist at all (an unplugged controller)."""
        start = time.monotonic()
        home = self.model.home_positions()
        while (elapsed := time.monotonic() - start) < seconds:
            now = time.time()
            state = self._joint_state_type(name=list(self.model.joint_names), position=list(home))
            state.header.stamp = self.client.node.get_clock().now().to_msg()
            self.joint_pub.publish(state)
            left_z, right_z = wrists(elapsed)
            self.pubs["head"].publish(self.pose("head", now, 0.0))
            self.pubs["left_wrist"].publish(self.pose("left_wrist", now, left_z))
            message = right(now, elapsed, right_z) if right is not None else None
            if send_right:
                self.pubs["right_wrist"].publish(message or self.pose("right_wrist", now, right_z))
            self.client.spin_for(0.01)

    def restart(self, wrists: Wrists) -> None:
        """Disengage, feed fresh input at baseline, engage (recalibrates) and settle."""
        self.client.trigger("/teleop/disengage")
        self.run(0.5, wrists)
        self.client.trigger("/teleop/engage")
        self.run(1.0, wrists)
        for records in self.commands.values():
            records.clear()
        self.states.clear()


NODE_PARAMS = {
    "robot": "g1",
    "profile": "vr",
    "device": "vr",
    "rate_hz": RATE_HZ,
    "state_rate_hz": STATE_RATE_HZ,
}


@pytest.fixture(scope="module")
def headset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Headset]:
    folder = tmp_path_factory.mktemp("teleop_stamps")
    with (
        teleop_node_process(folder, NODE_PARAMS) as log,
        closing(Headset(RobotModel(load_robot("g1")), log)) as headset,
    ):
        headset.client.wait_for(["/teleop/engage", "/teleop/disengage"], timeout_s=60)
        yield headset


def _still(_t: float) -> tuple[float, float]:
    return 0.0, 0.0


def _swing(t: float) -> tuple[float, float]:
    """Both wrists move up and down by 5 cm at 0.5 Hz."""
    z = 0.05 * math.sin(2 * math.pi * 0.5 * t)
    return z, z


def _left_swing(t: float) -> tuple[float, float]:
    """The left wrist swings, the right one rests (so the right arm is still at the switch)."""
    return _swing(t)[0], 0.0


def _moves(records: list[tuple[float, np.ndarray]], after_s: float) -> float:
    """Largest joint change [rad] over the commands received after ``after_s`` (monotonic)."""
    arms = np.array([c for t, c in records if t > after_s])
    return float(np.abs(arms - arms[0]).max()) if len(arms) > 1 else 0.0


@pytest.mark.ros
@pytest.mark.parametrize("stamp", ["10 s ago", "1970 + 1 s"])
def test_a_stale_right_wrist_holds_the_right_arm(headset: Headset, stamp: str) -> None:
    """Right wrist 25 cm up but stamped in the past while head and left wrist are fresh:
    the right arm holds, the left arm follows, and the state names the stale input."""
    headset.restart(_left_swing)

    def old(now: float, _elapsed: float, _z: float) -> object:
        stamp_s = now - 10.0 if stamp == "10 s ago" else 1.0
        return headset.pose("right_wrist", stamp_s, LIFT_M)

    started = time.monotonic()
    headset.run(2.0, _left_swing, old)
    # Until its last fresh message ages out (0.25 s) the right arm may still settle on it;
    # the lifted, stale poses never move it (they moved it up to 0.99 rad per joint).
    assert _moves(headset.commands["right"], started) < 0.02
    assert _moves(headset.commands["right"], started + STALE_S + 0.2) == 0.0
    assert _moves(headset.commands["left"], started + STALE_S + 0.2) > 0.01
    named = [v for _t, v, _m in headset.states if "stale /operator/right_wrist" in v]
    assert named, headset.states[-1:]
    age = float(named[-1]["stale /operator/right_wrist"].split()[1])
    assert age > STALE_S
    assert "right_arm (right_wrist stale)" in named[-1]["held_groups"]


@pytest.mark.ros
def test_a_far_future_stamp_does_not_stop_teleop(headset: Headset) -> None:
    """One right wrist stamped now + 1e6 s is rejected; fresh input right after it is
    followed, and the state counts the rejection."""
    headset.restart(_swing)
    sent = {"future": False}

    def once_ahead(now: float, elapsed: float, z: float) -> object | None:
        if elapsed > 0.5 and not sent["future"]:
            sent["future"] = True
            return headset.pose("right_wrist", now + 1e6, z)
        return None

    started = time.monotonic()
    headset.run(2.5, _swing, once_ahead)
    assert _moves(headset.commands["right"], started + 1.0) > 0.01  # still following
    last = headset.states[-1][1]
    assert last["rejected /operator/right_wrist: future stamp"].startswith("1 (last: stamped")
    assert "stale" not in last.get("hold_reason", "")
    # the harness sends no hands: only their own groups are held (missing), not an arm
    assert "arm" not in last.get("held_groups", "")


@pytest.mark.ros
def test_a_nan_pose_is_rejected_and_named_on_the_state(headset: Headset) -> None:
    """A right wrist with a NaN coordinate shows as rejected /operator/right_wrist."""
    headset.restart(_still)

    def nan(now: float, _elapsed: float, z: float) -> object:
        return headset.pose("right_wrist", now, z, nan=True)

    headset.run(1.0, _still, nan)
    rejected = [v for _t, v, _m in headset.states if any(k.startswith("rejected ") for k in v)]
    assert rejected, headset.states[-1:]
    value = rejected[-1]["rejected /operator/right_wrist: non-finite"]
    assert "position" in value and "not finite" in value


@pytest.mark.ros
def test_alternating_bad_messages_log_a_few_lines(headset: Headset) -> None:
    """NaN and far-future right wrists alternating at 100 Hz for 3 s give at most one log
    line per second per reason (was 144 lines), each with its count."""
    headset.restart(_still)
    before = headset.log.read_text().count("rejected /operator/right_wrist")

    def alternate(now: float, elapsed: float, z: float) -> object:
        if int(elapsed * 100) % 2:
            return headset.pose("right_wrist", now, z, nan=True)
        return headset.pose("right_wrist", now + 1e6, z)

    headset.run(3.0, _still, alternate)
    headset.run(1.2, _still)  # the owed lines come with the next state publications
    lines = [
        line
        for line in headset.log.read_text().splitlines()
        if "rejected /operator/right_wrist" in line
    ][before:]
    assert 2 <= len(lines) <= 2 * 5, lines
    assert all("since the last line" in line for line in lines)
