"""Scripted demonstrator: its synthetic hand pinches, and through the teleop pipeline on the
MuJoCo G1 it picks the cube up and places it in the target (a few seeded episodes)."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import WEBXR_TIPS, HandSkeleton, HumanFrame
from humanoid_teleop.core.retarget.hand import HandParams, HandRetargeter, pinch_distance_m
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.scene import SUCCESS, Scene, load_scene
from humanoid_teleop.devices.scripted.demonstrator import (
    DemonstratorConfig,
    ScriptedDemonstrator,
    pick_thumb,
)
from humanoid_teleop.devices.scripted.episode import (
    PROFILE,
    demonstrator_for,
    grasp_point,
    run_episode,
    scripted_steps,
)
from humanoid_teleop.devices.scripted.hand_model import hand_points
from humanoid_teleop.portability.report import GRASP_FRACTION
from humanoid_teleop.portability.tool import ArmTool


def test_closed_hand_touches_thumb_to_index() -> None:
    """Closure 1 puts the thumb tip on the index tip (a pinch the hand retargeter closes)."""
    closed = HandSkeleton(hand_points("right", 1.0))
    assert pinch_distance_m(closed) < 1e-9


def test_open_hand_is_wide_open() -> None:
    """Closure 0 leaves several centimetres between thumb and index tips."""
    assert pinch_distance_m(HandSkeleton(hand_points("right", 0.0))) > 0.05


def test_left_hand_mirrors_the_right() -> None:
    """The left hand is the right one mirrored across the hand's x-z plane."""
    right, left = hand_points("right", 0.4), hand_points("left", 0.4)
    np.testing.assert_allclose(left, right * np.array([1.0, -1.0, 1.0]))
    assert left[WEBXR_TIPS["index"]][1] < 0.0


def test_only_known_tasks_are_scripted() -> None:
    """A task the demonstrator cannot perform is refused with its name."""
    with pytest.raises(ValueError, match="not 'stack'"):
        ScriptedDemonstrator("stack", "right", np.zeros(3), 0.0, 0.02)


@pytest.fixture(scope="module")
def g1() -> RobotModel:
    return RobotModel(load_robot("g1"))


def test_grasp_point_is_between_thumb_and_index(g1: RobotModel) -> None:
    """The grasp point of a hand with thumb and index is the midpoint of their fingertips."""
    q = g1.home_positions()
    tips = g1.description.hands["right"].fingertip_frames
    point, lowest = grasp_point(g1, q, "right")
    thumb, index = g1.fk(q, tips["thumb"])[1], g1.fk(q, tips["index"])[1]
    np.testing.assert_allclose(point, 0.5 * (thumb + index), atol=1e-12)
    assert lowest == min(g1.fk(q, frame)[1][2] for frame in tips.values())


def test_hand_opens_fully_before_the_wrist_retreats() -> None:
    """After putting the object down the demonstrator stays in ``open`` until its hand is
    open (a half-open hand rising drags the object off the target)."""
    demo = ScriptedDemonstrator("pick_and_place", "right", np.zeros(3), 0.0, 0.02)
    demo.phase, demo._closure = "open", 1.0
    grasp, t = np.array([0.0, 0.0, 0.02]), 0.0
    while demo.phase == "open":
        t += 0.01
        intent = demo.step(t, grasp, np.array([0.0, 0.0, 0.02]))
        if demo.phase == "open":
            assert t < 3.0
            last_closure = intent.closure
    assert last_closure <= 0.02
    assert t > demo.config.open_s


def test_grip_closure_is_what_the_closing_hand_reaches() -> None:
    """With ``grip_closure`` below 1 the hand closes to it and no further: G1's grip keeps
    the operator's thumb short of the index tip, wider than the hand solve's 2 cm pinch."""
    config = DemonstratorConfig(preshape=0.2, preshape_thumb=0.0, grip_closure=0.8, close_s=5.0)
    demo = ScriptedDemonstrator("pick_and_place", "right", np.zeros(3), 0.0, 0.02, config)
    demo.phase, demo._closure = "close", 0.35
    for step in range(200):
        intent = demo.step(0.01 * step, np.zeros(3), np.zeros(3))
    assert intent.closure == pytest.approx(0.8)
    assert pinch_distance_m(intent.hand) > HandParams().pinch_closed_m


