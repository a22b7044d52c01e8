"""How the porter carries a pick's grasp into another robot (grasps.operator_grasps,
pick_hand, hand_followed): the source operator's hand as a progress from open through
the pre-grasp shape to the grip, the target's own picking hand at that progress, and when
the target's hand has followed a close or an open."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from humanoid_teleop.core.motion.frame import HandSkeleton
from humanoid_teleop.core.retarget.hand import HandRetargeter
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.devices.scripted.demonstrator import pick_thumb
from humanoid_teleop.devices.scripted.episode import robot_demonstrator_config
from humanoid_teleop.devices.scripted.hand_model import hand_points
from humanoid_teleop.portability.grasps import (
    HAND_BLOCKED,
    HAND_SETTLED_S,
    HAND_WAIT_MAX_S,
    GripperCommand,
    PickHands,
    SourceClock,
    fingered_grasp_progress,
    hand_followed,
    operator_grasps,
    pick_hand,
)
from humanoid_teleop.portability.port import target_pipeline
from humanoid_teleop.portability.report import GRASP_FRACTION
from humanoid_teleop.portability.source import Samples, SourceEpisode
from humanoid_teleop.portability.tool import ArmTool


def _source(closures: list[float], thumbs: list[float | None]) -> SourceEpisode:
    """An episode whose operator's right hand (wrist at the origin, unturned) has these
    closures and thumbs, one sample each 0.1 s."""
    t = np.arange(len(closures)) / 10
    hands = np.array([hand_points("right", c, k) for c, k in zip(closures, thumbs, strict=True)])
    wrists = np.tile([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], (len(t), 1))
    return SourceEpisode(
        path=Path("synthetic"), custom={}, robot="g1", engage_ns=0, joint_names=(),
        joints=Samples(t, np.zeros((len(t), 0))), commands={},
        wrists={"right": Samples(t, wrists)}, hands={"right": Samples(t, hands)},
        intent_source="/teleop/intent/", objects=None, object_names=(), scene="", outcome="",
    )  # fmt: skip


def test_pick_progress_runs_open_preshape_grip_and_back() -> None:
    """An operator who pre-shapes (0.35), pinches (1.0) and opens again is at progress 0,
    1, 2 and back to 0; the port waits where the close and the open end."""
    closures = [0.0, 0.35, 0.35, 0.7, 1.0, 1.0, 1.0, 0.7, 0.35, 0.0]
    grasps = operator_grasps(_source(closures, [None] * 10), "right", 0.05)
    assert grasps is not None
    progress = grasps.progress
    np.testing.assert_allclose(progress[[0, 1, 2, 4, 5, 6, 8, 9]], [0, 1, 1, 2, 2, 2, 1, 0])
    assert 1.0 < progress[3] < 2.0 and progress[7] == progress[3]
    assert grasps.waits_s == (0.4, 0.9)


def test_the_waits_at_the_end_of_an_open_are_its_opens() -> None:
    """Of the waits (a close's end, an open's end, ...) the opens are where the progress
    fell below its highest since the wait before; a close's is none of them."""
    closures = [0.0, 0.35, 0.35, 0.7, 1.0, 1.0, 1.0, 0.7, 0.35, 0.0]
    grasps = operator_grasps(_source(closures, [None] * 10), "right", 0.05)
    assert grasps is not None and grasps.opens_s == (0.9,)
    twice = closures + closures[1:]
    grasps = operator_grasps(_source(twice, [None] * len(twice)), "right", 0.05)
    assert grasps is not None and grasps.waits_s == (0.4, 0.9, 1.3, 1.8)
    assert grasps.opens_s == (0.9, 1.8)


def test_a_hand_that_never_pinches_has_no_grasp() -> None:
    """A relaxed pushing hand (fingers 0.4, thumb 0.3: a 7.5 cm pinch) is no grasp."""
    assert (
        operator_grasps(_source([0.0, 0.4, 0.4, 0.0], [0.0, 0.3, 0.3, 0.0]), "right", 0.05) is None
    )


