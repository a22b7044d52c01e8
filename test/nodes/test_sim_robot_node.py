"""sim_robot_node over real DDS: commands in; joint states, TF, description, cameras, F/T out."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot

rclpy = pytest.importorskip("rclpy")
from geometry_msgs.msg import PoseArray, WrenchStamped  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, JointState  # noqa: E402
from std_msgs.msg import Float64MultiArray, String  # noqa: E402
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint  # noqa: E402

from humanoid_teleop.nodes.ros_conversions import time_to_s  # noqa: E402

LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
#: Table top [m, pelvis frame] above G1's wrists at home (they are at 0.134 m): both in contact.
TABLE_HEIGHT_M = 0.15
LEFT_UP = [-1.2, 0.3, 0.0, 0.3, 0.0, 0.0, 0.0]  # left arm raised forward, off the table


class Probe:
    """An rclpy node in its own context and ROS domain that records what it receives."""

    def __init__(self, domain_id: int) -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(f"probe_{os.getpid()}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[Any]] = {}

    def listen(self, msg_type: type, topic: str, qos: Any = 50) -> list[Any]:
        """Start recording ``topic``; returns the (growing) list of messages."""
        box: list[Any] = []
        self.received[topic] = box
        self.node.create_subscription(msg_type, topic, box.append, qos)
        return box

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if done():
                return True
            self.executor.spin_once(timeout_sec=0.02)
        return done()

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, seconds)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self.context.destroy()  # its DDS participant goes now, not during a later test


class NodeProcess:
    """A node started as its own process (``python -m module --ros-args -p k:=v``)."""

    def __init__(
        self,
        module: str,
        params: dict[str, Any],
        domain_id: int,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        args = [sys.executable, "-m", module, "--ros-args"]
        for key, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{key}:={text}"]
        full_env = {**os.environ, "ROS_DOMAIN_ID": str(domain_id), **(env or {})}
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            args, env=full_env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        """Everything the node printed so far."""
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGTERM, then the exit code (killed after ``timeout_s``: -9)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return -9
        self._log_file.close()
        return int(self.process.returncode)


_DOMAINS = itertools.count(os.getpid() % 50)


def free_domain() -> int:
    """A ROS domain id (1-101) that no earlier call in this test run returned, so a module's
    long-lived sim and each test's own nodes never cross-talk. (Random ids collided: the
    module-wide G1 sim's joint states once reached two other robots' tests in one run.)"""
    return 1 + next(_DOMAINS) % 101


@pytest.fixture(scope="module")
def g1() -> RobotModel:
    return RobotModel(load_robot("g1"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProcess, Probe]]:
    """A kinematic G1 sim (320×240 camera, table above the wrists) and a probe listening."""
    domain = free_domain()
    log = tmp_path_factory.mktemp("sim") / "sim_robot_node.log"
    node = NodeProcess(
        "humanoid_teleop.nodes.sim_robot_node",
        {
            "robot": "g1",
            "backend": "kinematic",
            "camera_width": 320,
            "camera_height": 240,
            "table_height_m": TABLE_HEIGHT_M,
        },
        domain,
        log,
    )
    probe = Probe(domain)
    probe.listen(JointState, "/joint_states", 500)
    probe.listen(WrenchStamped, "/ft/left_wrist", 200)
    probe.listen(WrenchStamped, "/ft/right_wrist", 200)
    probe.listen(Image, "/cameras/head/image_raw", 5)
    probe.listen(CompressedImage, "/cameras/head/image_raw/compressed", 5)
    probe.listen(CameraInfo, "/cameras/head/camera_info", 5)
    started = probe.spin_until(lambda: len(probe.received["/joint_states"]) > 0, 30.0)
    assert started, f"no /joint_states from sim_robot_node:\n{node.output()}"
    yield node, probe
    probe.close()
    node.stop()


def _latest(probe: Probe, topic: str) -> Any:
    return probe.received[topic][-1]


def _positions(msg: JointState, names: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(msg.name)}
    return np.array([msg.position[index[n]] for n in names])


@pytest.mark.ros
def test_joint_states_start_at_home(sim: tuple[NodeProcess, Probe], g1: RobotModel) -> None:
    """The first joint states name every model joint and hold the home posture."""
    _, probe = sim
    first = probe.received["/joint_states"][0]
    assert tuple(first.name) == g1.joint_names
    np.testing.assert_allclose(first.position, g1.home_positions(), atol=1e-9)


@pytest.mark.ros
def test_joint_states_and_sensors_share_sample_stamps(sim: tuple[NodeProcess, Probe]) -> None:
    """Every wrench, image and camera-info stamp is the stamp of a published joint sample."""
    _, probe = sim
    probe.spin_until(lambda: len(probe.received["/cameras/head/image_raw"]) >= 3, 10.0)
    probe.spin_for(0.3)
    wanted = {
        topic: [time_to_s(m.header.stamp) for m in probe.received[topic][-6:-3]]
        for topic in ("/ft/left_wrist", "/cameras/head/image_raw", "/cameras/head/camera_info")
    }

    def missing() -> dict[str, list[float]]:
        joint_stamps = {time_to_s(m.header.stamp) for m in probe.received["/joint_states"]}
        return {t: [s for s in stamps if s not in joint_stamps] for t, stamps in wanted.items()}

    # The joint samples those were computed from may still sit in the probe's backlog.
    probe.spin_until(lambda: not any(missing().values()), 10.0)
    assert all(wanted.values()) and not any(missing().values()), missing()


@pytest.mark.ros
def test_wrists_in_the_table_feel_it_push_back(sim: tuple[NodeProcess, Probe]) -> None:
    """With the table top above the home wrists, both F/T sensors report a force."""
    _, probe = sim
    probe.spin_until(lambda: len(probe.received["/ft/right_wrist"]) > 5, 5.0)
    force = _latest(probe, "/ft/right_wrist").wrench.force
    depth_n = 2000.0 * (TABLE_HEIGHT_M - 0.134)
    assert np.linalg.norm([force.x, force.y, force.z]) > 0.5 * depth_n
    assert _latest(probe, "/ft/right_wrist").header.frame_id == "right_wrist_ft"


@pytest.mark.ros
def test_camera_publishes_raw_jpeg_and_info(sim: tuple[NodeProcess, Probe]) -> None:
    """The head camera sends a 320×240 rgb8 Image, a decodable JPEG and matching intrinsics."""
    _, probe = sim
    probe.spin_until(
        lambda: all(
            probe.received[t]
            for t in ("/cameras/head/image_raw/compressed", "/cameras/head/camera_info")
        ),
        10.0,
    )
    image = _latest(probe, "/cameras/head/image_raw")
    assert (image.width, image.height, image.encoding) == (320, 240, "rgb8")
    assert len(image.data) == 320 * 240 * 3
    jpeg = _latest(probe, "/cameras/head/image_raw/compressed")
    decoded = cv2.imdecode(np.frombuffer(bytes(jpeg.data), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (240, 320, 3)
    info = _latest(probe, "/cameras/head/camera_info")
    assert info.header.frame_id == image.header.frame_id == "head_camera_optical_frame"
    focal = 160.0 / np.tan(np.radians(69.0) / 2.0)
    assert info.k[0] == pytest.approx(focal)


@pytest.mark.ros
def test_forward_command_moves_the_arm_within_its_limits(
    sim: tuple[NodeProcess, Probe], g1: RobotModel
) -> None:
    """A left-arm command is reached; joint speeds never exceed the velocity limits; the
    camera image changes and the left wrist leaves the table."""
    _, probe = sim
    names = list(g1.description.groups["left_arm"])
    before = np.frombuffer(bytes(_latest(probe, "/cameras/head/image_raw").data), np.uint8)
    start = len(probe.received["/joint_states"])
    pub = probe.node.create_publisher(Float64MultiArray, "/left_arm_controller/commands", 10)

    def reached() -> bool:
        pub.publish(Float64MultiArray(data=LEFT_UP))
        latest = _positions(probe.received["/joint_states"][-1], names)
        return bool(np.allclose(latest, LEFT_UP, atol=1e-3))

    assert probe.spin_until(reached, 10.0), "left arm did not reach the command"
    probe.spin_for(0.3)
    samples = probe.received["/joint_states"][start:]
    positions = np.array([_positions(m, names) for m in samples])
    stamps_ns = np.array([m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in samples])
    speeds = np.abs(np.diff(positions, axis=0)) / (np.diff(stamps_ns) * 1e-9)[:, None]
    limits = g1.limits.velocity[g1.index_of(names)]
    assert np.all(speeds <= limits * (1.0 + 1e-6)), speeds.max()
    assert speeds.max() > 0.5 * limits.min()  # it did move, fast
    after = np.frombuffer(bytes(_latest(probe, "/cameras/head/image_raw").data), np.uint8)
    assert np.count_nonzero(before != after) > 1000
    force = _latest(probe, "/ft/left_wrist").wrench.force
    assert (force.x, force.y, force.z) == (0.0, 0.0, 0.0)


@pytest.mark.ros
def test_bad_command_is_ignored_and_the_arm_holds(
    sim: tuple[NodeProcess, Probe], g1: RobotModel
) -> None:
    """A command of the wrong length is dropped with a warning naming the topic."""
    node, probe = sim
    names = list(g1.description.groups["right_arm"])
    held = _positions(_latest(probe, "/joint_states"), names)
    start = len(probe.received["/joint_states"])
    pub = probe.node.create_publisher(Float64MultiArray, "/right_arm_controller/commands", 10)
    matched = probe.spin_until(lambda: pub.get_subscription_count() > 0, 10.0)
    assert matched, "the sim never subscribed to the command topic\n" + node.output()
    warning = "/right_arm_controller/commands: command ignored, joints hold"

    def warned() -> bool:
        pub.publish(Float64MultiArray(data=[0.5, 0.5, 0.5]))
        return warning in node.output()

    assert probe.spin_until(warned, 10.0), node.output()
    # Joint states the sim stamped after it logged the warning come from after the bad command.
    t_warned = time.time()
    assert probe.spin_until(
        lambda: time_to_s(_latest(probe, "/joint_states").header.stamp) > t_warned, 10.0
    )
    for msg in probe.received["/joint_states"][start:]:
        np.testing.assert_allclose(_positions(msg, names), held)
    assert node.process.poll() is None


@pytest.mark.ros
def test_late_subscriber_gets_the_latched_robot_description(
    sim: tuple[NodeProcess, Probe], g1: RobotModel
) -> None:
    """A subscriber created seconds after start still receives the URDF text."""
    _, probe = sim
    got = probe.listen(String, "/robot_description", LATCHED)
    assert probe.spin_until(lambda: bool(got), 10.0)
    assert got[0].data == g1.description.model.path.read_text(encoding="utf-8")


@pytest.mark.ros
def test_late_subscriber_gets_tf_static_and_tf_follows_the_joints(
    sim: tuple[NodeProcess, Probe],
) -> None:
    """/tf_static reaches a late subscriber with the camera frame; /tf carries joint links."""
    tf2_msgs = pytest.importorskip("tf2_msgs.msg", reason="tf2_msgs is not installed here")
    _, probe = sim
    static = probe.listen(tf2_msgs.TFMessage, "/tf_static", LATCHED)
    moving = probe.listen(tf2_msgs.TFMessage, "/tf", 50)
    assert probe.spin_until(lambda: bool(static) and len(moving) > 2, 10.0)
    children = {t.child_frame_id for t in static[0].transforms}
    assert {"head_camera_optical_frame", "left_wrist_ft", "left_index_tip"} <= children
    links = {t.child_frame_id for t in moving[-1].transforms}
    assert "left_elbow_link" in links
    tf_stamp = time_to_s(moving[-1].transforms[0].header.stamp)
    # The probe may still be working through a backlog of 250 Hz joint states: wait for it.
    assert probe.spin_until(
        lambda: tf_stamp in {time_to_s(m.header.stamp) for m in probe.received["/joint_states"]},
        10.0,
    ), f"/tf stamp {tf_stamp} is not the stamp of any joint state received"


def _robot_with_interfaces(tmp_path: Path, kinds: dict[str, str]) -> Path:
    """A copy of G1's robot.yaml whose groups use the given command interface kinds."""
    source = load_robot("g1").source_file
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["name"] = "g1_variant"
    for group, kind in kinds.items():
        data["interfaces"][group]["kind"] = kind
    folder = tmp_path / "robots" / "g1_variant"
    folder.mkdir(parents=True)
    (folder / "robot.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path / "robots"


@pytest.mark.ros
def test_trajectory_and_joint_state_interfaces_are_followed(tmp_path: Path, g1: RobotModel) -> None:
    """A JointTrajectory (left arm) and a JointState (right arm) command are both reached."""
    robots = _robot_with_interfaces(
        tmp_path, {"left_arm": "trajectory", "right_arm": "joint_state"}
    )
    domain = free_domain()
    node = NodeProcess(
        "humanoid_teleop.nodes.sim_robot_node",
        {"robot": "g1_variant", "camera_rate_hz": 2.0},
        domain,
        tmp_path / "sim.log",
        env={"HUMANOID_TELEOP_ROBOTS_PATH": str(robots)},
    )
    probe = Probe(domain)
    try:
        states = probe.listen(JointState, "/joint_states", 100)
        assert probe.spin_until(lambda: bool(states), 30.0), node.output()
        left = list(g1.description.groups["left_arm"])
        right = list(g1.description.groups["right_arm"])
        trajectory_pub = probe.node.create_publisher(
            JointTrajectory, "/left_arm_controller/commands", 10
        )
        state_pub = probe.node.create_publisher(JointState, "/right_arm_controller/commands", 10)
        trajectory = JointTrajectory(joint_names=left)
        point = JointTrajectoryPoint(positions=LEFT_UP)
        point.time_from_start.sec = 1
        trajectory.points = [point]
        right_target = [0.2, -0.3, 0.0, 0.4, 0.0, 0.0, 0.0]
        # One trajectory restarts the interpolation, so it is sent once: after both writers have
        # matched the sim's readers (reliable delivery is then guaranteed), not after a guess.
        matched = probe.spin_until(
            lambda: (
                trajectory_pub.get_subscription_count() > 0
                and state_pub.get_subscription_count() > 0
            ),
            30.0,
        )
        assert matched, "the sim never subscribed to the command topics\n" + node.output()
        trajectory_pub.publish(trajectory)
        state_pub.publish(JointState(name=right, position=right_target))

        def reached() -> bool:
            last = states[-1]
            return bool(
                np.allclose(_positions(last, left), LEFT_UP, atol=1e-3)
                and np.allclose(_positions(last, right), right_target, atol=1e-3)
            )

        if not probe.spin_until(reached, 15.0):
            last = states[-1]
            pytest.fail(
                f"left arm at {_positions(last, left)} (want {LEFT_UP}), right arm at "
                f"{_positions(last, right)} (want {right_target})\n{node.output()}"
            )
    finally:
        probe.close()
        assert node.stop() == 0


@pytest.mark.ros
def test_without_tf2_msgs_tf_is_skipped_with_one_warning(tmp_path: Path) -> None:
    """If tf2_msgs cannot be imported the node warns once, runs, and publishes no /tf."""
    shadow = tmp_path / "shadow" / "tf2_msgs"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('tf2_msgs hidden by the test')\n")
    path = os.pathsep.join([str(tmp_path / "shadow"), os.environ.get("PYTHONPATH", "")])
    domain = free_domain()
    node = NodeProcess(
        "humanoid_teleop.nodes.sim_robot_node",
        {"robot": "g1", "camera_rate_hz": 2.0},
        domain,
        tmp_path / "sim.log",
        env={"PYTHONPATH": path},
    )
    probe = Probe(domain)
    try:
        states = probe.listen(JointState, "/joint_states", 10)
        assert probe.spin_until(lambda: bool(states), 30.0), node.output()
        assert probe.node.count_publishers("/tf") == 0
        assert probe.node.count_publishers("/tf_static") == 0
        assert node.output().count("tf2_msgs is not installed") == 1
    finally:
        probe.close()
        code = node.stop()
    assert code == 0
    assert "Traceback" not in node.output()


@pytest.mark.ros
@pytest.mark.parametrize("robot", [entry.name for entry in list_robots()])
def test_every_shipped_robot_simulates(tmp_path: Path, robot: str) -> None:
    """Each shipped robot starts at home and publishes joint states, camera images and
    wrenches on its robot.yaml topics, and stops cleanly on SIGTERM."""
    description = load_robot(robot)
    sensors = description.sensors
    domain = free_domain()
    node = NodeProcess(
        "humanoid_teleop.nodes.sim_robot_node",
        {"robot": robot, "camera_width": 160, "camera_height": 120, "camera_rate_hz": 10.0},
        domain,
        tmp_path / "sim.log",
    )
    probe = Probe(domain)
    try:
        topics = [probe.listen(JointState, sensors.joint_state_topic, 10)]
        topics += [probe.listen(Image, c.topic, 2) for c in sensors.cameras]
        topics += [probe.listen(WrenchStamped, w.topic, 10) for w in sensors.wrenches]
        assert probe.spin_until(lambda: all(topics), 30.0), node.output()
        model = RobotModel(description)
        np.testing.assert_allclose(topics[0][0].position, model.home_positions(), atol=1e-9)
    finally:
        probe.close()
        code = node.stop()
    assert code == 0, node.output()
    assert "Traceback" not in node.output()


@pytest.mark.ros
@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("robot:=nope", "no robot 'nope'"),
        ("camera_rate_hz:=0.0", "parameters: camera_rate_hz: 0.0 must be a finite number > 0"),
        ("backend:=gazebo", "backend: 'gazebo'; allowed: mujoco, kinematic"),
        ("scene:=nope", "no scene 'nope'; scenes: pick_and_place, push"),
    ],
)
def test_bad_parameters_stop_the_node_with_a_clear_error(param: str, message: str) -> None:
    """An unknown robot, backend or scene or an impossible rate exits with code 2 and names
    the problem."""
    result = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.nodes.sim_robot_node", "--ros-args", "-p", param],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# -- the MuJoCo backend ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mujoco_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProcess, Probe]]:
    """A MuJoCo G1 in the pick_and_place scene (320×240 camera with depth) and a probe."""
    tf2_msgs = pytest.importorskip("tf2_msgs.msg", reason="tf2_msgs is not installed here")
    domain = free_domain()
    log = tmp_path_factory.mktemp("mujoco") / "sim_robot_node.log"
    node = NodeProcess(
        "humanoid_teleop.nodes.sim_robot_node",
        {
            "robot": "g1",
            "backend": "mujoco",
            "scene": "pick_and_place",
            "seed": 3,
            "camera_width": 320,
            "camera_height": 240,
            "publish_depth": True,
        },
        domain,
        log,
    )
    probe = Probe(domain)
    probe.listen(JointState, "/joint_states", 500)
    probe.listen(WrenchStamped, "/ft/right_wrist", 200)
    probe.listen(Image, "/cameras/head/image_raw", 5)
    probe.listen(Image, "/cameras/head/image_raw/depth", 5)
    probe.listen(PoseArray, "/sim/objects", 50)
    probe.listen(tf2_msgs.TFMessage, "/tf", 50)
    probe.listen(String, "/sim/task/outcome", LATCHED)
    started = probe.spin_until(lambda: all(probe.received[t] for t in probe.received), 30.0)
    assert started, f"sim_robot_node (mujoco) did not publish everything:\n{node.output()}"
    yield node, probe
    probe.close()
    node.stop()


