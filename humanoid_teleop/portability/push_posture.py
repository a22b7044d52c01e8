"""Into another robot, a push's approach and retreat are held nearer the target's grasp posture.

A robot whose push posture differs from its robot-wide grasp posture (physics.yaml
``demonstrator`` and its ``push:`` sub-block: TALOS pushes with its jaws half down,
``tilt_down_rad`` 1.0, and grasps with them straight down, 1.5708) is held in the push's
posture only around the stroke: tipping the 15 cm jaws straight down sweeps them through
the puck, and held half down TALOS' elbow (``arm_right_4_joint``) sits at its IK bound
wherever the hand is near and above the puck: the IK, position first, gives up 20-40 deg of
the asked rotation, its solution flips from step to step and the 25 cm lever swings the
tool point by up to 10 cm.

- **Approach.** From engage the operator turns the hand to the approach's posture,
  :data:`APPROACH_SHARE` of the way from the push's posture to the grasp's, and from
  :data:`APPROACH_LEAD_S` before the push starts (:class:`.push_stroke.StrokeFinish`'s
  ``start_s``: the source's object begins to move) turns it into the push's posture over
  :data:`APPROACH_TURN_S`. Romeo's demonstrator hovers 3-14 cm above the puck for seconds
  before it pushes; held half down there, romeo -> talos push seed 3's elbow sat at its
  bound for ~4 s (free p95 11.5 cm) and seed 2 lost its push (contact p95 32 cm).
  Approached in the grasp posture itself (share 1), the straight-down jaws knocked the puck
  before the push (g1 -> talos seed 4, romeo -> talos seed 4: both lost); turned 0.5 s
  before the push's start, alex -> talos lost all five.
- **Retreat.** As the stroke ends (:func:`.push_stroke.stroke_end`: the source's goal rises
  off the object) the operator turns the hand to the robot's own grasp posture, over
  :data:`RETREAT_TURN_S` from :data:`RETREAT_LEAD_S` before that end, as it lifts (the
  source's clock, held while the stroke is finished, holds the turn too). Held in the
  push's posture as the hand rose, the relation error reached 10 cm (g1 -> talos push seed
  4, alex -> talos seed 1: free p95 10.9 cm). Started at the stroke's end, alex seed 3 lost
  reach (92.5%); 0.1 s before, romeo -> talos seed 5's elbow gave up 50 deg of the turn and
  caught it up as the hand rose (free p95 1.3 -> 8.1 cm); over 0.5 s, alex seeds 1 and 3
  free p95 6.9 and 8.7.

Robots pushing in their grasp posture (every other one) have no turns: :func:`push_turns`
is None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The approach's posture: this share of the way from the push's posture to the grasp's.
#: Pushes into TALOS from g1, alex, romeo and iCub, seeds 1-5, turned over 0.5 s from 1.5 s
#: before the push: 18 -> 20 of 20 (at 0.3, icub seeds 1 and 3 failed; at 1, with the turn
#: from 1.0 s before, g1 and romeo seed 4: the jaws knocked the puck).
APPROACH_SHARE = 0.5
#: Time [s, source time] over which the hand turns from the approach's posture to the push's.
APPROACH_TURN_S = 0.5
#: The approach's turn starts this long [s, source time] before the push starts (from 1.0 s
#: before, icub -> talos seed 1 pushed its puck 3 cm too far and failed; from 2.0 s over
#: 1.0 s, romeo seed 1's contact p95 8.2 -> 5.1 cm but icub seeds 1 and 3 failed).
APPROACH_LEAD_S = 1.5
#: Time [s, source time] over which the hand turns from the push's posture to the grasp's.
RETREAT_TURN_S = 0.3
#: The retreat's turn starts this long [s, source time] before the stroke's end.
RETREAT_LEAD_S = 0.2
#: Two grasp postures this close [rad] are the same (physics.yaml's -1.5708 is a quarter turn).
SAME_POSTURE_RAD = 1e-3


def _rotated(start: FloatArray, end: FloatArray, share: float) -> FloatArray:
    """``share`` (0-1) of the shortest rotation from ``start`` to ``end`` applied to ``start``."""
    out: FloatArray = start @ pin.exp3(share * pin.log3(start.T @ end))
    return out


@dataclass(frozen=True)
class PushTurns:
    """The operator's posture turns (rotations from the source's grasp posture to the
    target's, operator frame) of a push whose source began to move its object at source
    time ``start_s`` [s] and ended its stroke at ``end_s`` [s]: ``grasp`` is the turn to the
    target's grasp posture (the push's posture turn is the caller's)."""

    start_s: float
    end_s: float
    grasp: FloatArray

    def turned(self, t_s: float, turn: FloatArray, engaged: float) -> FloatArray:
        """The posture turn at source time ``t_s`` [s] of a push whose own posture turn is
        ``turn`` there, ``engaged`` (0-1) of the way from engage's (none) to the push's:
        the approach's posture (its grasp turn as far from engage) until
        :data:`APPROACH_LEAD_S` before the push, ``turn`` after, the grasp turn from
        :data:`RETREAT_LEAD_S` before the stroke's end."""
        into_push = (t_s - self.start_s + APPROACH_LEAD_S) / APPROACH_TURN_S
        if into_push < 1.0:
            grasp = pin.exp3(engaged * pin.log3(self.grasp))
            approach = _rotated(turn, grasp, APPROACH_SHARE)
            return _rotated(approach, turn, max(0.0, into_push))
        into_grasp = (t_s - self.end_s + RETREAT_LEAD_S) / RETREAT_TURN_S
        if into_grasp <= 0.0:
            return turn
        return _rotated(turn, self.grasp, min(1.0, into_grasp))


def push_turns(
    source_posture: FloatArray,
    push_posture: FloatArray,
    grasp_posture: FloatArray,
    stroke: tuple[float, float],
) -> PushTurns | None:
    """The posture turns of a push port whose source's hand was held in ``source_posture``
    and whose target's is held in ``push_posture`` to push and ``grasp_posture`` otherwise
    (operator wrist rotations, operator frame); ``stroke``: (the push's start, the stroke's
    end) [s, source time]. None where the target pushes in its grasp posture."""
    apart = float(np.linalg.norm(pin.log3(push_posture.T @ grasp_posture)))
    if apart < SAME_POSTURE_RAD:
        return None
    return PushTurns(stroke[0], stroke[1], source_posture.T @ grasp_posture)