def test_pick_hand_is_the_targets_own_grip_and_preshape() -> None:
    """At progress 2 the target's operator holds its own demonstrator's grip (G1: 0.8, the
    thumb from its spread pre-shape), at 1 its pre-grasp shape, at 0 the open hand."""
    config = robot_demonstrator_config(load_robot("g1"), "pick_and_place")
    grip, pre = config.grip_closure, config.preshape
    np.testing.assert_allclose(
        pick_hand(config, "right", 2.0),
        hand_points("right", grip, pick_thumb(grip, pre, config.preshape_thumb)),
    )
    np.testing.assert_allclose(
        pick_hand(config, "right", 1.0),
        hand_points("right", pre, pick_thumb(pre, pre, config.preshape_thumb)),
    )
    np.testing.assert_allclose(pick_hand(config, "right", 0.0), hand_points("right", 0.0, 0.0))


def test_pick_hands_of_equal_configs_share_one_build() -> None:
    """Two ports' pick hands of equal configs give the one read-only array pick_hand builds."""
    first = PickHands(robot_demonstrator_config(load_robot("g1"), "pick_and_place"), "right")
    second = PickHands(robot_demonstrator_config(load_robot("g1"), "pick_and_place"), "right")
    hand = first.at(1.4567)
    assert second.at(1.457) is hand and not hand.flags.writeable
    np.testing.assert_array_equal(hand, pick_hand(first.config, "right", 1.457))


def test_hand_followed_once_still_and_commanded_or_held() -> None:
    """A hand has followed once its closure is still and either its command is what the
    retargeter asks or it stopped short of its command (an object holds it); a hand still
    moving, or still but with its command yet to ramp up, has not."""
    still = [0.3] * 6
    assert hand_followed(still, 5, (0.6, 0.6))  # commanded and reached
    assert hand_followed(still, 5, (1.0, 0.3 + 2 * HAND_BLOCKED))  # stopped by the object
    assert not hand_followed(still, 5, (1.0, 0.3))  # the command has not moved yet
    assert not hand_followed([0.1, 0.15, 0.2, 0.25, 0.3, 0.35], 5, (0.6, 0.6))  # closing
    assert not hand_followed(still[:3], 5, (0.6, 0.6))  # not long enough


def _run_clock(
    clock: SourceClock,
    dt: float,
    steps: int,
    closure_at: Callable[[float], float],
    stroke_holds: bool = False,
) -> list[float]:
    """The source times a port's loop takes from ``clock`` over ``steps`` steps of ``dt``
    [s], the target's hand at ``closure_at(t)`` at port time ``t`` [s] and commanded to 0.4
    while the clock waits; ``stroke_holds``: a push's stroke holds it too in those steps."""
    closures: list[float] = []
    times = []
    for step in range(1, steps + 1):
        t = step * dt
        t_s = clock.source_time(t, closures)
        if stroke_holds and clock.waiting:
            t_s = clock.hold(t)
        times.append(t_s)
        closures.append(closure_at(t))
        if clock.waiting:
            clock.commanded = (0.4, 0.4)
    return times


def test_source_clock_holds_at_a_wait_until_the_hand_has_followed() -> None:
    """The source's clock runs with the port's until a wait's source time, stands still
    there (at the step before it) while the hand closes, and runs on (behind by the held
    time) once the hand has been still at its command for HAND_SETTLED_S; the time waited
    is what it was held, less the step that resumed."""
    dt = 0.01
    clock = SourceClock((0.1,), dt)
    times = _run_clock(clock, dt, 199, lambda t: 0.3 + 0.1 * min(1.0, max(0.0, (t - 0.1) / 0.3)))
    resumed = next(i for i, t_s in enumerate(times) if t_s > 0.1 - 1e-9)
    assert resumed > 40 and all(abs(t_s - 0.09) < 1e-9 for t_s in times[8:resumed])
    held = (resumed + 1) * dt - times[resumed]  # times[i] is at (i + 1) * dt
    # closed at 0.4 s, still for HAND_SETTLED_S after
    assert 0.4 + HAND_SETTLED_S - dt <= 0.1 + held <= 0.4 + HAND_SETTLED_S + 3 * dt
    assert abs(times[-1] - (199 * dt - held)) < 1e-9
    assert abs(clock.waited_s - (held - dt)) < 1e-9 and not clock.waiting