@pytest.mark.ros
def test_mujoco_joint_states_carry_efforts(mujoco_sim: tuple[NodeProcess, Probe]) -> None:
    """MuJoCo joint states have an effort per joint; the gravity-loaded shoulders are non-zero."""
    _, probe = mujoco_sim
    msg = _latest(probe, "/joint_states")
    assert len(msg.effort) == len(msg.name)
    shoulder = msg.name.index("right_shoulder_pitch_joint")
    assert abs(msg.effort[shoulder]) > 0.1


@pytest.mark.ros
def test_mujoco_sensor_stamps_are_joint_sample_stamps(
    mujoco_sim: tuple[NodeProcess, Probe],
) -> None:
    """Images, depth, wrenches and object poses carry stamps of published joint samples."""
    _, probe = mujoco_sim
    probe.spin_for(1.0)
    for topic in (
        "/cameras/head/image_raw",
        "/cameras/head/image_raw/depth",
        "/ft/right_wrist",
        "/sim/objects",
    ):
        stamp = time_to_s(_latest(probe, topic).header.stamp)
        # the probe may still be working through a backlog of 250 Hz joint states: wait
        assert probe.spin_until(
            lambda s=stamp: (
                s in {time_to_s(m.header.stamp) for m in probe.received["/joint_states"][-500:]}
            ),
            10.0,
        ), topic


