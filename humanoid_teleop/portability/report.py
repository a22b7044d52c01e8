"""The portability report of one ported episode (one source episode, one target robot).

Everything is measured on the tool frame (:mod:`.tool`) in the task frame (origin at the
arm's EE at home, base-frame axes), the source at the ported step times (linearly
interpolated). With physics both sides are measured joints; without, both are commands (the
source's: its pipeline's whole command, the joints it did not command where they were at
engage and mimic joints following their commanded joint, :class:`~.track.SourceTrack`).

- **Contact phases**: steps where the source's tool point is within :data:`CONTACT_M` of the
  (first) object; there the error is taken in the object frame (tool minus object, each
  robot's own object), elsewhere (free space) in the task frame. p95 and max [m]. Once
  either object has left the table (:data:`FALLEN_M` below where it started) the object
  frame means nothing: those steps count as free space, and a note says when it fell.
  Where the contact error comes from: its p95 while the source's object moves (pushed or
  carried: not at rest, :func:`~.track.at_rest`) and while it rests (the approach and the
  retreat), and, while it moves, where the target's object sits from its tool compared
  with the source's (the seat), along the source object's horizontal motion and across it
  (:func:`contact_split`), and how far apart the two objects were (task frame) over the
  contact steps: where the contact error is large and the objects were near each other,
  the two hands held or pushed them alike but with other parts of the hand (the seat).
- **Orientation**: the angle between the two hand frames [rad], p95.
- **Grasp / release events**: each hand's closure (its joints on robot.yaml's open ->
  closed line, :meth:`~humanoid_teleop.core.robot.HandSpec.closure_of`) relative to its own
  grip closure (robot.yaml ``grip_closure``: where the object stops that hand's fingers when
  it holds it): a grasp when it rises to :data:`GRASP_FRACTION` of it, a release when it
  then falls below :data:`RELEASE_FRACTION` of it. So a hand whose fingers stop at 0.27 of
  their travel on the cube (TALOS' jaws) and one that stops at 0.56 (Alex's) both grasp
  when they hold it, and neither when it stays in its pre-grasp or pushing shape (at most
  0.81 of its grip, G1's relaxed push hand). A hand that does not close is a missed event;
  one that closes or opens where the source's did not is a spurious one, whether or not
  it holds anything (a hand closed on air reads as a grasp: the closure cannot tell). Each
  source event is matched to the target's nearest event of its kind within
  :data:`EVENT_WINDOW_S`; target events left unmatched are spurious. Times are the source's
  clock (the port may hold it while the target's hand closes: ``hand_wait_s``).
- **Reachability**: % of steps whose EE target lay within the arm's reach sphere (the IK's
  ``max_reach_ratio``) and which the IK solution reached within 2 cm.
- **Safety clamps**: steps where the safety filter clamped any joint, the joints, and the
  steps each kind of limit clamped (position, velocity, acceleration: a step counts in each
  kind that clamped; the acceleration kind is mostly the braking lag of an arm following a
  moving target, on most steps of any port, self-replays included).
- **Task success**: the scene detector's verdict in the target's physics.
"""

from __future__ import annotations

import functools
import json
import math
import types
import typing
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import show_value
from humanoid_teleop.core.motion.rotation import rotation_angles
from humanoid_teleop.core.safety.filter import CLAMP_KINDS

from .errors import PortInputError
from .source import SourceEpisode
from .track import recent_motion, rests_after

if TYPE_CHECKING:
    from humanoid_teleop.core.safety.filter import SafetyReport

FloatArray = NDArray[np.float64]
CONTACT_M = 0.10
#: An object this far [m] below where it started has fallen off the table.
FALLEN_M = 0.05
#: A grasp: the closure rises to this fraction of the hand's grip closure; a release: it then
#: falls below RELEASE_FRACTION of it.
GRASP_FRACTION = 0.9
RELEASE_FRACTION = 0.6
EVENT_WINDOW_S = 0.150
#: The issue's targets, checked for pairs whose reachability is at least REACH_PCT.
REACH_PCT = 95.0
CONTACT_P95_M = 0.02
FREE_P95_M = 0.05
#: The per-episode targets an episode can miss (:meth:`PortReport.misses`), in order.
TARGETS = ("reachability", "contact", "free space", "grasp timing", "spurious events")


