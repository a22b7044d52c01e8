"""A pick's grasp phase into another robot (portability/grasp_phase.py): which source
samples it spans, and the wrist goal it gives through the approach, the close, the lift and
after the carry."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.grasp_phase import (
    AIM_M_S,
    FOLLOW_MAX_M,
    OBJECT_AIM_M_S,
    RELEASE_FADE_S,
    GraspPhase,
    grasp_phase,
)

RATE_HZ = 100.0


def _pick(n: int = 400, drop_at: int | None = None) -> tuple[np.ndarray, ...]:
    """A source pick at 100 Hz: the grasp point comes down onto the cube (within 4 cm from
    sample 100), the close starts at 150, the goal goes down 1 cm to sample 200, the cube
    rises from 250; ``drop_at``: the cube falls back there and rises again 100 later."""
    t_s = np.arange(n) / RATE_HZ
    objects = np.zeros((n, 3))
    rise = np.clip((np.arange(n) - 250) * 0.001, 0.0, None)
    objects[:, 2] = rise
    if drop_at is not None:
        objects[drop_at:, 2] = np.clip((np.arange(n - drop_at) - 100) * 0.001, 0.0, None)
    grasp = objects.copy()
    grasp[:, 2] += np.clip(0.2 - np.arange(n) * 0.0017, 0.012, None)  # 1.2 cm above
    goal = grasp.copy()
    goal[150:200, 2] -= np.linspace(0.0, 0.01, 50)
    goal[200:, 2] -= 0.01
    return t_s, grasp, objects, goal


def test_the_phase_spans_pre_grasp_to_carried() -> None:
    """It starts where the grasp point first is within 4 cm of the object, closes at the
    close's start, lifts from the goal's lowest point and ends where the object rose 1 cm."""
    t_s, grasp, objects, goal = _pick()
    phase = grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0)
    assert phase is not None
    near = np.flatnonzero(np.linalg.norm(grasp - objects, axis=1) < 0.04)[0]
    assert (phase.aim_from, phase.close_from) == (near, 150)
    assert phase.rise_from == 199  # the goal's lowest point between the close and the carry
    assert phase.carried_from == 261
    np.testing.assert_allclose(phase.lower_m, -0.012, atol=1e-9)  # own height 0: 1.2 cm down


def test_the_hand_is_over_the_object_from_where_it_came_within_the_pre_grasp() -> None:
    """The re-aim onto the target's own object starts where the source's grasp point came
    horizontally within 4 cm of its object for good before the close (here straight above
    it from the start: sample 0), and not without the target's origin."""
    t_s, grasp, objects, goal = _pick()
    grasp[:60, 1] += 0.05  # beside the object until sample 60
    phase = grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0, origin=np.zeros(3))
    assert phase is not None and phase.over_from == 60 and phase.source_objects is not None
    without = grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0)
    assert without is not None and without.over_from is None


def test_a_dropped_object_is_picked_by_the_last_close() -> None:
    """An object dropped after its first lift is carried by the close that picked it again."""
    t_s, grasp, objects, goal = _pick(n=600, drop_at=300)
    phase = grasp_phase(t_s, grasp, objects, goal, [1.5, 3.3], -0.1, 0.0)
    assert phase is not None
    assert phase.close_from == 330 and phase.carried_from == 411


def test_no_phase_without_a_carry() -> None:
    """A source whose object never rose after a close has no grasp phase."""
    t_s, grasp, objects, goal = _pick()
    objects[:, 2] = 0.0
    assert grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0) is None


def _phase() -> GraspPhase:
    goal = np.zeros((100, 3))
    goal[60:, 2] = np.arange(40) * 0.002  # the lift from sample 60
    return GraspPhase(10, 40, 60, 80, goal, table_floor_z=-0.1, lower_m=-0.005)


def test_the_approach_lowers_the_goal_at_the_aim_rate() -> None:
    """From the pre-grasp the goal goes down to the target's pick height at 3 cm/s."""
    phase, dt = _phase(), 0.01
    out = [phase.ee_goal(k, np.zeros(3), dt, -1.0)[2] for k in range(10, 40)]
    np.testing.assert_allclose(out[0], -AIM_M_S * dt)
    np.testing.assert_allclose(out[15], -0.0048)
    np.testing.assert_allclose(out[-1], -0.005)


def test_the_approach_keeps_the_hand_floor() -> None:
    """Until the close the goal is not lowered below the floor."""
    phase = _phase()
    out = [phase.ee_goal(k, np.zeros(3), 0.01, -0.004)[2] for k in range(10, 40)]
    assert min(out) == -0.004