def test_a_hold_during_a_hand_wait_does_not_turn_the_source_clock_back() -> None:
    """A second reason to hold (a push's stroke) in a step where the clock already stands
    for the hand holds it once: the source's time stays where it stood, never a step back."""
    dt = 0.01
    clock = SourceClock((0.1,), dt)
    times = _run_clock(clock, dt, 39, lambda t: 0.3, stroke_holds=True)
    waiting = [t_s for t_s in times if t_s < 0.1 - 1e-9][-20:]
    assert all(abs(t_s - 0.09) < 1e-9 for t_s in waiting[1:])
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(times))
    free = SourceClock((), dt)  # without a wait a hold holds
    assert abs(free.hold(0.5) - (0.5 - dt)) < 1e-12


def test_source_clock_gives_up_on_a_hand_that_never_settles() -> None:
    """A hand that never settles is waited for at most HAND_WAIT_MAX_S."""
    dt = 0.02
    clock = SourceClock([0.0], dt)
    closures: list[float] = []
    step = 0
    while True:
        step += 1
        t_s = clock.source_time(step * dt, closures)
        closures.append(0.3 + 0.05 * (step % 2))  # trembling
        if t_s > 1e-9:
            break
    assert HAND_WAIT_MAX_S - dt < clock.held_s <= HAND_WAIT_MAX_S + dt


def test_physics_pick_progress_follows_the_source_robots_hand() -> None:
    """With physics, a grasp is timed by the source robot's hand, which lags its operator:
    the close reaches the grip where that hand grasped (0.9 of its grip closure), the open
    the hand its operator opened to (here the open hand) where it released (below 0.6 of
    it), and the port waits there, not where the operator's pinch closed and opened (the
    report's events are the hand's: into G1 and Alex, targets following the pinch released
    0.1-0.3 s before the source's hand)."""
    closures = [0.0, 0.35, 0.35, 0.7, 1.0, 1.0, 1.0, 1.0, 0.7, 0.35, 0.0, 0.0, 0.0, 0.0]
    source = _source(closures, [None] * len(closures))
    t = np.arange(len(closures)) / 10
    # the robot's hand (grip closure 0.5): 0.2 at the pre-grasp shape, grasping (0.45) at
    # 0.6 s, 0.4 s after its operator's pinch closed; releasing (0.3) at 1.1 s
    hand = np.array([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.5, 0.4, 0.25, 0.2, 0.2])
    grasps = operator_grasps(source, "right", 0.05, (t, hand, 0.5))
    assert grasps is not None
    np.testing.assert_allclose(
        grasps.progress[[3, 4, 5, 6, 9, 10, 11, 13]], [1.0, 1.4, 1.8, 2.0, 2.0, 4 / 3, 0.0, 0.0]
    )
    np.testing.assert_allclose(grasps.waits_s, (0.6, 1.1))
    by_pinch = operator_grasps(source, "right", 0.05)  # the operator's: gripping at 0.4 s
    assert by_pinch is not None and by_pinch.progress[4] == 2.0 and by_pinch.waits_s[0] == 0.4


def test_fingered_target_reaches_its_grasp_progress_when_the_source_robots_hand_grasps() -> None:
    """Into a fingered hand, a grasping close goes to the progress whose command reaches
    the hand's grasp event (here 1.6) as the source's hand goes to its event, then to the
    grip (G1's fingers, following the share of Alex's closure to the grip, grasped 112-164
    ms before it); the port waits just past it, with the grip asked for; the open is as
    without it."""
    closures = [0.0, 0.35, 0.35, 0.7, 1.0, 1.0, 1.0, 1.0, 0.7, 0.35, 0.0, 0.0, 0.0, 0.0]
    source = _source(closures, [None] * len(closures))
    t = np.arange(len(closures)) / 10
    # as test_physics_pick_progress_follows_the_source_robots_hand: grasping at 0.6 s
    hand = np.array([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.5, 0.4, 0.25, 0.2, 0.2])
    grasps = operator_grasps(source, "right", 0.05, (t, hand, 0.5), grasp_progress=1.6)
    assert grasps is not None
    np.testing.assert_allclose(
        grasps.progress[[3, 4, 5, 6, 7, 9, 10, 11]], [1.0, 1.24, 1.48, 2.0, 2.0, 2.0, 4 / 3, 0.0]
    )
    np.testing.assert_allclose(grasps.waits_s, (0.7, 1.1))


