"""The layers that shape a port's goal (portability/goal.py). The floor for the target's
hand (goal.hand_floor): the source hand's lowest point (core/sim/hand_geometry.py), at most
goal.FLOOR_OVER_OBJECT_M over the target's object until the source's tool first comes near its
own, until the source's hand moves the object (port._first_touch, for a push
port._push_start); a pushing hand lifted off its resting object until the source's hand
comes down beside its own (goal.ObjectClearance, goal.side_approach). A physics push into
another robot re-aims at the target's own object where both objects rest: the rest test
(track.at_rest), the source's object held unrested through its push
(goal.resting_outside_push) and the rate-limited shift (track.toward), faster after the
push and back off the object once the source's hand has left it; while the source's object
slides, the shift steers across the push against the relation error (goal.push_normals)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pinocchio import exp3

from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.goal import (
    FLOOR_FADE_M,
    FLOOR_OVER_OBJECT_M,
    FLOOR_RADIUS_M,
    POSTURE_S,
    PUSH_STEER_MAX_M,
    TABLE_CLEARANCE_M,
    GoalLayers,
    ObjectClearance,
    ReAim,
    WristGoal,
    hand_floor,
    push_normals,
    resting_outside_push,
    side_approach,
)
from humanoid_teleop.portability.port import _first_touch, _push_start
from humanoid_teleop.portability.source import read_source
from humanoid_teleop.portability.tool import ArmTool
from humanoid_teleop.portability.track import REST_M, REST_S, SourceTrack, at_rest, toward
from test.portability.conftest import PAIR


def test_hand_floor_follows_the_source_hand_until_the_object_moves() -> None:
    """Until the source's object has moved more than 2 mm the floor is the source hand's
    lowest point; from that sample on it is the table top plus the clearance."""
    lowest = np.array([0.05, 0.03, 0.01, 0.0, 0.02])
    objects = np.zeros((5, 3))
    objects[3:, 1] = [0.0025, 0.01]  # moves at the fourth sample
    touch = _first_touch(objects)
    assert touch == 3
    floor = hand_floor(lowest, touch, table_z=-0.12)
    np.testing.assert_array_equal(floor[:3], lowest[:3])
    np.testing.assert_allclose(floor[3:], -0.12 + TABLE_CLEARANCE_M)


def test_hand_floor_holds_only_near_the_object() -> None:
    """Before the touch the source hand's floor holds within FLOOR_RADIUS_M of the object
    (horizontally, the source's tool), fades to the table's over FLOOR_FADE_M beyond and is
    the table's farther out; a source hand below the table's clearance stays as it was."""
    table = -0.12 + TABLE_CLEARANCE_M
    lowest = np.full(5, -0.02)
    apart = np.array(
        [FLOOR_RADIUS_M + 2 * FLOOR_FADE_M, FLOOR_RADIUS_M + 0.5 * FLOOR_FADE_M,
         FLOOR_RADIUS_M, 0.0, 0.3]
    )  # fmt: skip
    floor = hand_floor(lowest, None, -0.12, apart)
    np.testing.assert_allclose(floor[:4], [table, 0.5 * (table - 0.02), -0.02, -0.02])
    assert floor[4] == table
    low = hand_floor(np.full(2, -0.2), None, -0.12, np.array([0.3, 0.3]))
    np.testing.assert_array_equal(low, [-0.2, -0.2])  # already below: not raised
    after = hand_floor(lowest, 2, -0.12, apart)  # after the touch: the table's everywhere
    np.testing.assert_allclose(after[2:], table)


def test_hand_floor_holds_at_most_floor_over_object_m_over_the_object_until_near() -> None:
    """Until the source's tool first comes near its object (and before the touch) the floor
    is no higher than FLOOR_OVER_OBJECT_M above the target object's top; a source hand below
    that keeps its own floor, and from the near sample on the source hand's floor holds."""
    top = -0.08
    cap = top + FLOOR_OVER_OBJECT_M
    lowest = np.array([cap + 0.03, cap - 0.01, cap + 0.02, cap + 0.04, cap + 0.03])
    floor = hand_floor(lowest, None, -0.12, None, (top, 3))
    np.testing.assert_allclose(floor, [cap, cap - 0.01, cap, cap + 0.04, cap + 0.03])
    touched = hand_floor(lowest, 2, -0.12, None, (top, 3))  # the touch first: the table's
    np.testing.assert_allclose(touched, [cap, cap - 0.01] + 3 * [-0.12 + TABLE_CLEARANCE_M])


def test_hand_floor_without_a_moved_object_is_the_source_hand() -> None:
    """A source whose object never moved (or none recorded) keeps the source hand's floor."""
    lowest = np.array([0.05, 0.03, 0.01])
    assert _first_touch(np.zeros((3, 3))) is None and _first_touch(None) is None
    np.testing.assert_array_equal(hand_floor(lowest, None, -0.12), lowest)


def test_a_push_starts_where_the_push_began_not_at_a_graze() -> None:
    """A graze that moved the object 4 mm and left it there is not the push: the push starts
    where the motion that carried it past 1 cm had moved it 2 mm (the first touch is the
    graze); an object that was only grazed starts where it first moved 2 mm."""
    objects = np.zeros((12, 3))
    objects[2:, 0] = -0.004  # grazed at sample 2, then at rest
    objects[6:, 1] = [0.001, 0.0025, 0.006, 0.012, 0.02, 0.03]  # pushed from sample 6 on
    assert _first_touch(objects) == 2
    assert _push_start(objects) == 7
    grazed = np.zeros((5, 3))
    grazed[2:, 0] = -0.004
    assert _push_start(grazed) == 2
    assert _push_start(np.zeros((5, 3))) is None
    pushed = np.zeros((5, 3))
    pushed[2:, 1] = [0.003, 0.008, 0.015]  # one motion from rest: where it moved 2 mm
    assert _push_start(pushed) == _first_touch(pushed) == 2


def _bar(z_m: float) -> np.ndarray:
    """Points of a 10 cm bar along x at height ``z_m`` [m], 1 cm apart, from x = 0.02 m
    (relative to a tool point at the origin)."""
    return np.column_stack([np.linspace(0.02, 0.12, 11), np.zeros(11), np.full(11, z_m)])


def test_object_clearance_lifts_a_hand_off_the_object() -> None:
    """A bar reaching from a tool point 7 cm from a puck's axis over the puck, 1 cm below
    its top, is lifted until its lowest point over the footprint is at the top; a bar above
    the top, or one that stays outside the footprint, is left where it is."""
    clear = ObjectClearance(np.zeros(2), radius_m=0.035, top_z=0.03, until=10)
    tool = np.array([-0.07, 0.0, 0.04])
    surface = _bar(-0.02)  # at z = 0.02: 1 cm below the top
    lifted = clear.lift(tool, surface)
    np.testing.assert_allclose(lifted, tool + np.array([0.0, 0.0, 0.01]))
    assert clear.lift(tool, _bar(-0.005)) is tool  # above the top
    far = np.array([-0.2, 0.0, 0.02])
    assert clear.lift(far, surface) is far  # outside the footprint


def test_side_approach_starts_where_the_source_tool_last_came_below_the_top() -> None:
    """The source's tool point above the object's top (2.5 cm over its centre), dipping
    below it, above again, then down beside it until the push: the side approach starts at
    the last descent; a tool above the top at the push has none (``until``); one never above
    the top approaches from the side all along (0), without a recorded object never."""
    objects = np.zeros((10, 3))
    goal = np.zeros((10, 3))
    goal[:, 2] = [0.06, 0.02, 0.04, 0.06, 0.04, 0.02, 0.01, 0.0, 0.0, 0.0]
    assert side_approach(goal, objects, 0.025, until=8) == 5
    assert side_approach(goal, objects, 0.025, until=5) == 5
    assert side_approach(goal * 0.0, objects, 0.025, until=8) == 0
    assert side_approach(goal, None, 0.025, until=8) == 8


def test_an_object_rests_until_it_moves_and_again_once_still_for_rest_s() -> None:
    """A puck still, pushed 5 cm over 0.5 s, then still: it rests before the push, not while
    it slides nor within REST_S after it stopped, and again from then on."""
    t = np.arange(0.0, 2.0, 0.01)
    positions = np.zeros((len(t), 3))
    positions[:, 1] = np.clip((t - 0.5) / 0.5, 0.0, 1.0) * 0.05
    rest = at_rest(t, positions)
    assert rest[t < 0.5].all()
    assert not rest[(t > 0.52) & (t < 1.0 + REST_S - 0.02)].any()
    assert rest[t > 1.0 + REST_S + 0.01].all()


def test_a_graze_below_rest_m_leaves_the_object_at_rest() -> None:
    """Sub-millimetre motion (contact jitter) is rest; vertical motion does not count."""
    t = np.arange(0.0, 1.0, 0.01)
    positions = np.zeros((len(t), 3))
    positions[:, 0] = 0.4 * REST_M * np.sin(t * 20.0) / 2.0
    positions[:, 2] = 0.01 * t
    assert at_rest(t, positions).all()


def test_the_shift_moves_toward_its_goal_by_at_most_a_step() -> None:
    """The shift moves along the straight line to the goal by at most ``step`` and lands on
    it when nearer."""
    moved = toward(np.zeros(3), np.array([0.03, 0.04, 0.0]), 0.01)
    np.testing.assert_allclose(moved, [0.006, 0.008, 0.0])
    goal = np.array([0.001, 0.0, 0.0])
    np.testing.assert_array_equal(toward(np.zeros(3), goal, 0.01), goal)


def test_the_source_object_does_not_rest_from_the_push_start_to_its_last_motion() -> None:
    """A push in two strokes with a pause between them: the pause is not rest (the shift is
    held through it); before the push's start and after the last stroke the object rests."""
    t = np.arange(0.0, 3.0, 0.01)
    positions = np.zeros((len(t), 3))
    positions[:, 1] = 0.03 * np.clip((t - 0.5) / 0.3, 0.0, 1.0)  # first stroke 0.5-0.8 s
    positions[:, 1] += 0.03 * np.clip((t - 1.6) / 0.3, 0.0, 1.0)  # second 1.6-1.9 s
    touch = int(np.argmax(t >= 0.5))
    assert at_rest(t, positions)[(t > 1.1) & (t < 1.5)].all()  # the pause, on its own
    rest = resting_outside_push(t, positions, touch)
    assert rest[t < 0.5].all()
    assert not rest[(t >= 0.5) & (t < 1.9)].any()
    assert rest[t > 1.9 + REST_S + 0.01].all()
    np.testing.assert_array_equal(resting_outside_push(t, positions, None), at_rest(t, positions))


def test_re_aim_moves_onto_the_target_object_only_where_both_rest() -> None:
    """The shift follows the target's object's horizontal offset from the source's at most a
    step at a time while both rest, is held where the source's object does not rest or the
    target's moved, and is scaled by the share of each sample."""
    source_objects = np.zeros((4, 3))
    reaim = ReAim(
        resting=np.array([True, False, True, True]),
        share=np.array([1.0, 1.0, 1.0, 0.5]),
        source_objects=source_objects,
        rest_steps=3,
        step_m=0.01,
    )
    target = np.array([0.03, 0.0, 0.02])  # 3 cm aside, 2 cm up (height is not re-aimed)
    np.testing.assert_allclose(reaim.shift(0, target, target), [0.01, 0.0, 0.0])
    np.testing.assert_allclose(reaim.shift(1, target, target), [0.01, 0.0, 0.0])  # moving
    moved = target + np.array([0.0, 0.01, 0.0])  # the target's object moved 1 cm
    np.testing.assert_allclose(reaim.shift(2, moved, target), [0.01, 0.0, 0.0])
    np.testing.assert_allclose(reaim.shift(2, target, None), [0.01, 0.0, 0.0])  # too early
    np.testing.assert_allclose(reaim.shift(3, target, target), [0.01, 0.0, 0.0])  # half of 2 cm


def test_re_aim_after_the_push_is_faster_and_returns_off_the_object() -> None:
    """Once the push is over (``retreat``) the shift follows the two objects' offset at the
    retreat's step, and goes back to zero at that step where the source's tool has left its
    object (``returning``), the share scaling it as before."""
    source_objects = np.zeros((4, 3))
    reaim = ReAim(
        resting=np.ones(4, dtype=bool),
        share=np.array([1.0, 1.0, 1.0, 0.5]),
        source_objects=source_objects,
        rest_steps=3,
        step_m=0.01,
        retreat=np.array([False, True, True, True]),
        retreat_step_m=0.03,
        returning=np.array([False, False, False, True]),
    )
    target = np.array([0.0, 0.05, 0.0])  # the target's object rests 5 cm further along
    np.testing.assert_allclose(reaim.shift(0, target, target), [0.0, 0.01, 0.0])  # approach
    np.testing.assert_allclose(reaim.shift(1, target, target), [0.0, 0.04, 0.0])  # retreat
    np.testing.assert_allclose(reaim.shift(2, target, target), [0.0, 0.05, 0.0])
    # the source's hand left its object: back toward its path, the share fading it too
    np.testing.assert_allclose(reaim.shift(3, target, target), [0.0, 0.01, 0.0])
    np.testing.assert_allclose(reaim.shift(3, target, target), [0.0, 0.0, 0.0])


def test_push_normals_are_left_of_the_sliding_object_from_the_push_on() -> None:
    """Zero before the push's start and where the object creeps slower than the steer's
    least speed; the unit normal left of its motion where it slides."""
    t = np.arange(0.0, 2.0, 0.01)
    objects = np.zeros((len(t), 3))
    objects[:, 1] = np.clip(t - 0.5, 0.0, 1.0) * 0.2  # slides +y at 20 cm/s over 0.5-1.5 s
    objects[t >= 1.5, 0] = (t[t >= 1.5] - 1.5) * 0.01  # then creeps +x at 1 cm/s
    normals = push_normals(t, objects, touch=int(np.searchsorted(t, 0.5)))
    sliding = (t >= 0.5 + REST_S / 4) & (t < 1.5)
    np.testing.assert_allclose(normals[sliding], [[-1.0, 0.0, 0.0]] * int(sliding.sum()))
    assert not normals[t < 0.5].any()
    assert not normals[t >= 1.5 + REST_S].any()  # a creep's direction is not steered across
    late = push_normals(t, objects, touch=int(np.searchsorted(t, 1.5 + REST_S)))
    assert not late.any()  # nothing slides after that push start
    assert not push_normals(t, objects, None).any()


def test_re_aim_steers_across_the_push_against_the_relation_error() -> None:
    """While both objects move the shift moves opposite the relation error's component
    across the push (its gain a step, at most the steer step, at most PUSH_STEER_MAX_M in
    all), not along it; it is held while the target's object rests or the source's no
    longer slides."""
    n = 3
    source_objects = np.zeros((n, 3))
    source_tools = np.tile([0.0, -0.03, 0.0], (n, 1))  # 3 cm behind its object along +y
    across = np.tile([-1.0, 0.0, 0.0], (n, 1))  # the push along +y: left is -x
    across[2] = 0.0  # the source's object no longer slides
    reaim = ReAim(
        resting=np.zeros(n, dtype=bool),
        share=np.ones(n),
        source_objects=source_objects,
        rest_steps=3,
        step_m=0.01,
        across=across,
        source_tools=source_tools,
        steer_gain=0.5,
        steer_step_m=0.004,
    )
    target_object = np.zeros(3)
    then = np.array([0.0, -0.01, 0.0])  # the target's object moved 1 cm along the push
    # the target's tool 1 cm left of where the source's relation puts it, 2 cm ahead
    tool = np.array([-0.01, -0.01, 0.0])
    np.testing.assert_allclose(reaim.shift(0, target_object, then, tool), [0.004, 0.0, 0.0])
    np.testing.assert_allclose(  # its object at rest: held
        reaim.shift(0, target_object, target_object, tool), [0.004, 0.0, 0.0]
    )
    tool_near = np.array([-0.004, -0.01, 0.0])  # half of 4 mm: less than the step
    np.testing.assert_allclose(reaim.shift(1, target_object, then, tool_near), [0.006, 0, 0])
    np.testing.assert_allclose(reaim.shift(2, target_object, then, tool), [0.006, 0.0, 0.0])
    far = np.array([-0.2, -0.01, 0.0])  # 20 cm off: steered at most PUSH_STEER_MAX_M in all
    for _ in range(20):
        reaim.shift(0, target_object, then, far)
    np.testing.assert_allclose(reaim.shift(0, target_object, then, far), [PUSH_STEER_MAX_M, 0, 0])
    # without the target's measured tool (the first step) or its object's past, nothing steers
    fresh = ReAim(
        np.zeros(n, dtype=bool), np.ones(n), source_objects, 3, 0.01, across, source_tools,
        0.5, 0.004,
    )  # fmt: skip
    np.testing.assert_allclose(fresh.shift(0, target_object, then, None), np.zeros(3))
    np.testing.assert_allclose(fresh.shift(0, target_object, None, tool), np.zeros(3))


def test_the_whole_posture_turn_gives_each_steps_own_product_bit_for_bit(
    sources: list[Path], models: Callable[[str], RobotModel]
) -> None:
    """Once the posture turn is whole (after POSTURE_S), the goal's EE rotation and its
    operator wrist's come from every recorded wrist turned in one stacked pass: the same
    numbers, bit for bit, as each step's own ``rotation_at(t) @ turn @ hand_turn`` and
    ``@ c.T`` (a goal made to take that path)."""
    _, source_robot, target_robot = PAIR
    episode = read_source(sources[0])
    track = SourceTrack(episode, models(source_robot), "right", measured_too=False)
    tool = ArmTool(models(target_robot), "right")
    rng = np.random.default_rng(4)
    posture, hand_turn = rng.normal(size=3), exp3(rng.normal(size=3))
    calibration = (np.zeros(3), np.zeros(3), 1.0, exp3(rng.normal(size=3)))

    def goal() -> WristGoal:
        wrists = episode.wrists["right"]
        return WristGoal(track, np.zeros(3), tool, calibration, hand_turn, posture, wrists,
                         None, False, GoalLayers(), 0.004)  # fmt: skip

    stacked, each = goal(), goal()
    each._unturned = True  # each step turns its own wrist
    times = np.linspace(0.0, float(track.t_s[-1]) + 0.5, 700)
    for t in times.tolist():
        k = track.index(t)
        got, want = stacked._goal(k, t), each._goal(k, t)
        assert got.ee_r.tobytes() == want.ee_r.tobytes()
        assert (got.wrist_r is not None) == (t >= POSTURE_S) and want.wrist_r is None
        if got.wrist_r is not None:
            assert got.wrist_r.tobytes() == (want.ee_r @ calibration[3].T).tobytes()
    assert stacked._turned is not None and each._turned is None