def test_the_wrist_is_held_while_the_fingers_close_then_lifts_with_the_source() -> None:
    """From the close the goal stays where it was while the source's path drifts (2 cm/s:
    the closing fingers), and from the lift it moves as the source's goal moves."""
    phase, dt = _phase(), 0.01
    for k in range(10, 40):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    drifting = [np.array([0.0, 0.0, 0.0002 * i]) for i in range(20)]
    held = [phase.ee_goal(40 + i, drifting[i], dt, -1.0) for i in range(20)]
    np.testing.assert_allclose(held, [[0.0, 0.0, -0.005]] * 20, atol=1e-12)
    for k in range(60, 70):  # the source's path rises with its goal
        phase.ee_goal(k, drifting[-1] + phase.goal_p[k] - phase.goal_p[60], dt, -1.0)
    lifted = phase.ee_goal(70, drifting[-1] + phase.goal_p[70] - phase.goal_p[60], dt, -1.0)
    np.testing.assert_allclose(lifted, [0.0, 0.0, -0.005 + 10 * 0.002], atol=1e-12)


def test_a_fingered_held_close_holds_its_goal_where_the_goal_it_is_given_swings() -> None:
    """The EE goal the phase is given swings with the hand (its tool point's lever turned by
    the fingers' contact: 2-4 cm within 0.1 s, alex -> g1 pick seeds 4, 5); through a held
    close into a fingered hand the wrist goal stays where the close began; into a
    gripper's jaws the hold still moves toward it at the aim rate, so part of it passes."""
    swing = [np.array([0.0, 0.03 * (i % 2), 0.0]) for i in range(20)]
    held = {}
    for fingered in (True, False):
        phase, dt = _phase(), 0.01
        phase.fingered = fingered
        for k in range(10, 40):
            phase.ee_goal(k, np.zeros(3), dt, -1.0)
        held[fingered] = [phase.ee_goal(40 + i, swing[i], dt, -1.0) for i in range(20)]
    np.testing.assert_allclose(held[True], [[0.0, 0.0, -0.005]] * 20, atol=1e-12)
    np.testing.assert_allclose(held[False][1], [0.0, 0.03 - AIM_M_S * 0.01, -0.005])


def test_after_the_carry_the_goal_returns_to_the_source_path() -> None:
    """Once carried the offset from the source's path fades at 3 cm/s to none."""
    phase, dt = _phase(), 0.01
    for k in range(10, 80):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    out = [phase.ee_goal(80 + i, np.zeros(3), dt, -1.0) for i in range(20)]
    np.testing.assert_allclose(out[-1], np.zeros(3), atol=1e-12)


def test_the_release_is_the_wait_after_the_carry() -> None:
    """The release is held at the sample before the first wait after the carry (the close's
    wait, before it, is not one); without such a wait there is none."""
    t_s, grasp, objects, goal = _pick()
    phase = grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0, (2.0, 3.5))
    assert phase is not None and phase.release_from == 349
    phase = grasp_phase(t_s, grasp, objects, goal, [1.5], -0.1, 0.0, (2.0,))
    assert phase is not None and phase.release_from is None


def test_the_opens_held_are_those_before_the_carry() -> None:
    """An open's wait before the carry (a close given up, at 1.2 s) is held at the sample
    before it, as the release is; the release's own open (3.5 s) is not among them."""
    t_s, grasp, objects, goal = _pick()
    phase = grasp_phase(
        t_s, grasp, objects, goal, [1.5], -0.1, 0.0, (1.0, 1.2, 2.0, 3.5), opens_s=(1.2, 3.5)
    )
    assert phase is not None and phase.opens_at == (119,) and phase.release_from == 349


def test_a_fingered_hand_holds_its_wrist_goal_while_its_fingers_open() -> None:
    """Through an open's wait (the source's clock held at sample 20) the goal it is given
    swings as the fingers part (the pinch kept on the source's: 13.7 cm, romeo -> g1 pick
    seed 3); into a fingered hand the wrist goal stays where it was when the open was
    reached, then moves back onto the given goal at the aim rate; into a gripper's jaws
    the given goal is passed through (lowered toward the pick height at the aim rate, as
    any approach)."""
    swing = [np.array([0.0, 0.0, 0.01 * i]) for i in range(10)]
    out = {}
    for fingered in (True, False):
        phase, dt = _phase(), 0.01
        phase.fingered, phase.opens_at = fingered, (20,)
        held = [phase.ee_goal(20, swing[i], dt, -1.0) for i in range(10)]
        out[fingered] = [*held, phase.ee_goal(21, swing[-1], dt, -1.0)]
    np.testing.assert_allclose(out[True][:10], [np.zeros(3)] * 10, atol=1e-12)
    np.testing.assert_allclose(out[True][10], [0.0, 0.0, AIM_M_S * 0.01], atol=1e-12)
    lowered = np.array([0.0, 0.0, -10 * AIM_M_S * 0.01])
    np.testing.assert_allclose(out[False][9], swing[-1] + lowered, atol=1e-12)


