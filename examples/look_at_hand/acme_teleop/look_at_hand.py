"""Point the robot's head at the operator's right hand: a complete retargeter plugin."""

import math

import numpy as np

from humanoid_teleop.core.motion.frame import HumanFrame, Input
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter


class LookAtHand(Retargeter):
    """Yaw of the first head joint toward the right wrist, seen from the head [rad]."""

    name = "look_at_hand"
    api_version = 1  # the base API it was written for
    inputs = frozenset({Input.HEAD, Input.RIGHT_WRIST})
    group_kinds = frozenset({"head"})  # groups it may drive

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params({"gain"})  # unknown params are errors
        self.gain = float(context.param("gain", 1.0))
        self.idx = self.model.group_indices("head")

    def step(self, frame: HumanFrame, q: np.ndarray) -> dict[str, np.ndarray]:
        head, wrist = frame.head, frame.right_wrist
        if head is None or wrist is None or not (head.is_finite() and wrist.is_finite()):
            return {}  # keep the previous target
        dx, dy, _dz = wrist.position_m - head.position_m
        target = q[self.idx].copy()
        target[0] = self.gain * math.atan2(dy, dx)  # first head joint: yaw
        return {"head": target}
