"""The tool frame of a robot's hand: what the porter moves and the report compares.

The tool point is the mean of the hand's fingertip frames (robot.yaml ``fingertip_frames``;
the EE frame for a hand without them);
its orientation is the human hand frame convention (+x toward the fingertips, +z the back of
the hand), ``R_base_hand = R_base_ee @ arm.hand_frame_rotation()``, so tool poses of two
robots compare directly. Hand closure in [0, 1] is the hand's joints projected on its
open -> closed line (robot.yaml ``open_positions`` / ``closed_positions``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.arm_ik import arm_geometry
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ToolPose:
    """Tool point [m] and hand-frame rotation in the base frame."""

    position_m: FloatArray
    rotation: FloatArray


class ArmTool:
    """Tool-frame kinematics of one arm (+ hand) of a robot."""

    def __init__(self, model: RobotModel, side: str) -> None:
        description = model.description
        if side not in description.arms:
            raise ValueError(f"{description.name} has no {side} arm")
        self.model = model
        self.side = side
        self.arm = description.arms[side]
        self.hand_rotation = self.arm.hand_frame_rotation()
        hand = description.hands.get(side)
        self.has_hand = hand is not None and hand.kind != "none" and bool(hand.open_positions)
        if self.has_hand:
            assert hand is not None and hand.group is not None
            self._hand_idx = model.group_indices(hand.group)
            self._open = np.asarray(hand.open_positions, dtype=np.float64)
            span = np.asarray(hand.closed_positions, dtype=np.float64) - self._open
            self._span = span
            self._span_sq = float(span @ span) or 1.0
        pm = model.pin_model
        self._ee_id = pm.getFrameId(self.arm.ee_frame)
        tips = hand.fingertip_frames.values() if hand is not None else ()
        self._tip_ids = [pm.getFrameId(f) for f in tips] or [self._ee_id]
        self._data = pm.createData()
        # q (joint_names order) -> pinocchio configuration, vectorised (RobotModel's
        # to_pinocchio loops in Python): 1-DoF joints copy, continuous ones are (cos, sin)
        slots = [pm.joints[pm.getJointId(n)] for n in model.joint_names]
        self._direct = np.array([k for k, j in enumerate(slots) if j.nq == 1], dtype=np.intp)
        self._direct_q = np.array([j.idx_q for j in slots if j.nq == 1], dtype=np.intp)
        self._circle = np.array([k for k, j in enumerate(slots) if j.nq == 2], dtype=np.intp)
        self._circle_q = np.array([j.idx_q for j in slots if j.nq == 2], dtype=np.intp)
        self._q_pin = np.zeros(pm.nq)
        pin.framesForwardKinematics(pm, self._data, model.to_pinocchio(model.home_positions()))
        # the base frame is fixed to the model root: its pose does not depend on q
        self._base_inv = self._data.oMf[pm.getFrameId(description.base_frame)].inverse()
        length, shoulder = arm_geometry(model, side, model.home_positions())
        #: Arm length [m] (shoulder -> elbow -> EE at home) and shoulder position [m], base.
        self.arm_length_m = length
        self.shoulder_m = shoulder

    def _joints(self, q: FloatArray) -> None:
        """Joint placements at ``q``; frames are then placed one by one, only those used
        (``framesForwardKinematics`` would place all ~120 of a humanoid)."""
        q = np.asarray(q, dtype=np.float64)
        q_pin = self._q_pin
        q_pin[self._direct_q] = q[self._direct]
        if len(self._circle):
            q_pin[self._circle_q] = np.cos(q[self._circle])
            q_pin[self._circle_q + 1] = np.sin(q[self._circle])
        pin.forwardKinematics(self.model.pin_model, self._data, q_pin)

    def frames(self, q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(EE rotation, EE position [m], tool point [m]) at ``q``, base frame, from one
        kinematics pass."""
        self._joints(q)
        pm, data = self.model.pin_model, self._data
        place = pin.updateFramePlacement
        base = self._base_inv
        ee = base * place(pm, data, self._ee_id)
        point = sum((base * place(pm, data, i)).translation for i in self._tip_ids) / len(
            self._tip_ids
        )
        return np.array(ee.rotation), np.array(ee.translation), np.asarray(point, dtype=np.float64)

    def ee_position(self, q: FloatArray) -> FloatArray:
        """The EE frame's position [m] at ``q`` (``frames(q)[1]`` without the tool point)."""
        self._joints(q)
        pm = self.model.pin_model
        placed = self._base_inv * pin.updateFramePlacement(pm, self._data, self._ee_id)
        return np.array(placed.translation)

    def ee(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(rotation, position [m]) of the EE frame at ``q``."""
        rotation, position, _ = self.frames(q)
        return rotation, position

    def tool(self, q: FloatArray) -> ToolPose:
        """The tool pose at joint positions ``q`` [rad]."""
        rotation, _, point = self.frames(q)
        return ToolPose(point, rotation @ self.hand_rotation)

    def tool_offset(self, q: FloatArray) -> FloatArray:
        """The tool point in the EE frame [m] at ``q`` (it moves as the fingers close)."""
        rotation, position, point = self.frames(q)
        offset: FloatArray = rotation.T @ (point - position)
        return offset

    def closure(self, q: FloatArray) -> float:
        """Hand closure in [0, 1] from the hand joints of ``q`` (0 without a hand)."""
        if not self.has_hand:
            return 0.0
        value = float((np.asarray(q)[self._hand_idx] - self._open) @ self._span) / self._span_sq
        return min(1.0, max(0.0, value))