def test_the_grasp_points_share_fades_out_from_the_release() -> None:
    """The share is whole until the release, then falls by a step over RELEASE_FADE_S a step
    (the clock held at one sample) down to none, and stays there."""
    phase, dt = _phase(), 0.01
    phase.release_from = 90
    assert [phase.grasp_share_at(k, dt) for k in (10, 80, 89)] == [1.0, 1.0, 1.0]
    shares = [phase.grasp_share_at(90, dt) for _ in range(60)]
    np.testing.assert_allclose(shares[:3], [1 - dt / RELEASE_FADE_S * i for i in (1, 2, 3)])
    assert shares[-1] == 0.0 and phase.grasp_share_at(95, dt) == 0.0


def _over(resting: bool = True) -> GraspPhase:
    """:func:`_phase` over its (resting or moving) source object at the origin from sample 5."""
    phase = _phase()
    phase.over_from = 5
    phase.source_objects = np.zeros((100, 3))
    phase.source_resting = np.full(100, resting)
    return phase


def test_over_the_object_the_goal_moves_across_onto_the_targets_own() -> None:
    """Over the source's object before the close, the goal moves across toward where the
    target's object lies from the source's (3 cm along y) at 10 cm/s, down at 3 cm/s, and
    the wrist holds that offset through the close."""
    phase, dt = _over(), 0.01
    phase.observe(np.zeros(3), np.array([0.0, 0.03, -0.03]), -0.02, np.zeros(3))
    out = [phase.ee_goal(k, np.zeros(3), dt, -1.0) for k in range(5, 40)]
    np.testing.assert_allclose(out[0], [0.0, OBJECT_AIM_M_S * dt, 0.0], atol=1e-12)
    np.testing.assert_allclose(out[-1], [0.0, 0.03, -0.005], atol=1e-12)
    phase.ee_goal(40, np.zeros(3), dt, -1.0)
    held = phase.ee_goal(41, np.array([0.0, 0.0, 0.0002]), dt, -1.0)  # the source path drifts
    np.testing.assert_allclose(held, [0.0, 0.03, -0.005], atol=1e-12)


def test_the_offset_is_taken_where_the_source_object_rests() -> None:
    """Where the source's object moves (its hand pushes it) the goal does not follow the
    two objects' offset: none was seen at rest, so none is asked for."""
    phase, dt = _over(resting=False), 0.01
    phase.observe(np.zeros(3), np.array([0.0, 0.04, 0.0]), -0.02, np.zeros(3))
    out = [phase.ee_goal(k, np.zeros(3), dt, -1.0) for k in range(5, 40)]
    np.testing.assert_allclose(np.array(out)[:, :2], 0.0, atol=1e-12)


def _following() -> GraspPhase:
    goal = np.zeros((100, 3))
    goal[60:, 2] = np.arange(40) * 0.002  # the lift from sample 60
    return GraspPhase(
        10, 40, 60, 80, goal, table_floor_z=-0.1, lower_m=0.0, follow_gain_per_s=4.0,
        follow_max_m_s=0.3, pick_height_m=0.0, close_start_s=0.4, close_s=3.5,
    )  # fmt: skip


def test_a_following_close_moves_the_wrist_with_the_pushed_object() -> None:
    """For a target whose operator does not hold the wrist, through the close the held goal
    moves by its gain times the measured pinch's offset from the object's centre (here the
    object pushed 2 cm along x, the pinch staying where it was): toward the object, as
    far as it went once the pinch has caught up; and the goal is that exactly, with the
    source's path drifting under it."""
    phase, dt = _following(), 0.01
    assert phase.follows
    for k in range(10, 40):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    pinch = np.zeros(3)
    out = []
    for i in range(20):
        phase.observe(pinch, np.array([-0.02, 0.0, 0.0]), -0.02, np.zeros(3))
        before = None if phase.held_ee is None else phase.held_ee.copy()
        out.append(phase.ee_goal(40 + i, np.array([0.0, 0.0, 0.0002 * i]), dt, -1.0))
        if before is not None:  # the pinch moves with the wrist
            pinch = pinch + (phase.held_ee - before)
    np.testing.assert_allclose(out[1], [-4.0 * 0.02 * dt, 0.0, 0.0], atol=1e-12)
    assert -0.02 < out[-1][0] < out[1][0] and abs(out[-1][2]) < 1e-12
    # after 19 steps at 4/s the offset left is (1 - 0.04)^19 of 2 cm
    np.testing.assert_allclose(out[-1][0], -0.02 * (1.0 - 0.96**19), atol=1e-9)