def test_fingered_grasp_progress_is_where_g1s_command_first_reaches_its_grasp_event() -> None:
    """G1's hand retargeter, swept from the open hand through its operator's pre-grasp
    shape to its grip, first commands its grasp event's closure between the two."""
    model = RobotModel(load_robot("g1"))
    retargeter = next(
        r for r in target_pipeline(model).retargeters if isinstance(r, HandRetargeter)
    )
    fingers = retargeter.dexterous["right"]
    config = robot_demonstrator_config(model.description, "pick_and_place")
    closure_of = model.description.hands["right"].closure_of
    grasp = GRASP_FRACTION * ArmTool(model, "right").grip_closure
    fingers.restart()
    progress = fingered_grasp_progress(config, "right", fingers.solve, closure_of, grasp)
    assert progress is not None and 1.0 < progress < 2.0
    fingers.restart()
    closures = [
        closure_of(fingers.solve(HandSkeleton(pick_hand(config, "right", p))))
        for p in np.arange(0.0, progress + 1e-9, 0.01).tolist()
    ]
    assert closures[-1] >= grasp > max(closures[100:-1])


def test_gripper_target_grasps_and_releases_when_the_source_robots_hand_does() -> None:
    """Into a gripper, the command reaches its grasp event's closure where the source's
    hand grasped (not early in the close: TALOS' command passed it at 0.07 of the close,
    its jaws grasping ~0.2 s early), then the grip; it opens from the grip at the
    gripper's full speed to reach its release event's closure where the source's hand
    released (from the grip, the jaws held open by the object moved ~0.25 s late)."""
    closures = [0.0, 0.35, 0.35, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.35, 0.0, 0.0]
    source = _source(closures, [None] * len(closures))
    t = np.arange(len(closures)) / 10
    # grasping (0.45 of grip 0.5) at 0.6 s, releasing (below 0.3) at 1.2 s
    hand = np.array([0.0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6, 0.5, 0.4, 0.25, 0.2])
    progress = np.linspace(1.0, 2.0, 101)
    # a gripper commanded 0.2 closed at the pre-grasp shape, fully closed at progress 1.8;
    # grasp event at 0.3, release at 0.2; its command moves 2 closures a second
    gripper = GripperCommand(progress, np.clip(0.2 + (progress - 1.0), 0.0, 1.0), 0.3, 0.2, 2.0)
    grasps = operator_grasps(source, "right", 0.05, (t, hand, 0.5), gripper=gripper)
    assert grasps is not None
    command = np.interp(grasps.progress, progress, gripper.closures)
    np.testing.assert_allclose(grasps.waits_s, (0.7, 1.3))  # just past the grasp, release
    # closing as the source's hand does, toward the grasp closure (0.3) at 0.6 s; the grip
    np.testing.assert_allclose(command[3:7], [0.2, 0.24, 0.28, 1.0], atol=1e-9)
    # held at the grip until it opens at 2 closures/s: 1.0 - 0.2 takes 0.4 s before 1.2 s
    np.testing.assert_allclose(command[7:13], [1.0, 1.0, 0.8, 0.6, 0.4, 0.2], atol=1e-9)


def test_source_clock_holds_a_wait_at_least_its_least_time() -> None:
    """A wait with a least time (a grasp whose target's operator closes longer) holds the
    source's clock that long though the hand settled at once."""
    dt = 0.01
    clock = SourceClock((0.1, 3.0), dt, (2.0, 0.0))
    closures: list[float] = []
    times = []
    for step in range(1, 400):
        times.append(clock.source_time(step * dt, closures))
        closures.append(0.5)  # still from the start
        if clock.waiting:
            clock.commanded = (0.5, 0.5)
    resumed = next(i for i, t_s in enumerate(times) if t_s > 0.1 - 1e-9)
    assert 2.0 <= (resumed + 1) * dt - 0.1 <= 2.0 + 2 * dt
