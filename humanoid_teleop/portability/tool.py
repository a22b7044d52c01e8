"""The tool frame of a robot's hand: what the porter moves and the report compares.

The tool point is where the hand pinches (the scripted demonstrator's grasp point: midway
between the thumb tip and the other fingertips, the EE frame for a hand without fingertips);
its orientation is the human hand frame convention (+x toward the fingertips, +z the back of
the hand), ``R_base_hand = R_base_ee @ arm.hand_frame_rotation()``, so tool poses of two
robots compare directly. Hand closure in [0, 1] is the hand's joints projected on its
open -> closed line (robot.yaml ``open_positions`` / ``closed_positions``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.arm_ik import arm_geometry
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.devices.scripted.episode import grasp_point

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
        length, shoulder = arm_geometry(model, side, model.home_positions())
        #: Arm length [m] (shoulder -> elbow -> EE at home) and shoulder position [m], base.
        self.arm_length_m = length
        self.shoulder_m = shoulder

    def ee(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(rotation, position [m]) of the EE frame at ``q``."""
        return self.model.fk(q, self.arm.ee_frame)

    def tool(self, q: FloatArray) -> ToolPose:
        """The tool pose at joint positions ``q`` [rad]."""
        rotation, _ = self.ee(q)
        point, _ = grasp_point(self.model, q, self.side)
        return ToolPose(np.asarray(point, dtype=np.float64), rotation @ self.hand_rotation)

    def tool_offset(self, q: FloatArray) -> FloatArray:
        """The tool point in the EE frame [m] at ``q`` (it moves as the fingers close)."""
        rotation, position = self.ee(q)
        point, _ = grasp_point(self.model, q, self.side)
        offset: FloatArray = rotation.T @ (np.asarray(point) - position)
        return offset

    def closure(self, q: FloatArray) -> float:
        """Hand closure in [0, 1] from the hand joints of ``q`` (0 without a hand)."""
        if not self.has_hand:
            return 0.0
        value = float((np.asarray(q)[self._hand_idx] - self._open) @ self._span) / self._span_sq
        return min(1.0, max(0.0, value))
