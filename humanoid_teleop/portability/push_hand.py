"""Into another robot, how closed the operator holds a push's hand: checked against the
hands' geometry.

A push moves the object with the part of the hand that meets it; the porter puts the
target's tool point (:mod:`.tool`: the fingertips' mean) where the source's was, so the
object goes where the source's went when it sits from the tool point as it sat from the
source's. The synthetic push hand is closed by the source hand's closure number, which
means another thing on each hand: TALOS' jaws at G1's 0.41 are past their grasp closure
(5 spurious grasp events on g1 -> talos), and Romeo's jaws meet the puck 1.6-1.9 cm nearer
their tool point than G1's fingers (g1 -> romeo seed 1, per step while pushing).
:func:`object_seat` says where a hand seats a pushed object (its collision hulls within
the object's heights, placed at the source's tool pose at the push's start; the object
slides across the hand's front while that front slopes past its friction), and
:func:`push_hand_closure` keeps the number unless its hand would grasp or another closure
seats the object clearly nearer to where the source's hand held it (measured).

Checked on g1 -> romeo seed 1: with the target's measured joints and pose the seat is the
measured one within 0.1 cm; placed at the source's tool pose, within 0.04-0.3 cm over
operator closures 0.28-0.55 (the pushing error along the push 1.86, 1.70, 1.54, 1.23 cm
measured, 1.56, 1.74, 1.50, 1.07 predicted). Where the puck slides along articulated fingers
it is not (g1 -> alex seed 1: 0.6-1.7 cm off; the puck rides off the thumb onto the index),
so there the number stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame
from humanoid_teleop.core.retarget.hand import HandRetargeter
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.sim.hand_geometry import HandGeometry, band_points
from humanoid_teleop.devices.scripted.hand_model import hand_points

from .report import GRASP_FRACTION
from .tool import ArmTool

FloatArray = NDArray[np.float64]
#: The operator closures :func:`push_hand_closure` chooses among.
CLOSURE_GRID = np.linspace(0.0, 1.0, 51)
#: Longest a dexterous hand's solve is stepped [steps] to settle on a still operator hand.
SETTLE_STEPS = 400
#: A dexterous hand's solve has settled when no joint moves more than this [rad] in a step.
SETTLED_RAD = 1e-7
#: Points along the hands' edges at most this far [m] apart are tried against the object.
EDGE_STEP_M = 0.002
#: The step [m] a pushed object slides across the hand's front in :func:`object_seat`.
ACROSS_STEP_M = 0.001
#: A closure is chosen over the source's number only where it seats the object this much
#: [m] nearer (:func:`object_seat`) than the number: the model's error where the object
#: stays where it met the hand (g1 -> romeo seed 1, closures 0.28-0.55: 0.04-0.3 cm).
SEAT_TOLERANCE_M = 0.003
#: The model can tell a seat where the object slides at most this far [m] across the hand.
SLIDE_M = 0.002


@dataclass(frozen=True)
class PushContact:
    """Where the source's hand met the object at the push's start, source base frame:
    its tool point [m] and hand-frame rotation, the push's horizontal unit direction, the
    object's band of heights (low, high) [m], its centre's offset [m] from the tool point
    across the push (along z x direction), its horizontal radius [m] (a cylinder's; a
    box's half-width across the push, ``round`` False: its face is flat) and its sliding
    friction coefficient (MuJoCo's contact takes the larger of its and the hand's)."""

    tool_p: FloatArray
    tool_r: FloatArray
    direction: FloatArray
    band_z: tuple[float, float]
    across_m: float
    radius_m: float
    friction: float
    round: bool = True


@dataclass(frozen=True)
class PushHand:
    """The operator closure chosen for the push, the one the hand approaches with (the
    source's closure number, below the target's grasp closure: the seat matters once the
    hand pushes), where the object's centre sits from each hand's tool point
    (:func:`object_seat`: along the push, across it [m]; the source's, measured; the
    target's at the chosen closure and at the source's closure number, -inf along where
    that one is at or past the grasp closure) and the target hand's own closure at the
    chosen one (its joints on its open -> closed line)."""

    operator_closure: float
    approach_closure: float
    source_seat_m: tuple[float, float]
    target_seat_m: tuple[float, float]
    number_seat_m: tuple[float, float]
    target_closure: float


def object_seat(
    geometry: HandGeometry, tool: ArmTool, q: FloatArray, contact: PushContact
) -> tuple[float, float]:
    """Where [m] the pushed object's centre sits from the tool point (along the push,
    across it) when the hand of ``geometry`` (its joints ``q``, its own base frame), its
    tool frame at ``contact``'s, pushes it: met at ``contact.across_m``, the object slides
    across the hand's front while that front slopes back more steeply than the contact's
    friction holds it (:data:`ACROSS_STEP_M` at a time, at most its diameter). The front at
    an offset across is the largest, over the hand's points in the object's heights that
    the object's width there covers, of their distance ahead plus the object's depth at
    them. (-inf, ``contact.across_m``) when no part of the hand is there."""
    points, edges = geometry.surface(q)
    pose = tool.tool(q)
    local = (points - pose.position_m) @ pose.rotation  # hand frame, from the tool point
    placed = contact.tool_p + local @ contact.tool_r.T
    near = band_points((placed, edges), contact.band_z, EDGE_STEP_M) - contact.tool_p
    ahead = near @ contact.direction
    across = near @ np.array([-contact.direction[1], contact.direction[0], 0.0])
    radius = contact.radius_m

    def front(offset: float) -> float:
        gap = across - offset
        covered = np.abs(gap) < radius
        if not covered.any():
            return -math.inf
        depth = np.sqrt(radius**2 - gap[covered] ** 2) if contact.round else radius
        return float(np.max(ahead[covered] + depth))

    offset = contact.across_m
    here = front(offset)
    if not math.isfinite(here):
        return here, offset
    holds = max(contact.friction, geometry.friction) * ACROSS_STEP_M
    for _ in range(round(2.0 * radius / ACROSS_STEP_M)):
        lower, step = min((front(offset - ACROSS_STEP_M), -1), (front(offset + ACROSS_STEP_M), 1))
        if not (math.isfinite(lower) and here - lower > holds):
            break
        offset, here = offset + step * ACROSS_STEP_M, lower
    return here, offset


def operator_hand_joints(
    retargeter: HandRetargeter, model: RobotModel, side: str, closures: FloatArray
) -> list[FloatArray]:
    """The robot's joints (home, the ``side`` hand where the retargeter puts it for each
    synthetic operator hand of ``closures``, held still until it settles; passive joints
    where their motor puts them). The retargeter starts again from the open hand after."""
    q_home = model.home_positions()
    group = model.description.hands[side].group
    assert group is not None
    idx = model.group_indices(group)
    out = []
    for closure in closures:
        hand = HandSkeleton(hand_points(side, closure))
        frame = (
            HumanFrame(0.0, left_hand=hand) if side == "left" else HumanFrame(0.0, right_hand=hand)
        )
        last = None
        for _ in range(SETTLE_STEPS):
            values = np.array(retargeter.step(frame, q_home)[group])
            if last is not None and np.abs(values - last).max() < SETTLED_RAD:
                break
            last = values
        q = q_home.copy()
        q[idx] = values
        out.append(model.apply_mimic(q) if model.mimics else q)
    retargeter.calibrate(HumanFrame(0.0), q_home)
    return out


def push_hand_closure(
    source_seat_m: tuple[float, float],
    target: tuple[HandGeometry, ArmTool, HandRetargeter],
    contact: PushContact,
    source_closure: float,
    turned_as_source: bool = True,
) -> PushHand:
    """The operator closure for the target's push hand: the ``source_closure`` the
    synthetic hand would have had (the source hand's closure number), unless

    - its hand is at or past the target's grasp closure: then the closure below the grasp
      that seats the object (:func:`object_seat`) nearest to where the source's hand did
      (``source_seat_m``: along the push, across it [m], measured), else the largest below
      the grasp under the number;
    - or a closure of :data:`CLOSURE_GRID` below the grasp seats it nearer by more than
      :data:`SEAT_TOLERANCE_M`, both seats being ones the model can tell: the object stays
      within :data:`SLIDE_M` across of where it met the hand (where it slides along the
      fingers its seat is the contact's dynamics: g1 -> alex seed 1, 0.6-1.7 cm off).

    ``turned_as_source`` False (the port does not turn the target's hand as the source's,
    so the seat model does not apply): only the grasp closure is kept clear."""
    geometry, tool, retargeter = target
    wanted = np.array(source_seat_m)
    below = GRASP_FRACTION * tool.grip_closure
    number = float(source_closure)
    candidates = np.unique(np.append(CLOSURE_GRID, number))
    seats: dict[float, tuple[float, float, float]] = {}  # closure: seat and hand closure
    joints = operator_hand_joints(retargeter, tool.model, tool.side, candidates)
    for closure, q in zip(candidates.tolist(), joints, strict=True):
        hand_closure = tool.closure(q)
        if hand_closure < below:
            seats[closure] = (*object_seat(geometry, tool, q, contact), hand_closure)
    number_seat = seats.get(number, (-math.inf, math.nan, math.nan))[:2]
    if not seats:  # every hand at or past the grasp: the number
        return PushHand(number, number, source_seat_m, number_seat, number_seat, math.nan)
    misses = {
        c: float(np.linalg.norm(np.array(seat[:2]) - wanted))
        for c, seat in seats.items()
        if turned_as_source
        and math.isfinite(seat[0])
        and abs(seat[1] - contact.across_m) <= SLIDE_M
    }
    # below the grasp, under the number: the closure a hand past the grasp is held at
    approach = best = max((c for c in seats if c <= number), default=min(seats))
    if misses:
        nearest = min(misses, key=lambda c: (misses[c], abs(c - number)))
        if number not in seats or (
            number in misses and misses[number] - misses[nearest] > SEAT_TOLERANCE_M
        ):
            best = nearest
    along, across, hand_closure = seats[best]
    return PushHand(best, approach, source_seat_m, (along, across), number_seat, hand_closure)
