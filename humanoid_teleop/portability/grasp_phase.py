"""A pick's grasp phase into another robot: with physics, from where the source's pinch
comes near its object until the source has carried it, the target's wrist is moved as the
target's own operator moves it to grasp (:class:`GraspPhase`): its pinch at its own pick
height, held no higher by the source's hand, over the target's own object where that lies
elsewhere (:data:`OBJECT_AIM_M_S`), and while the fingers close the wrist still
or, into a hand whose operator closes long without holding the wrist (Alex's), keeping the
measured pinch on the target's own object (:attr:`GraspPhase.follow_gain_per_s`) until the
fingers have closed as long as that operator's (:meth:`GraspPhase.least_waits`); at the
release its tool point goes back on the source's as its fingers open, and where the
source's hand opened before the carry a fingered hand's wrist is held while its fingers
open. :mod:`.port` runs it;
docs/portability-rules.md, "Grasps", says why."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .track import at_rest, toward

FloatArray = NDArray[np.float64]

#: The grasp phase begins where the source's grasp point first comes this close [m] to its
#: object's centre before the close (its pre-grasp: the 4 cm cube's half size + 2 cm) ...
PRE_GRASP_M = 0.04
#: ... and ends where the source's object has risen this far [m] above where it rested
#: (carried: in the source's hand; the last such rise, a dropped object is picked again).
CARRIED_M = 0.01
#: How fast [m/s] the target's wrist goal moves off the source's path and back onto it (an
#: operator's hand re-aiming).
AIM_M_S = 0.03
#: How fast [m/s] the goal moves across, over the source's object before its close, onto the
#: target's own object where that lies elsewhere (:meth:`GraspPhase.ee_goal`): an operator
#: who sees the cube there.
OBJECT_AIM_M_S = 0.1
#: From the source's release (where its hand let go of the object it carried: the port
#: holds the source's clock there while the target's hand opens), the share of the target's
#: grasp point put on the source's (:func:`~.goal.grasp_share`) fades to 0 over
#: RELEASE_FADE_S [s]: the tool point back on the source's as the fingers open. Held on the
#: source's pinch, G1's opening fingers carried its tool point (their mean) 4-5 cm off
#: Romeo's, 150 of 2900 steps at one source sample (romeo -> g1 pick contact p95 5.8 cm;
#: 4.2 with the fade, N = 5).
RELEASE_FADE_S = 0.5
#: How far [m] at most the close's follow (:attr:`GraspPhase.follow_gain_per_s`) moves the
#: held wrist goal from where the close began: its loop winds up while the fingers hold the
#: pinch above the object (Alex's own operator's goes 6-7 cm down through its 3.5 s close;
#: the command presses the hand onto the cube, the drive's effort limits bound the force).
#: Picks into Alex (g1 -> alex, romeo -> alex, of 5 each, before the lift from where the
#: hand is): uncapped 3, 3 (romeo -> alex seed 4 17 cm down, reachability 93%), 15 cm 3, 4
#: (reachability 93%), 12 cm 4, 2 (reachability 100, 97%), 7 cm 2, 0: the press is what
#: holds the cube.
FOLLOW_MAX_M = 0.12


@dataclass
class GraspPhase:
    """The target's wrist (EE) goal through a pick's grasp, per source sample ``k``:

    - from ``aim_from`` (the source's grasp point within :data:`PRE_GRASP_M` of its
      object) to ``close_from`` (the source operator's hand begins its close): the source's
      goal lowered by ``lower_m`` [m], so that the target's pinch sits at its own
      operator's pick height on the object (physics.yaml ``demonstrator``
      ``grasp_height_m`` over the centre) where the source's sat at the source's, and the
      hand floor is the target's own operator's (:attr:`table_floor_z`: its fingertips off
      the table), not the source hand's lowest point; and from ``over_from`` (the source's
      grasp point over its object) moved across onto the target's own object, by its
      measured centre's horizontal offset from the source's (``source_objects``) taken
      where the source's object rests (``source_resting``: not where its hand moves it),
      at most :data:`OBJECT_AIM_M_S`;
    - from ``close_from`` to ``rise_from`` (where the source's goal was lowest before the
      carry): the wrist goal held where it was when the close began, as an operator keeps
      the wrist still while the fingers close (the port otherwise moves the wrist to keep
      the closing hand's pinch on the source's: Alex's 4-5 cm), into a ``fingered`` hand
      exactly: the EE goal the phase is given puts the tool point on the source's with the
      hand turned as it is now, so it swings as the closing fingers' contact turns the
      hand (G1's, ~17 cm from its fingertips' mean: 2-4 cm within 0.1 s, a part of which
      the :data:`AIM_M_S` limit let through, squeezing the cube out or grasping it tilted,
      alex -> g1 pick seeds 4, 5; held so, TALOS' jaws lost alex -> talos seed 3 and won
      talos -> romeo seed 4); for a target whose own operator does not hold the wrist
      (``follow_gain_per_s`` > 0: its demonstrator's gain), that goal moves as that
      operator moves it, by the gain times the measured
      pinch's offset from its goal on the target's object (``pick_height_m`` over the
      object's centre measured each step, no lower than the hand floor: the fingertips off
      the table), at most ``follow_max_m_s`` and :data:`FOLLOW_MAX_M` from where it
      began: it follows the object the closing fingers push and presses on where they are
      held up (:meth:`observe` gives it the measured pinch, object and lowest fingertip),
      and the phase's goal is that goal exactly until the carry;
    - from ``rise_from`` to ``carried_from`` (the source's object risen
      :data:`CARRIED_M`): that held goal moved as the source's goal moves (the lift); a
      follow's held goal first put at the measured EE (the press let go, as an operator
      lifts from where the hand is);
    - after: back onto the source's path (the object is in the hand);
    - from ``release_from`` (the source sample the port's clock is held at for the
      target's hand to open after the carry; None: no such wait) the grasp point's share
      fades out (:meth:`grasp_share_at`): the tool point on the source's;
    - at each of ``opens_at`` (the source samples the port's clock is held at for the
      target's hand to open before the carry: a close given up, or a dropped object let
      go), into a ``fingered`` hand the wrist goal held where it was when the sample was
      reached, as an operator keeps the wrist still while the fingers open, and after it
      moves back as any re-aim: the goal it is given keeps the opening hand's pinch on the
      source's grasp point, so it swings as the fingers part (G1's 13.7 cm within 0.2 s,
      its tool point 11.6 cm off, 12 cm over the cube, romeo -> g1 pick seed 3: free p95
      7.1 -> 4.0 cm). Not at the release: there the fade puts the tool point back on the
      source's (held there too, that port's contact p95 went 6.0 -> 7.6 cm).

    Every other change of the goal's offset from the source's path moves at most
    :data:`AIM_M_S`; until the close the hand floor (``min_z`` of :meth:`ee_goal`) holds.
    ``goal_p``: the source's tool goals (n x 3 [m], task frame)."""

    aim_from: int
    close_from: int
    rise_from: int
    carried_from: int
    goal_p: FloatArray
    table_floor_z: float
    lower_m: float
    release_from: int | None = None
    opens_at: tuple[int, ...] = ()
    correction: FloatArray = field(default_factory=lambda: np.zeros(3))
    held_ee: FloatArray | None = None
    follow_gain_per_s: float = 0.0
    follow_max_m_s: float = 0.0
    pick_height_m: float = 0.0
    #: the last :meth:`observe`: measured pinch, object centre, lowest fingertip height [m]
    measured: tuple[FloatArray, FloatArray, float] | None = None
    #: the held goal where the close began (the follow's origin)
    close_ee: FloatArray | None = None
    #: whether the target's hand closes fingers around the object (not a gripper's jaws,
    #: which close on it from both sides): a held close's wrist goal is then held exactly
    fingered: bool = False
    #: the wrist goal [m] held through an open (:attr:`opens_at`): (its sample, the goal)
    open_ee: tuple[int, FloatArray] | None = None
    #: the measured EE position [m] at the last :meth:`observe`
    measured_ee: FloatArray | None = None
    #: whether the follow's held goal was put where the hand is for the lift
    lifted: bool = False
    #: where the source's close began [s] and how long the target's operator closes [s]
    close_start_s: float = 0.0
    close_s: float = 0.0
    #: the source's object centre per sample put in the target's base frame (n x 3 [m]:
    #: task frame + the target's origin; None: the goal does not move onto the target's)
    source_objects: FloatArray | None = None
    #: where the source's grasp point came over its object for the close (horizontally
    #: within :data:`PRE_GRASP_M` of its centre, on to ``close_from``)
    over_from: int | None = None
    #: per source sample, whether the source's object rests (:func:`~.track.at_rest`)
    source_resting: NDArray[np.bool_] | None = None
    #: the target's object's horizontal offset [m] from the source's, where the source's last rested
    object_offset: FloatArray = field(default_factory=lambda: np.zeros(2))

    grasp_share: float = 1.0

    def grasp_share_at(self, k: int, dt: float) -> float:
        """How much [0..1] of the grasp point's share applies at source sample ``k``: 1
        until ``release_from``, then falling by ``dt`` / :data:`RELEASE_FADE_S` a call
        (called once a step)."""
        if self.release_from is not None and k >= self.release_from:
            self.grasp_share = max(0.0, self.grasp_share - dt / RELEASE_FADE_S)
        return self.grasp_share

    def least_waits(self, waits_s: tuple[float, ...]) -> tuple[float, ...]:
        """How long [s] at least the source's clock is held at each of ``waits_s`` (source
        times [s], :class:`~.grasps.SourceClock`): at the end of this phase's close, so
        long that the target's fingers close for its own operator's ``close_s`` before the
        carry (Alex's: 3.5 s, its grip loosens when lifted earlier), only for a target
        whose close follows its object (:attr:`follows`); 0 elsewhere."""
        out = [0.0] * len(waits_s)
        if self.follows:
            ends = [i for i, w in enumerate(waits_s) if w >= self.close_start_s]
            if ends:
                first = ends[0]
                out[first] = max(0.0, self.close_s - (waits_s[first] - self.close_start_s))
        return tuple(out)

    @property
    def follows(self) -> bool:
        """Whether the close moves the wrist on what the target's hand does (:meth:`observe`)."""
        return self.follow_gain_per_s > 0.0

    def observes(self, k: int) -> bool:
        """Whether :meth:`ee_goal` at source sample ``k`` uses what :meth:`observe` gives:
        over the source's object before the close (the target's object's centre), and
        through a follow's close and lift (the measured pinch, lowest fingertip and EE).
        Elsewhere the port need not measure them (a kinematics pass a step)."""
        over = self.over_from is not None and self.over_from <= k < self.close_from
        return over or (self.follows and self.close_from <= k < self.carried_from)

    def observe(
        self, pinch: FloatArray, object_p: FloatArray, lowest_tip_z: float, ee: FloatArray
    ) -> None:
        """This step's measured pinch (grasp point), object centre and EE position [m] and
        the lowest fingertip's height [m], target base frame (called before
        :meth:`ee_goal`, at least where :meth:`observes`)."""
        self.measured = (pinch, object_p, lowest_tip_z)
        self.measured_ee = ee

    def _follow(self, dt: float) -> None:
        """Move the held goal as the target's operator moves its wrist in the close."""
        if self.held_ee is None or self.measured is None:
            return
        pinch, object_p, lowest_tip_z = self.measured
        goal = object_p + np.array([0.0, 0.0, self.pick_height_m])
        goal[2] = max(float(goal[2]), self.table_floor_z + float(pinch[2]) - lowest_tip_z)
        zero = np.zeros(3)  # toward it from zero: the vector, at most that long
        velocity = toward(zero, self.follow_gain_per_s * (goal - pinch), self.follow_max_m_s)
        origin = self.held_ee if self.close_ee is None else self.close_ee
        self.held_ee = origin + toward(zero, self.held_ee + velocity * dt - origin, FOLLOW_MAX_M)

    def within(self, k: int) -> bool:
        """Whether source sample ``k`` is in the phase (pre-grasp to carried)."""
        return self.aim_from <= k < self.carried_from

    def ee_goal(self, k: int, ee_goal: FloatArray, dt: float, min_z: float) -> FloatArray:
        """The target's EE position goal [m] (base frame) at source sample ``k``, given the
        one that puts its tool on the source's goal (``ee_goal``), the step ``dt`` [s] and
        the lowest the EE may go [m] for the hand floor (``min_z``); called once a step."""
        want = np.zeros(3)
        if self.aim_from <= k < self.close_from:
            want[2] = self.lower_m
        elif self.close_from <= k < self.carried_from:
            if self.held_ee is None:
                self.held_ee = self.close_ee = ee_goal + self.correction
            elif self.follows and k < self.rise_from:
                self._follow(dt)
            elif self.follows and self.measured_ee is not None and not self.lifted:
                # the lift starts from where the hand is, not from the wound-up press
                # (kept, the press went on into the lift: romeo -> alex 3 -> 2 of 5, g1 ->
                # alex worst contact p95 4.1 -> 15.4 cm)
                self.held_ee = self.measured_ee.copy()
                self.lifted = True
            held = self.held_ee
            if k >= self.rise_from:
                held = held + (self.goal_p[k] - self.goal_p[self.rise_from])
            want = held - ee_goal
        over = self.over_from is not None and self.over_from <= k < self.close_from
        if over and self.source_objects is not None and self.measured is not None:
            # over the object: onto the target's own object where it lies from the
            # source's, seen where the source's rests (not where the source's hand moves it)
            if self.source_resting is None or self.source_resting[k]:
                self.object_offset = (self.measured[1] - self.source_objects[k])[:2]
            want[:2] = self.object_offset
        if k < self.close_from:
            self.held_ee = None
            self.lifted = False
        closing = self.close_from <= k < (self.carried_from if self.follows else self.rise_from)
        if self.fingered and k in self.opens_at:
            # a fingered hand's still wrist while its fingers open, from where it was
            if self.open_ee is None or self.open_ee[0] != k:
                self.open_ee = (k, ee_goal + self.correction)
            self.correction = self.open_ee[1] - ee_goal
        elif closing and (self.follows or self.fingered):
            # its operator's hand, not a re-aim; a fingered hand's still wrist at its held
            # goal exactly: the goal it is given swings as the fingers' contact turns the hand
            self.correction = want
        elif k < self.close_from:  # across onto the object faster than down
            across = toward(self.correction[:2], want[:2], OBJECT_AIM_M_S * dt)
            down = toward(self.correction[2:], want[2:], AIM_M_S * dt)
            self.correction = np.concatenate([across, down])
        else:
            self.correction = toward(self.correction, want, AIM_M_S * dt)
        out: FloatArray = ee_goal + self.correction
        if k < self.close_from and out[2] < min_z:  # the hand floor, until the close
            out[2] = min_z
            self.correction = out - ee_goal
        return out