@pytest.mark.parametrize("phase", ["close", "open"])
def test_still_wrist_grasping_holds_the_wrist_while_the_hand_moves(phase: str) -> None:
    """With ``still_wrist_grasping`` the wrist stays put while the hand closes on the object
    or opens from it, however far the grasp point is from its goal."""
    config = DemonstratorConfig(still_wrist_grasping=True, close_s=5.0, open_s=5.0)
    demo = ScriptedDemonstrator("pick_and_place", "right", np.zeros(3), 0.0, 0.02, config)
    demo.phase, demo._closure = phase, 0.5
    first = demo.step(0.0, np.array([0.05, 0.0, 0.1]), np.zeros(3))
    for step in range(1, 50):  # the grasp point moves as the fingers do
        intent = demo.step(0.01 * step, np.array([0.0, 0.02, 0.08]), np.zeros(3))
    np.testing.assert_array_equal(intent.wrist.position_m, first.wrist.position_m)
    assert intent.closure != pytest.approx(0.5)


def test_open_rate_sets_how_fast_the_hand_lets_go() -> None:
    """``open_rate_per_s`` 2 opens a held grip twice as fast as the default 1 per second."""
    closures = []
    for rate in (1.0, 2.0):
        config = DemonstratorConfig(open_rate_per_s=rate)
        demo = ScriptedDemonstrator("pick_and_place", "right", np.zeros(3), 0.0, 0.02, config)
        demo.phase, demo._closure = "open", 1.0
        demo.step(0.0, np.zeros(3), np.zeros(3))
        closures.append(demo.step(0.2, np.zeros(3), np.zeros(3)).closure)
    assert closures == pytest.approx([0.9, 0.8])


def test_preshape_thumb_holds_the_thumb_spread_while_approaching() -> None:
    """With ``preshape_thumb`` 0 the approaching hand curls its fingers to ``preshape`` and
    keeps the thumb fully spread: a wider pinch than the plain preshape's."""
    config = DemonstratorConfig(preshape=0.2, preshape_thumb=0.0)
    demo = ScriptedDemonstrator("pick_and_place", "right", np.zeros(3), 0.0, 0.02, config)
    for step in range(50):  # 0.5 s of settling: the closure reaches the preshape
        intent = demo.step(0.01 * step, np.zeros(3), np.array([0.3, -0.2, 0.02]))
    assert intent.closure == pytest.approx(0.2)
    spread = pinch_distance_m(HandSkeleton(hand_points("right", 0.2, 0.0)))
    assert pinch_distance_m(intent.hand) == pytest.approx(spread)
    assert spread > pinch_distance_m(HandSkeleton(hand_points("right", 0.2))) + 0.02


def test_spread_thumb_still_closes_to_a_pinch() -> None:
    """Closing from a spread-thumb preshape brings the thumb onto the index tip at closure 1."""
    closed = hand_points("right", 1.0, pick_thumb(1.0, 0.2, 0.0))
    assert pinch_distance_m(HandSkeleton(closed)) < 1e-9


@pytest.mark.slow
def test_g1_goes_down_beside_the_cube_without_pressing_it(g1: RobotModel) -> None:
    """G1's pick reaches the grasp height in under 1 s of going down and no more than 12 N
    sideways at the wrist (its index pressing the cube's top stalled it for 2 s, 21 N)."""
    scene = Scene(load_scene("pick_and_place"), g1)
    sim = MujocoSim(g1, scene=scene, seed=0)
    pipeline = TeleopPipeline.create(g1.description, g1, PROFILE, PROFILE)
    demo = demonstrator_for(scene)
    starts: dict[str, float] = {}
    force_n = 0.0
    for step in scripted_steps(g1, scene, sim, pipeline, demo, max_s=8.0):
        starts.setdefault(demo.phase, step.t_s)
        if demo.phase == "close":
            break
        if demo.phase == "down":
            wrench = np.asarray(sim.wrench("right_wrist")[0])
            force_n = max(force_n, float(np.hypot(wrench[0], wrench[1])))
    assert starts["close"] - starts["down"] < 1.0, starts
    assert force_n < 12.0


@pytest.mark.slow
def test_g1_picks_and_places_the_cube(g1: RobotModel) -> None:
    """Through retargeting + safety the G1 picks the cube up (>= 5 cm) and puts it down in
    the target in every one of four seeded episodes (seeds where the cube used to be pushed
    away or dropped; bench/sim.py measures the rate over 20)."""
    results = [run_episode(g1, "pick_and_place", seed, max_s=25.0) for seed in (5, 8, 13, 16)]
    assert all(r.outcome == SUCCESS and r.lift_m >= 0.05 for r in results), results