@pytest.mark.ros
def test_mujoco_camera_sees_the_cube_and_depth_is_in_mm(
    mujoco_sim: tuple[NodeProcess, Probe],
) -> None:
    """The rendered head image shows the red cube; depth is 16UC1 with the table ~0.3-1.5 m."""
    _, probe = mujoco_sim
    image = _latest(probe, "/cameras/head/image_raw")
    rgb = np.frombuffer(bytes(image.data), np.uint8).reshape(240, 320, 3).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    assert red.sum() > 50, "no red cube in the head camera image"
    depth = _latest(probe, "/cameras/head/image_raw/depth")
    assert depth.encoding == "16UC1"
    mm = np.frombuffer(bytes(depth.data), np.uint16).reshape(240, 320)
    assert 300 < int(np.median(mm)) < 1500


@pytest.mark.ros
def test_mujoco_objects_are_ground_truth_on_the_table(
    mujoco_sim: tuple[NodeProcess, Probe],
) -> None:
    """/sim/objects holds the cube resting on the table; /tf has sim/cube; outcome running."""
    _, probe = mujoco_sim
    poses = _latest(probe, "/sim/objects")
    assert poses.header.frame_id == "pelvis" and len(poses.poses) == 1
    frames = {t.child_frame_id for m in probe.received["/tf"] for t in m.transforms}
    assert {"sim/cube", "right_elbow_link"} <= frames
    assert _latest(probe, "/sim/task/outcome").data == "running"
    cube = poses.poses[0].position
    probe.spin_for(0.5)
    later = _latest(probe, "/sim/objects").poses[0].position
    assert abs(later.z - cube.z) < 1e-3, "the cube is not resting"


