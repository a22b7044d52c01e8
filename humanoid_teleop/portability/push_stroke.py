"""Into another robot, a push's stroke is finished as far as the source's hand went.

The port follows the source's goals and clock; a target arm slower than the source's is
still behind the stroke where the source's goal stops pushing and rises, and lifts there
too. alex -> romeo push seed 1: the goal stroked at ~27 cm/s; Alex's hand followed 2-3 cm
behind and overshot the stroke's end by 1.2 cm, Romeo's lagged up to 6 cm (its arm on its
acceleration limits) and was 1.7 cm short of Alex's tool point along the push when the
goal rose; its puck stopped 6.4 cm along the push where Alex's went 8.6 cm, 6.9 cm from
the disc's centre (radius 6 cm). An operator watching a slow robot finishes the stroke
before lifting: where the source's goal begins to rise after the push (:func:`stroke_end`)
the source's clock is held, and the goal goes on along the push (at
:data:`STROKE_EXTEND_M_S`, at most :data:`STROKE_EXTEND_MAX_M`), until the target's tool
point has come as far along the push as the source's measured tool point went before it
rose off the object (or the hand has stopped at the longest stroke, or
:data:`STROKE_WAIT_MAX_S`); the lift then starts from there and the extension fades out
over :data:`STROKE_FADE_S`.

Before that, during the stroke (from the push's start to its end), the source's clock is
also held while the target's tool point trails its goal along the push by more than the
source's measured tool point trailed the source's goal plus :data:`CATCH_UP_M`
(:meth:`StrokeFinish.catch_up`, at most :data:`CATCH_UP_MAX_S` in all): alex -> romeo push
seed 5, 0.3 s into the stroke Romeo's tool point trailed its goal by 10.8 cm where Alex's
trailed its own by 2.3 cm (relation error 7.5 cm along the push), and the contact p95 was
6.5 cm (with the wait 3.0 cm, held 0.26 s; seeds 1-5 4 -> 5 of 5: seed 2's puck no longer
stops short).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The stroke has ended where the source's goal has risen this far [m] above its lowest
#: point since the push's start (the hand lifts off the pushed object).
STROKE_RISE_M = 0.005
#: The target's tool point has finished the stroke within this distance [m] of the
#: source's furthest along the push.
STROKE_REACHED_M = 0.003
#: How fast [m/s] the goal goes on along the push while the stroke is finished.
STROKE_EXTEND_M_S = 0.1
#: Furthest [m] the goal goes beyond the source's stroke end.
STROKE_EXTEND_MAX_M = 0.03
#: At the longest stroke, the hand has stopped once its tool point moves slower than this
#: [m/s] along the push.
STROKE_STILL_M_S = 0.01
#: Longest time [s] the source's clock is held at the end of the stroke.
STROKE_WAIT_MAX_S = 1.0
#: Time [s] over which the extension fades out once the source's clock runs again.
STROKE_FADE_S = 1.0
#: Steps [-] over which the target's tool point's speed along the push is measured.
STILL_STEPS = 11
#: From the push's start to the stroke's end, the source's clock is held while the
#: target's tool point trails its goal along the push by more than the source's measured
#: tool point trailed the source's goal plus CATCH_UP_M [m] (:meth:`StrokeFinish.catch_up`),
#: at most CATCH_UP_MAX_S [s] in all.
CATCH_UP_M = 0.02
CATCH_UP_MAX_S = 0.5


def stroke_end(goal_p: FloatArray, push: int) -> int | None:
    """The source sample where the push's stroke ended: after ``push`` (the push's start),
    the first where the goal (``goal_p``: n x 3 [m], task frame) has risen
    :data:`STROKE_RISE_M` above its lowest since; None if it never rose."""
    z = goal_p[push:, 2]
    risen = z - np.minimum.accumulate(z) > STROKE_RISE_M
    if not risen.any():
        return None
    return push + int(np.argmax(risen))


@dataclass
class StrokeFinish:
    """One port's finish of a push's stroke: the source's stroke ended at source time
    ``end_s`` [s]; along ``direction`` (the push's horizontal unit vector, task frame) its
    measured tool point went as far as ``reach_m`` [m] (task frame, along the direction).
    :meth:`hold` is asked each step; :meth:`extension` is the goal's shift [m]."""

    end_s: float
    direction: FloatArray
    reach_m: float
    #: the push's start [s, source time] and the source's lag along the push per sample
    #: [m] (its goal minus its measured tool point, along ``direction``)
    start_s: float = 0.0
    source_lag_m: FloatArray | None = None
    #: how long [s] the source's clock was held for the target's hand to catch up
    caught_up_s: float = 0.0
    #: how far [m] the target's tool point was short of ``reach_m`` at the stroke's end
    short_m: float = 0.0
    #: the port's time [s] the wait began and ended
    began_s: float | None = None
    ended_s: float | None = None
    #: the goal's extension [m] along the push
    extended_m: float = 0.0
    #: the target's tool point [m] along the push, each step of the wait
    tool_along: list[float] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        t_s: FloatArray,
        goal_p: FloatArray,
        tool_p: FloatArray,
        objects: FloatArray | None,
        push: int | None,
        half_height_m: float,
    ) -> StrokeFinish | None:
        """The finish for a source of sample times ``t_s`` [s], goals, measured tool points
        and objects (n x 3 [m], task frame; the object ``half_height_m`` [m] high above its
        centre) whose push started at sample ``push``; None without a stroke end or where
        the object did not move along it. The source's reach: its tool point's furthest
        along the push from the push's start until it rose above its object's top after the
        stroke's end."""
        if objects is None or push is None:
            return None
        end = stroke_end(goal_p, push)
        if end is None:
            return None
        moved = objects[end, :2] - objects[push, :2]
        length = float(np.linalg.norm(moved))
        if length <= 0.0:
            return None
        direction = np.array([moved[0], moved[1], 0.0]) / length
        above = tool_p[end:, 2] > objects[end:, 2] + half_height_m
        leave = end + (int(np.argmax(above)) if above.any() else len(above))
        reach = float(np.max(tool_p[push : max(leave, end + 1)] @ direction))
        lag = (goal_p - tool_p) @ direction
        return cls(float(t_s[end]), direction, reach, float(t_s[push]), lag)

    def catch_up(
        self, t_s: float, k: int, dt: float, tool_p: FloatArray, goal_p: FloatArray
    ) -> bool:
        """Whether the source's clock is held at source time ``t_s`` [s] (sample ``k``, the
        port's step ``dt`` [s]) for the target's tool point ``tool_p`` to catch up with its
        goal ``goal_p`` (task frame [m], both the last step's) during the stroke."""
        if (
            self.source_lag_m is None
            or not self.start_s <= t_s < self.end_s
            or self.caught_up_s >= CATCH_UP_MAX_S - 1e-12
        ):
            return False
        lag = float((goal_p - tool_p) @ self.direction)
        if lag - float(self.source_lag_m[k]) <= CATCH_UP_M:
            return False
        self.caught_up_s += dt
        return True

    def hold(self, t: float, dt: float, t_s: float, tool_p: FloatArray) -> bool:
        """Whether the source's clock is held at port time ``t`` [s] (step ``dt`` [s]),
        source time ``t_s`` [s], the target's measured tool point ``tool_p`` (task frame
        [m], less the goal's shift onto its own object); advances the extension while it
        is."""
        if self.ended_s is not None or t_s < self.end_s:
            return False
        along = float(tool_p @ self.direction)
        if self.began_s is None:
            self.began_s = t
            self.short_m = self.reach_m - along
        self.tool_along.append(along)
        speed = np.inf
        if len(self.tool_along) >= STILL_STEPS:
            speed = (along - self.tool_along[-STILL_STEPS]) / ((STILL_STEPS - 1) * dt)
        longest = self.extended_m >= STROKE_EXTEND_MAX_M - 1e-12
        if (
            self.reach_m - along <= STROKE_REACHED_M
            or t - self.began_s >= STROKE_WAIT_MAX_S
            or (longest and speed < STROKE_STILL_M_S)
        ):
            self.ended_s = t
            return False
        self.extended_m = min(STROKE_EXTEND_MAX_M, self.extended_m + STROKE_EXTEND_M_S * dt)
        return True

    def extension(self, t: float) -> FloatArray:
        """The goal's shift [m] along the push at port time ``t`` [s]: growing while held,
        fading out over :data:`STROKE_FADE_S` after."""
        share = 1.0
        if self.ended_s is not None:
            share = max(0.0, 1.0 - (t - self.ended_s) / STROKE_FADE_S)
        return share * self.extended_m * self.direction

    @property
    def waited_s(self) -> float:
        """How long [s] the source's clock was held (0 if it never was)."""
        if self.began_s is None or self.ended_s is None:
            return 0.0
        return self.ended_s - self.began_s