def test_a_following_close_presses_down_onto_its_floor_only() -> None:
    """The pinch's goal is no lower than the hand floor (the lowest fingertip 5 mm off the
    table): a pinch 3 cm above the object's centre with its lowest tip 2 cm below it on a
    floor at -0.01 m is asked down to 0.01 m, not to the centre."""
    phase, dt = _following(), 0.01
    for k in range(10, 41):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    phase.table_floor_z = -0.01
    phase.observe(np.array([0.0, 0.0, 0.03]), np.zeros(3), 0.01, np.zeros(3))
    out = phase.ee_goal(41, np.zeros(3), dt, -1.0)
    np.testing.assert_allclose(out, [0.0, 0.0, 4.0 * (0.01 - 0.03) * dt], atol=1e-12)


def test_a_held_close_ignores_what_it_observes() -> None:
    """A target whose operator holds the wrist (gain 0) keeps the held goal whatever the
    object does, and asks for no least wait."""
    phase, dt = _phase(), 0.01
    assert not phase.follows
    for k in range(10, 40):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    phase.observe(np.zeros(3), np.array([-0.02, 0.0, 0.0]), -0.02, np.zeros(3))
    out = [phase.ee_goal(40 + i, np.zeros(3), dt, -1.0) for i in range(10)]
    np.testing.assert_allclose(out, [[0.0, 0.0, -0.005]] * 10, atol=1e-12)
    assert phase.least_waits((1.0, 2.0)) == (0.0, 0.0)


def test_a_following_close_lasts_its_operators_close() -> None:
    """The wait at the end of the phase's close holds the source's clock so long that the
    target's fingers close for its operator's close_s from the close's start (0.4 s):
    a close ending at 1.0 s waits 2.9 s more, an earlier wait and the open's none."""
    assert _following().least_waits((0.2, 1.0, 6.0)) == (0.0, 2.9, 0.0)


def test_a_following_close_winds_up_no_further_than_its_cap() -> None:
    """Fingers holding the pinch 2 cm above the object (it does not come down however far
    the wrist goes) wind the loop up to FOLLOW_MAX_M below where the close began, no more."""
    phase, dt = _following(), 0.01
    for k in range(10, 41):
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    out = np.zeros(3)
    for _ in range(2000):
        phase.observe(np.array([0.0, 0.0, 0.02]), np.zeros(3), 0.0, np.zeros(3))
        out = phase.ee_goal(45, np.zeros(3), dt, -1.0)
    np.testing.assert_allclose(out, [0.0, 0.0, -FOLLOW_MAX_M], atol=1e-12)


def test_a_following_close_lifts_from_where_the_hand_is() -> None:
    """At the lift a wound-up press is let go: the held goal is put at the measured EE (1 cm
    above where the close began, the hand held up by the cube), then moves as the source's
    goal rises."""
    phase, dt = _following(), 0.01
    for k in range(10, 60):
        phase.observe(np.array([0.0, 0.0, 0.02]), np.zeros(3), 0.0, np.array([0.0, 0.0, 0.01]))
        phase.ee_goal(k, np.zeros(3), dt, -1.0)
    assert phase.held_ee is not None and phase.held_ee[2] < -0.01  # pressed down
    lift = [phase.ee_goal(k, np.zeros(3), dt, -1.0) for k in range(60, 70)]
    np.testing.assert_allclose(lift[0], [0.0, 0.0, 0.01], atol=1e-12)
    np.testing.assert_allclose(lift[-1], [0.0, 0.0, 0.01 + 9 * 0.002], atol=1e-12)


def test_it_observes_over_the_object_and_through_a_following_close_only() -> None:
    """The measured hand is used over the source's object before the close (from over_from)
    and, for a target whose close follows its object, from the close to the carry."""
    over = _over()
    assert [k for k in range(100) if over.observes(k)] == list(range(5, 40))
    following = _following()
    assert [k for k in range(100) if following.observes(k)] == list(range(40, 80))


def test_goals_are_the_same_observed_at_every_step_or_only_where_it_observes() -> None:
    """Through a following close over a moving object, the goals are the same whether the
    phase is given the measured hand at every step or only where it observes."""
    goals = []
    for everywhere in (True, False):
        phase, dt = _following(), 0.01
        phase.over_from = 5
        phase.source_objects = np.zeros((100, 3))
        out = []
        for k in range(100):
            if everywhere or phase.observes(k):
                moved = np.array([0.0003 * k, 0.0002 * k, 0.0])
                phase.observe(moved + np.array([0.0, 0.0, 0.02]), moved, 0.001 * k, moved + 0.01)
            out.append(phase.ee_goal(k, np.full(3, 0.001 * k), dt, -1.0))
        goals.append(np.array(out))
    assert goals[0].tobytes() == goals[1].tobytes()
