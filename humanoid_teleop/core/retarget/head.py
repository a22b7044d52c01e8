"""``head``: operator head orientation -> neck joints (yaw / pitch, optionally roll).

Each head joint is classified at the home posture by its rotation axis in the base frame
(mostly z: yaw, y: pitch, x: roll, with its sign). The operator's head rotation relative to
the neutral captured at engage is split into Z-Y-X angles; each angle is shared equally among
the joints of its kind and added to their home positions.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame, Input
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import RetargetConfigError

FloatArray = NDArray[np.float64]


def zyx_angles(rotation: FloatArray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) [rad] with R = Rz(yaw) Ry(pitch) Rx(roll)."""
    yaw = math.atan2(rotation[1, 0], rotation[0, 0])
    pitch = math.asin(max(-1.0, min(1.0, -rotation[2, 0])))
    roll = math.atan2(rotation[2, 1], rotation[2, 2])
    return yaw, pitch, roll


class HeadRetargeter(Retargeter):
    """Head orientation -> the robot's head group. Params: ``roll`` (bool, default false)."""

    name = "head"
    inputs = frozenset({Input.HEAD})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params({"roll"})
        self.use_roll = bool(context.param("roll", False, bool))
        spec = self.model.description.head
        if spec is None or set(context.groups) != {spec.group}:
            raise RetargetConfigError(
                f"{context.source}: head drives the robot's head group "
                f"({spec.group if spec else 'none in robot.yaml'}), not {list(context.groups)}"
            )
        self.group = spec.group
        self.idx = self.model.group_indices(spec.group)
        self.home = self.model.home_positions()[self.idx]
        jac = self.model.jacobian(self.model.home_positions(), spec.frame)[3:, self.idx]
        self.kind = np.argmax(np.abs(jac), axis=0)  # 0 roll (x), 1 pitch (y), 2 yaw (z)
        signs = np.sign(jac[self.kind, np.arange(len(self.idx))])
        counts = np.bincount(self.kind, minlength=3).astype(np.float64)
        self.gain = signs / counts[self.kind]
        self._neutral: FloatArray | None = None

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        del q
        if frame.head is None or not frame.head.is_finite():
            return False
        self._neutral = frame.head.rotation.T.copy()
        return True

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        del q
        if self._neutral is None or frame.head is None or not frame.head.is_finite():
            return {}
        yaw, pitch, roll = zyx_angles(self._neutral @ frame.head.rotation)
        angles = np.array([roll if self.use_roll else 0.0, pitch, yaw])
        return {self.group: self.home + self.gain * angles[self.kind]}
