"""A push into another robot, with physics: the rotation the tool's offset from the EE (the
lever) is turned by where the target's IK gives up the asked rotation.

The wrist goal is the tool point's goal minus the lever (:class:`.goal.WristGoal`). Turned
as the hand was last commanded, the lever feeds back where the IK, position first, trades
rotation for position: TALOS' elbow at its bound in the approach's half-turned push posture
gives up 20-45 deg of the asked rotation, the next EE goal moves with the rotation the IK
gave up, the IK answers that with another, and the 24 cm lever swung the commanded tool
point 5-10 cm around a still goal at ~2 Hz (romeo -> talos push seed 2, free p95 6.4 cm).
Turned as asked instead, a wrist that cannot take the asked rotation swings the tool point
away (the old rule); rate-limited everywhere (0.2 m/s), real turns lag and 7 cross pushes
and 1 pick were lost.

:class:`IkLever` turns the lever as the target's own IK will turn the hand for the goal it
gives: from the last command, the IK's next answer (the pipeline's, one call of its solver
from that command) for an EE goal at the tool goal minus the lever, pulled within the arm's
reach as the pipeline's arm IK pulls its targets (``max_reach_ratio``:
:func:`~humanoid_teleop.core.retarget.arm_kernel.within_reach`), the lever turned
:data:`LEVER_STEP` of the way toward that answer, :data:`LEVER_ITERATIONS` times (a damped
fixed-point iteration: the undamped one, like the loop through the port's steps, swings
between two answers, 16 cm apart on seed 2). Only where the IK gives up rotation: the share
of that rotation grows from 0 at :data:`LEVER_GAP_FROM_RAD` between the asked rotation and
the last command's to 1 at :data:`LEVER_GAP_FULL_RAD`; below, the lever is the last
command's as before. Not in picks (:mod:`.port` builds none): there it improved no pair,
romeo -> talos pick seed 3's free p95 went 3.1 -> 4.2 cm and icub -> talos (whose source
never succeeds) moved its one success from seed 1 to seed 5."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter
from humanoid_teleop.core.retarget.arm_kernel import within_reach
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]

#: Gap [rad] between the asked EE rotation and the last command's from which the lever is
#: turned as the IK will turn the hand ... G1's and Alex's IKs, which follow the asked
#: rotation, stay below 17 deg in g1 -> alex pushes (p99 15 deg); turned so from 0 deg,
#: predicting every step, g1 -> alex push contact p95 went 1.5 -> 2.7 cm (seed 3).
LEVER_GAP_FROM_RAD = math.radians(20.0)
#: ... fully from this gap [rad] (TALOS' elbow at its bound gives up 20-45 deg).
LEVER_GAP_FULL_RAD = math.radians(30.0)
#: Fixed-point iterations per step (one IK call each): over romeo -> talos push seed 2's
#: steps where the lever applies, the residual between its rotation and the IK's answer
#: after 6 is 0.02 deg (median), but ~10% do not settle (p90 18 deg: the IK's answer jumps).
LEVER_ITERATIONS = 6
#: Share of the way the lever turns toward the IK's answer per iteration (0.3: seed 2's
#: port within 1 mm of 0.5's, its residual larger; 1: undamped, it swings).
LEVER_STEP = 0.5


class IkLever:
    """The target arm's IK, a copy of the pipeline's arm IK (``arm_ik``: same settings and
    bounds, and its reach limit) for one arm (its own solver state: the pipeline's keeps its
    targets)."""

    def __init__(self, model: RobotModel, side: str, arm_ik: ArmIkRetargeter) -> None:
        pipeline_ik = arm_ik.ik
        self._ik = DifferentialIk(
            model,
            arm_tasks(model, [side]),
            pipeline_ik.config,
            bounds=(pipeline_ik.lower, pipeline_ik.upper),
        )
        self._shoulder_m = arm_ik.shoulder_m[side]
        self._reach_m = arm_ik.reach_m(side)

    def answer(self, q_cmd: FloatArray, ee_p: FloatArray, ee_r: FloatArray) -> FloatArray:
        """The EE rotation of the IK's next answer from the command ``q_cmd`` [rad] toward
        the EE goal (``ee_p`` [m], ``ee_r``), base frame, its position pulled within the
        arm's reach as the pipeline's arm IK pulls its targets (:func:`within_reach`)."""
        goal_p = within_reach(ee_p, self._shoulder_m, self._reach_m)
        q = self._ik.solve(q_cmd, [Pose(goal_p, ee_r)])
        return self._ik.forward(q)[0].rotation

    def turned(
        self,
        r_cmd: FloatArray,
        q_cmd: FloatArray,
        tool_p: FloatArray,
        offset: FloatArray,
        ee_r: FloatArray,
    ) -> FloatArray:
        """The rotation to turn the lever ``offset`` (tool point in the EE frame [m]) by for
        the tool point's goal ``tool_p`` [m] and the asked EE rotation ``ee_r``, from the last
        command ``q_cmd`` [rad] whose EE rotation is ``r_cmd``."""
        gap = float(np.linalg.norm(pin.log3(ee_r.T @ r_cmd)))
        share = (gap - LEVER_GAP_FROM_RAD) / (LEVER_GAP_FULL_RAD - LEVER_GAP_FROM_RAD)
        if share <= 0.0:
            return r_cmd
        r_lever = r_cmd
        for _ in range(LEVER_ITERATIONS):
            r_ik = self.answer(q_cmd, tool_p - r_lever @ offset, ee_r)
            r_lever = r_lever @ pin.exp3(LEVER_STEP * pin.log3(r_lever.T @ r_ik))
        partly: FloatArray = r_cmd @ pin.exp3(min(1.0, share) * pin.log3(r_cmd.T @ r_lever))
        return partly
