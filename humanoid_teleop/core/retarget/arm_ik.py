"""``arm_ik``: operator wrist poses -> arm joints by differential IK (see :mod:`ik`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeGuard

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame, Input, Pose
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.calibration import (
    ArmCalibration,
    CalibrationConfig,
    capture,
    optional_positive_param,
)
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]
#: Operator poses farther than this from the operator-frame origin [m] are treated as invalid.
MAX_OPERATOR_DISTANCE_M = 100.0
#: Default ``max_reach_ratio``: EE targets stay within this fraction of the arm length.
DEFAULT_MAX_REACH_RATIO = 0.95
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
        self.calibration_config = CalibrationConfig.from_params(context.params, context.source)
        self.max_reach_ratio = optional_positive_param(
            context.params, "max_reach_ratio", DEFAULT_MAX_REACH_RATIO, context.source
        )
        ik_params = context.params.get("ik", {})
        if not isinstance(ik_params, Mapping):
            raise RetargetConfigError(f"{context.source}: params.ik: need a mapping")
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
            IkConfig.from_dict(ik_params, context.source),
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
        self._targets: dict[str, Pose] = {}
        self._q: FloatArray | None = None

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
        self._targets.clear()
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
            self._calibration[side] = capture(
                self.calibration_config,
                wrist,
                poses[i],
                frame.head if usable(frame.head) else None,
                self.robot_arm_length_m[side],
                self._robot_anchor[side],
                arm.hand_frame_rotation(),
            )

    def solve_targets(self, targets: Mapping[str, Pose], q: FloatArray) -> dict[str, FloatArray]:
        """Run IK toward EE ``targets`` by side, starting from the commanded ``q`` [rad].

        Starting from the command (not the last IK solution) keeps the solver from running
        ahead of what the safety filter lets the robot follow.
        """
        ordered = [targets.get(side) for side in self.sides]
        self._q = self.ik.solve(q.copy(), ordered)
        out = {}
        for side, target in zip(self.sides, ordered, strict=True):
            if target is not None:
                group = self.model.description.arms[side].group
                out[group] = self._q[self._group_idx[group]]
        return out

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        if self._q is None:
            self._q = np.clip(q, self.ik.lower, self.ik.upper)
        if len(self._calibration) < len(self.sides):
            self._calibrate_missing(frame)
        for side, calibration in self._calibration.items():
            wrist = frame.wrist(side)
            if usable(wrist):
                self._targets[side] = self._within_reach(side, calibration.target(wrist))
        return self.solve_targets(self._targets, q)

    def _within_reach(self, side: str, target: Pose) -> Pose:
        """``target`` with its position pulled onto the reach sphere if it lies beyond it."""
        if self.max_reach_ratio is None:
            return target
        reach = self.max_reach_ratio * self.robot_arm_length_m[side]
        offset = target.position_m - self.shoulder_m[side]
        distance = math.sqrt(float(offset @ offset))
        if distance <= reach:
            return target
        return Pose(self.shoulder_m[side] + offset * (reach / distance), target.rotation)

    def ee_targets(self) -> Mapping[str, Pose]:
        return dict(self._targets)
