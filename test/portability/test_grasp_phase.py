"""A pick's grasp phase into another robot (portability/grasp_phase.py): which source
samples it spans, and the wrist goal it gives through the approach, the close, the lift and
after the carry."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.grasp_phase import (
    AIM_M_S,
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


def test_the_grasp_points_share_fades_out_from_the_release() -> None:
    """The share is whole until the release, then falls by a step over RELEASE_FADE_S a step
    (the clock held at one sample) down to none, and stays there."""
    phase, dt = _phase(), 0.01
    phase.release_from = 90
    assert [phase.grasp_share_at(k, dt) for k in (10, 80, 89)] == [1.0, 1.0, 1.0]
    shares = [phase.grasp_share_at(90, dt) for _ in range(60)]
    np.testing.assert_allclose(shares[:3], [1 - dt / RELEASE_FADE_S * i for i in (1, 2, 3)])
    assert shares[-1] == 0.0 and phase.grasp_share_at(95, dt) == 0.0
