"""Where a port into another robot puts the target's tool at each step, and the operator
wrist that puts it there (:class:`WristGoal`). The goal is the source's (task frame), then,
each where it applies (:class:`GoalLayers`, built by :func:`goal_layers`):

1. moved onto the target's own resting object, and steered across the push while both
   objects move (:class:`ReAim`: a push, with physics);
2. the target's grasp point on the source's near the object (:func:`grasp_share`: a pick);
3. raised to the hand floor (:func:`hand_floor`: with physics);
4. lifted off the pushing hand's resting object (:class:`ObjectClearance`);
5. a pick's grasp as the target's own operator grasps (:mod:`.grasp_phase`: with physics);
6. a push's stroke finished as far as the source's hand went (:mod:`.push_stroke`: the
   port adds its extension to the re-aim's shift and holds the source's clock for it);
7. before and after a push's stroke, the target's hand turned toward its own grasp posture
   (:mod:`.push_posture`: the goal's rotation, a target that pushes in another posture).

Each layer is measured against the command of the step before (:class:`CommandFrames`).
:mod:`.port` drives the steps and says why each layer is there (its docstring); the
constants' comments carry the numbers that chose them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.rotation import rotations_from_quats
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.sim.hand_geometry import HandGeometry, hand_geometry
from humanoid_teleop.devices.scripted.demonstrator import DemonstratorConfig

from .grasp_phase import GraspPhase, grasp_phase
from .grasps import OperatorGrasps, PickHands
from .lever import IkLever
from .push_posture import PushTurns, push_turns
from .push_stroke import StrokeFinish
from .report import CONTACT_M
from .tool import ArmTool
from .track import (
    REST_S,
    SourceTrack,
    at_rest,
    recent_motion,
    rests_after,
    toward,
)

FloatArray = NDArray[np.float64]
#: Time [s] over which the target's operator turns from the source's grasp posture to its own.
POSTURE_S = 2.0
#: Added to a step's time [s] when looking up recorded samples (sample times are whole ns).
TIME_EPS_S = 1e-6
#: After a source that ended mid-release or rising: the hand rises this much [m] in [s].
FINISH_RISE_M = 0.08
FINISH_S = 0.5
#: Clearance [m] the target's hand keeps above the table once the source touched the object.
TABLE_CLEARANCE_M = 0.005
#: Before the source's hand moves the object, the floor holds the target's hand no lower
#: than the source's where the source's tool is within FLOOR_RADIUS_M [m] of its object
#: horizontally, and fades to the table's clearance over FLOOR_FADE_M [m] beyond
#: (:func:`hand_floor`): far from the object a hand that hangs lower cannot land on it, and
#: held up there it left the source's path (Alex on iCub's, 6.6 cm above it at engage:
#: icub -> alex push free p95 6.4 -> 1.9 cm, icub -> g1 5.2 -> 1.6, g1 -> alex 3.7 -> 2.0).
FLOOR_RADIUS_M = 0.10
FLOOR_FADE_M = 0.05
#: ... and until the source's tool first comes within the report's contact radius
#: (:data:`~.report.CONTACT_M`) of its object, no higher than FLOOR_OVER_OBJECT_M [m] above
#: the top of the target's resting object: that high a hand is clear of it whatever hangs
#: below its tool point, and held to the source's it left the source's path (iCub starts
#: with its hand's lowest point 6.6 cm over its puck, 7.6 over its cube; Alex's and G1's
#: hands reach 9 cm below their tool points there, iCub's 3: held 6.4 cm above iCub's path,
#: icub -> alex push seed 4 free p95 6.4 -> 4.7 cm, icub -> g1 5.2 -> 4.1; at 5.5 cm, 5.4
#: and 4.4). Above G1's and Romeo's starts (5.0 cm over their cubes, 4.0 over their pucks,
#: the highest of the other robots' before their tools come near): those ports are as they
#: were (capped at 5 cm, romeo -> g1 pick seed 3's floor moved 0.3 mm at engage; G1
#: dropped the cube from its first grasp as before, 1 mm elsewhere, and its second grasp
#: missed it: lost). Not after the tool first came near: Romeo's pushes rise 6-9 cm over
#: their pucks there and come down again, and capped, romeo -> talos push seed 2 was lost.
FLOOR_OVER_OBJECT_M = 0.052
#: Clearance [m] the target's pushing hand keeps from its object's resting footprint and
#: top until the source's hand comes down beside its object (:class:`ObjectClearance`): at
#: 5 mm g1 -> alex push seed 4 rose from contact p95 1.96 to 2.10 cm (0 and 2 mm: 1.7 cm).
OBJECT_CLEARANCE_M = 0.002
#: With physics, a push into another robot: how fast [m/s] the goal's shift onto the
#: target's own object follows that object's offset from the source's (an operator's re-aim)
RE_AIM_M_S = 0.03
#: ... and, once the source's push is over (its object rests after it: the retreat), at
#: RE_AIM_RETREAT_M_S [m/s]: the source's hand leaves its puck within ~0.5 s of the push's
#: end, and at 3 cm/s the shift still lagged the two pucks' offset by 2-3 cm there (romeo
#: -> g1 push seeds 1-5: 125-155 of 125-189 retreat contact steps over 2 cm; now 54-76).
RE_AIM_RETREAT_M_S = 0.2
#: ... and from where the source's tool is further than RETURN_FROM_M [m] from its object in
#: the retreat, the shift goes back to zero at that rate (the hand back on the source's
#: path): carried out of contact, the pucks' 4.8 cm offset put romeo -> alex push seed 2's
#: free p95 at 4.4 cm (returning from 10 cm 4.5, from 9 cm 3.0; from 8 cm contact p95 rose,
#: romeo -> g1 seed 2 2.7 -> 3.0).
RETURN_FROM_M = 0.09
#: ... and while the source's object moves, the shift's component across that motion
#: steers against the relation error across it ((target tool - target object) - (source
#: tool - source object)) at PUSH_STEER_GAIN_PER_S [1/s] of that error, at most
#: PUSH_STEER_M_S [m/s] (:class:`ReAim`: an operator keeping the puck where the source's
#: hand held its own).
PUSH_STEER_GAIN_PER_S = 2.0
PUSH_STEER_M_S = 0.1
#: ... where the source's object slides at least this fast [m/s] (:func:`push_normals`).
PUSH_STEER_MIN_M_S = 0.05
#: ... and it steers at most this far [m] in all (a hand's correction, not a new path: steered
#: 2.8 cm, TALOS' jaws dragged icub -> talos push seed 3's puck 3 cm past the disc).
PUSH_STEER_MAX_M = 0.02
#: ... and over how far [m] of the source tool's distance from its object beyond the report's
#: contact radius (:data:`~.report.CONTACT_M`) the shift fades out.
SHIFT_FADE_M = 0.05
#: Picking into another robot, the target's grasp point is put on the source's where the
#: source's grasp point was within GRASP_NEAR_M [m] of its object, its tool point on the
#: source's beyond GRASP_FAR_M, and in between by the share of that span
#: (:func:`grasp_share`): the grasp point matters where the fingers meet the object, the
#: report compares tool points everywhere, and hands' tool points lie differently from
#: their grasp points (G1's, the mean of three fingertips, 2.1-3.0 cm from its thumb-index
#: pinch, Alex's 4 cm; a gripper's is its pinch). Near: the 4 cm cube's half size (while
#: they hold it G1's pinch sits 0.5-0.7 cm from its cube's centre, Alex's 0.8-2.2, medians);
#: far: 4 cm further, no less than the largest of those offsets, so the hand drifts sideways
#: no faster than it comes down (over 1-4 cm, TALOS' jaws came down beside Alex's cube and
#: swung onto it: alex -> talos picks 3 -> 2 of 5).
GRASP_NEAR_M = 0.02
GRASP_FAR_M = 0.06

_NO_OFFSET = np.zeros(3)


class Frames(NamedTuple):
    """The frames of a command (:class:`CommandFrames`) a step's goal is shaped against,
    target base frame."""

    #: The EE rotation (3 x 3).
    ee_r: FloatArray
    #: The EE position [m].
    ee_p_m: FloatArray
    #: The tool point [m] (:mod:`.tool`).
    tool_p_m: FloatArray
    #: How far [m] the hand's lowest point hangs below the tool point (0 when not measured).
    drop_m: float
    #: The grasp point minus the tool point [m] (zero when not needed).
    grasp_offset_m: FloatArray
    #: Points on the hand's collision geometry minus the tool point [m], n x 3 (None when
    #: not needed).
    surface_m: FloatArray | None
    #: How far [m] the tool point is above the lowest fingertip frame (0 when not needed).
    tip_drop_m: float
    #: The command itself [rad].
    q_rad: FloatArray


class CommandFrames:
    """The frames of a command (:class:`Frames`) the next step's goal is shaped against.

    The tool and grasp points have the hand's passive joints (URDF mimics) where its motor
    puts them, as the sim's hand has: the pipeline's commands leave them where they were at
    engage (Romeo's fingers at the open hand's 1 rad while its push hand holds 0.72), which
    put Romeo's commanded tool point 1.5 cm from its hand's, and the port aimed that (g1 ->
    romeo push contact p95 3.2 cm). The hand's lowest point stays the command's (with the
    mimics there too, the floor moved TALOS' jaws and g1 -> talos lost a push and a pick of
    five). ``hand``: the target's collision geometry (None: no floor, no surface);
    ``grasp``: whether the grasp point's offset is needed; ``surface``: whether the hand's
    surface points are (:class:`ObjectClearance`; cleared once it no longer applies);
    ``tips``: whether the lowest fingertip's height is (:mod:`.grasp_phase`'s floor)."""

    def __init__(
        self,
        model: RobotModel,
        tool: ArmTool,
        hand: HandGeometry | None,
        grasp: bool,
        surface: bool,
        tips: bool = False,
    ) -> None:
        self._model = model
        self._tips = tips
        self._tool = tool
        self._hand = hand
        self._mimics = bool(model.mimics)
        self._grasp = grasp
        self.surface = surface and hand is not None

    def __call__(self, q_cmd: FloatArray) -> Frames:
        q_hand = self._model.apply_mimic(q_cmd) if self._mimics else q_cmd
        tip_z = None  # the lowest fingertip's height [m], from the same kinematics pass
        if self._grasp and self._tips:
            r_ee, p_ee, point, grasp, tip_z = self._tool.frames_grasp_tip(q_hand)
        elif self._grasp:
            r_ee, p_ee, point, grasp = self._tool.frames_grasp(q_hand)
        else:
            r_ee, p_ee, point = self._tool.frames(q_hand)
            grasp = _NO_OFFSET
        drop = 0.0 if self._hand is None else float(point[2]) - self._hand.lowest_z(q_cmd)
        surface = None
        if self.surface and self._hand is not None:
            surface = self._hand.surface_points(q_hand) - point
        if self._tips and tip_z is None:
            tip_z = self._tool.lowest_tip_z(q_hand)
        tip_drop = 0.0 if tip_z is None else float(point[2]) - tip_z
        return Frames(r_ee, p_ee, point, drop, grasp, surface, tip_drop, q_cmd)


@dataclass(frozen=True)
class ObjectClearance:
    """Lifts a hand off an object resting on the table: the object as an upright cylinder
    around ``centre_xy`` [m] of ``radius_m`` (its footprint's, plus the clearance) up to
    ``top_z`` [m] (its top, plus the clearance), base frame, before source sample ``until``
    (:func:`side_approach`: where the source's hand came down beside its object to push).

    A target hand of another shape, following the source's tool path, can overlap an
    object the source's hand passed beside: TALOS' 15 cm jaws, on G1's path 3-4 cm outside
    the puck and ~1 cm above its top while G1's fingers settled beside it, pressed on the
    puck's rim and knocked it 3.5 cm toward the robot before G1's push began. Not once the
    source's hand has come down beside its object: a hand lifted there would come down on
    the object when the push begins (moved sideways instead, away from the object's axis,
    g1 -> alex contact p95 went from 1.5 to 4.8 cm)."""

    centre_xy: FloatArray
    radius_m: float
    top_z: float
    until: int

    def lift(self, tool_p: FloatArray, surface: FloatArray) -> FloatArray:
        """The tool point goal ``tool_p`` [m] raised until none of the hand's ``surface``
        points (n x 3 [m], minus the tool point, at the last command) inside the object's
        footprint lies below its top; unchanged where none does."""
        points = tool_p + surface
        low = points[points[:, 2] < self.top_z]
        flat = low[:, :2] - self.centre_xy
        within = np.einsum("ij,ij->i", flat, flat) < self.radius_m**2
        if not within.any():
            return tool_p
        lift = self.top_z - float(low[within, 2].min())
        return np.array([tool_p[0], tool_p[1], tool_p[2] + lift])


def side_approach(
    goal_p: FloatArray, objects: FloatArray | None, half_height_m: float, until: int
) -> int:
    """The source sample where its tool point came down below its object's top for the last
    time before sample ``until`` (the push's start) and stayed below it: from there the
    source's hand approached the object's side (``goal_p``, ``objects``: n x 3 [m], task
    frame, the source's goals and its object's centre). ``until`` if it was above the top
    then, 0 if it never was above it before (no source object recorded: ``until``)."""
    if objects is None or until <= 0:
        return until
    above = goal_p[:until, 2] >= objects[:until, 2] + half_height_m
    if above[-1]:
        return until
    return int(np.flatnonzero(above)[-1]) + 1 if above.any() else 0


def hand_floor(
    source_lowest: FloatArray, touch: int | None, table_z: float,
    apart_m: FloatArray | None = None, over_object: tuple[float, int] | None = None,
) -> FloatArray:  # fmt: skip
    """How low [m] (task frame) the target's hand may reach at each source sample, given the
    source hand's lowest point there (``source_lowest``, task frame), the sample where the
    source's hand began to move the object (``touch``: for a push where it began to push
    it, not a graze; None if it never did), the table top's height in the target's task
    frame (``table_z``) and the source's tool's horizontal distance [m] from its object
    (``apart_m``; None: not recorded, as if always near), and (the top [m] of the target's
    resting object, task frame; the sample where the source's tool first came within
    :data:`~.report.CONTACT_M` of its object) (``over_object``; None: no object).

    Until then, no lower than the source's hand near the object: a hand that
    hangs lower below its tool point than the source's (Romeo's, ~3 cm below G1's) would
    land on an object the source's hand passed over; farther than :data:`FLOOR_RADIUS_M`
    that floor fades to the table's over :data:`FLOOR_FADE_M`; until the source's tool first
    comes near its object, it is no higher than :data:`FLOOR_OVER_OBJECT_M` above the
    target's object. From then on, no lower than
    :data:`TABLE_CLEARANCE_M` above the table: pressed onto it, Romeo's hand dragged on
    the table at 40-50 N while pushing, trailing its commands by 6-12 cm with its wrist
    drives at their effort limits."""
    floor = np.array(source_lowest, dtype=np.float64)
    table = table_z + TABLE_CLEARANCE_M
    if apart_m is not None:
        near = np.clip((FLOOR_RADIUS_M + FLOOR_FADE_M - apart_m) / FLOOR_FADE_M, 0.0, 1.0)
        floor = np.where(floor > table, table + near * (floor - table), floor)
    if over_object is not None:
        top_z, near_from = over_object
        until = near_from if touch is None else min(near_from, touch)
        floor[:until] = np.minimum(floor[:until], top_z + FLOOR_OVER_OBJECT_M)
    if touch is not None:
        floor[touch:] = table
    return floor


def resting_outside_push(
    t_s: FloatArray, source_objects: FloatArray, touch: int | None
) -> NDArray[np.bool_]:
    """Per source sample (``t_s`` [s], ``source_objects``: n x 3 [m]), whether the source's
    object rests (:func:`~.track.at_rest`) outside its push: from the push's start
    (``touch``) to the object's last motion it does not, pauses included (re-aimed between a
    push's strokes, a target's object the first left behind would stay behind)."""
    rest = at_rest(t_s, source_objects)
    if touch is not None and not rest.all():
        last_motion = len(rest) - 1 - int(np.argmin(rest[::-1]))
        rest[touch : last_motion + 1] = False
    return rest


def grasp_share(source_grasp: FloatArray, source_objects: FloatArray) -> list[float]:
    """Per source sample, how far (0..1) the target's grasp point, rather than its tool
    point, is put on the source's: 1 where the source's measured grasp point
    (``source_grasp``, :func:`source_grasp_points`) was within :data:`GRASP_NEAR_M` of its
    object (``source_objects``: n x 3 [m], task frame), 0 beyond :data:`GRASP_FAR_M`,
    linear in between."""
    distance = np.linalg.norm(source_grasp - source_objects, axis=1)
    share = np.clip((GRASP_FAR_M - distance) / (GRASP_FAR_M - GRASP_NEAR_M), 0.0, 1.0)
    return [float(x) for x in share]


def source_grasp_points(track: SourceTrack) -> FloatArray:
    """The source's measured grasp point per sample (n x 3 [m], task frame)."""
    _, _, tool_p, offsets = track.tool.frames_grasp_rows(track.measured)
    out: FloatArray = (tool_p - track.origin) + offsets
    return out


def pick_phase(
    track: SourceTrack, source_grasp: FloatArray, source_objects: FloatArray,
    grip: tuple[OperatorGrasps, PickHands], table_top_z: float, gripper: bool = False,
    origin: FloatArray | None = None,
) -> GraspPhase | None:  # fmt: skip
    """The source pick's :class:`~.grasp_phase.GraspPhase` (``source_grasp``: its measured
    grasp point, :func:`source_grasp_points`; ``source_objects``: n x 3 [m], task frame;
    ``grip``: its operator's grasps and the target's picking hands, whose operator's grasp
    height it takes; ``table_top_z``: the target's table top, base frame [m]; ``origin``:
    the target's task frame origin [m], where its goal moves onto its own object): the source's
    grasp point, its goals and where its operator began each close. A target's hand whose
    operator does not hold the wrist in the close follows its object there
    (:func:`follow_in_close`), a ``gripper``'s not: its jaws close on the object from both
    sides (alex -> talos seeds 1, 2 lost with it, contact 5.3 -> 6.1, 7.2 cm), and a
    fingered hand's still wrist is held exactly (:attr:`~.grasp_phase.GraspPhase.fingered`)."""
    grasps, hands = grip
    closing = grasps.progress > 1.0 + 1e-3
    starts = np.flatnonzero(closing[1:] & ~closing[:-1]) + 1
    close_starts_s = [float(grasps.t_s[i]) for i in starts]
    if len(closing) and closing[0]:
        close_starts_s.insert(0, float(grasps.t_s[0]))
    return grasp_phase(
        track.t_s, source_grasp, source_objects, track.goal_p, close_starts_s,
        table_top_z + TABLE_CLEARANCE_M, hands.config.grasp_height_m,
        grasps.waits_s, (0.0, 0.0, 0.0) if gripper else follow_in_close(hands.config), origin,
        not gripper, grasps.opens_s,
    )  # fmt: skip


def follow_in_close(config: Any) -> tuple[float, float, float]:
    """How a robot's own operator moves its wrist while its fingers close on the object
    (its :class:`~humanoid_teleop.devices.scripted.demonstrator.DemonstratorConfig`): (gain
    [1/s], top speed [m/s]) of its loop keeping the measured pinch on the object and how
    long [s] it closes before lifting; zeros for one that holds the wrist still
    (``still_wrist_grasping``: G1's) or closes no longer than the default ``close_s``
    (Romeo's: the follow moved its arm off its reach, alex -> romeo picks 3 -> 0 of 5,
    g1 -> romeo contact p95 3.0 -> 3.6 cm). Among the shipped robots that leaves Alex's,
    whose fingers keep settling ~2 s after its pinch closed (``close_s`` 3.5 s) and push
    the cube 3 cm meanwhile."""
    if config.still_wrist_grasping or config.close_s <= DemonstratorConfig.close_s:
        return 0.0, 0.0, 0.0
    return float(config.gain_per_s), float(config.max_wrist_speed_m_s), float(config.close_s)


@dataclass
class ReAim:
    """A push into another robot, with physics: where both objects rest, the goal's shift
    follows the target's own object's horizontal offset from the source's (task frame) at
    most ``step_m`` a step (:data:`RE_AIM_M_S`); while either moves, and through the
    source's push, it is held. ``resting``: per source sample, whether the source's object
    rests outside its push (:func:`resting_outside_push`); ``share``: the shift's share
    there (1 within the contact radius of the source's tool, 0 :data:`SHIFT_FADE_M`
    beyond); ``source_objects``: n x 3 [m], task frame; ``rest_steps``: the port's steps
    in :data:`~.track.REST_S`. While the source's object moves, the shift's component
    across the push (``across``: per source sample, :func:`push_normals`) steers
    against the relation error across it (``source_tools``: the source's measured tool
    point per sample, n x 3 [m], task frame), ``steer_gain`` [-] of it a step, at most
    ``steer_step_m`` (and :data:`PUSH_STEER_MAX_M` in all: ``steered_m``), while the
    target's own object moves too (steered while its puck lay still, iCub's hand met it
    off its centre and it stopped 1.5 cm shorter: alex -> icub push seeds 4, 5 lost). Its
    component along the push is held (following the target's object along the push, a hand
    that had pushed its object further would push it further still), and it does not
    follow the target object's offset across (the hand drags the puck it steers toward:
    alex -> g1 seed 2, the two pucks 4 -> 8 cm apart). After the push (``retreat``) the
    re-aim moves at ``retreat_step_m`` a step (:data:`RE_AIM_RETREAT_M_S`), and where the
    source's tool has left its object there (``returning``: :data:`RETURN_FROM_M`) the
    shift goes back to zero at that step."""

    resting: NDArray[np.bool_]
    share: FloatArray
    source_objects: FloatArray
    rest_steps: int
    step_m: float
    across: FloatArray | None = None
    source_tools: FloatArray | None = None
    steer_gain: float = 0.0
    steer_step_m: float = 0.0
    #: per source sample, whether its push is over (resting after the push's start), and
    #: the re-aim's step [m] there (0: ``step_m``)
    retreat: NDArray[np.bool_] | None = None
    retreat_step_m: float = 0.0
    #: per source sample, whether in the retreat the source's tool has left its object
    #: (:data:`RETURN_FROM_M`): there the shift goes back to zero at ``retreat_step_m``
    returning: NDArray[np.bool_] | None = None
    shift_m: FloatArray = field(default_factory=lambda: np.zeros(3))
    #: the part of the shift [m] the steer across the push has made
    steered_m: FloatArray = field(default_factory=lambda: np.zeros(3))

    @classmethod
    def of(
        cls, track: SourceTrack, source_objects: FloatArray, touch: int | None, rate_hz: float
    ) -> ReAim:
        """The re-aim of a push whose source object path is ``source_objects`` (per
        ``track`` sample), its push starting at ``touch``, ported at ``rate_hz`` [Hz]."""
        apart = np.linalg.norm(track.actual_p - source_objects, axis=1)
        resting = resting_outside_push(track.t_s, source_objects, touch)
        retreat = resting.copy()
        retreat[: len(retreat) if touch is None else touch] = False
        returning = retreat & (apart > RETURN_FROM_M)
        return cls(
            resting,
            np.clip(1.0 - (apart - CONTACT_M) / SHIFT_FADE_M, 0.0, 1.0),
            source_objects,
            max(1, round(REST_S * rate_hz)),
            RE_AIM_M_S * (1.0 / rate_hz),
            push_normals(track.t_s, source_objects, touch),
            track.actual_p,
            PUSH_STEER_GAIN_PER_S / rate_hz,
            PUSH_STEER_M_S / rate_hz,
            retreat,
            RE_AIM_RETREAT_M_S / rate_hz,
            returning,
        )

    def shift(
        self, k: int, target_object: FloatArray, then: FloatArray | None,
        target_tool: FloatArray | None = None,
    ) -> FloatArray:  # fmt: skip
        """The goal's shift [m] at source sample ``k``, the target's object at
        ``target_object`` (task frame) now and at ``then`` :data:`~.track.REST_S` ago
        (None: not yet that many steps), the target's measured tool point at
        ``target_tool`` (task frame; None: not measured yet)."""
        if self.resting[k] and then is not None and rests_after(target_object - then):
            offset = target_object - self.source_objects[k]  # both rest: re-aim
            offset[2] = 0.0
            step_m = self.step_m
            if self.retreat is not None and self.retreat[k] and self.retreat_step_m:
                step_m = self.retreat_step_m
                if self.returning is not None and self.returning[k]:
                    offset = np.zeros(3)  # the source's hand has left its object: its path
            self.shift_m = toward(self.shift_m, offset, step_m)
        elif (
            self.across is not None
            and self.source_tools is not None
            and target_tool is not None
            and then is not None
            and self.across[k].any()
            and not rests_after(target_object - then)
        ):  # both objects move: steer against the relation error across the push
            normal = self.across[k]
            error = (target_tool - target_object) - (self.source_tools[k] - self.source_objects[k])
            steer = -self.steer_gain * float(error @ normal) * normal
            steered = toward(self.steered_m, self.steered_m + steer, self.steer_step_m)
            steered = toward(np.zeros(3), steered, PUSH_STEER_MAX_M)  # at most that long
            self.shift_m = self.shift_m + (steered - self.steered_m)
            self.steered_m = steered
        shift: FloatArray = self.share[k] * self.shift_m
        return shift


def push_normals(t_s: FloatArray, objects: FloatArray, touch: int | None) -> FloatArray:
    """Per sample (``t_s`` [s], ``objects``: n x 3 [m], task frame), from the push's start
    (``touch``) on, where the object slides at :data:`PUSH_STEER_MIN_M_S` or faster, the
    horizontal unit normal (left of it) to its motion over the last
    :data:`~.track.REST_S`; zero elsewhere (everywhere without a push). A slower puck's
    direction turns with its last creep: steered across that, icub -> g1 push seed 2's
    hand steered along the push against its seat and the puck went 3 cm further (lost)."""
    normals = np.zeros((len(objects), 3))
    if touch is None:
        return normals
    moved = recent_motion(t_s, objects)
    length = np.linalg.norm(moved, axis=1)
    sliding = length >= PUSH_STEER_MIN_M_S * REST_S
    sliding[:touch] = False
    normals[sliding, 0] = -moved[sliding, 1] / length[sliding]
    normals[sliding, 1] = moved[sliding, 0] / length[sliding]
    return normals


@dataclass
class GoalLayers:
    """What shapes the source's goal into the target's (module docstring), None where it
    does not apply: ``floor``, the lowest the target's hand may reach per source sample
    [m] (target base frame); ``clearance``; ``grasp``, the source's grasp point minus its
    tool point per sample (base frame [m]) and the share of it the target takes (None: all);
    ``reaim``; ``pick``, a pick's grasp phase; ``stroke``, a push's stroke finish;
    ``turns``, the posture turns before and after it."""

    floor: FloatArray | None = None
    clearance: ObjectClearance | None = None
    grasp: tuple[FloatArray, list[float] | None] | None = None
    reaim: ReAim | None = None
    pick: GraspPhase | None = None
    stroke: StrokeFinish | None = None
    turns: PushTurns | None = None


def goal_layers(
    track: SourceTrack,
    source_model: RobotModel,
    target_model: RobotModel,
    origin: FloatArray,
    world: tuple[Any, Any] | None,
    source_objects: FloatArray | None,
    touch: int | None,
    task: tuple[bool, tuple[OperatorGrasps, PickHands] | None],
    rate_hz: float,
    postures: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> tuple[GoalLayers, HandGeometry | None]:
    """The layers of a port into another robot (:class:`GoalLayers`) and the target hand's
    collision geometry the floor and the clearance measure (None without physics).
    ``world``: (the target's sim, its scene) with physics, else None; ``origin``: the
    target's task frame origin [m]; ``source_objects``: the source's first object per
    ``track`` sample (task frame [m]) or None; ``touch``: the sample where the source's hand
    began to move it (None: never); ``task``: (a push, ported by the source hand's closure;
    for a pick, the source operator's grasps and the target's picking hands, else None);
    ``rate_hz``: the port's step rate; ``postures``: a push whose operator's wrists were
    recorded, the operator wrist rotations (operator frame) in which the source's operator
    holds its hand for the task, the target's operator its own, and the target's operator
    its own to grasp (the turns before and after the stroke, :func:`~.push_posture.push_turns`),
    else None."""
    pushing, grip = task
    layers = GoalLayers()
    # the source's measured grasp point (FK of its whole path): for the grasp point's share
    # and the pick phase
    grasp = None
    if grip is not None and source_objects is not None:
        grasp = source_grasp_points(track)
    hand = None
    if world is not None:
        sim, scene = world
        side = track.tool.side
        hand = hand_geometry(target_model, side)
        source_lowest = hand_geometry(source_model, side).lowest_rows(track.measured)
        table_z = scene.table_top_m - origin[2]  # target task frame
        rest, first = scene.object_poses(sim)[0][1], scene.config.objects[0]  # target's object
        apart = over_object = None
        if source_objects is not None:
            apart = np.linalg.norm(track.goal_p[:, :2] - source_objects[:, :2], axis=1)
            near = np.linalg.norm(track.actual_p - source_objects, axis=1) < CONTACT_M
            over_object = (
                float(rest[2]) - origin[2] + first.half_height_m,
                int(np.argmax(near)) if near.any() else len(near),
            )
        allowed = hand_floor(source_lowest - track.origin[2], touch, table_z, apart, over_object)
        layers.floor = origin[2] + allowed
        if pushing:
            push = len(track.t_s) if touch is None else touch
            layers.clearance = ObjectClearance(
                rest[:2].copy(),
                first.footprint_radius_m + OBJECT_CLEARANCE_M,
                float(rest[2]) + first.half_height_m + OBJECT_CLEARANCE_M,
                side_approach(track.goal_p, source_objects, first.half_height_m, push),
            )
        if pushing and source_objects is not None:
            layers.reaim = ReAim.of(track, source_objects, touch, rate_hz)
            layers.stroke = StrokeFinish.of(
                track.t_s, track.goal_p, track.actual_p, source_objects, touch,
                scene.config.objects[0].half_height_m,
            )  # fmt: skip
            stroke = layers.stroke
            if postures is not None and stroke is not None:  # approach's, retreat's posture
                layers.turns = push_turns(*postures, (stroke.start_s, stroke.end_s))
        if grip is not None and grasp is not None and source_objects is not None:
            target_hand = target_model.description.hands.get(side)
            gripper = target_hand is not None and target_hand.kind == "gripper"
            layers.pick = pick_phase(
                track, grasp, source_objects, grip, scene.table_top_m, gripper, origin
            )
    if grip is not None:
        shares = None
        if grasp is not None and source_objects is not None:
            shares = grasp_share(grasp, source_objects)
        layers.grasp = (track.commanded_grasp, shares)
    return layers, hand


class _Goal(NamedTuple):
    """A source goal in the target's base frame (:meth:`WristGoal._goal`)."""

    #: The EE rotation.
    ee_r: FloatArray
    #: The tool point [m].
    tool_p: FloatArray
    #: The operator wrist's rotation that turns the EE so (None: not computed yet).
    wrist_r: FloatArray | None


class WristGoal:
    """The operator wrist (and the EE pose) that puts the target's tool on the source's goal
    ``k`` at time ``t`` [s], shaped by ``layers``: called at each step with the last
    command's :class:`CommandFrames`.

    ``calibration``: the target's (a, b, scale, c) affine map from the operator's wrist to
    the EE; ``hand_turn``: the rotation from the operator's wrist to the hand's (``c``, or
    the source's hand at engage); ``posture``: the rotation vector [rad] from the source's
    grasp posture to the target's with the source operator's recorded ``wrists`` (else the
    goal's own rotation); ``finish_after_s``: the source's end [s] when the port goes on
    rising after it (:data:`FINISH_RISE_M`), else None; ``same``: ported to its own robot;
    ``dt_s``: the port's step [s] (the grasp phase's re-aim is rate-limited per step);
    ``lever``: a push into another robot with physics, the target's IK the lever is turned
    by where it gives up the asked rotation (:mod:`.lever`; None: as last commanded)."""

    def __init__(
        self,
        track: SourceTrack,
        origin: FloatArray,
        tool: ArmTool,
        calibration: tuple[FloatArray, FloatArray, float, FloatArray],
        hand_turn: FloatArray,
        posture: FloatArray | None,
        wrists: Any,
        finish_after_s: float | None,
        same: bool,
        layers: GoalLayers,
        dt_s: float,
        lever: IkLever | None = None,
    ) -> None:
        self._track = track
        self._origin = origin
        self._calibration = calibration
        self._hand_turn = hand_turn
        self._hand_rotation_t = tool.hand_rotation.T
        self._posture = posture
        self._wrists = wrists
        self._finish_after_s = finish_after_s
        self._same = same
        self.layers = layers
        self._dt_s = dt_s
        self._lever = lever
        # the goal last computed for (k, t): the engage wait asks for the same one at every
        # step; and the posture turn by its share (0 at engage, 1 after POSTURE_S)
        self._memo: dict[tuple[int, float], _Goal] = {}
        #: the tool point's goal [m] (base frame) the last call put the EE at
        self.tool_goal: FloatArray | None = None
        self._turns: dict[float, FloatArray] = {}
        # every recorded wrist rotation under the whole posture turn, and the operator wrist
        # that turns the EE so (:meth:`_turned_wrists`), and whether one of them has no
        # rotation (then each step turns its own)
        self._turned: tuple[FloatArray, FloatArray] | None = None
        self._unturned = False

    def _goal(self, k: int, t: float) -> _Goal:
        """(EE rotation, tool point [m], target base frame; the operator wrist's rotation
        when known) of the source's goal ``k``."""
        goal = self._memo.get((k, t))
        if goal is not None:
            return goal
        wrist_r = None
        if self._posture is not None and self._wrists is not None:  # the operator's, re-based
            share = min(1.0, t / POSTURE_S)
            turn = self._turns.get(share)
            if turn is None:
                turn = pin.exp3(share * self._posture)
                if share in (0.0, 1.0):
                    self._turns[share] = turn
            if self.layers.turns is not None:
                turn = self.layers.turns.turned(t, turn, share)
            turned = self._turned_wrists(turn) if share == 1.0 else None
            if turned is not None:  # the whole turn, as every step after POSTURE_S takes it
                i = self._wrists.index(t + TIME_EPS_S)
                want_ee_r, wrist_r = turned[0][i], turned[1][i]
            else:
                want_ee_r = self._wrists.rotation_at(t + TIME_EPS_S) @ turn @ self._hand_turn
        else:
            want_ee_r = self._track.goal_r[k] @ self._hand_rotation_t
        want_tool_p = self._origin + self._track.goal_p[k]
        end_s = self._finish_after_s
        if end_s is not None and t > end_s:  # what the source's end cut short
            want_tool_p = want_tool_p + np.array([0.0, 0.0, finish_rise_m(t, end_s)])
        self._memo.clear()
        goal = self._memo[(k, t)] = _Goal(want_ee_r, want_tool_p, wrist_r)
        return goal

    def _turned_wrists(self, turn: FloatArray) -> tuple[FloatArray, FloatArray] | None:
        """Each recorded operator wrist rotation ``@ turn @`` the hand turn (the EE's), and
        that ``@ c.T`` (the operator wrist's, ``c`` the calibration's), by the wrists'
        sample index (n x 3 x 3 each, read-only), when ``turn`` is the whole posture turn
        (else None). At the first ask, from the rotations
        :meth:`~.source.Samples.rotation_at` takes its rows from (``rotations_from_quats``
        of the quaternions), in stacked matmuls: each matrix the same BLAS products as one
        step's ``rotation_at(t) @ turn @ hand_turn`` and ``want_ee_r @ c.T`` (three 3 x 3
        matmuls a step were ~2-3% of a kinematic port). None when a wrist row has no
        rotation (each step turns its own: a row used raises there)."""
        wrists = self._wrists
        if wrists is None or self._unturned or turn is not self._turns.get(1.0):
            return None
        if self._turned is None:
            try:
                rotations = rotations_from_quats(wrists.values[:, 3:7])
            except ValueError:
                self._unturned = True
                return None
            ee_r = np.matmul(np.matmul(rotations, turn), self._hand_turn)
            wrist_r = np.matmul(ee_r, self._calibration[3].T)
            ee_r.flags.writeable = wrist_r.flags.writeable = False
            self._turned = (ee_r, wrist_r)
        return self._turned

    def __call__(
        self, k: int, t: float, command: Frames, shift: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(operator wrist position, rotation, EE position, rotation) at source sample ``k``
        and time ``t`` [s], shaped against the last ``command``'s frames, the goal moved by
        ``shift`` [m] (:class:`ReAim`)."""
        want_ee_r, want_tool_p, wrist_r = self._goal(k, t)
        layers = self.layers
        pick = layers.pick
        if shift is not None:
            want_tool_p = want_tool_p + shift
        if layers.grasp is not None:  # the target's grasp point on the source's
            grasp_shift, shares = layers.grasp
            j = min(k, len(grasp_shift) - 1)
            share = 1.0 if shares is None else shares[j]
            if pick is not None:
                share *= pick.grasp_share_at(k, self._dt_s)
            want_tool_p = want_tool_p + share * (grasp_shift[j] - command.grasp_offset_m)
        floor = -math.inf
        if layers.floor is not None:  # the target's hand no lower than allowed
            j = min(k, len(layers.floor) - 1)
            floor = layers.floor[j] + command.drop_m
            if pick is not None and pick.within(j):
                # the target's own operator's floor: its fingertips off the table
                floor = pick.table_floor_z + command.tip_drop_m
            if want_tool_p[2] < floor:
                want_tool_p = np.array([want_tool_p[0], want_tool_p[1], floor])
        clearance = layers.clearance
        surface = command.surface_m
        if clearance is not None and surface is not None and k < clearance.until:
            want_tool_p = clearance.lift(want_tool_p, surface)
        self.tool_goal = want_tool_p
        r_cmd = command.ee_r
        offset = r_cmd.T @ (command.tool_p_m - command.ee_p_m)  # tool point in the EE frame, now
        # on another robot, where the hand is turned now (the IK puts position first: a wrist
        # that cannot take the asked rotation would swing a long hand's tool point away), or
        # where the IK gives up the asked rotation, as it will turn it for this goal; on its
        # own robot, every source rotation is reachable
        turned = want_ee_r if self._same else r_cmd
        if self._lever is not None and not self._same:
            turned = self._lever.turned(r_cmd, command.q_rad, want_tool_p, offset, want_ee_r)
        lever = turned @ offset
        want_ee_p = want_tool_p - lever
        if pick is not None:  # called once a step: the phase keeps its own offset
            want_ee_p = pick.ee_goal(k, want_ee_p, self._dt_s, floor - float(lever[2]))
        a, b, scale, c = self._calibration
        if wrist_r is None:
            wrist_r = want_ee_r @ c.T
        return b + (want_ee_p - a) / scale, wrist_r, want_ee_p, want_ee_r


def finish_rise_m(t: float, end_s: float) -> float:
    """How far [m] the hand has risen at ``t`` [s] when finishing what the source's end (at
    ``end_s``) cut short: :data:`FINISH_RISE_M` over :data:`FINISH_S`."""
    return min(1.0, (t - end_s) / FINISH_S) * FINISH_RISE_M
