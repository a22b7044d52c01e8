"""How the porter carries a pick's grasps into another robot: the source operator's picking
hand as a progress from open through its pre-grasp shape to its grip
(:func:`operator_grasps`), each close and open timed by the source robot's measured hand
(:func:`robot_grasps`), a gripper's command ramped to reach its grasp and release closures
when the source's hand did (:class:`GripperCommand`; a fingered hand's, its grasp event's
progress: :func:`fingered_grasp_progress`), the target's own picking hand at that
progress (:func:`pick_hand`, :class:`PickHands`), and when the target's hand has followed a
close or an open (:func:`hand_followed`). :mod:`.port` runs them; docs/portability-rules.md,
"Grasps", says why."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import WEBXR_TIPS, HandSkeleton
from humanoid_teleop.core.motion.rotation import quat_to_matrix, rotations_from_quats
from humanoid_teleop.core.retarget.hand import pinch_distance_m
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.devices.scripted.hand_model import hand_points

from .report import GRASP_FRACTION, RELEASE_FRACTION
from .source import SourceEpisode
from .tool import ArmTool

FloatArray = NDArray[np.float64]

#: The target's hand has finished closing or opening once its closure changed less than
#: HAND_SETTLED over the last HAND_SETTLED_S [s].
HAND_SETTLED = 0.005
HAND_SETTLED_S = 0.5
#: A source robot's hand that never grasped has finished an open once back within this share
#: of its close's travel of where the close started (:func:`robot_grasps`).
ROBOT_HAND_DONE = 0.02
#: A hand whose measured closure stays this far short of its command is held by an object.
HAND_BLOCKED = 0.05
#: A wait ends an open (:attr:`OperatorGrasps.opens_s`) where the operator's progress is
#: at least this far below its highest since the wait before (not a close's rounding).
OPENED_BY = 1e-3
#: Longest time [s] the source's clock is held at the end of a grasp's close (or its open)
#: for the target's hand to finish closing (opening).
HAND_WAIT_MAX_S = 4.0


@dataclass(frozen=True)
class OperatorGrasps:
    """The source operator's picking hand as a progress per hand sample (at ``t_s`` [s]):
    0 the hand as it started (open), 1 the shape it had when it began to close on the
    object (its pre-grasp shape), 2 its grip; and ``waits_s``, the source times [s] where a
    close or an open ended (the port holds the source's clock there until the target's hand
    has followed)."""

    t_s: FloatArray
    progress: FloatArray
    waits_s: tuple[float, ...]
    _lists: tuple[list[float], list[float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lists", (self.t_s.tolist(), self.progress.tolist()))

    @property
    def opens_s(self) -> tuple[float, ...]:
        """The waits [s] at the end of an open (the progress there below its highest since
        the wait before: the hand let go), not of a close."""
        out = []
        since = 0
        for wait in self.waits_s:
            upto = int(np.searchsorted(self.t_s, wait, "right"))
            if upto > since and self.at(wait) < float(self.progress[since:upto].max()) - OPENED_BY:
                out.append(wait)
            since = max(since, upto - 1)
        return tuple(out)

    def at(self, t_s: float) -> float:
        """The progress at ``t_s`` [s], linearly interpolated (``np.interp``'s number,
        without its ~4 us per call: the port asks at every step)."""
        times, values = self._lists
        i = bisect.bisect_right(times, t_s)
        if i == 0:
            return values[0]
        if i == len(times):
            return values[-1]
        t0, t1 = times[i - 1], times[i]
        share = (t_s - t0) / (t1 - t0)
        return values[i - 1] + share * (values[i] - values[i - 1])


def operator_grasps(
    source: SourceEpisode,
    side: str,
    grasp_pinch_m: float,
    robot_hand: tuple[FloatArray, FloatArray, float] | None = None,
    *,
    gripper: GripperCommand | None = None,
    grasp_progress: float | None = None,
) -> OperatorGrasps | None:
    """The source operator's grasps (None without recorded hands or without a pinch
    narrower than ``grasp_pinch_m`` [m]): each grip (the thumb tip to index tip distance
    within 3 mm of its narrowest) with the close before it (the pinch falling to it) and
    the open after it (rising from it). Outside them the progress toward the pre-grasp
    shape is the hand's shape projected on the line from its first shape to that one.
    With ``robot_hand`` (the source robot's measured hand: times [s], closures, its grip
    closure) each close and open is timed by what that hand did (:func:`robot_grasps`;
    into a ``gripper``, its command too; into a fingered hand, ``grasp_progress``), not by
    the pinch."""
    hands, wrists = source.hands.get(side), source.wrists.get(side)
    if hands is None or wrists is None or not len(hands.t_s):
        return None
    pinch = np.linalg.norm(
        hands.values[:, WEBXR_TIPS["thumb"]] - hands.values[:, WEBXR_TIPS["index"]], axis=1
    )
    grip = float(pinch.min())
    if grip > grasp_pinch_m:
        return None
    n = len(pinch)
    closing = np.zeros(n)  # 0 at the pre-grasp shape .. 1 at the grip
    within = np.zeros(n, dtype=bool)  # from a close's start to its open's end
    waits: list[float] = []
    starts: list[int] = []  # where each close began (hand samples)
    stops: list[int] = []  # where each open ended
    first_start = -1
    gripping = pinch <= grip + 0.003
    i = 0
    while i < n:
        if not gripping[i]:
            i += 1
            continue
        end = i
        while end + 1 < n and gripping[end + 1]:
            end += 1
        start = i  # walk back over the close, forward over the open
        while start > 0 and pinch[start - 1] > pinch[start] + 1e-6:
            start -= 1
        stop = end  # the open: while the pinch widens (back to the pre-grasp shape at `back`)
        back = -1
        while stop + 1 < n and pinch[stop + 1] > pinch[stop] + 1e-6:
            stop += 1
            if back < 0 and pinch[stop] >= pinch[start]:
                back = stop
        back = stop if back < 0 else back
        first_start = start if first_start < 0 else first_start
        starts.append(start)
        stops.append(stop)
        span = max(float(pinch[start]) - grip, 1e-6)
        segment = slice(start, back + 1)
        closing[segment] = np.maximum(
            closing[segment], np.clip((pinch[start] - pinch[segment]) / span, 0.0, 1.0)
        )
        within[segment] = True
        waits.append(float(hands.t_s[i]))
        if stop > end:
            waits.append(float(hands.t_s[stop]))
        i = stop + 1
    # the hand in the wrist frame at each hand sample (as _hand_local: the newest wrist)
    rows = wrists.values[np.clip(np.searchsorted(wrists.t_s, hands.t_s, "right") - 1, 0, None)]
    try:
        turns = rotations_from_quats(rows[:, 3:7])
    except ValueError:  # a wrist without direction: row by row, as the port's steps read it
        turns = np.array([quat_to_matrix(row[3:7]) for row in rows])
    local = np.matmul(hands.values - rows[:, None, :3], turns).reshape(n, -1)
    toward = local[first_start] - local[0]
    length_sq = float(toward @ toward)
    if length_sq > 1e-6:
        shaped = np.clip((local - local[0]) @ toward / length_sq, 0.0, 1.0)
    else:
        shaped = np.zeros(n)
    if robot_hand is not None:  # timed by the source robot's hand, open as its operator did
        followed = robot_grasps(
            hands.t_s, starts, shaped[stops], *robot_hand, gripper, grasp_progress
        )
        if followed is not None:
            closing, within, waits = followed
    shaped[within] = 1.0
    return OperatorGrasps(hands.t_s, shaped + closing, tuple(waits))


def robot_grasps(
    t_s: FloatArray,
    starts: list[int],
    opened: FloatArray,
    hand_t_s: FloatArray,
    hand_closure: FloatArray,
    grip_closure: float,
    gripper: GripperCommand | None = None,
    grasp_progress: float | None = None,
) -> tuple[FloatArray, NDArray[np.bool_], list[float]] | None:
    """Each grasp's close and open (0 at the pre-grasp shape .. 1 at the grip, at the hand
    samples ``t_s`` [s]), whether a sample is within one, and the times [s] where each close
    and open ended, from the source robot's measured hand (``hand_t_s`` [s], its closures;
    ``grip_closure``, its robot.yaml's) rather than from its operator's pinch: the hand
    lags its operator (a gripper travels for ~1 s), and the report's events are that
    hand's. From each close's start (``starts``, the operator's, as sample indices) the
    close is the share of the way from the hand's closure there to its grasp event's
    (:data:`~.report.GRASP_FRACTION` of its grip closure; its most closed before the next
    close when it stayed below); the open, the share from there down to its release
    event's (:data:`~.report.RELEASE_FRACTION`; without a grasp event, back within
    :data:`ROBOT_HAND_DONE` of its travel from where it started), from the grip to the
    hand its operator opened to (``opened``: the operator's progress where each of its
    opens ended, at most 1: the pre-grasp shape). So the target's hand has been asked for
    its grip when the source's grasped and to open when the source's released, and the
    port's waits there hold the source's clock at those events until the target's hand
    has followed. None when a close did not move the hand by :data:`HAND_SETTLED`.

    ``gripper`` (a target gripper, :class:`GripperCommand`) times the target's events,
    not just its command's ends: its command passes its grasp event's closure early in the
    close (TALOS' at 0.07 of it: its jaws grasped ~0.2 s before the source's hand), and
    opening from its grip (fully closed, the jaws stopped by the object) the command comes
    down to the jaws only late (released ~0.25 s after the source's hand). So the close
    goes to the grasp event's closure as the source's hand goes to its event, then to the
    grip; and the command opens at the gripper's full speed so that it reaches the release
    event's closure where the source's hand released.

    ``grasp_progress`` (a fingered target hand's, :func:`fingered_grasp_progress`) times a
    grasping close likewise: its fingers followed the share of the source hand's closure to
    the grip and reached their grasp event's closure 112-164 ms before Alex's slower hand
    reached its own (G1's at progress 1.6 of 2). So the close goes to ``grasp_progress`` as
    the source's hand goes to its event, then to the grip, where the port waits for the
    fingers (they cross their event there, lagging their command)."""
    closure = np.interp(t_s, hand_t_s, hand_closure)
    n = len(t_s)
    closing = np.zeros(n)
    within = np.zeros(n, dtype=bool)
    waits: list[float] = []
    for j, start in enumerate(starts):
        limit = starts[j + 1] if j + 1 < len(starts) else n
        base = float(closure[start])
        peak = start + int(np.argmax(closure[start:limit]))
        if float(closure[peak]) - base < HAND_SETTLED:
            return None
        grasped = float(closure[peak]) >= GRASP_FRACTION * grip_closure
        closed_at = GRASP_FRACTION * grip_closure if grasped else float(closure[peak])
        opened_at = (
            RELEASE_FRACTION * grip_closure
            if grasped
            else base + ROBOT_HAND_DONE * (closed_at - base)
        )
        ahead = closure[start:limit]
        closed = start + int(np.argmax(ahead >= closed_at))
        share = np.clip((ahead - base) / max(closed_at - base, 1e-6), 0.0, 1.0)
        after = closure[closed:limit]
        opening = (
            np.flatnonzero(after < opened_at)
            if grasped
            else np.flatnonzero((after <= opened_at) & (np.arange(len(after)) >= peak - closed))
        )
        stop = limit - 1 if not len(opening) else closed + int(opening[0])
        falling = np.clip((after - opened_at) / max(closed_at - opened_at, 1e-6), 0.0, 1.0)
        # the open: from the grip to the shape the operator opened to (``opened``: its
        # progress where its open ended, 1 or less), reached where the source's released
        # (only to the pre-grasp shape, G1 released 70-84 ms after Romeo's and Alex's hands)
        reopened = min(1.0, float(opened[j]))
        # the close goes to the target's grasp event's progress (a gripper's, or a fingered
        # hand's where it grasped) as the source's hand goes to its event; else to the grip
        if gripper is not None:
            event_progress = gripper.progress_of(gripper.grasp_closure)
        elif grasp_progress is not None and grasped:
            event_progress = grasp_progress
        else:
            event_progress = 2.0
        share[: closed - start] *= event_progress - 1.0
        if gripper is None:
            share[closed - start :] = reopened - 1.0 + (2.0 - reopened) * falling
        else:
            share[closed - start :] = 1.0
            if len(opening):
                share[closed - start :] = gripper.opening(t_s[closed:limit], float(t_s[stop])) - 1.0
        closing[start : stop + 1] = share[: stop + 1 - start]
        within[start : stop + 1] = True
        # into a gripper, the waits hold the source's clock just past its grasp and its
        # release, where the jaws are asked for the grip (they close on the object before
        # the source's arm moves on: held at the grasp closure, TALOS' jaws took the cube
        # 0.3 s later, as Alex's arm lifted) and to open on (held at the release closure,
        # they stopped short of it, releasing 80 ms late into TALOS, 190 ms into Romeo)
        # (so a fingered hand's close, asked for its grip there as its fingers cross their
        # event: held at its grasp event's progress, G1's stalled at 0.463 of its 0.468)
        past = 1 if gripper is not None else 0
        fingered = 1 if grasp_progress is not None and grasped else 0
        waits.append(float(t_s[min(closed + max(past, fingered), n - 1)]))
        if len(opening):
            waits.append(float(t_s[min(stop + past, n - 1)]))
    return closing, within, waits


@dataclass(frozen=True)
class GripperCommand:
    """A target gripper's command along its picking operator's progress (:func:`pick_hand`,
    1 .. 2): ``closures`` at ``progress`` (the retargeter's closure of the operator's pinch,
    the first progress reaching each), its grasp and release events' closures
    (:data:`~.report.GRASP_FRACTION` and :data:`~.report.RELEASE_FRACTION` of its grip
    closure) and how fast its command may move, ``closure_per_s`` (its joints' velocity
    limits over their open -> closed travel)."""

    progress: FloatArray
    closures: FloatArray
    grasp_closure: float
    release_closure: float
    closure_per_s: float

    @classmethod
    def of(
        cls, config: Any, side: str, params: Any, model: RobotModel, tool: ArmTool
    ) -> GripperCommand | None:
        """The ``side`` gripper of ``model`` picking as ``config`` (its demonstrator's)
        does, read through hand retargeter ``params``; None for another hand."""
        hand = model.description.hands[side]
        if hand.kind != "gripper" or hand.group is None:
            return None
        progress = np.linspace(1.0, 2.0, 201)
        closures = np.array(
            [
                params.closure_of_pinch(
                    pinch_distance_m(HandSkeleton(_shared_pick_hand(config, side, p)))
                )
                for p in progress.tolist()
            ]
        )
        joints = model.index_of(model.description.groups[hand.group])
        travel = np.abs(np.subtract(hand.closed_positions, hand.open_positions))
        velocity = np.asarray(model.motion_limits.velocity)[list(joints)]
        grip = tool.grip_closure
        return cls(
            progress,
            np.maximum.accumulate(closures),
            GRASP_FRACTION * grip,
            RELEASE_FRACTION * grip,
            float(np.min(velocity / np.maximum(travel, 1e-6))),
        )

    def progress_of(self, closure: float | FloatArray) -> Any:
        """The first progress whose command reaches ``closure``."""
        i = np.minimum(np.searchsorted(self.closures, closure), len(self.progress) - 1)
        return self.progress[i]

    def opening(self, t_s: FloatArray, release_s: float) -> Any:
        """Progress at ``t_s`` [s] of a command opening from the grip at full speed so that
        it reaches the release event's closure at ``release_s`` [s] (the jaws, held open
        by the object, move once it comes down to them)."""
        full = float(self.closures[-1])
        lead_s = (full - self.release_closure) / self.closure_per_s
        closure = full - self.closure_per_s * (t_s - (release_s - lead_s))
        return self.progress_of(np.clip(closure, self.release_closure, full))


#: Progress step of :func:`fingered_grasp_progress`' sweep: G1's command moves ~0.003
#: closure per 0.01 of progress near its grasp event, ~11 ms of Alex's close to its event.
GRASP_PROGRESS_STEP = 0.01


def fingered_grasp_progress(
    config: Any,
    side: str,
    solve: Callable[[HandSkeleton], FloatArray],
    closure_of: Callable[[FloatArray], float],
    grasp_closure: float,
) -> float | None:
    """The first progress (1 .. 2, by :data:`GRASP_PROGRESS_STEP`) at which a fingered
    hand's command reaches ``grasp_closure`` [0, 1] (its grasp event's) as its picking
    operator (``config``, :func:`pick_hand`) opens, shapes and closes it: ``solve`` (its hand
    retargeter, warm-started as it goes: it solves each hand from the last) gives the hand's
    joints, ``closure_of`` their closure. None when its grip's command stays below it."""
    for progress in np.arange(0.0, 2.0 + 1e-9, GRASP_PROGRESS_STEP).tolist():
        closure = closure_of(solve(HandSkeleton(_shared_pick_hand(config, side, progress))))
        if progress >= 1.0 and closure >= grasp_closure:
            return float(progress)
    return None


def pick_hand(config: Any, side: str, progress: float) -> FloatArray:
    """The 25 hand joints [m] (hand frame) of a robot's scripted operator picking at
    ``progress`` (:class:`OperatorGrasps`): its open hand at 0, its pre-grasp shape at 1
    (``config.preshape``), its grip at 2 (``config.grip_closure``), the thumb where its
    pick brings it (``preshape_thumb``); ``config`` is the robot's
    :class:`~humanoid_teleop.devices.scripted.demonstrator.DemonstratorConfig`."""
    from humanoid_teleop.devices.scripted.demonstrator import pick_thumb

    if progress <= 1.0:
        closure = progress * config.preshape
    else:
        closure = config.preshape + (progress - 1.0) * (config.grip_closure - config.preshape)
    out = hand_points(side, closure, pick_thumb(closure, config.preshape, config.preshape_thumb))
    out.flags.writeable = False  # kept by PickHands: shared by every step that asks
    return out


#: :func:`pick_hand` kept across ports (a robot's config is equal from port to port, and
#: read-only hands can be shared): a pick asks for ~180 progresses, a gripper's command
#: table for 201, ~30 us each to build.
_shared_pick_hand = functools.lru_cache(maxsize=4096)(pick_hand)


class PickHands:
    """:func:`pick_hand` of one robot and side by progress (rounded to 0.001), each built
    once: a port asks at every step for a few plateaus and ramps, ~30 us each to build."""

    def __init__(self, config: Any, side: str) -> None:
        self.config = config
        self.side = side
        self._built: dict[float, FloatArray] = {}

    def at(self, progress: float) -> FloatArray:
        key = round(progress, 3)
        hand = self._built.get(key)
        if hand is None:
            hand = self._built[key] = _shared_pick_hand(self.config, self.side, key)
        return hand


def hand_followed(closures: list[float], steps: int, commanded: tuple[float, float]) -> bool:
    """Whether the target's hand has finished closing or opening: its measured closure
    (``closures``, one per step) changed less than :data:`HAND_SETTLED` over the last
    ``steps``, and either its command has reached what the hand retargeter asks
    (``commanded``: the retargeted and the commanded closure) or the hand stopped short of
    its command by more than :data:`HAND_BLOCKED` (it holds the object)."""
    if len(closures) < steps + 1:
        return False
    recent = closures[-steps - 1 :]
    if max(recent) - min(recent) >= HAND_SETTLED:
        return False
    retargeted, command = commanded
    return abs(retargeted - command) < HAND_SETTLED or abs(command - closures[-1]) > HAND_BLOCKED


class SourceClock:
    """The source's clock during a port: it runs with the port's, and is held at each of
    ``waits_s`` (source times [s], in order: where a close or an open ended) until the
    target's hand has followed (:func:`hand_followed`, at the earliest after
    :data:`HAND_SETTLED_S` or that wait's ``least_s`` [s] if longer, at the latest after
    :data:`HAND_WAIT_MAX_S`). ``dt``: the port's step [s]. ``held_s``: how far it runs
    behind; ``waited_s``: how long the hand was waited for (the report's ``hand_wait_s``)."""

    def __init__(
        self,
        waits_s: tuple[float, ...] | list[float],
        dt: float,
        least_s: tuple[float, ...] | list[float] | None = None,
    ) -> None:
        self._waits = list(waits_s)
        self._least = list(least_s) if least_s is not None else [0.0] * len(self._waits)
        self._dt = dt
        self._settled_steps = max(1, round(HAND_SETTLED_S / dt))
        self._started: float | None = None  # port time [s] the current wait began
        self.held_s = 0.0
        self.waited_s = 0.0
        #: the hand's (retargeted, commanded) closure at the last step of a wait
        self.commanded = (0.0, 0.0)

    @property
    def waiting(self) -> bool:
        """Whether the clock is held for the target's hand now."""
        return self._started is not None

    def hold(self, t: float) -> float:
        """Hold the source's clock one more step at port time ``t`` [s] (for another
        reason than the hand: :mod:`.push_stroke`); returns the source's time [s]. While it
        waits for the hand it is held this step already (once, not a step back)."""
        if not self.waiting:
            self.held_s += self._dt
        return t - self.held_s

    def source_time(self, t: float, closures: list[float]) -> float:
        """The source's time [s] at port time ``t`` [s] (called once per step, in order),
        given the target's measured hand closure per step so far (``closures``)."""
        t_s = t - self.held_s
        if self._started is None and self._waits and t_s >= self._waits[0] - 1e-9:
            self._started = t
        if self._started is not None:
            waited = t - self._started
            if waited > max(HAND_SETTLED_S, self._least[0]) and (
                hand_followed(closures, self._settled_steps, self.commanded)
                or waited >= HAND_WAIT_MAX_S
            ):
                self.waited_s += waited - self._dt
                self._started = None
                self._waits.pop(0)
                self._least.pop(0)
            else:
                self.held_s += self._dt
                t_s = t - self.held_s
        return t_s
