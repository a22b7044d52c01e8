"""``hand``: 25-joint operator hands -> dexterous finger joints or gripper opening.

Dexterous hands use *vector matching*: the robot's wrist->fingertip vectors and its
thumb->fingertip vectors (thumb opposition), in the EE frame, should equal the operator's,
scaled by robot hand length / operator hand length. A few damped Gauss-Newton iterations per
frame (warm-started, pinocchio Jacobians of the fingertip frames) solve it: no torch, no
optimiser library. When the operator's thumb touches a fingertip (closer than
``pinch_closed_m``), the robot's thumb->finger vector is driven to zero so the pinch closes.

Grippers follow the thumb-index distance: ``pinch_open_m`` or more -> open, ``pinch_closed_m``
or less -> closed, linear in between.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import (
    WEBXR_FINGER_CHAINS,
    WEBXR_TIPS,
    HandSkeleton,
    HumanFrame,
    Input,
)
from humanoid_teleop.core.motion.hands import hand_frame_from_keypoints
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.robot import HandSpec, RobotModel

FloatArray = NDArray[np.float64]
_LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
_PARAMS = {"pinch_open_m", "pinch_closed_m", "iterations", "damping", "pinch_weight"}
_LONG_FINGERS = ("index", "middle", "ring", "pinky")


def human_hand_length_m(points: FloatArray) -> float:
    """Mean wrist->tip chain length [m] of the long fingers (independent of flexion)."""
    total = 0.0
    for finger in _LONG_FINGERS:
        chain = points[(0, *WEBXR_FINGER_CHAINS[finger]),]
        total += float(np.linalg.norm(np.diff(chain, axis=0), axis=1).sum())
    return total / len(_LONG_FINGERS)


def hand_local(hand: HandSkeleton, side: str) -> FloatArray:
    """Hand joints (25, 3) [m] in the human hand frame of ``side`` (wrist at the origin)."""
    p = hand.positions_m
    rotation = hand_frame_from_keypoints(p[0], p[6], p[11], p[21], side)
    local: FloatArray = (p - p[0]) @ rotation
    return local


def pinch_distance_m(hand: HandSkeleton) -> float:
    """Thumb tip to index tip distance [m]."""
    return float(np.linalg.norm(hand.tip("thumb") - hand.tip("index")))


@dataclass(frozen=True)
class HandParams:
    """Parameters of the ``hand`` retargeter (see the module docstring); lengths in [m]."""

    pinch_open_m: float = 0.08
    pinch_closed_m: float = 0.02
    iterations: int = 2
    damping: float = 0.01
    pinch_weight: float = 4.0

    @classmethod
    def from_params(cls, params: Mapping[str, object], source: str) -> HandParams:
        values: dict[str, float | int] = {}
        for key in _PARAMS & set(params):
            value = params[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RetargetConfigError(f"{source}: params.{key} = {value!r}: need a number")
            if not (math.isfinite(value) and value >= 0):
                raise RetargetConfigError(f"{source}: params.{key} = {value!r}: need >= 0")
            values[key] = int(value) if key == "iterations" else float(value)
        out = cls(**values)  # type: ignore[arg-type]
        if not out.pinch_open_m > out.pinch_closed_m:
            raise RetargetConfigError(
                f"{source}: params.pinch_open_m ({out.pinch_open_m}) must exceed "
                f"pinch_closed_m ({out.pinch_closed_m})"
            )
        return out


class _DexterousSide:
    """Vector-matching solver for one dexterous hand."""

    def __init__(self, model: RobotModel, side: str, spec: HandSpec, params: HandParams) -> None:
        assert spec.group is not None
        self.side = side
        self.params = params
        self.model = model
        self.pm = model.pin_model
        self.data = self.pm.createData()
        self.idx = model.group_indices(spec.group)
        self.fingers = [f for f in ("thumb", *_LONG_FINGERS) if f in spec.fingertip_frames]
        if "thumb" not in self.fingers or len(self.fingers) < 2:
            raise RetargetConfigError(
                f"{model.description.source_file}: hands.{side}: vector matching needs "
                f"fingertip frames for the thumb and at least one finger, has {self.fingers}"
            )
        self.tip_ids = [self.pm.getFrameId(spec.fingertip_frames[f]) for f in self.fingers]
        arm = model.description.arms[side]
        self.ee_id = self.pm.getFrameId(arm.ee_frame)
        self.ee_r_hand = arm.hand_frame_rotation()
        lower, upper = model.limits.lower[self.idx], model.limits.upper[self.idx]
        self.lower, self.upper = lower, upper
        q = model.home_positions()
        q[self.idx] = np.clip(np.array(spec.open_positions), lower, upper)
        self.q_base = q
        self.q_hand = q[self.idx].copy()
        tips = self._tips(q)
        long_tips = [tips[i] for i, f in enumerate(self.fingers) if f != "thumb"]
        self.robot_length_m = float(np.mean([np.linalg.norm(t) for t in long_tips]))
        n = len(self.fingers)
        # Vector pairs (origin index, tip index) over [ee, tips...]: ee->tip, thumb->finger.
        self.pairs = [(-1, i) for i in range(n)] + [(0, i) for i in range(1, n)]

    def _kinematics(self, q: FloatArray, with_jacobians: bool) -> None:
        qp = q if self.pm.nq == self.model.nq else self.model.to_pinocchio(q)
        if with_jacobians:
            pin.computeJointJacobians(self.pm, self.data, qp)
            for fid in (self.ee_id, *self.tip_ids):
                pin.updateFramePlacement(self.pm, self.data, fid)
        else:
            pin.framesForwardKinematics(self.pm, self.data, qp)

    def _tips(self, q: FloatArray) -> list[FloatArray]:
        self._kinematics(q, with_jacobians=False)
        ee = self.data.oMf[self.ee_id]
        return [
            ee.rotation.T @ (self.data.oMf[f].translation - ee.translation) for f in self.tip_ids
        ]

    def solve(self, hand: HandSkeleton) -> FloatArray:
        local = hand_local(hand, self.side)
        scale = self.robot_length_m / max(human_hand_length_m(local), 1e-3)
        human = {-1: np.zeros(3)}
        for i, finger in enumerate(self.fingers):
            human[i] = self.ee_r_hand @ local[WEBXR_TIPS[finger]]
        targets, weights = [], []
        p = self.params
        for a, b in self.pairs:
            v = scale * (human[b] - human[a])
            w = 1.0
            if a == 0:
                d = float(np.linalg.norm(human[b] - human[a]))
                w = 1.0 + p.pinch_weight * math.exp(-max(d - p.pinch_closed_m, 0.0) / 0.02)
                if d < p.pinch_closed_m:
                    v = np.zeros(3)
            targets.append(v)
            weights.append(w)
        target = np.concatenate(targets)
        weight = np.repeat(np.array(weights), 3)
        q = self.q_base.copy()
        for _ in range(p.iterations):
            q[self.idx] = self.q_hand
            self._kinematics(q, with_jacobians=True)
            ee = self.data.oMf[self.ee_id]
            r_t = ee.rotation.T
            pos = {-1: np.zeros(3)}
            jac = {-1: np.zeros((3, len(self.idx)))}
            for i, fid in enumerate(self.tip_ids):
                pos[i] = r_t @ (self.data.oMf[fid].translation - ee.translation)
                full = pin.getFrameJacobian(self.pm, self.data, fid, _LWA)
                jac[i] = r_t @ full[:3, self.idx]
            current = np.concatenate([pos[b] - pos[a] for a, b in self.pairs])
            j = np.vstack([jac[b] - jac[a] for a, b in self.pairs]) * weight[:, None]
            error = (target - current) * weight
            a_mat = j.T @ j
            a_mat[np.diag_indices_from(a_mat)] += p.damping**2 + 1e-6
            dq = np.linalg.solve(a_mat, j.T @ error)
            self.q_hand = np.clip(self.q_hand + dq, self.lower, self.upper)
        return self.q_hand.copy()


class HandRetargeter(Retargeter):
    """Hand skeletons -> ``left_hand`` / ``right_hand`` groups (dexterous or gripper).

    Params: ``pinch_open_m``, ``pinch_closed_m`` [m], ``iterations``, ``damping``,
    ``pinch_weight``.
    """

    name = "hand"
    inputs = frozenset({Input.LEFT_HAND, Input.RIGHT_HAND})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params(_PARAMS)
        self.params = HandParams.from_params(context.params, context.source)
        description = self.model.description
        self.dexterous: dict[str, _DexterousSide] = {}
        self.grippers: dict[str, HandSpec] = {}
        claimed = set()
        for side, spec in description.hands.items():
            if spec.group is None or spec.group not in context.groups:
                continue
            claimed.add(spec.group)
            if spec.kind == "dexterous":
                self.dexterous[side] = _DexterousSide(self.model, side, spec, self.params)
            elif spec.kind == "gripper":
                self.grippers[side] = spec
        unknown = set(context.groups) - claimed
        if unknown:
            raise RetargetConfigError(
                f"{context.source}: hand drives hand groups only; {sorted(unknown)} is not a "
                f"hand of {description.name}"
            )

    def closure(self, hand: HandSkeleton) -> float:
        """Gripper closure in [0, 1] (0 open) from the pinch distance."""
        p = self.params
        d = pinch_distance_m(hand)
        return min(1.0, max(0.0, (p.pinch_open_m - d) / (p.pinch_open_m - p.pinch_closed_m)))

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        del q
        out: dict[str, FloatArray] = {}
        for side, solver in self.dexterous.items():
            hand = frame.hand(side)
            if hand is not None and hand.is_finite():
                spec = self.model.description.hands[side]
                assert spec.group is not None
                out[spec.group] = solver.solve(hand)
        for side, spec in self.grippers.items():
            hand = frame.hand(side)
            if hand is not None and hand.is_finite():
                assert spec.group is not None
                out[spec.group] = np.array(spec.grasp_positions(self.closure(hand)))
        return out
