"""scripted_demo_node: the scripted demonstrator as an operator device (``device:=scripted``).

Performs the ``scene``'s task (``pick_and_place`` or ``push``) the way an operator would, by
publishing operator intent only: the scene hand's wrist on ``/operator/<side>_wrist``
(PoseStamped, frame ``operator``) and a 25-joint hand on ``/operator/<side>_hand``
(PoseArray) at ``rate_hz``. The teleop node retargets and filters it like a person's input.
It watches the robot (``/joint_states``, or robot.yaml's topic) and the objects' ground truth
(``/sim/objects`` from sim_robot_node's MuJoCo backend, first object) to decide its moves;
it publishes once both arrive and starts the script when the teleop node reports it is
engaged (``/teleop/intent/engaged``). Parameters: ``robot``, ``scene`` (name or path; the
same as the sim's), ``rate_hz`` [Hz]. See humanoid_teleop/devices/scripted/demonstrator.py.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseArray
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.topics import ENGAGED_TOPIC
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.scene import Scene, load_scene
from humanoid_teleop.devices.scripted.demonstrator import ScriptedDemonstrator
from humanoid_teleop.devices.scripted.episode import demonstrator_for, grasp_point
from humanoid_teleop.nodes import ros_conversions as conv
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import OPERATOR_TOPICS, operator_topic

#: Operator-topic history: a few seconds at the default rate (see sim_robot_node's depths).
DEPTH = 200


class ScriptedDemoNode(Node):
    """Publishes the demonstrator's operator intent from the robot's and the objects' state."""

    def __init__(self) -> None:
        super().__init__("scripted_demo")
        robot = str(self.declare_parameter("robot", "g1").value)
        scene_name = str(self.declare_parameter("scene", "pick_and_place").value)
        rate_hz = float(self.declare_parameter("rate_hz", 60.0).value)
        if not rate_hz > 0.0:
            raise ConfigError(f"scripted_demo parameters.rate_hz: {rate_hz} must be > 0 [Hz]")
        self.model = RobotModel(load_robot(robot))
        self.scene = Scene(load_scene(scene_name), self.model)
        self.demo: ScriptedDemonstrator = demonstrator_for(self.scene)
        self.side = self.scene.config.hand
        index = {name: i for i, name in enumerate(self.model.joint_names)}
        self._index = index
        self._q: np.ndarray | None = None
        self._object: np.ndarray | None = None
        self._phase = ""
        topic = self.model.description.sensors.joint_state_topic
        self.create_subscription(JointState, topic, self._on_joints, 50)
        self.create_subscription(PoseArray, "/sim/objects", self._on_objects, 50)
        latched = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        self._engaged = False
        self.create_subscription(Bool, ENGAGED_TOPIC, self._on_engaged, latched)
        self._wrist_pub = self._publisher(f"{self.side}_wrist")
        self._hand_pub = self._publisher(f"{self.side}_hand")
        self.create_timer(1.0 / rate_hz, self._step)
        self.get_logger().info(
            f"scripted demonstrator: {self.scene.config.task} in scene {scene_name} with the "
            f"{self.side} hand of {robot}; waiting for {topic} and /sim/objects"
        )

    def _publisher(self, name: str) -> Any:
        return self.create_publisher(OPERATOR_TOPICS[name], operator_topic(name), DEPTH)

    def _on_joints(self, msg: JointState) -> None:
        robot, message, _ = conv.joint_slots(msg.name, self._index)
        q = self.model.home_positions() if self._q is None else self._q.copy()
        q[robot] = np.asarray(msg.position, dtype=np.float64)[message]
        self._q = q

    def _on_engaged(self, msg: Bool) -> None:
        self._engaged = bool(msg.data)

    def _on_objects(self, msg: PoseArray) -> None:
        if msg.poses:
            p = msg.poses[0].position
            self._object = np.array([p.x, p.y, p.z])

    def _step(self) -> None:
        if self._q is None or self._object is None:
            return
        if self._engaged:
            now_s = self.get_clock().now().nanoseconds * 1e-9
            point, lowest = grasp_point(self.model, self._q, self.side)
            intent = self.demo.step(now_s, point, self._object, lowest)
        else:  # the teleop node is not following yet: hold still, do not start the script
            intent = self.demo.hold()
        if self.demo.phase != self._phase:
            self._phase = self.demo.phase
            self.get_logger().info(f"phase: {self._phase}")
        sec, nanosec = conv.clock_stamp(self.get_clock())
        wrist = intent.wrist
        values = (*wrist.position_m, *wrist.quat_xyzw())
        self._wrist_pub.publish(cdr.encode_pose_stamped(sec, nanosec, "operator", values))
        joints = np.zeros((len(intent.hand.positions_m), 7))
        joints[:, :3], joints[:, 6] = intent.hand.positions_m, 1.0
        self._hand_pub.publish(cdr.encode_pose_array(sec, nanosec, "operator", joints))


def main(args: list[str] | None = None) -> int:
    return run_node("scripted_demo", ScriptedDemoNode, args=args)


if __name__ == "__main__":
    sys.exit(main())