@pytest.mark.slow
def test_g1_pushes_the_puck_into_the_target(g1: RobotModel) -> None:
    """In the push scene the G1 slides the puck into the target disc without lifting it, in
    each of three seeded episodes (bench/sim.py measures the rate over 20)."""
    results = [run_episode(g1, "push", seed, max_s=20.0) for seed in (0, 7, 13)]
    assert all(r.outcome == SUCCESS and r.lift_m < 0.03 for r in results), results


def test_push_stops_once_the_object_sits_on_the_target() -> None:
    """The push ends (the hand rises) when the object is within ``push_done_m`` of the target
    centre, wherever the hand is."""
    target = np.array([0.3, 0.0, 0.0])
    demo = ScriptedDemonstrator("push", "right", target, 0.0, 0.025, object_radius_m=0.03)
    hand = np.array([0.3, -0.2, 0.03])
    demo.step(0.0, hand, np.array([0.3, -0.15, 0.025]))
    demo.phase = "push"
    demo.step(0.01, hand, np.array([0.3, -0.1, 0.025]))
    assert demo.phase == "push"
    demo.step(0.02, hand, target + np.array([0.0, -0.01, 0.025]))
    assert demo.phase == "retreat"


def test_push_settle_rises_while_the_fingertips_are_below_the_object_top() -> None:
    """Settling for a push, the wrist rises while the lowest fingertip is below the object's
    top + ``clearance_m`` (tipping the fingers down would put them on the table beside it)
    and holds still once it is above."""
    demo = ScriptedDemonstrator("push", "right", np.array([0.3, 0.15, 0.0]), 0.0, 0.025)
    puck = np.array([0.3, 0.0, 0.025])
    hand = np.array([0.35, 0.0, 0.06])
    start = demo.hold().wrist.position_m[2]
    demo.step(0.0, hand, puck, lowest_tip_z_m=0.01)
    risen = demo.step(0.1, hand, puck, lowest_tip_z_m=0.01).wrist.position_m[2]
    assert demo.phase == "settle" and risen > start + 0.01
    held = demo.step(0.2, hand, puck, lowest_tip_z_m=0.08).wrist.position_m[2]
    assert held == risen


def test_push_that_stalls_going_down_backs_off_and_re_aims() -> None:
    """A push whose hand rests on the object going down (stalled) backs off, re-aims from
    where the object is now and approaches again from above, instead of waiting for a hand
    that never opens (the push hand stays relaxed)."""
    demo = ScriptedDemonstrator("push", "right", np.array([0.3, 0.15, 0.0]), 0.0, 0.025)
    demo.step(0.0, np.array([0.3, -0.1, 0.1]), np.array([0.3, 0.0, 0.025]))
    first_goal = demo._push_goal.copy()
    demo.phase, demo._phase_start_s = "reopen", 0.0
    t = 0.0
    while demo.phase == "reopen" and t < 5.0:
        t += 0.01
        demo.step(t, np.array([0.3, -0.05, 0.1]), np.array([0.32, 0.02, 0.025]))
    assert demo.phase == "above" and t < 1.0
    demo.step(t + 0.01, np.array([0.3, -0.05, 0.1]), np.array([0.32, 0.02, 0.025]))
    assert not np.allclose(demo._push_goal, first_goal)


def _retargeted_closure(robot: str, hand: HandSkeleton) -> float:
    """The closure of ``robot``'s right hand once its hand retargeter (from the open hand,
    as at engage) has settled on ``hand``."""
    model = RobotModel(load_robot(robot))
    pipeline = TeleopPipeline.create(model.description, model, "replay", "replay")
    retargeter = next(r for r in pipeline.retargeters if isinstance(r, HandRetargeter))
    q = model.home_positions()
    retargeter.calibrate(HumanFrame(0.0), q)
    group = model.description.hands["right"].group
    assert group is not None
    for step in range(300):
        out = retargeter.step(HumanFrame(0.004 * step, right_hand=hand), q)
        q[model.group_indices(group)] = out[group]
    return ArmTool(model, "right").closure(q)


@pytest.mark.parametrize("robot", ["g1", "alex", "talos", "romeo"])
def test_push_hand_is_no_grasp_on_any_robot(robot: str) -> None:
    """The hand the demonstrator pushes with retargets below the grasp closure (relative to
    the hand's grip closure) on every shipped hand (a push makes no grasp event)."""
    demo = ScriptedDemonstrator("push", "right", np.zeros(3), 0.0, 0.02)
    grip = load_robot(robot).hands["right"].grip_closure
    assert _retargeted_closure(robot, demo.hold().hand) < GRASP_FRACTION * grip
