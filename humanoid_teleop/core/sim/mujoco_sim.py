"""The robot on MuJoCo: position servos on every joint, contacts, F/T sites, rendered cameras.

:class:`MujocoSim` loads the cached model of :mod:`~humanoid_teleop.core.sim.mjcf_build`, adds
what robot.yaml and the scene ask for (a site + force/torque sensor pair per wrench sensor, a
camera per camera, the scene's table and objects) and steps the physics. Joint arrays are in
:attr:`RobotModel.joint_names` order, like the kinematic backend's.

Commands go through a :class:`JointIntegrator` (the robot's velocity/acceleration limits), whose
output is the servos' reference, so both backends accept the same commands and reject the same
bad ones (:class:`InvalidCommand`).

**F/T convention** (``wrench``): the wrench the hand side (the sensor's link and everything
below it) exerts on the arm side, in the sensor frame, [N] and [N m] about the sensor origin,
hand weight included (no tare): a hand hanging still reads its weight pointing down, a hand
pressed onto the table reads the push-back (upward) minus that weight.

Rendering (:class:`CameraRenderer`) uses its own ``MjData``, filled from a
:class:`StateSnapshot`, so a camera thread never touches the physics thread's data.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.robot import CameraSpec, RobotDescription, RobotModel
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.integrator import JointIntegrator
from humanoid_teleop.core.sim.mjcf_build import (
    GROUP_SCENE,
    GROUP_VISUAL,
    import_mujoco,
    robot_model_path,
)
from humanoid_teleop.core.sim.physics_config import PhysicsConfig, load_physics
from humanoid_teleop.core.sim.scene import Scene, add_lights

FloatArray = NDArray[np.float64]
#: Longest stretch of physics one :meth:`MujocoSim.advance_to` call integrates [s]; a longer
#: gap (the host stalled) is skipped, not caught up, so the robot never lurches.
MAX_CATCH_UP_S = 0.1
#: Geom group of the visual meshes of the links cameras are mounted in (drawn in other views).
GROUP_HIDDEN_FROM_CAMERAS = 5
#: Rotation from a ROS optical frame (z forward, y down) to a MuJoCo camera (-z forward, y up).
OPTICAL_TO_MUJOCO = np.diag([1.0, -1.0, -1.0])


def _mujoco() -> Any:
    return import_mujoco()


def _quat_wxyz(rotation: FloatArray) -> list[float]:
    mujoco = _mujoco()
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(rotation, dtype=np.float64).ravel())
    return [float(v) for v in quat]


@dataclass(frozen=True)
class StateSnapshot:
    """Everything a renderer needs: sim time [s] and the generalized positions."""

    time_s: float
    qpos: FloatArray


class MujocoSim:
    """One robot (and optionally a scene) in MuJoCo, stepped in sim time."""

    def __init__(
        self,
        model: RobotModel,
        physics: PhysicsConfig | None = None,
        *,
        scene: Scene | None = None,
        seed: int = 0,
        lag_s: float = 0.0,
        cache: Path | None = None,
    ) -> None:
        mujoco = _mujoco()
        description: RobotDescription = model.description
        self.description = description
        self.robot_model = model
        self.physics = physics or load_physics(description.source_file, tuple(description.groups))
        home = model.home_positions()
        # MuJoCo's world is the URDF root link; robot.yaml's base frame is fixed to it.
        pin.framesForwardKinematics(model.pin_model, model.pin_data, model.to_pinocchio(home))
        base = model.pin_data.oMf[model.pin_model.getFrameId(description.base_frame)]
        self.base_rotation = np.array(base.rotation)
        self.base_position = np.array(base.translation)
        spec = mujoco.MjSpec.from_file(str(robot_model_path(description, self.physics, cache)))
        self._add_sensors(spec, model)
        self.scene: Scene | None = scene
        if scene is not None:
            scene.add_to(spec, model, seed, self.world_from_base)
        else:
            add_lights(spec)
        try:
            self.model = spec.compile()
        except ValueError as err:
            raise SimConfigError(
                f"{description.name}: MuJoCo model does not compile: {err}"
            ) from err
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.joint_names: tuple[str, ...] = model.joint_names
        ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in self.joint_names]
        missing = [n for n, i in zip(self.joint_names, ids, strict=True) if i < 0]
        if missing:
            raise SimConfigError(f"{description.name}: MuJoCo model lacks joints {missing}")
        self._qpos_index = np.array([m.jnt_qposadr[i] for i in ids], dtype=np.intp)
        self._dof_index = np.array([m.jnt_dofadr[i] for i in ids], dtype=np.intp)
        act_ids = {m.actuator(i).name: i for i in range(m.nu)}
        self._actuated = np.array(
            [k for k, n in enumerate(self.joint_names) if n in act_ids], dtype=np.intp
        )
        self._actuator_index = np.array(
            [act_ids[self.joint_names[k]] for k in self._actuated], dtype=np.intp
        )
        self.integrator = JointIntegrator(model.motion_limits, home.tolist(), lag_s)
        self.data.qpos[self._qpos_index] = self.integrator.positions
        if scene is not None:
            scene.reset(self, seed)
        self.data.ctrl[self._actuator_index] = self.integrator.positions[self._actuated]
        mujoco.mj_forward(m, self.data)
        self._mj = mujoco
        self._lock = threading.Lock()

    # -- model additions -------------------------------------------------------------------

    def _add_sensors(self, spec: Any, model: RobotModel) -> None:
        """A site + force/torque sensors per wrench sensor, a camera per camera."""
        mujoco = _mujoco()
        description = model.description
        home = model.home_positions()
        self.wrench_names: tuple[str, ...] = tuple(s.name for s in description.sensors.wrenches)
        for sensor in description.sensors.wrenches:
            body, rotation, position = self._frame_on_body(spec, model, sensor.frame_id, home)
            site = body.add_site()
            site.name = f"ft_{sensor.name}"
            site.pos = position.tolist()
            site.quat = _quat_wxyz(rotation)
            site.size = [0.005, 0.005, 0.005]
            site.group = 4
            for kind, suffix in (
                (mujoco.mjtSensor.mjSENS_FORCE, "force"),
                (mujoco.mjtSensor.mjSENS_TORQUE, "torque"),
            ):
                s = spec.add_sensor()
                s.name = f"ft_{sensor.name}_{suffix}"
                s.type = kind
                s.objtype = mujoco.mjtObj.mjOBJ_SITE
                s.objname = site.name
        self.camera_specs: tuple[CameraSpec, ...] = tuple(description.sensors.cameras)
        for camera in self.camera_specs:
            body, rotation, position = self._frame_on_body(spec, model, camera.frame_id, home)
            _hide_from_cameras(body)
            cam = body.add_camera()
            cam.name = f"cam_{camera.name}"
            cam.pos = position.tolist()
            cam.quat = _quat_wxyz(rotation @ OPTICAL_TO_MUJOCO)
            aspect = camera.height / camera.width
            cam.fovy = math.degrees(2.0 * math.atan(math.tan(0.5 * camera.fov_rad) * aspect))

    @staticmethod
    def _frame_on_body(
        spec: Any, model: RobotModel, frame: str, q: FloatArray
    ) -> tuple[Any, FloatArray, FloatArray]:
        """The MuJoCo body a robot.yaml frame hangs on and the frame's pose in that body."""
        pin_model = model.pin_model
        frame_id = pin_model.getFrameId(frame)
        parent = frame_id
        while pin_model.frames[parent].type != pin.FrameType.BODY:
            parent = pin_model.frames[parent].parentFrame
        body_name = pin_model.frames[parent].name
        body = spec.body(body_name)
        if body is None:
            raise SimConfigError(f"frame {frame!r}: link {body_name!r} is not a MuJoCo body")
        poses = model.fk_all(q)
        rb, pb = poses[body_name]
        rf, pf = poses[frame]
        return body, rb.T @ rf, rb.T @ (pf - pb)

    # -- commands and stepping -------------------------------------------------------------

    def start_at(self, positions: FloatArray, commanded: FloatArray | None = None) -> None:
        """Put the robot at rest at joint ``positions`` [rad or m] (``joint_names`` order,
        clamped into the limits), its drives at rest at ``commanded`` (default: the same),
        held until commanded: the start of a replay that begins where a recording did, not
        at home. Before the first step only."""
        if self.data.time != 0.0:
            raise SimConfigError(f"start_at after {self.data.time} s of simulation")
        integrator = self.integrator
        reference = positions if commanded is None else commanded
        self.integrator = JointIntegrator(integrator.limits, reference, integrator.lag_s)
        limits = integrator.limits
        d = self.data
        d.qpos[self._qpos_index] = np.clip(positions, limits.lower, limits.upper)
        d.qvel[self._dof_index] = 0.0
        d.ctrl[self._actuator_index] = self.integrator.positions[self._actuated]
        self._mj.mj_forward(self.model, d)

    def set_targets(self, names: Sequence[str], positions: Sequence[float] | FloatArray) -> None:
        """Command joint positions [rad]; raises InvalidCommand (nothing changes) if bad."""
        with self._lock:
            self.integrator.set_targets(names, positions)

    @property
    def time_s(self) -> float:
        """Simulated time since start [s]."""
        return float(self.data.time)

    def advance_to(self, t_s: float) -> int:
        """Step the physics until sim time reaches ``t_s`` [s]; returns the steps taken."""
        mujoco = self._mj
        m, d = self.model, self.data
        dt = m.opt.timestep
        if t_s - d.time > MAX_CATCH_UP_S:
            d.time = t_s - MAX_CATCH_UP_S
        steps = 0
        with self._lock:
            while d.time + 0.5 * dt <= t_s:
                reference = self.integrator.step(dt)
                d.ctrl[self._actuator_index] = reference[self._actuated]
                mujoco.mj_step(m, d)
                steps += 1
        if self.scene is not None and steps:
            self.scene.observe(self)
        return steps

    def step(self, count: int = 1) -> None:
        """Take ``count`` physics steps."""
        dt = self.model.opt.timestep
        for _ in range(count):
            self.advance_to(self.time_s + dt)

    # -- state -----------------------------------------------------------------------------

    @property
    def positions(self) -> FloatArray:
        """Joint positions [rad or m] in ``joint_names`` order."""
        return np.array(self.data.qpos[self._qpos_index])

    @property
    def velocities(self) -> FloatArray:
        """Joint velocities [rad/s or m/s]."""
        return np.array(self.data.qvel[self._dof_index])

    @property
    def efforts(self) -> FloatArray:
        """Joint torques [N m] (or forces [N]) the drives apply: servo + gravity feed-forward."""
        d = self.data
        efforts = d.qfrc_actuator[self._dof_index] + d.qfrc_gravcomp[self._dof_index]
        return np.array(efforts, dtype=np.float64)

    def snapshot(self) -> StateSnapshot:
        """A copy of the state to render from another thread."""
        return StateSnapshot(self.time_s, np.array(self.data.qpos))

    def wrench(self, name: str) -> tuple[FloatArray, FloatArray]:
        """Force [N] and torque [N m] of wrench sensor ``name`` (see the module docstring)."""
        d = self.data
        force = -np.array(d.sensor(f"ft_{name}_force").data)
        torque = -np.array(d.sensor(f"ft_{name}_torque").data)
        return force, torque

    def body_pose(self, name: str) -> tuple[FloatArray, FloatArray]:
        """Rotation and position [m] of a MuJoCo body in robot.yaml's base frame."""
        body = self.data.body(name)
        rotation = np.array(body.xmat).reshape(3, 3)
        rb = self.base_rotation
        return rb.T @ rotation, rb.T @ (np.array(body.xpos) - self.base_position)

    def world_from_base(self, position: FloatArray) -> FloatArray:
        """A point [m] given in the base frame, in MuJoCo's world (the model root) frame."""
        world: FloatArray = self.base_rotation @ np.asarray(position) + self.base_position
        return world


