"""``arm_ik``: operator wrist poses -> arm joints by differential IK (see :mod:`ik`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeGuard

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame, Input, Pose
from humanoid_teleop.core.retarget.arm_kernel import (
    MAP_SIZE,
    MAX_OPERATOR_DISTANCE_M,
    arm_target,
    compile_now,
    side_map,
)
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.calibration import (
    ArmCalibration,
    CalibrationConfig,
    capture,
)
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]
#: Default ``max_reach_ratio``: EE targets stay within this fraction of the arm length.
DEFAULT_MAX_REACH_RATIO = 0.95
_WRIST = {"left": Input.LEFT_WRIST, "right": Input.RIGHT_WRIST}
_PARAMS = {
    "mode",
    "scale",
    "operator_arm_length_m",
    "shoulder_below_head_m",
    "max_reach_ratio",
    "ik",
}


def arm_geometry(model: RobotModel, side: str, q: FloatArray) -> tuple[float, FloatArray]:
    """Arm length [m] (shoulder -> elbow -> EE at ``q``) and the shoulder position [m] (base)."""
    description = model.description
    arm = description.arms[side]
    joints = description.groups[arm.group]
    pm = model.pin_model
    data = pm.createData()
    pin.framesForwardKinematics(pm, data, model.to_pinocchio(q))
    base = data.oMf[pm.getFrameId(description.base_frame)]
    shoulder = base.actInv(data.oMi[pm.getJointId(joints[0])]).translation
    elbow = base.actInv(data.oMi[pm.getJointId(arm.elbow_joint)]).translation
    ee = base.actInv(data.oMf[pm.getFrameId(arm.ee_frame)]).translation
    length = float(np.linalg.norm(elbow - shoulder) + np.linalg.norm(ee - elbow))
    return length, np.asarray(shoulder, dtype=np.float64)


def usable(pose: Pose | None) -> TypeGuard[Pose]:
    """A pose that is present, finite and within :data:`MAX_OPERATOR_DISTANCE_M`."""
    if pose is None or not pose.is_finite():
        return False
    x, y, z = (float(v) for v in pose.position_m)
    return max(abs(x), abs(y), abs(z)) < MAX_OPERATOR_DISTANCE_M


class ArmIkRetargeter(Retargeter):
    """Wrist poses -> ``left_arm`` / ``right_arm`` joints, calibrated at engage.

    Params: ``mode`` (relative | absolute), ``scale`` (number or null = arm-length ratio),
    ``operator_arm_length_m``, ``shoulder_below_head_m``, ``max_reach_ratio`` (EE target
    positions farther from the shoulder than this fraction of the arm length are pulled back
    onto that sphere, toward the shoulder; null: no limit), ``ik`` (:class:`IkConfig` fields).
    """

    name = "arm_ik"
    inputs = frozenset({Input.LEFT_WRIST, Input.RIGHT_WRIST})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params(_PARAMS)
        params = context.params_field()
        self.calibration_config = CalibrationConfig.from_field(params)
        #: EE targets within this fraction of the arm length (None: null in the profile).
        self.max_reach_ratio: float | None = DEFAULT_MAX_REACH_RATIO
        if params.has("max_reach_ratio"):
            ratio = params.optional("max_reach_ratio")
            self.max_reach_ratio = ratio.as_positive_float() if ratio is not None else None
        ik_config = IkConfig.from_params(params)
        description = self.model.description
        self.sides: list[str] = []
        for side, arm in description.arms.items():
            if arm.group in context.groups:
                self.sides.append(side)
        unknown = set(context.groups) - {description.arms[s].group for s in self.sides}
        if unknown:
            raise RetargetConfigError(
                f"{context.source}: arm_ik drives arm groups only; {sorted(unknown)} is not "
                f"an arm of {description.name} (arms: "
                + ", ".join(f"{s}: {a.group}" for s, a in description.arms.items())
                + ")"
            )
        self.ik = DifferentialIk(
            self.model,
            arm_tasks(self.model, self.sides),
            ik_config,
            bounds=context.commandable_bounds(),
        )
        self._group_idx = {
            description.arms[s].group: self.model.group_indices(description.arms[s].group)
            for s in self.sides
        }
        home = self.model.home_positions()
        geometry = {s: arm_geometry(self.model, s, home) for s in self.sides}
        self.robot_arm_length_m = {s: g[0] for s, g in geometry.items()}
        #: Shoulder (first arm joint) position per side at home [m], base frame.
        self.shoulder_m = {s: g[1] for s, g in geometry.items()}
        shoulders = [g[1] for g in geometry.values()]
        centre = np.mean(shoulders, axis=0) if shoulders else np.zeros(3)
        self._robot_anchor = {s: centre for s in self.sides}
        self._calibration: dict[str, ArmCalibration] = {}
        # Per side, the compiled wrist -> target map of its calibration (arm_kernel.side_map).
        self._maps = np.zeros((len(self.sides), MAP_SIZE))
        self._q: FloatArray | None = None
        compile_now()

    def group_inputs(self) -> Mapping[str, frozenset[Input]]:
        """Each arm group follows its own wrist only."""
        arms = self.model.description.arms
        return {arms[side].group: frozenset({_WRIST[side]}) for side in self.sides}

    def set_operator_arm_length(self, length_m: float) -> None:
        """Use a measured operator arm length [m] (e.g. from a mocap skeleton) for scaling."""
        if not length_m > 0:
            raise RetargetConfigError(f"operator arm length {length_m} m must be > 0")
        cfg = self.calibration_config
        self.calibration_config = CalibrationConfig(
            cfg.mode, cfg.scale, float(length_m), cfg.shoulder_below_head_m
        )

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        """Capture the neutral of every arm whose wrist is valid; True once any arm has one.

        An arm whose wrist shows up later is calibrated then, against its current pose.
        """
        self._q = np.clip(q, self.ik.lower, self.ik.upper)
        self._calibration.clear()
        self.ik.targets[:] = np.nan
        self._calibrate_missing(frame)
        return bool(self._calibration)

    def _calibrate_missing(self, frame: HumanFrame) -> None:
        assert self._q is not None
        poses = None
        for i, side in enumerate(self.sides):
            wrist = frame.wrist(side)
            if side in self._calibration or not usable(wrist):
                continue
            poses = poses or self.ik.forward(self._q)
            arm = self.model.description.arms[side]
            calibration = capture(
                self.calibration_config,
                wrist,
                poses[i],
                frame.head if usable(frame.head) else None,
                self.robot_arm_length_m[side],
                self._robot_anchor[side],
                arm.hand_frame_rotation(),
            )
            self._calibration[side] = calibration
            reach = self.reach_m(side)
            self._maps[i] = side_map(*calibration.affine(), self.shoulder_m[side], reach)

    def reach_m(self, side: str) -> float:
        """How far [m] from the ``side`` shoulder (:attr:`shoulder_m`) an EE target may lie:
        ``max_reach_ratio`` x the arm length (``inf``: no limit)."""
        if self.max_reach_ratio is None:
            return math.inf
        return self.max_reach_ratio * self.robot_arm_length_m[side]

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        """IK from the commanded ``q`` [rad] (not the last IK solution), which keeps the solver
        from running ahead of what the safety filter lets the robot follow. An arm whose
        wrist is missing or unusable this frame keeps its last target."""
        if self._q is None:
            self._q = np.clip(q, self.ik.lower, self.ik.upper)
        if len(self._calibration) < len(self.sides):
            self._calibrate_missing(frame)
        targets = self.ik.targets
        for i, side in enumerate(self.sides):
            wrist = frame.wrist(side)
            if wrist is not None and side in self._calibration:
                arm_target(wrist.position_m, wrist.rotation, self._maps[i], targets[i])
        self._q = self.ik.solve_set(q)
        out = {}
        for i, side in enumerate(self.sides):
            if math.isfinite(targets[i, 0]):
                group = self.model.description.arms[side].group
                out[group] = self._q[self._group_idx[group]]
        return out

    def ee_targets(self) -> Mapping[str, Pose]:
        poses = {side: self.ik.target_pose(i) for i, side in enumerate(self.sides)}
        return {side: pose for side, pose in poses.items() if pose is not None}
