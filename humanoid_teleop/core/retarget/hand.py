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


_CHAIN_PARENT = np.array(
    [prev for f in _LONG_FINGERS for prev in (0, *WEBXR_FINGER_CHAINS[f][:-1])], dtype=np.intp
)
_CHAIN_CHILD = np.array([c for f in _LONG_FINGERS for c in WEBXR_FINGER_CHAINS[f]], dtype=np.intp)


def _as_slice(indices: NDArray[np.intp]) -> slice | NDArray[np.intp]:
    """``indices`` as a slice when they are one ascending run: the same elements, without
    numpy's fancy indexing on every solver iteration."""
    if len(indices) and np.array_equal(indices, np.arange(indices[0], indices[0] + len(indices))):
        return slice(int(indices[0]), int(indices[0]) + len(indices))
    return indices


def _clip_fast(values: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """``np.clip`` without its Python-level overhead (two ufunc calls), for the hot loop."""
    out: FloatArray = np.minimum(np.maximum(values, lower), upper)
    return out


def human_hand_length_m(points: FloatArray) -> float:
    """Mean wrist->tip chain length [m] of the long fingers (independent of flexion)."""
    bones = points[_CHAIN_CHILD] - points[_CHAIN_PARENT]
    return float(np.sqrt((bones * bones).sum(axis=1)).sum()) / len(_LONG_FINGERS)


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
    iterations: int = 1
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
        self.q_open = self.q_hand.copy()
        tips = self._tips(q)
        long_tips = [tips[i] for i, f in enumerate(self.fingers) if f != "thumb"]
        self.robot_length_m = float(np.mean([np.linalg.norm(t) for t in long_tips]))
        n = len(self.fingers)
        # Vector pairs over points [ee, tips...]: ee -> every tip, thumb -> every other tip.
        pairs = [(0, i + 1) for i in range(n)] + [(1, i + 1) for i in range(1, n)]
        self.pair_selection = np.zeros((len(pairs), n + 1))
        for row, (a, b) in enumerate(pairs):
            self.pair_selection[row, a] -= 1.0
            self.pair_selection[row, b] += 1.0
        self.is_pinch = np.array([a == 1 for a, _b in pairs])
        self.tip_rows = np.array([WEBXR_TIPS[f] for f in self.fingers], dtype=np.intp)
        self._damping = np.eye(len(self.idx)) * (params.damping**2 + 1e-6)
        # the hot loop indexes the hand's joints by a slice when they are one run (the usual
        # group layout), and fills the same work arrays every iteration (row 0, the EE, stays 0)
        self._cols = _as_slice(self.idx)
        self._points = np.zeros((n + 1, 3))
        self._positions = np.zeros((len(self.tip_ids) + 1, 3))
        self._jacobians = np.zeros((len(self.tip_ids) + 1, 3, len(self.idx)))

    def restart(self) -> None:
        """Warm-start the next solve from the open hand again, as a new solver would."""
        self.q_hand = self.q_open.copy()

    def _tips(self, q: FloatArray) -> list[FloatArray]:
        qp = q if self.pm.nq == self.model.nq else self.model.to_pinocchio(q)
        pin.framesForwardKinematics(self.pm, self.data, qp)
        ee = self.data.oMf[self.ee_id]
        return [
            ee.rotation.T @ (self.data.oMf[f].translation - ee.translation) for f in self.tip_ids
        ]

    def solve(self, hand: HandSkeleton) -> FloatArray:
        """Hand joint positions [rad] in group order matching ``hand``'s vectors."""
        p = self.params
        if float(np.max(np.abs(hand.positions_m))) > 1e3:  # absurd input: keep the last pose
            return self.q_hand.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            local = hand_local(hand, self.side)
        if not np.isfinite(local).all():  # degenerate skeleton (e.g. all joints at one point)
            return self.q_hand.copy()
        scale = self.robot_length_m / max(human_hand_length_m(local), 1e-3)
        points = self._points
        points[1:] = local[self.tip_rows] @ self.ee_r_hand.T
        human = self.pair_selection @ points
        distance = np.sqrt((human * human).sum(axis=1))
        weights = np.where(
            self.is_pinch,
            1.0 + p.pinch_weight * np.exp(-np.maximum(distance - p.pinch_closed_m, 0.0) / 0.02),
            1.0,
        )
        target = scale * human
        target[self.is_pinch & (distance < p.pinch_closed_m)] = 0.0
        weight = np.repeat(weights, 3)
        target_flat = target.reshape(-1) * weight
        q = self.q_base
        n_joints = len(self.idx)
        pm, data, cols = self.pm, self.data, self._cols
        place, frame_jacobian = pin.updateFramePlacement, pin.getFrameJacobian
        positions, jacobians = self._positions, self._jacobians
        for _ in range(p.iterations):
            q[cols] = self.q_hand
            qp = q if pm.nq == self.model.nq else self.model.to_pinocchio(q)
            pin.computeJointJacobians(pm, data, qp)
            ee = place(pm, data, self.ee_id)
            rotation, origin = ee.rotation, ee.translation
            for i, fid in enumerate(self.tip_ids):
                positions[i + 1] = place(pm, data, fid).translation
                jacobians[i + 1] = frame_jacobian(pm, data, fid, _LWA)[:3, cols]
            positions[1:] = (positions[1:] - origin) @ rotation
            jacobians[1:] = rotation.T @ jacobians[1:]
            current = (self.pair_selection @ positions).reshape(-1)
            jac = (self.pair_selection @ jacobians.reshape(len(jacobians), -1)).reshape(
                -1, n_joints
            )
            jac *= weight[:, None]
            error = target_flat - current * weight
            dq = np.linalg.solve(jac.T @ jac + self._damping, jac.T @ error)
            if not np.isfinite(dq).all():
                break
            self.q_hand = _clip_fast(self.q_hand + dq, self.lower, self.upper)
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

    def group_inputs(self) -> Mapping[str, frozenset[Input]]:
        """Each hand group follows its own hand skeleton only."""
        hands = self.model.description.hands
        return {
            group: frozenset({Input.LEFT_HAND if side == "left" else Input.RIGHT_HAND})
            for side in (*self.dexterous, *self.grippers)
            if (group := hands[side].group) is not None
        }

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        """At each engagement the dexterous solvers start again from the open hand, so a
        session's (or a ported episode's) hand commands do not depend on what the hand did
        in an earlier one."""
        del frame, q
        for solver in self.dexterous.values():
            solver.restart()
        return True

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
            if hand is not None and hand.is_finite() and np.max(np.abs(hand.positions_m)) < 1e3:
                assert spec.group is not None
                out[spec.group] = np.array(spec.grasp_positions(self.closure(hand)))
        return out
