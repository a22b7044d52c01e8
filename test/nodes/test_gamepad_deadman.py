"""The gamepad's dead man end to end over real DDS: gamepad_node (joy relay) → teleop_node
with the shipped ``gamepad`` profile. The pad publishes the stick as pushed whether or not LB
is held; the teleop pipeline moves the arm only while LB is held and holds it when released.
"""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from test.devices.ros_helpers import start_node, stop_node
from test.nodes.ros_helpers import SessionHarness, teleop_node_process

pytestmark = pytest.mark.ros
ARM = "right_arm"
LB = 4  # the xbox pad preset's buttons.deadman (config/teleop/pads/xbox.yaml)
STICK_UP = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # left stick up: jog the right hand forward


class Harness(SessionHarness):
    """Plays the robot (/joint_states) and the ROS joy node (/test_joy); records the right
    arm's commands and the teleop state."""

    def __init__(self, model: RobotModel) -> None:
        from sensor_msgs.msg import JointState, Joy

        super().__init__("gamepad_deadman_harness")
        self.model = model
        node = self.client.node
        self._types = (JointState, Joy)
        self.joint_pub = node.create_publisher(JointState, "/joint_states", 10)
        self.joy_pub = node.create_publisher(Joy, "/test_joy", 10)
        self.record_commands_and_state(model.description.interfaces[ARM].topic)

    def run(self, seconds: float, lb_held: bool) -> None:
        """Publish the robot at home and the pad (stick up, LB as given) at 100 Hz."""
        joint_state, joy = self._types
        home = self.model.home_positions()
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            stamp = self.client.node.get_clock().now().to_msg()
            state = joint_state(name=list(self.model.joint_names), position=list(home))
            state.header.stamp = stamp
            self.joint_pub.publish(state)
            pad = joy(axes=STICK_UP, buttons=[int(lb_held and i == LB) for i in range(11)])
            pad.header.stamp = stamp
            self.joy_pub.publish(pad)
            self.client.spin_for(0.01)


def test_released_lb_holds_the_arm_while_the_stick_is_pushed(tmp_path: Path) -> None:
    """Stick up with LB held jogs the right arm; LB released with the stick still up holds
    the command (teleop state: deadman released) although the pad relays the stick."""
    pad = start_node("gamepad_node", {"source": "joy", "joy_topic": "/test_joy"})
    params = {"robot": "g1", "profile": "gamepad", "device": "gamepad", "rate_hz": 100.0,
              "state_rate_hz": 50.0}  # fmt: skip
    try:
        with (
            teleop_node_process(tmp_path, params),
            closing(Harness(RobotModel(load_robot("g1")))) as harness,
        ):
            harness.client.wait_for(["/teleop/engage"], timeout_s=60)
            harness.run(0.5, lb_held=True)
            harness.client.trigger("/teleop/engage")
            # LB held until the arm jogs (at most 10 s: under load the pad's relay and the
            # teleop node can take a while to match over DDS after engage)
            for _ in range(20):
                harness.run(0.5, lb_held=True)
                moving = [c for _, c in harness.commands[-50:]]
                if moving and np.max(np.abs(moving[-1] - moving[0])) > 1e-3:
                    break
            assert harness.commands, "no arm command with LB held"
            assert np.max(np.abs(moving[-1] - moving[0])) > 1e-3, "the arm did not jog"
            released_at, released_wall = time.monotonic(), time.time()
            harness.run(1.5, lb_held=False)
            holding = [
                t
                for t, v in harness.states
                if t > released_wall and v.get("hold_reason") == "deadman released"
            ]
            assert holding, [v for _, v in harness.states[-3:]]
            held = [c for t, c in harness.commands if t > released_at + 0.3]
            assert held and all(np.array_equal(c, held[0]) for c in held)
    finally:
        code, output = stop_node(pad)
    assert code == 0, output