class StepRecord(NamedTuple):
    """What one ported step contributes to the report (positions in the task frame [m]).
    A named tuple: one per ported step, built in a third of a frozen dataclass' time."""

    t_s: float
    src_index: int
    tool_p: FloatArray
    #: The EE rotation (base frame): :func:`build_report` turns every step's into the hand
    #: frame's (``@ hand_rotation``) in one stacked product, not one matmul per step.
    ee_r: FloatArray
    object_p: FloatArray | None
    closure: float
    reachable: bool
    clamped: tuple[str, ...]
    #: The kinds of limit (:data:`CLAMP_KINDS`) that clamped a joint at this step.
    clamp_kinds: tuple[str, ...] = ()


def clamped_joints(report: SafetyReport) -> tuple[str, ...]:
    """The joints any limit of the safety filter changed at a step (its ``report``), each
    once, sorted: a :class:`StepRecord`'s ``clamped``."""
    joints = report.position_clamped + report.velocity_clamped + report.acceleration_clamped
    return tuple(sorted(set(joints))) if joints else ()


def clamp_kinds(report: SafetyReport) -> tuple[str, ...]:
    """The kinds of limit (:data:`CLAMP_KINDS`) that changed a joint at a step (its
    ``report``): a :class:`StepRecord`'s ``clamp_kinds``."""
    return tuple(report.clamps())


@dataclass(frozen=True)
class Event:
    """A grasp or release at ``t_s`` [s since engage]."""

    kind: str
    t_s: float


#: What :meth:`PortReport.to_dict` adds to the report's fields (derived from them).
_DERIVED_KEYS = frozenset({"max_event_offset_s", "below_target"})


