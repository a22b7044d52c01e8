"""``hand``: 25-joint operator hands -> dexterous finger joints or gripper opening.

Dexterous hands use *vector matching*: the robot's wrist->fingertip vectors and its
thumb->fingertip vectors (thumb opposition), in the EE frame, should equal the operator's,
scaled by robot hand length / operator hand length. The long fingers' wrist vectors weigh 1;
the thumb's vectors weigh ``thumb_weight`` until the operator's thumb nears a fingertip,
where a thumb->finger vector gains up to ``pinch_weight`` more (a robot thumb rarely sits
where a human one does: Dex3's opposes the fingers from the palm, so matching a flat hand's
spread thumb at full weight would bend the fingers). A weak pull toward the open hand
(``rest_weight``) settles what the vectors leave free, so a still hand gives one answer
whatever the warm start. Damped Gauss-Newton iterations with the joint bounds as an active
set (warm-started, the fingertips' Jacobians from their kinematic chains) solve it: no
torch, no optimiser library. The solve is compiled (:func:`~humanoid_teleop.core.retarget.
ik_kernel.hand_solve`, one call per hand and step): as numpy and pinocchio calls it was the
bulk of a step on a dexterous hand (~80 us of a ported step's ~300). When the operator's
thumb touches a fingertip (closer than ``pinch_closed_m``), the robot's thumb->finger vector
is driven to zero so the pinch closes.

Grippers follow the thumb-index distance: ``pinch_open_m`` or more -> open, ``pinch_closed_m``
or less -> closed, linear in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.motion.frame import (
    WEBXR_FINGER_CHAINS,
    WEBXR_TIPS,
    HandSkeleton,
    HumanFrame,
    Input,
)
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik_kernel import (
    HAND_SETTINGS,
    MAX_HAND_COORDINATE_M,
    compile_now,
    hand_solve,
)
from humanoid_teleop.core.retarget.task_chains import task_chains
from humanoid_teleop.core.robot import HandSpec, RobotModel

FloatArray = NDArray[np.float64]

_LONG_FINGERS = ("index", "middle", "ring", "pinky")

#: The operator's long-finger bones (parent, child WebXR joint rows): their summed length per
#: finger, averaged, is the operator's hand length (independent of flexion).
HAND_BONES = np.array(
    [
        (parent, child)
        for f in _LONG_FINGERS
        for parent, child in zip(
            (0, *WEBXR_FINGER_CHAINS[f][:-1]), WEBXR_FINGER_CHAINS[f], strict=True
        )
    ],
    dtype=np.int64,
)


def pinch_distance_m(hand: HandSkeleton) -> float:
    """Thumb tip to index tip distance [m]."""
    return float(np.linalg.norm(hand.tip("thumb") - hand.tip("index")))


@dataclass(frozen=True)
class HandParams:
    """Parameters of the ``hand`` retargeter (see the module docstring); lengths in [m].

    ``damping`` [m/rad]: the Gauss-Newton step's damping (``damping**2 + 1e-6`` on the normal
    matrix); ``thumb_weight`` and ``pinch_weight`` weigh the thumb's vectors (relative to
    the long fingers' 1); ``rest_weight`` [m/rad]: the pull toward the open hand, a 1 rad
    offset costing like a ``rest_weight`` metre fingertip error.
    """

    pinch_open_m: float = 0.08
    pinch_closed_m: float = 0.02
    iterations: int = 1
    damping: float = 0.055
    pinch_weight: float = 4.0
    thumb_weight: float = 0.5
    rest_weight: float = 0.017

    def closure_of_pinch(self, pinch_m: float) -> float:
        """Gripper closure in [0, 1] (0 open) of a thumb tip to index tip distance
        ``pinch_m`` [m]: 0 at ``pinch_open_m``, 1 at ``pinch_closed_m``, linear between."""
        span = self.pinch_open_m - self.pinch_closed_m
        return min(1.0, max(0.0, (self.pinch_open_m - pinch_m) / span))

    @classmethod
    def from_field(cls, params: Field) -> HandParams:
        """From a retargeter's ``params``: numbers >= 0 (``iterations`` an integer), and
        ``pinch_open_m`` above ``pinch_closed_m``; errors name file, line and key."""
        values = params.as_fields_of(cls)
        for key, value in values.items():
            if value < 0:
                raise params.child(key).error(f"expected a number >= 0, got {value!r}")
        out = cls(**values)
        if not out.pinch_open_m > out.pinch_closed_m:
            raise params.error(
                f"pinch_open_m ({out.pinch_open_m}) must exceed pinch_closed_m "
                f"({out.pinch_closed_m})"
            )
        return out


class _DexterousSide:
    """Vector-matching solver for one dexterous hand."""

    def __init__(
        self,
        model: RobotModel,
        side: str,
        spec: HandSpec,
        params: HandParams,
        bounds: tuple[FloatArray, FloatArray],
    ) -> None:
        """``bounds``: (lower, upper) over ``model.joint_names`` the solutions are clipped
        into (``context.commandable_bounds()``), which the safety filter would clip them to.

        The solve itself keeps the joints' own limits: its bounded least squares is not
        convex, and with the bounds moved in by the safety margin an open G1 hand settled
        from a fist on another pose than from the open hand (0.054 rad apart), where with
        the limits both agree."""
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
        self.commandable = (bounds[0][self.idx], bounds[1][self.idx])
        q = model.home_positions()
        q[self.idx] = np.clip(np.array(spec.open_positions), lower, upper)
        self.q_base = q
        self.q_hand = q[self.idx].copy()
        self.q_open = self.q_hand.copy()
        tips = self._tips(q)
        long_tips = [tips[i] for i, f in enumerate(self.fingers) if f != "thumb"]
        self.robot_length_m = float(np.mean([np.linalg.norm(t) for t in long_tips]))
        n = len(self.fingers)
        # Vector pairs over points [ee, tips...]: ee -> every tip, thumb -> every other tip
        # (a pair from the thumb, point 1, is a pinch).
        self.pairs = np.array(
            [(0, i + 1) for i in range(n)] + [(1, i + 1) for i in range(1, n)], dtype=np.int64
        )
        self.tip_rows = np.array([WEBXR_TIPS[f] for f in self.fingers], dtype=np.int64)
        # The compiled solve's constant arguments: the fingertips' chains read from the EE
        # frame at the arm's home (the solve moves only the hand), where each hand joint sits
        # in them, the hand's bounds and the solve's settings.
        self._cols = np.asarray(self.idx, dtype=np.int64)
        self._chains = task_chains(self.pm, self.ee_id, self.tip_ids, model.to_pinocchio(q))
        self._tip_columns = np.array(
            [[self._chains.chain_position(t, int(j)) for j in self.idx] for t in range(n)],
            dtype=np.int64,
        ).reshape(n, len(self.idx))
        self._limits = np.vstack((lower, upper))
        self._settings = np.zeros(len(HAND_SETTINGS))
        for name, value in {
            "pinch_closed_m": params.pinch_closed_m,
            "pinch_weight": params.pinch_weight,
            "damping": params.damping**2 + 1e-6,
            "iterations": params.iterations,
            "side_sign": 1.0 if side == "right" else -1.0,
            "fingers": len(_LONG_FINGERS),
            "thumb_weight": params.thumb_weight,
            "rest": params.rest_weight**2,
        }.items():
            self._settings[HAND_SETTINGS.index(name)] = value
        self._ee_r_hand = np.ascontiguousarray(self.ee_r_hand, dtype=np.float64)
        self._q = np.ascontiguousarray(q, dtype=np.float64)
        compile_now()

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
        """Hand joint positions [rad] in group order matching ``hand``'s vectors (the last
        ones again for an absurd or degenerate skeleton), within the commandable bounds."""
        chains = self._chains
        positions = np.ascontiguousarray(hand.positions_m, dtype=np.float64)
        if not positions.flags.writeable:  # a read-only array is another compiled signature
            positions = positions.copy()
        hand_solve(
            positions,
            self.q_hand,
            self._q,
            self._cols,
            self._limits,
            self.q_open,
            self.tip_rows,
            self._tip_columns,
            chains.links,
            chains.link_index,
            chains.ends,
            self.pairs,
            HAND_BONES,
            self._ee_r_hand,
            self.robot_length_m,
            self._settings,
        )
        return self.q_hand.clip(*self.commandable)  # np.clip's ufunc, ~1 us less dispatch


class HandRetargeter(Retargeter):
    """Hand skeletons -> ``left_hand`` / ``right_hand`` groups (dexterous or gripper).

    Params: ``pinch_open_m``, ``pinch_closed_m`` [m], ``iterations``, ``damping``,
    ``pinch_weight``, ``thumb_weight``, ``rest_weight`` (see :class:`HandParams`).
    """

    name = "hand"
    inputs = frozenset({Input.LEFT_HAND, Input.RIGHT_HAND})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        self.params = HandParams.from_field(context.params_field())
        description = self.model.description
        self.dexterous: dict[str, _DexterousSide] = {}
        self.grippers: dict[str, HandSpec] = {}
        bounds = context.commandable_bounds()
        #: Per gripper side, its group's commandable bounds: open and closed positions often
        #: sit at the joint's limits, which the safety filter would clip every step.
        self._gripper_bounds: dict[str, tuple[FloatArray, FloatArray]] = {}
        claimed = set()
        for side, spec in description.hands.items():
            if spec.group is None or spec.group not in context.groups:
                continue
            claimed.add(spec.group)
            if spec.kind == "dexterous":
                self.dexterous[side] = _DexterousSide(self.model, side, spec, self.params, bounds)
            elif spec.kind == "gripper":
                self.grippers[side] = spec
                idx = self.model.group_indices(spec.group)
                self._gripper_bounds[side] = (bounds[0][idx], bounds[1][idx])
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
        return self.params.closure_of_pinch(pinch_distance_m(hand))

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
            if (
                hand is not None
                and hand.is_finite()
                and np.abs(hand.positions_m).max() <= MAX_HAND_COORDINATE_M  # else it holds
            ):
                assert spec.group is not None
                lower, upper = self._gripper_bounds[side]
                positions = np.array(spec.grasp_positions(self.closure(hand)))
                out[spec.group] = positions.clip(lower, upper)
        return out
