"""teleop_node over real DDS: one step uses a device frame's wrist and the hand sent after it.

Its own teleop_node process (robot g1, the vr profile); the test process plays the robot and
a device that sends each frame's head and wrists, then its right hand, all with the frame's
stamp (the scripted demonstrator's order; the headset bridge sends hands first). Which step
used an input is read from the node's own publications: a step republishes the inputs it
used on ``/teleop/intent/*`` and then its EE targets, so an intent message belongs to the
step of the first EE target published after it (publish times from DDS's message info).
"""

from __future__ import annotations

import bisect
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from humanoid_teleop.core.motion.hands import skeleton_in_world
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.devices.scripted.hand_model import hand_points
from test.nodes.ros_helpers import teleop_node_process
from test.nodes.test_teleop_node_stamps import NODE_PARAMS, Headset

FRAME_S = 0.02
"""The device's frame period [s]: 50 Hz, half the node's rate, so timer steps fall between."""


class HandDevice(Headset):
    """The Headset harness plus a right hand, and the node's intent and EE target times."""

    def __init__(self, model: RobotModel, log: Path) -> None:
        from geometry_msgs.msg import PoseArray, PoseStamped

        super().__init__(model, log)
        node = self.client.node
        self._pose_array_type = PoseArray
        self.hand_pub = node.create_publisher(PoseArray, "/operator/right_hand", 10)
        #: topic -> [(device stamp [ns], publish time [ns])]
        self.published: dict[str, list[tuple[int, int]]] = {}
        for topic, kind in (
            ("/teleop/intent/right_wrist", PoseStamped),
            ("/teleop/intent/right_hand", PoseArray),
            ("/teleop/ee_target/right", PoseStamped),
        ):
            node.create_subscription(
                kind, topic, lambda m, info, t=topic: self._note(t, m, info), 1000
            )

    def _note(self, topic: str, msg: Any, info: Any) -> None:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self.published.setdefault(topic, []).append((stamp, int(info["source_timestamp"])))

    def hand(self, stamp_s: float) -> object:
        from geometry_msgs.msg import Pose

        wrist = np.array([0.3, -0.2, 1.0])
        joints = skeleton_in_world(hand_points("right", 0.3), wrist, np.eye(3))
        msg = self._pose_array_type()
        sec, nanosec = divmod(round(stamp_s * 1e9), 1_000_000_000)
        msg.header.stamp.sec, msg.header.stamp.nanosec = int(sec), int(nanosec)
        msg.header.frame_id = "operator"
        for x, y, z in joints.positions_m:
            pose = Pose()
            pose.position.x, pose.position.y, pose.position.z = float(x), float(y), float(z)
            pose.orientation.w = 1.0
            msg.poses.append(pose)
        return msg

    def frames(self, seconds: float) -> None:
        """Robot state, then per frame head, wrists and the right hand, one stamp each."""
        start = time.monotonic()
        home = self.model.home_positions()
        while time.monotonic() - start < seconds:
            now = time.time()
            state = self._joint_state_type(name=list(self.model.joint_names), position=list(home))
            state.header.stamp = self.client.node.get_clock().now().to_msg()
            self.joint_pub.publish(state)
            for part in ("head", "left_wrist", "right_wrist"):
                self.pubs[part].publish(self.pose(part, now, 0.0))
            self.hand_pub.publish(self.hand(now))
            self.client.spin_for(FRAME_S)


def _step_of(publish_ns: int, targets: list[int]) -> int:
    """Index of the step that published an intent at ``publish_ns``: its first EE target."""
    return bisect.bisect_left(targets, publish_ns)


@pytest.mark.ros
def test_a_hand_sent_after_its_wrist_is_used_by_the_wrists_step(tmp_path: Path) -> None:
    """Every frame's right hand is republished by the step that republished its right wrist
    (before, the hand, arriving just after the wrist had started a step, waited for the
    next one: a timer step ~9 ms later, or the next frame's)."""
    with (
        teleop_node_process(tmp_path, NODE_PARAMS) as log,
        closing(HandDevice(RobotModel(load_robot("g1")), log)) as device,
    ):
        device.client.wait_for(["/teleop/engage", "/teleop/disengage"], timeout_s=60)
        device.frames(0.5)
        device.client.trigger("/teleop/engage")
        device.frames(0.5)  # the node learns that the hand shares the wrist's frames
        device.published.clear()
        device.frames(3.0)
        device.client.spin_for(0.3)
    wrists = dict(device.published["/teleop/intent/right_wrist"])
    hands = dict(device.published["/teleop/intent/right_hand"])
    targets = sorted(t for _, t in device.published["/teleop/ee_target/right"])
    frames = sorted(set(wrists) & set(hands))
    assert len(frames) >= 0.8 * 3.0 / FRAME_S, (len(wrists), len(hands))
    apart = [s for s in frames if _step_of(wrists[s], targets) != _step_of(hands[s], targets)]
    assert apart == [], (
        f"{len(apart)} of {len(frames)} frames had their hand used by another step than "
        f"their wrist; hand - wrist publish times [ms]: "
        f"{[round((hands[s] - wrists[s]) / 1e6, 1) for s in apart[:10]]}"
    )