@dataclass
class PortReport:
    """The report (see the module docstring); distances [m], angles [rad], times [s]."""

    source_episode: str
    source_robot: str
    target_robot: str
    side: str
    sim: bool
    steps: int
    contact_steps: int
    contact_p95_m: float
    contact_max_m: float
    free_p95_m: float
    free_max_m: float
    orientation_p95_rad: float
    source_events: list[dict[str, Any]]
    target_events: list[dict[str, Any]]
    event_offsets_s: list[float]
    missed_events: int
    spurious_events: int
    reachability_pct: float
    clamped_steps: int
    clamped_joints: dict[str, int]
    source_outcome: str
    outcome: str | None
    notes: list[str] = field(default_factory=list)
    #: Time [s] the port held the source's clock for the target's hand to finish a close or
    #: an open (the ported episode is that much longer; times here are the source's clock).
    hand_wait_s: float = 0.0
    #: The contact steps while the source's object moved, their error's p95 [m], and the
    #: p95 [m] of the contact steps while it rested (:func:`contact_split`).
    contact_moving_steps: int = 0
    contact_moving_p95_m: float = 0.0
    contact_still_p95_m: float = 0.0
    #: While the source's object moved: how much further [m] the target's object sat from
    #: the target's tool than the source's from the source's tool, along the source object's
    #: horizontal motion (+: further ahead) and across it (+: to the motion's left), mean.
    seat_along_m: float = 0.0
    seat_across_m: float = 0.0
    #: Over the contact steps: how far [m] the target's object was from where the source's
    #: was (task frame), p95. Small beside a large contact error: the objects moved alike
    #: and the hands sat on them otherwise (their shapes); large: the object went elsewhere.
    objects_apart_p95_m: float = 0.0
    #: Steps each kind of limit (:data:`CLAMP_KINDS`) clamped: kind -> steps (empty in a
    #: report written before 2026-12-07).
    clamped_steps_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def max_event_offset_s(self) -> float:
        return max((abs(o) for o in self.event_offsets_s), default=0.0)

    def below_target(self) -> list[str]:
        """Why this episode misses the issue's per-episode targets (empty: it meets them).

        Only episodes with reachability >= 95% are held to the error and event targets; for
        the others the low reachability is the reason."""
        return [text for _target, text in self.misses()]

    def misses(self) -> list[tuple[str, str]]:
        """:meth:`below_target`'s reasons, each with the target it misses (one of
        :data:`TARGETS`)."""
        if self.reachability_pct < REACH_PCT:
            return [
                ("reachability", f"reachability {self.reachability_pct:.1f}% < {REACH_PCT:.0f}%")
            ]
        reasons = []
        if self.contact_steps and not self.contact_p95_m <= CONTACT_P95_M:
            reasons.append((
                "contact",
                f"contact EE p95 {100 * self.contact_p95_m:.1f} cm > 2 cm{self.contact_origin()}",
            ))  # fmt: skip
        if not self.free_p95_m <= FREE_P95_M:
            reasons.append(
                ("free space", f"free-space EE p95 {100 * self.free_p95_m:.1f} cm > 5 cm")
            )
        if self.missed_events:
            reasons.append((
                "grasp timing",
                f"{self.missed_events} grasp/release event(s) not within ±150 ms",
            ))  # fmt: skip
        if self.spurious_events:
            reasons.append(
                ("spurious events", f"{self.spurious_events} spurious grasp/release event(s)")
            )
        return reasons

    def contact_origin(self) -> str:
        """Where the contact error comes from, as a parenthesis for a reason ('' without
        contact steps while the source's object moved)."""
        return contact_origin(self.split)

    @property
    def split(self) -> ContactSplit:
        """The contact error's split (:func:`contact_split`)."""
        return ContactSplit(
            self.contact_moving_steps,
            self.contact_moving_p95_m,
            self.contact_still_p95_m,
            self.seat_along_m,
            self.seat_across_m,
            self.objects_apart_p95_m,
        )

    def _clamp_split(self) -> str:
        """The clamped steps per kind of limit, as a parenthesis ('' for an older report)."""
        if not self.clamped_steps_by_kind:
            return ""
        kinds = ", ".join(f"{k} {self.clamped_steps_by_kind.get(k, 0)}" for k in CLAMP_KINDS)
        return f" ({kinds})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["max_event_offset_s"] = self.max_event_offset_s
        data["below_target"] = self.below_target()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> PortReport:
        """The report :meth:`to_dict` wrote (its derived keys ignored); ``where`` names the
        file and line for the error an unknown or missing key raises."""
        if not isinstance(data, Mapping):  # JSON that parsed to a list, a number, ...
            raise PortInputError(f"{where}: not a port report (a JSON {type(data).__name__})")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - _DERIVED_KEYS)
        if unknown:
            raise PortInputError(f"{where}: unknown report key(s) {', '.join(unknown)}")
        hints = _field_types()
        for key, value in data.items():
            if key in known and not _is_json_of(value, hints[key]):
                raise PortInputError(
                    f"{where}: report key {key} {show_value(value)}: not {_type_name(hints[key])}"
                )
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:  # a required field missing
            raise PortInputError(f"{where}: not a port report ({exc})") from None

    def text(self) -> str:
        """A few lines for a terminal."""
        cm = 100.0
        lines = [
            f"{self.source_episode}: {self.source_robot} -> {self.target_robot} "
            f"({self.side} hand, {'physics' if self.sim else 'no physics'})",
            f"  EE error p95: contact {cm * self.contact_p95_m:.1f} cm "
            f"({self.contact_steps} steps), free space {cm * self.free_p95_m:.1f} cm; "
            f"orientation {math.degrees(self.orientation_p95_rad):.1f} deg",
        ]
        if self.contact_moving_steps:
            lines.append(
                f"  contact p95 while the object moves {cm * self.contact_moving_p95_m:.1f} cm "
                f"({self.contact_moving_steps} steps; the target's object sits "
                f"{cm * self.seat_along_m:+.1f} cm along its motion, "
                f"{cm * self.seat_across_m:+.1f} cm across), while it rests "
                f"{cm * self.contact_still_p95_m:.1f} cm"
            )
        if self.contact_steps and self.sim:
            lines.append(
                f"  the two objects p95 {cm * self.objects_apart_p95_m:.1f} cm apart in the "
                "contact phases (task frame)"
            )
        lines += [
            f"  grasp/release: {len(self.source_events)} in the source, "
            f"{len(self.event_offsets_s)} reproduced (max offset "
            f"{1000 * self.max_event_offset_s:.0f} ms), {self.missed_events} missed, "
            f"{self.spurious_events} spurious"
            + (
                f" (the source's clock waited {self.hand_wait_s:.1f} s for the hand)"
                if self.hand_wait_s
                else ""
            ),
            f"  reachability {self.reachability_pct:.1f}%, safety clamps on "
            f"{self.clamped_steps} of {self.steps} steps{self._clamp_split()}",
            f"  task: source {self.source_outcome or '?'}, "
            f"target {self.outcome or 'not simulated'}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        reasons = self.below_target()
        lines.append("  targets: " + ("met" if not reasons else "; ".join(reasons)))
        return "\n".join(lines)


@functools.cache
def _field_types() -> dict[str, Any]:
    """:class:`PortReport`'s field types (resolved from their annotations once)."""
    return typing.get_type_hints(PortReport)


def _is_json_of(value: Any, hint: Any) -> bool:
    """Whether ``value`` (read from JSON) is of the field type ``hint``: str, bool, int (not
    a bool), float (an int too), None, ``X | None``, ``list[X]``, ``dict[str, X]``, Any."""
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        return isinstance(value, list) and all(_is_json_of(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and _is_json_of(v, args[1]) for k, v in value.items()
        )
    if origin in (typing.Union, types.UnionType):
        return any(_is_json_of(value, a) for a in args)
    raise TypeError(f"no JSON check for the report field type {hint!r}")


def _type_name(hint: Any) -> str:
    if hint in (int, float, str, bool):
        return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[hint]
    return f"a {str(hint).replace('typing.', '')}"


def events(t_s: FloatArray, closure: FloatArray, grip_closure: float) -> list[Event]:
    """Grasps (the closure rising to GRASP_FRACTION of the hand's ``grip_closure``) and
    releases (falling below RELEASE_FRACTION of it after a grasp)."""
    out: list[Event] = []
    holding = False
    grasp, release = GRASP_FRACTION * grip_closure, RELEASE_FRACTION * grip_closure
    for t, c in zip(t_s, closure, strict=True):
        if not holding and c >= grasp:
            holding = True
            out.append(Event("grasp", float(t)))
        elif holding and c < release:
            holding = False
            out.append(Event("release", float(t)))
    return out


def match_events(source: list[Event], target: list[Event]) -> tuple[list[float], int, int]:
    """(offsets [s] of the matched source events, missed, spurious target events)."""
    used: set[int] = set()
    offsets: list[float] = []
    missed = 0
    for event in source:
        best, best_dt = -1, math.inf
        for i, candidate in enumerate(target):
            if i in used or candidate.kind != event.kind:
                continue
            dt = candidate.t_s - event.t_s
            if abs(dt) < abs(best_dt):
                best, best_dt = i, dt
        if best >= 0 and abs(best_dt) <= EVENT_WINDOW_S:
            used.add(best)
            offsets.append(best_dt)
        else:
            missed += 1
    return offsets, missed, len(target) - len(used)


def contact_phase(
    src_p: FloatArray, src_o: FloatArray, tgt_o: FloatArray
) -> tuple[NDArray[np.bool_], int | None]:
    """(contact-phase steps, the first step either object is off the table or None) from the
    source's tool point and both robots' objects per step (n x 3 [m], task frames): the
    source's tool within :data:`CONTACT_M` of its object while neither object has fallen
    :data:`FALLEN_M` below where it started."""
    fallen = (src_o[:, 2] < src_o[0, 2] - FALLEN_M) | (tgt_o[:, 2] < tgt_o[0, 2] - FALLEN_M)
    fallen = np.logical_or.accumulate(fallen)  # an object on the floor stays there
    contact = (np.linalg.norm(src_p - src_o, axis=1) < CONTACT_M) & ~fallen
    return contact, int(np.argmax(fallen)) if fallen.any() else None


@dataclass(frozen=True)
class ContactSplit:
    """Where a port's contact error comes from (see :func:`contact_split`): the contact
    steps while the source's object moved, their error's p95 [m], the p95 [m] of those while
    it rested, the mean seat offset [m] along and across the object's motion, and the p95
    [m] of the two objects' distance (task frame) over all the contact steps."""

    moving_steps: int = 0
    moving_p95_m: float = 0.0
    still_p95_m: float = 0.0
    seat_along_m: float = 0.0
    seat_across_m: float = 0.0
    objects_apart_p95_m: float = 0.0


def contact_split(
    contact: NDArray[np.bool_], error: FloatArray, source: tuple[FloatArray, FloatArray],
    target: tuple[FloatArray, FloatArray], motion: FloatArray,
) -> ContactSplit:  # fmt: skip
    """Split the contact steps (``contact``, their object-frame ``error`` [m]) by whether the
    source's object moved (``motion``: its horizontal displacement over the last
    :data:`~.track.REST_S` per step, n x 2 [m]; it rests below :data:`~.track.REST_M`).
    ``source`` and ``target``: (tool point, object centre) per step (n x 3 [m], each
    robot's task frame). The seat: (target object - target tool) - (source object - source
    tool), horizontal, projected on the motion's direction and on its left normal, mean.
    The objects apart: the distance between the two objects over the contact steps, p95."""
    moving = contact & ~rests_after(motion)
    still = contact & ~moving
    (src_p, src_o), (tgt_p, tgt_o) = source, target
    apart = _p95(np.linalg.norm(tgt_o[contact] - src_o[contact], axis=1))
    if not moving.any():
        return ContactSplit(still_p95_m=_p95(error[still]), objects_apart_p95_m=apart)
    seat = ((tgt_o - tgt_p) - (src_o - src_p))[moving, :2]
    direction = motion[moving] / np.linalg.norm(motion[moving], axis=1)[:, None]
    left = np.column_stack([-direction[:, 1], direction[:, 0]])
    return ContactSplit(
        moving_steps=int(moving.sum()),
        moving_p95_m=_p95(error[moving]),
        still_p95_m=_p95(error[still]),
        seat_along_m=float(np.mean(np.einsum("ij,ij->i", seat, direction))),
        seat_across_m=float(np.mean(np.einsum("ij,ij->i", seat, left))),
        objects_apart_p95_m=apart,
    )


def contact_origin(split: ContactSplit) -> str:
    """Where the contact error comes from, as a parenthesis to a reason ('' without contact
    steps while the source's object moved)."""
    if not split.moving_steps:
        return ""
    cm = 100.0
    return (
        f" (object moving: {cm * split.moving_p95_m:.1f} cm, seated "
        f"{cm * split.seat_along_m:+.1f} cm along / {cm * split.seat_across_m:+.1f} cm across "
        f"its motion; at rest: {cm * split.still_p95_m:.1f} cm; the objects "
        f"{cm * split.objects_apart_p95_m:.1f} cm apart)"
    )


def _p95(values: FloatArray) -> float:
    return float(np.percentile(values, 95)) if len(values) else 0.0


def build_report(
    *,
    source: SourceEpisode,
    source_robot: str,
    target_robot: str,
    side: str,
    track_t_s: FloatArray,
    track_p: FloatArray,
    track_r: FloatArray,
    track_closure: FloatArray,
    track_objects: FloatArray | None,
    steps: list[StepRecord],
    hand_rotation: FloatArray,
    outcome: str | None,
    sim: bool,
    target_has_hand: bool,
    grip_closures: tuple[float, float] = (1.0, 1.0),
    hand_wait_s: float = 0.0,
    source_arm_commanded: bool = True,
    ee_tool: tuple[str, str] | None = None,
) -> PortReport:
    """Compare the ported steps with the source track (see the module docstring);
    ``hand_rotation``: the target arm's hand frame in its EE frame
    (:attr:`~.tool.ArmTool.hand_rotation`: a step's tool rotation is ``ee_r @
    hand_rotation``); ``grip_closures``: the source's and the target's hand grip closures;
    ``source_arm_commanded``: False when the source recorded no command for its arm, so that
    without physics the track is its measured path (a note says so); ``ee_tool``: (robot, EE
    frame) when one of the two robots' tool point on ``side`` is its EE frame (its hand names
    no fingertip frames) and the other's is not (a note says so)."""
    end_s = float(track_t_s[-1])
    compared = [s for s in steps if s.t_s <= end_s + 1e-9]
    t = np.array([s.t_s for s in compared])
    src_p = np.column_stack([np.interp(t, track_t_s, track_p[:, k]) for k in range(3)])
    tgt_p = np.array([s.tool_p for s in compared])
    contact = np.zeros(len(compared), dtype=bool)
    error = np.linalg.norm(tgt_p - src_p, axis=1)
    fell_at = None
    split = ContactSplit()
    if track_objects is not None and all(s.object_p is not None for s in compared):
        src_o = np.column_stack([np.interp(t, track_t_s, track_objects[:, k]) for k in range(3)])
        tgt_o = np.array([s.object_p for s in compared])
        contact, fell_at = contact_phase(src_p, src_o, tgt_o)
        in_object = np.linalg.norm((tgt_p - tgt_o) - (src_p - src_o), axis=1)
        error = np.where(contact, in_object, error)
        moved = recent_motion(track_t_s, track_objects)  # on the source's own clock
        motion = np.column_stack([np.interp(t, track_t_s, moved[:, k]) for k in range(2)])
        split = contact_split(contact, error, (src_p, src_o), (tgt_p, tgt_o), motion)
    # each step's tool rotation against the source sample the port stepped from (its
    # ``src_index``; not the newest at or before ``t_s``, which a step time a rounding below
    # the sample's time put one sample back: a kinematic self-port's orientation p95
    # was 0.004-0.008 rad, a step's turn), all in stacked matmuls (each matrix the same BLAS
    # product as one ``ee_r @ hand_rotation``, then ``r_src.T @ tool_r``)
    rows = np.clip([s.src_index for s in compared], 0, len(track_r) - 1)
    tool_r = np.matmul(np.array([s.ee_r for s in compared]).reshape(-1, 3, 3), hand_rotation)
    angles = rotation_angles(np.matmul(track_r[rows].transpose(0, 2, 1), tool_r))
    src_events = events(track_t_s, track_closure, grip_closures[0])
    tgt_events = events(
        np.array([s.t_s for s in steps]), np.array([s.closure for s in steps]), grip_closures[1]
    )
    offsets, missed, spurious = match_events(src_events, tgt_events)
    clamped = Counter(chain.from_iterable(s.clamped for s in compared))
    kinds = Counter(chain.from_iterable(s.clamp_kinds for s in compared))
    notes = []
    if fell_at is not None:
        notes.append(f"an object left the table at {t[fell_at]:.2f} s: contact phases end there")
    if src_events and not target_has_hand:
        notes.append(f"{target_robot} has no {side} hand: grasps cannot be reproduced")
    if not source.intent_source:
        notes.append("joint-only episode: intent derived from the source robot's model (FK)")
    notes += source.left_out
    if ee_tool is not None:
        robot, frame = ee_tool
        notes.append(
            f"{robot}'s {side} hand names no fingertip_frames: its tool point is its EE frame "
            f"{frame}, which the other robot's fingertips are compared with (robot.yaml "
            f"hands.{side}.fingertip_frames: the frame that touches objects)"
        )
    if not sim and not source_arm_commanded:
        notes.append(
            "the source recorded no command for its arm: the port's commands are compared "
            "with its measured joints (they trail the commands)"
        )
    return PortReport(
        source_episode=source.name,
        source_robot=source_robot,
        target_robot=target_robot,
        side=side,
        sim=sim,
        steps=len(compared),
        contact_steps=int(contact.sum()),
        contact_p95_m=_p95(error[contact]),
        contact_max_m=float(error[contact].max()) if contact.any() else 0.0,
        free_p95_m=_p95(error[~contact]),
        free_max_m=float(error[~contact].max()) if (~contact).any() else 0.0,
        orientation_p95_rad=_p95(np.array(angles)),
        source_events=[asdict(e) for e in src_events],
        target_events=[asdict(e) for e in tgt_events],
        event_offsets_s=offsets,
        missed_events=missed,
        spurious_events=spurious,
        reachability_pct=100.0 * float(np.mean([s.reachable for s in compared]))
        if compared
        else 0.0,
        clamped_steps=sum(1 for s in compared if s.clamped),
        clamped_joints=dict(clamped.most_common(5)),
        clamped_steps_by_kind={k: kinds[k] for k in CLAMP_KINDS},
        source_outcome=source.outcome,
        outcome=outcome,
        notes=notes,
        hand_wait_s=hand_wait_s,
        contact_moving_steps=split.moving_steps,
        contact_moving_p95_m=split.moving_p95_m,
        contact_still_p95_m=split.still_p95_m,
        seat_along_m=split.seat_along_m,
        seat_across_m=split.seat_across_m,
        objects_apart_p95_m=split.objects_apart_p95_m,
    )