@pytest.mark.ros
def test_mujoco_wrist_reads_the_hand_weight(mujoco_sim: tuple[NodeProcess, Probe]) -> None:
    """The right wrist F/T (hand on arm, hand weight included) reads ~the hand's weight."""
    _, probe = mujoco_sim
    msg = _latest(probe, "/ft/right_wrist")
    force = msg.wrench.force
    assert msg.header.frame_id == "right_wrist_ft"
    assert 2.0 < np.linalg.norm([force.x, force.y, force.z]) < 20.0


@pytest.mark.ros
def test_mujoco_forward_command_moves_the_arm_within_its_limits(
    mujoco_sim: tuple[NodeProcess, Probe], g1: RobotModel
) -> None:
    """A left-arm command is tracked by the servos; joint speeds stay within the limits."""
    _, probe = mujoco_sim
    names = list(g1.description.groups["left_arm"])
    start = len(probe.received["/joint_states"])
    pub = probe.node.create_publisher(Float64MultiArray, "/left_arm_controller/commands", 10)

    def reached() -> bool:
        pub.publish(Float64MultiArray(data=LEFT_UP))
        latest = _positions(probe.received["/joint_states"][-1], names)
        return bool(np.allclose(latest, LEFT_UP, atol=5e-3))

    assert probe.spin_until(reached, 10.0), "left arm did not reach the command"
    samples = probe.received["/joint_states"][start:]
    positions = np.array([_positions(m, names) for m in samples])
    stamps = np.array([time_to_s(m.header.stamp) for m in samples])
    speeds = np.abs(np.diff(positions, axis=0)) / np.diff(stamps)[:, None]
    limits = g1.limits.velocity[g1.index_of(names)]
    assert np.all(speeds <= limits * 1.2), speeds.max()  # servo overshoot on top of the ramp
    assert speeds.max() > 0.5 * limits.min()