def _hide_from_cameras(body: Any) -> None:
    """Move the visual meshes of a camera's link, and of the links it is welded to up to the
    first one a joint moves, out of the cameras' view: the camera sits inside those meshes
    (a head shell), which would otherwise fill its image."""
    while body is not None and body.name != "world":
        for geom in body.geoms:
            if geom.group == GROUP_VISUAL:
                geom.group = GROUP_HIDDEN_FROM_CAMERAS
        if body.joints:
            return
        body = body.parent


class CameraRenderer:
    """Offscreen RGB (and optional depth) images of one camera; use from one thread only."""

    def __init__(self, sim: MujocoSim, camera: CameraSpec, width: int, height: int) -> None:
        mujoco = _mujoco()
        self._mj = mujoco
        self.model = sim.model
        self.data = mujoco.MjData(sim.model)
        self.camera = f"cam_{camera.name}"
        self.width, self.height = width, height
        self.renderer = mujoco.Renderer(sim.model, height, width)
        self.option = mujoco.MjvOption()
        self.option.geomgroup[:] = 0
        self.option.geomgroup[GROUP_VISUAL] = 1
        self.option.geomgroup[GROUP_SCENE] = 1

    def _update(self, snapshot: StateSnapshot) -> None:
        self.data.qpos[:] = snapshot.qpos
        self._mj.mj_kinematics(self.model, self.data)
        self._mj.mj_camlight(self.model, self.data)
        self.renderer.update_scene(self.data, self.camera, self.option)

    def render_rgb(self, snapshot: StateSnapshot) -> NDArray[np.uint8]:
        """An (h, w, 3) uint8 RGB image of the state in ``snapshot``."""
        self._update(snapshot)
        return np.array(self.renderer.render())

    def render_depth_mm(self, snapshot: StateSnapshot) -> NDArray[np.uint16]:
        """An (h, w) uint16 depth image [mm] (0 = beyond 65.535 m or nothing)."""
        self._update(snapshot)
        self.renderer.enable_depth_rendering()
        try:
            depth = np.array(self.renderer.render())
        finally:
            self.renderer.disable_depth_rendering()
        mm = np.round(depth * 1000.0)
        mm[(mm > 65535) | ~np.isfinite(mm)] = 0
        return mm.astype(np.uint16)

    def close(self) -> None:
        """Release the GL context."""
        self.renderer.close()
