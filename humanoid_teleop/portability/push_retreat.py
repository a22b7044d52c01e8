"""Into another robot, a push's retreat is held in the target's own grasp posture.

A robot whose push posture differs from its robot-wide grasp posture (physics.yaml
``demonstrator`` and its ``push:`` sub-block: TALOS pushes with its jaws half down,
``tilt_down_rad`` 1.0, and grasps with them straight down, 1.5708) is held in the push's
posture only while it approaches and strokes: tipping the 15 cm jaws straight down sweeps
them through the puck. As the stroke ends (:func:`.push_stroke.stroke_end`: the source's
goal rises off the object) the operator turns the hand to the robot's own grasp posture,
over :data:`RETREAT_TURN_S` from :data:`RETREAT_LEAD_S` before that end, as it lifts (the
source's clock, held while the stroke is finished, holds the turn too). Held in the push's
posture, TALOS' elbow (``arm_right_4_joint``) reached its IK bound as the hand rose: the IK,
position first, gave up 30-39 deg of the asked rotation, the 25 cm lever swung the tool
point up to 5 cm above the source's, and the relation error of the retreat reached 10 cm
(g1 -> talos push seed 4, 5.2-5.7 s; alex -> talos seed 1, 3.9-5.0 s, free-space p95 10.9
cm). With the turn, seeds 1-5, worst: alex -> talos free p95 11.9 -> 3.8 cm, g1 -> talos
contact p95 8.1 -> 5.1. Started at the stroke's end, alex seed 3 lost reach (92.5%); 0.1 s
before, romeo -> talos seed 5's elbow, at its bound in the stroke, gave up 50 deg of the
turn and caught it up as the hand rose (free p95 1.3 -> 8.1 cm); over 0.5 s, alex seeds 1
and 3 free p95 6.9 and 8.7. Robots pushing in their grasp posture (every other one) have
no turn: :func:`retreat_turn` is None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Time [s, source time] over which the hand turns from the push's posture to the grasp's.
RETREAT_TURN_S = 0.3
#: The turn starts this long [s, source time] before the stroke's end.
RETREAT_LEAD_S = 0.2
#: Two grasp postures this close [rad] are the same (physics.yaml's -1.5708 is a quarter turn).
SAME_POSTURE_RAD = 1e-3


@dataclass(frozen=True)
class RetreatTurn:
    """From source time ``after_s`` [s] (the stroke's end) the operator's posture turn
    (the rotation from the source's grasp posture to the target's, operator frame) goes to
    ``turn`` over :data:`RETREAT_TURN_S`."""

    after_s: float
    turn: FloatArray

    def turned(self, t_s: float, turn: FloatArray) -> FloatArray:
        """The posture turn at source time ``t_s`` [s] of one that is ``turn`` before the
        stroke's end: along the shortest rotation to :attr:`turn`."""
        share = (t_s - self.after_s + RETREAT_LEAD_S) / RETREAT_TURN_S
        if share <= 0.0:
            return turn
        step = pin.log3(turn.T @ self.turn)
        out: FloatArray = turn @ pin.exp3(min(1.0, share) * step)
        return out


def retreat_turn(
    source_posture: FloatArray,
    push_posture: FloatArray,
    grasp_posture: FloatArray,
    stroke_end_s: float,
) -> RetreatTurn | None:
    """The retreat's turn of a port whose source's hand was held in ``source_posture`` and
    whose target's is held in ``push_posture`` to push and ``grasp_posture`` otherwise
    (operator wrist rotations, operator frame); the stroke ended at ``stroke_end_s`` [s,
    source time]. None where the target pushes in its grasp posture."""
    apart = float(np.linalg.norm(pin.log3(push_posture.T @ grasp_posture)))
    if apart < SAME_POSTURE_RAD:
        return None
    return RetreatTurn(stroke_end_s, source_posture.T @ grasp_posture)