def grasp_phase(
    t_s: FloatArray,
    source_grasp: FloatArray,
    source_objects: FloatArray,
    goal_p: FloatArray,
    close_starts_s: list[float],
    table_floor_z: float,
    pick_height_m: float,
    waits_s: tuple[float, ...] = (),
    follow: tuple[float, float, float] = (0.0, 0.0, 0.0),
    origin: FloatArray | None = None,
    fingered: bool = False,
    opens_s: tuple[float, ...] = (),
) -> GraspPhase | None:
    """The :class:`GraspPhase` of a source pick, per sample at ``t_s`` [s]: its grasp
    point, object centre and tool goal (n x 3 [m], task frame); ``close_starts_s``: where
    its operator's hand began each close [s]; ``table_floor_z``: the lowest the target's
    fingertips may go [m], base frame; ``pick_height_m``: the target's operator's grasp
    height over the object's centre [m]; ``waits_s``: where the port holds the source's
    clock for the target's hand (:class:`~.grasps.OperatorGrasps`), the first after the
    carry being the release's; ``follow``: its operator's wrist gain [1/s] in the close (0:
    it holds the wrist still), top speed [m/s] and how long it closes [s]; ``origin``: the
    target's task frame origin [m], base frame (None: the goal does not move onto the
    target's own object, :attr:`GraspPhase.over_from`); ``fingered``: the target's hand
    closes fingers around the object (:attr:`GraspPhase.fingered`); ``opens_s``: those of
    ``waits_s`` where the source's hand ended an open (:attr:`GraspPhase.opens_at`, those
    before the carry). The grasp is the
    one that carried the object (the last close before its last rise by :data:`CARRIED_M`:
    a dropped object is picked again). None when the object never rose after a close, or
    the source's grasp point did not come within :data:`PRE_GRASP_M` of it before that
    close."""
    if not close_starts_s or not len(t_s):
        return None
    starts = [int(np.searchsorted(t_s, c)) for c in close_starts_s]
    up = source_objects[:, 2] - float(source_objects[0, 2]) > CARRIED_M
    rises = np.flatnonzero(up[1:] & ~up[:-1]) + 1
    rises = rises[rises > starts[0]]
    if not len(rises):
        return None
    carried_from = int(rises[-1])
    which = max(i for i, start in enumerate(starts) if start < carried_from)
    close_from = starts[which]
    after = starts[which - 1] if which > 0 else 0
    near = np.linalg.norm(source_grasp - source_objects, axis=1) < PRE_GRASP_M
    before = after + np.flatnonzero(near[after:close_from])
    if not len(before):
        return None
    # the lift begins where the source's goal was lowest between the close and the carry
    rise_from = close_from + int(np.argmin(goal_p[close_from : carried_from + 1, 2]))
    source_height = float(source_grasp[close_from, 2] - source_objects[close_from, 2])
    # the source's hand over its object, on to the close: horizontally within the pre-grasp
    flat = np.linalg.norm(source_grasp[:close_from, :2] - source_objects[:close_from, :2], axis=1)
    away = np.flatnonzero(flat >= PRE_GRASP_M)
    over_from = min(int(before[0]), int(away[-1]) + 1 if len(away) else 0)
    released = [w for w in waits_s if w > t_s[carried_from]]
    release_from = _held_at(t_s, released[0]) if released else None
    return GraspPhase(
        aim_from=int(before[0]),
        close_from=close_from,
        rise_from=rise_from,
        carried_from=carried_from,
        goal_p=goal_p,
        table_floor_z=table_floor_z,
        lower_m=pick_height_m - source_height,
        release_from=release_from,
        opens_at=tuple(_held_at(t_s, w) for w in opens_s if w < t_s[carried_from]),
        follow_gain_per_s=follow[0],
        follow_max_m_s=follow[1],
        pick_height_m=pick_height_m,
        close_start_s=float(t_s[close_from]),
        close_s=follow[2],
        source_objects=None if origin is None else source_objects + origin,
        over_from=None if origin is None else over_from,
        source_resting=at_rest(t_s, source_objects),
        fingered=fingered,
    )


def _held_at(t_s: FloatArray, wait_s: float) -> int:
    """The source sample the port's clock is held at for a wait at ``wait_s`` [s]: the one
    before the wait's time (its steps' times stop a rounding short of it)."""
    return max(0, int(np.searchsorted(t_s, wait_s)) - 1)
