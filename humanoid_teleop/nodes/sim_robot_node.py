"""sim_robot_node: a simulated humanoid built from any ``robots/<name>``.

Subscribes to every command interface of robot.yaml (``forward`` Float64MultiArray in group
order, ``trajectory`` JointTrajectory, ``joint_state`` JointState). The commanded positions
pass each joint's velocity/acceleration limits from the home posture, then, by ``backend``:

- ``mujoco`` (default): position servos of the robot's MuJoCo model (core/sim/mujoco_sim.py)
  with contacts, the ``scene``'s table and objects, joint efforts, rendered cameras (its own
  thread) and F/T sensor pairs at the wrist sites; object poses on ``/sim/objects``
  (PoseArray in the base frame, scene file order) and on ``/tf`` as ``sim/<object>``, the
  task detector's verdict on latched ``/sim/task/outcome`` (and to the recorder's
  ``/recorder/mark_success`` with ``mark_outcome``); stamps are the sim time of the state;
- ``kinematic``: a first-order lag, capsule drawings and a spring-damper table.

Both publish what a real robot's drivers would:

- ``/joint_states`` (or robot.yaml's ``joint_state_topic``) at ``joint_state_rate_hz``;
- ``/tf`` at ``tf_rate_hz`` and latched ``/tf_static`` when ``tf2_msgs`` imports (otherwise one
  warning says they are skipped);
- latched ``/robot_description`` (the model file's text, std_msgs/String);
- every camera of robot.yaml at ``camera_rate_hz``: sensor_msgs/Image on its topic,
  CompressedImage (JPEG) on ``<topic>/compressed``, CameraInfo on its info topic, rendered with
  OpenCV from the kinematics (a table, a bottle, the robot as capsules);
- every wrench sensor at ``wrench_rate_hz``: WrenchStamped of a virtual table pushing back on
  the wrist and fingertips of the sensor's arm.

Every sensor message carries the time stamp of the joint sample it was computed from.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, PoseArray, TransformStamped, WrenchStamped
from rclpy.client import Client
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory

from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.motion.rotation import quats_from_matrices
from humanoid_teleop.core.robot import CameraSpec, InterfaceSpec, RobotModel, load_robot
from humanoid_teleop.core.robot.limits import DEFAULT_VELOCITY_RAD_S
from humanoid_teleop.core.sim import (
    InvalidCommand,
    JointIntegrator,
    PinholeCamera,
    SceneRenderer,
    TableContact,
    TrajectoryPlayback,
)
from humanoid_teleop.core.sim.robot_scene import RobotScene, TfEdge, bottle_on, object_frame
from humanoid_teleop.core.sim.settings import SimRobotSettings
from humanoid_teleop.nodes.executor import run_node

LATCHED = QoSProfile(
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
#: Publisher history depths, about four seconds of each stream (raw images ~1 MB each get
#: less): with reliable QoS a reader that missed a packet asks for it again only after the
#: writer's next heartbeat (3 s in Fast DDS), and KEEP_LAST overwrites the oldest sample, so
#: shorter histories lose samples for good when 2 loaded cores delay delivery.
DEPTH_JOINT_STATES = 1000
DEPTH_TF = 400
DEPTH_WRENCH = 400
DEPTH_IMAGE = 30
DEPTH_CAMERA = 120  # JPEG frames and camera info
#: Seconds between two warnings about the same bad command topic.
WARN_PERIOD_S = 2.0


def _load_tf_message() -> type | None:
    """tf2_msgs/TFMessage if that package is installed, else None."""
    try:
        module = importlib.import_module("tf2_msgs.msg")
    except ImportError:
        return None
    message: type = module.TFMessage
    return message


@dataclass(frozen=True)
class _Sample:
    """Joint positions [rad] and velocities [rad/s] at ``stamp``; with MuJoCo also efforts
    [N m], wrenches (force, torque) by sensor name, object poses and the render snapshot."""

    stamp: Time
    stamp_s: float  # since the node started [s] (epoch seconds lose precision in float64)
    positions: np.ndarray
    velocities: np.ndarray
    efforts: np.ndarray | None = None
    wrenches: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    objects: list[tuple[np.ndarray, np.ndarray]] | None = None
    snapshot: Any = None


@dataclass
class _CameraOutput:
    spec: CameraSpec
    renderer: SceneRenderer | None  # kinematic backend; MuJoCo renders in the camera thread
    info: CameraInfo
    info_pub: Any
    raw: Any
    jpeg: Any
    depth: Any = None


class SimRobotNode(Node):
    """Kinematic robot: commands in; joint states, TF, description, cameras, wrenches out."""

    def __init__(self) -> None:
        super().__init__("sim_robot_node")
        values = {
            f.name: self.declare_parameter(f.name, getattr(SimRobotSettings(), f.name)).value
            for f in fields(SimRobotSettings)
        }
        self.settings = SimRobotSettings.from_dict(values)
        description = load_robot(self.settings.robot)
        self.description = description
        # One RobotModel per thread (pinocchio Data is not shared): control needs no FK.
        self.sensor_model = RobotModel(description)
        self.scene = RobotScene(self.sensor_model)
        model = self.sensor_model
        unspecified = model.limits.velocity_not_given
        if unspecified:
            self.get_logger().warning(
                f"{description.model.path.name} gives no velocity limit for "
                f"{', '.join(unspecified)}: they move at most {DEFAULT_VELOCITY_RAD_S} rad/s "
                "(set limits.joints.<name>.velocity in robot.yaml)"
            )
        self.sim: Any = None
        if self.settings.backend == "mujoco":
            self.sim = self._mujoco_sim(model)
            self.integrator = self.sim.integrator
        else:
            self.integrator = JointIntegrator(
                model.motion_limits, model.home_positions(), self.settings.lag_s
            )
        self._trajectories: dict[str, TrajectoryPlayback] = {}
        self._warned_at: dict[str, float] = {}
        self._lock = threading.Lock()
        now = self.get_clock().now()
        self._t0_ns = now.nanoseconds
        self._sample = self._make_sample(now.to_msg(), 0.0)
        self._last_step_s = self._sample.stamp_s

        self._joint_pub = self.create_publisher(
            JointState, description.sensors.joint_state_topic, DEPTH_JOINT_STATES
        )
        for interface in description.interfaces.values():
            self._subscribe(interface)
        self.create_timer(1.0 / self.settings.joint_state_rate_hz, self._step)

        self._description_pub = self.create_publisher(String, "/robot_description", LATCHED)
        self._description_pub.publish(String(data=self._model_text()))

        self._tf_message = _load_tf_message()
        if self._tf_message is None:
            self.get_logger().warning(
                "tf2_msgs is not installed: /tf and /tf_static are NOT published (source a ROS "
                "distro, or build it with tools/interfaces/build_interfaces.py)"
            )
        else:
            self._tf_pub: Publisher[Any] = self.create_publisher(self._tf_message, "/tf", DEPTH_TF)
            self._tf_static_pub: Publisher[Any] = self.create_publisher(
                self._tf_message, "/tf_static", LATCHED
            )
            self._tf_moving = self._tf_message_for(self.scene.moving_edges)
            self._publish_tf_static()
            self.create_timer(1.0 / self.settings.tf_rate_hz, self._publish_tf)

        table = self.settings.table_config(self.scene.default_table())
        kinematic = self.sim is None
        self._contact = TableContact(table) if self.settings.table and kinematic else None
        if not kinematic:
            self._setup_scene_outputs()
        self._wrench_pubs = []
        self._wrench_names = {s.frame_id: s.name for s in description.sensors.wrenches}
        self._previous_points: dict[str, tuple[float, list[np.ndarray]]] = {}
        for spec in description.sensors.wrenches:
            side = self.scene.side_of_frame(spec.frame_id)
            pub = self.create_publisher(WrenchStamped, spec.topic, DEPTH_WRENCH)
            self._wrench_pubs.append((spec.frame_id, side, pub))
        self._wrench_frames = sorted(
            {frame for frame, _, _ in self._wrench_pubs}
            | {name for names in self.scene.contact_frames.values() for name in names}
        )
        if self._wrench_pubs:
            self.create_timer(1.0 / self.settings.wrench_rate_hz, self._publish_wrenches)

        self._cameras = [
            self._camera_output(spec, table if self.settings.table else None)
            for spec in description.sensors.cameras
        ]
        self._renderers: dict[str, Any] = {}
        # Rendering takes milliseconds: it runs in its own thread with its own model, so the
        # executor keeps the joint-state rate.
        self._camera_model = RobotModel(description)
        self._stop_cameras = threading.Event()
        self._camera_thread = threading.Thread(
            target=self._camera_loop, name="sim_cameras", daemon=True
        )
        if kinematic:
            where = f"table top at {table.height_m:.3f} m in {description.base_frame}" + (
                "" if self.settings.table else " (disabled)"
            )
        else:
            where = f"scene {self.settings.scene or '(none)'}, seed {self.settings.seed}"
        self.get_logger().info(
            f"simulating {description.name} ({model.nq} joints, {self.settings.backend}) from "
            f"home; commands on {', '.join(i.topic for i in description.interfaces.values())}; "
            + where
        )

    # -- MuJoCo -----------------------------------------------------------------------------

    def _mujoco_sim(self, model: RobotModel) -> Any:
        from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
        from humanoid_teleop.core.sim.scene import Scene, load_scene

        scene = Scene(load_scene(self.settings.scene), model) if self.settings.scene else None
        return MujocoSim(
            model,
            scene=scene,
            seed=self.settings.seed,
            lag_s=self.settings.lag_s,
        )

    def _setup_scene_outputs(self) -> None:
        """Publishers of the scene's ground truth and task outcome."""
        scene = self.sim.scene
        self._objects_pub = self.create_publisher(PoseArray, "/sim/objects", DEPTH_TF)
        self._outcome_pub = self.create_publisher(String, "/sim/task/outcome", LATCHED)
        self._object_names_pub = self.create_publisher(String, "/sim/object_names", LATCHED)
        self._object_names_pub.publish(
            String(data=",".join(scene.object_names) if scene is not None else "")
        )
        self._outcome = None
        self._mark_client: Client[Any, Any] | None = (
            self.create_client(SetBool, "/recorder/mark_success")
            if self.settings.mark_outcome
            else None
        )
        self.create_timer(1.0 / self.settings.tf_rate_hz, self._publish_objects)

    def _publish_objects(self) -> None:
        sample = self.latest()
        scene = self.sim.scene
        if scene is None or sample.objects is None:
            return
        msg = PoseArray()
        msg.header.stamp = sample.stamp
        msg.header.frame_id = self.description.base_frame
        quats = quats_from_matrices(np.array([r for r, _ in sample.objects]))
        for (_, position), quat in zip(sample.objects, quats.tolist(), strict=True):
            pose = Pose()
            pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
            o = pose.orientation
            o.x, o.y, o.z, o.w = quat
            msg.poses.append(pose)
        self._objects_pub.publish(msg)
        outcome = scene.outcome
        if outcome != self._outcome:
            self._outcome = outcome
            self._outcome_pub.publish(String(data=outcome))
            self.get_logger().info(f"task {scene.config.task}: {outcome}")
            if self._mark_client is not None and outcome in ("success", "failure"):
                if self._mark_client.service_is_ready():
                    self._mark_client.call_async(SetBool.Request(data=outcome == "success"))
                else:
                    self.get_logger().warning(
                        f"task {outcome}, but /recorder/mark_success is not available"
                    )

    def _make_sample(self, stamp: Time, stamp_s: float) -> _Sample:
        sim = self.sim
        if sim is None:
            return _Sample(stamp, stamp_s, self.integrator.positions, self.integrator.velocities)
        return _Sample(
            stamp,
            stamp_s,
            sim.positions,
            sim.velocities,
            sim.efforts,
            {name: sim.wrench(name) for name in sim.wrench_names},
            sim.scene.object_poses(sim) if sim.scene is not None else None,
            sim.snapshot(),
        )

    # -- commands ---------------------------------------------------------------------------

    def _subscribe(self, interface: InterfaceSpec) -> None:
        names = self.description.groups[interface.group]
        topic = interface.topic
        callback: Callable[[Any], None]
        if interface.kind == "forward":

            def callback(msg: Float64MultiArray) -> None:
                self._apply(topic, lambda: self.integrator.set_targets(names, list(msg.data)))

            self.create_subscription(Float64MultiArray, topic, callback, 10)
        elif interface.kind == "trajectory":

            def callback(msg: JointTrajectory) -> None:
                self._apply(topic, lambda: self._start_trajectory(topic, msg))

            self.create_subscription(JointTrajectory, topic, callback, 10)
        else:

            def callback(msg: JointState) -> None:
                self._apply(
                    topic, lambda: self.integrator.set_targets(list(msg.name), list(msg.position))
                )

            self.create_subscription(JointState, topic, callback, 10)

    def _apply(self, topic: str, action: Callable[[], None]) -> None:
        """Run a command; a bad one is dropped (the joints hold) with a throttled warning."""
        try:
            action()
        except InvalidCommand as err:
            now = self._now_s()
            if now - self._warned_at.get(topic, -1e9) >= WARN_PERIOD_S:
                self._warned_at[topic] = now
                self.get_logger().warning(f"{topic}: command ignored, joints hold: {err}")

    def _start_trajectory(self, topic: str, msg: JointTrajectory) -> None:
        names = list(msg.joint_names)
        unknown = [n for n in names if n not in self.integrator.joint_names]
        if unknown:
            raise InvalidCommand(f"trajectory names unknown joints {unknown}")
        index = [self.integrator.joint_names.index(n) for n in names]
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        start_s = (stamp_ns - self._t0_ns) * 1e-9 if stamp_ns > 0 else self._now_s()
        playback = TrajectoryPlayback.build(
            names,
            self.integrator.positions[index],
            [p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in msg.points],
            [list(p.positions) for p in msg.points],
            start_s,
            topic,
        )
        self._trajectories[topic] = playback

    # -- integration and joint states -------------------------------------------------------

    def _now_s(self) -> float:
        """Time since the node started [s]."""
        return (self.get_clock().now().nanoseconds - self._t0_ns) * 1e-9

    def _step(self) -> None:
        now = self.get_clock().now()
        now_s = (now.nanoseconds - self._t0_ns) * 1e-9
        dt = now_s - self._last_step_s
        self._last_step_s = now_s
        if dt <= 0.0:
            return
        for topic, playback in list(self._trajectories.items()):

            def play(p: TrajectoryPlayback = playback) -> None:
                self.integrator.set_targets(p.joint_names, p.sample(now_s))

            self._apply(topic, play)
            if now_s > playback.end_s:
                del self._trajectories[topic]
        if self.sim is None:
            self.integrator.step(min(dt, 0.1))
            stamp = now.to_msg()
        else:
            # sim time follows the node's clock; stamps are the sim time of the state
            if not self.sim.advance_to(now_s):
                return  # less than a physics step since the last sample: nothing new
            now_s = self.sim.time_s
            stamp_ns = self._t0_ns + round(now_s * 1e9)
            stamp = Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000)
        sample = self._make_sample(stamp, now_s)
        with self._lock:
            self._sample = sample
        msg = JointState()
        msg.header.stamp = sample.stamp
        msg.name = list(self.integrator.joint_names)
        msg.position = sample.positions.tolist()
        msg.velocity = sample.velocities.tolist()
        if sample.efforts is not None:
            msg.effort = sample.efforts.tolist()
        self._joint_pub.publish(msg)

    def latest(self) -> _Sample:
        with self._lock:
            return self._sample

    # -- robot description and TF -----------------------------------------------------------

    def _model_text(self) -> str:
        path = self.description.model.path
        try:
            return path.read_text(encoding="utf-8")
        except OSError as err:
            raise TeleopError(f"{path}: cannot read the robot model: {err}") from err

    def _tf_message_for(self, edges: tuple[TfEdge, ...]) -> Any:
        """A TFMessage with one TransformStamped per edge, frame names filled in."""
        assert self._tf_message is not None
        transforms = []
        for edge in edges:
            t = TransformStamped()
            t.header.frame_id = edge.parent
            t.child_frame_id = edge.child
            transforms.append(t)
        return self._tf_message(transforms=transforms)

    def _fill_tf(self, msg: Any, edges: tuple[TfEdge, ...], sample: _Sample) -> Any:
        """Set stamps, translations and rotations of ``msg`` (built for ``edges``) at sample."""
        quats, translations = self.scene.edge_transforms(sample.positions, edges)
        for t, (qx, qy, qz, qw), (x, y, z) in zip(
            msg.transforms, quats.tolist(), translations.tolist(), strict=True
        ):
            t.header.stamp = sample.stamp
            v = t.transform.translation
            v.x, v.y, v.z = x, y, z
            r = t.transform.rotation
            r.x, r.y, r.z, r.w = qx, qy, qz, qw
        return msg

    def _publish_tf_static(self) -> None:
        edges = self.scene.static_edges
        msg = self._fill_tf(self._tf_message_for(edges), edges, self.latest())
        self._tf_static_pub.publish(msg)

    def _publish_tf(self) -> None:
        sample = self.latest()
        msg = self._fill_tf(self._tf_moving, self.scene.moving_edges, sample)
        objects = self._object_transforms(sample)
        if objects:  # scene objects ride in the same message, stamped like the links
            assert self._tf_message is not None  # this timer runs only when tf2_msgs loaded
            msg = self._tf_message(transforms=[*msg.transforms, *objects])
        self._tf_pub.publish(msg)

    def _object_transforms(self, sample: _Sample) -> list[TransformStamped]:
        """``<base frame> -> sim/<object>`` transforms of the sample's object poses."""
        if self.sim is None or self.sim.scene is None or sample.objects is None:
            return []
        quats = quats_from_matrices(np.array([r for r, _ in sample.objects]))
        transforms = []
        for name, (_, position), quat in zip(
            self.sim.scene.object_names, sample.objects, quats.tolist(), strict=True
        ):
            t = TransformStamped()
            t.header.stamp = sample.stamp
            t.header.frame_id = self.description.base_frame
            t.child_frame_id = object_frame(name)
            v = t.transform.translation
            v.x, v.y, v.z = (float(c) for c in position)
            r = t.transform.rotation
            r.x, r.y, r.z, r.w = quat
            transforms.append(t)
        return transforms

    # -- wrenches ---------------------------------------------------------------------------

    def _publish_wrenches(self) -> None:
        sample = self.latest()
        poses = self.scene.frame_poses(sample.positions, self._wrench_frames)
        for frame_id, side, pub in self._wrench_pubs:
            msg = WrenchStamped()
            msg.header.stamp = sample.stamp
            msg.header.frame_id = frame_id
            if sample.wrenches is not None:
                force, torque = sample.wrenches[self._wrench_names[frame_id]]
                f, tau = msg.wrench.force, msg.wrench.torque
                f.x, f.y, f.z = (float(c) for c in force)
                tau.x, tau.y, tau.z = (float(c) for c in torque)
            elif self._contact is not None and side is not None:
                points = self.scene.contact_points(poses, side)
                velocities = self._point_velocities(side, sample.stamp_s, points)
                rotation, position = poses[frame_id]
                wrench = self._contact.wrench_at(rotation, position, points, velocities)
                f, tau = msg.wrench.force, msg.wrench.torque
                f.x, f.y, f.z = (float(c) for c in wrench.force_n)
                tau.x, tau.y, tau.z = (float(c) for c in wrench.torque_nm)
            pub.publish(msg)

    def _point_velocities(
        self, side: str, stamp_s: float, points: list[np.ndarray]
    ) -> list[np.ndarray]:
        """Finite-difference velocities [m/s] of the contact points since the last call."""
        previous = self._previous_points.get(side)
        self._previous_points[side] = (stamp_s, points)
        if previous is None or stamp_s <= previous[0]:
            return [np.zeros(3) for _ in points]
        dt = stamp_s - previous[0]
        return [(p - p0) / dt for p, p0 in zip(points, previous[1], strict=True)]

    # -- cameras ----------------------------------------------------------------------------

    def _camera_output(self, spec: CameraSpec, table: Any) -> _CameraOutput:
        width = self.settings.camera_width or spec.width
        height = self.settings.camera_height or spec.height
        camera = PinholeCamera(width, height, spec.fov_rad)
        props = [bottle_on(table)] if table is not None else []
        info = CameraInfo()
        info.header.frame_id = spec.frame_id
        info.width, info.height = width, height
        info.distortion_model = "plumb_bob"
        info.d = [0.0] * 5
        info.k = list(camera.k_matrix())
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = list(camera.p_matrix())
        raw = (
            self.create_publisher(Image, spec.topic, DEPTH_IMAGE)
            if self.settings.publish_raw_images
            else None
        )
        jpeg = (
            self.create_publisher(CompressedImage, f"{spec.topic}/compressed", DEPTH_CAMERA)
            if self.settings.publish_jpeg_images
            else None
        )
        if spec.encoding not in ("rgb8", "bgr8", "mono8"):
            self.get_logger().warning(
                f"camera {spec.name}: encoding {spec.encoding} is not simulated; publishing rgb8"
            )
        info_pub = self.create_publisher(CameraInfo, spec.info_topic, DEPTH_CAMERA)
        if self.sim is not None:
            depth = (
                self.create_publisher(Image, f"{spec.topic}/depth", DEPTH_IMAGE)
                if self.settings.publish_depth
                else None
            )
            return _CameraOutput(spec, None, info, info_pub, raw, jpeg, depth)
        renderer = SceneRenderer(camera, table, props)
        return _CameraOutput(spec, renderer, info, info_pub, raw, jpeg)

    def start_cameras(self) -> None:
        """Start rendering the cameras (a thread at ``camera_rate_hz``)."""
        if self._cameras:
            self._camera_thread.start()

    def stop_cameras(self) -> None:
        """Stop the camera thread and wait for its current frame."""
        self._stop_cameras.set()
        if self._camera_thread.is_alive():
            self._camera_thread.join(timeout=2.0)

    def _camera_loop(self) -> None:
        try:
            self._render_loop()
        finally:
            for renderer in self._renderers.values():
                renderer.close()  # in the thread that owns the GL context
            self._renderers.clear()

    def _render_loop(self) -> None:
        period = 1.0 / self.settings.camera_rate_hz
        next_s = time.monotonic()
        while not self._stop_cameras.wait(max(0.0, next_s - time.monotonic())):
            next_s += period
            if next_s < time.monotonic():  # fell behind: skip frames rather than burst
                next_s = time.monotonic() + period
            try:
                self._publish_images()
            except Exception as err:  # the robot keeps running without images; say why
                if self._stop_cameras.is_set() or not rclpy.ok(context=self.context):
                    return
                self.get_logger().error(
                    f"camera rendering failed: {err!r}", throttle_duration_sec=2.0
                )

    def _mujoco_images(self, sample: _Sample) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """RGB (and depth [mm]) of every camera, rendered from the sample's state."""
        from humanoid_teleop.core.sim.mujoco_sim import CameraRenderer

        images = []
        for cam in self._cameras:
            renderer = self._renderers.get(cam.spec.name)
            if renderer is None:
                renderer = CameraRenderer(self.sim, cam.spec, cam.info.width, cam.info.height)
                self._renderers[cam.spec.name] = renderer
            rgb = renderer.render_rgb(sample.snapshot)
            depth = renderer.render_depth_mm(sample.snapshot) if cam.depth is not None else None
            images.append((rgb, depth))
        return images

    def _kinematic_images(self, sample: _Sample) -> list[tuple[np.ndarray, np.ndarray | None]]:
        poses = self._camera_model.fk_all(sample.positions)
        capsules = self.scene.capsules(poses)
        images: list[tuple[np.ndarray, np.ndarray | None]] = []
        for cam in self._cameras:
            assert cam.renderer is not None
            rotation, position = poses[cam.spec.frame_id]
            images.append((cam.renderer.render(rotation, position, capsules), None))
        return images

    def _publish_images(self) -> None:
        sample = self.latest()
        if self.sim is not None:
            images = self._mujoco_images(sample)
        else:
            images = self._kinematic_images(sample)
        for cam, (rgb, depth) in zip(self._cameras, images, strict=True):
            if depth is not None:
                msg = Image()
                msg.header.stamp = sample.stamp
                msg.header.frame_id = cam.spec.frame_id
                msg.height, msg.width = depth.shape
                msg.encoding = "16UC1"
                msg.is_bigendian = 0
                msg.step = depth.shape[1] * 2
                msg.data = depth.tobytes()
                cam.depth.publish(msg)
            cam.info.header.stamp = sample.stamp
            cam.info_pub.publish(cam.info)
            if cam.raw is not None:
                cam.raw.publish(self._image_msg(cam.spec, rgb, sample.stamp))
            if cam.jpeg is not None:
                ok, data = cv2.imencode(
                    ".jpg",
                    cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality],
                )
                if ok:
                    msg = CompressedImage()
                    msg.header.stamp = sample.stamp
                    msg.header.frame_id = cam.spec.frame_id
                    msg.format = "rgb8; jpeg compressed bgr8"
                    msg.data = data.tobytes()
                    cam.jpeg.publish(msg)

    @staticmethod
    def _image_msg(spec: CameraSpec, rgb: np.ndarray, stamp: Time) -> Image:
        encoding = spec.encoding
        if encoding == "bgr8":
            pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        elif encoding == "mono8":
            pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        else:
            encoding, pixels = "rgb8", rgb
        msg = Image()
        msg.header.stamp = stamp
        msg.header.frame_id = spec.frame_id
        msg.height, msg.width = pixels.shape[:2]
        msg.encoding = encoding
        msg.is_bigendian = 0
        msg.step = pixels.shape[1] * (1 if pixels.ndim == 2 else 3)
        msg.data = pixels.tobytes()
        return msg


def main(args: list[str] | None = None) -> int:
    return run_node(
        "sim_robot_node",
        SimRobotNode,
        start=lambda node: node.start_cameras(),
        close=lambda node: node.stop_cameras(),
        args=args,
    )


if __name__ == "__main__":
    sys.exit(main())
