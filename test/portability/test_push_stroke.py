"""A push's stroke finished as far as the source's hand went, and the source's clock held
during the stroke for a target hand that trails its goal (portability/push_stroke.py)."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.portability.push_stroke import (
    CATCH_UP_M,
    CATCH_UP_MAX_S,
    STROKE_EXTEND_M_S,
    STROKE_EXTEND_MAX_M,
    STROKE_FADE_S,
    STROKE_WAIT_MAX_S,
    StrokeFinish,
    stroke_end,
)

DT_S = 0.004
HALF_HEIGHT_M = 0.025
OVERSHOOT_M = 0.012


def _stroke() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sample times [s], goals, measured tool points and objects (task frame [m]) of a
    scripted push: the goal down by 1 s, along +y 10 cm by 2 s (the object carried 8 cm),
    up 10 cm by 3 s; the hand follows 0.1 s late and goes 1.2 cm beyond the stroke's end."""
    t = np.arange(0.0, 3.0 + 1e-9, DT_S)
    goal = np.zeros((len(t), 3))
    goal[:, 0] = 0.08
    goal[:, 1] = -0.05 + 0.1 * np.clip(t - 1.0, 0.0, 1.0)
    goal[:, 2] = 0.1 - 0.1 * np.clip(t, 0.0, 1.0) + 0.1 * np.clip(t - 2.0, 0.0, 1.0)
    tool = np.column_stack([np.interp(t - 0.1, t, goal[:, k]) for k in range(3)])
    tool[:, 1] += OVERSHOOT_M * np.clip((t - 2.0) / 0.1, 0.0, 1.0)
    objects = np.zeros((len(t), 3))
    objects[:, 0] = 0.08
    objects[:, 1] = 0.08 * np.clip((t - 1.2) / 0.8, 0.0, 1.0)
    return t, goal, tool, objects


def _finish() -> StrokeFinish:
    t, goal, tool, objects = _stroke()
    finish = StrokeFinish.of(t, goal, tool, objects, int(np.searchsorted(t, 1.2)), HALF_HEIGHT_M)
    assert finish is not None
    return finish


def test_the_stroke_ends_where_the_goal_rises_after_the_push() -> None:
    """The stroke's end is the first sample after the push's start where the goal has
    risen 5 mm above its lowest since: 2.05 s on the scripted push (rising 10 cm/s)."""
    t, goal, _, _ = _stroke()
    push = int(np.searchsorted(t, 1.2))
    assert t[stroke_end(goal, push)] == pytest.approx(2.05, abs=2 * DT_S)
    assert stroke_end(goal[: int(np.searchsorted(t, 2.0))], push) is None


def test_the_reach_is_the_source_hands_furthest_before_it_rose_off_the_object() -> None:
    """The source's reach is its measured tool point's furthest along the push (the goal's
    end plus the hand's 1.2 cm overshoot), the clock held where the goal rises."""
    finish = _finish()
    assert finish.direction == pytest.approx([0.0, 1.0, 0.0])
    assert finish.reach_m == pytest.approx(0.05 + OVERSHOOT_M, abs=1e-9)
    assert finish.end_s == pytest.approx(2.05, abs=2 * DT_S)


def test_no_finish_where_the_object_did_not_move() -> None:
    """A source whose object stayed put by the stroke's end has no stroke to finish."""
    t, goal, tool, objects = _stroke()
    still = np.repeat(objects[:1], len(t), axis=0)
    push = int(np.searchsorted(t, 1.2))
    assert StrokeFinish.of(t, goal, tool, still, push, HALF_HEIGHT_M) is None
    assert StrokeFinish.of(t, goal, tool, None, push, HALF_HEIGHT_M) is None
    assert StrokeFinish.of(t, goal, tool, objects, None, HALF_HEIGHT_M) is None


def _run(finish: StrokeFinish, tool_y_m: float, tool_speed_m_s: float) -> list[bool]:
    """Steps of a port from the stroke's end, the target's tool point at ``tool_y_m`` [m]
    along the push and moving at ``tool_speed_m_s`` [m/s]: whether the source's clock
    was held at each."""
    assert not finish.hold(0.0, DT_S, finish.end_s - DT_S, np.zeros(3))
    held, t = [], 0.0
    for _ in range(round(2 * STROKE_WAIT_MAX_S / DT_S)):
        t += DT_S
        tool = np.array([0.08, tool_y_m + tool_speed_m_s * t, -0.09])
        held.append(finish.hold(t, DT_S, finish.end_s, tool))
        if not held[-1]:
            break
    return held


def test_the_clock_is_held_until_the_hand_stops_at_the_longest_stroke() -> None:
    """A hand 2 cm short that does not move: the clock is held while the goal goes on at
    10 cm/s to the longest stroke, then released; the extension fades out after."""
    finish = _finish()
    held = _run(finish, finish.reach_m - 0.02, 0.0)
    longest_steps = STROKE_EXTEND_MAX_M / (STROKE_EXTEND_M_S * DT_S)
    assert sum(held) == pytest.approx(longest_steps, abs=2)
    assert finish.short_m == pytest.approx(0.02)
    assert finish.waited_s == pytest.approx(sum(held) * DT_S, abs=DT_S)
    along = finish.extension(finish.ended_s) @ finish.direction
    assert along == pytest.approx(STROKE_EXTEND_MAX_M)
    half = finish.extension(finish.ended_s + 0.5 * STROKE_FADE_S) @ finish.direction
    assert half == pytest.approx(0.5 * STROKE_EXTEND_MAX_M)
    assert not finish.extension(finish.ended_s + STROKE_FADE_S).any()


def test_no_wait_for_a_hand_as_far_as_the_sources() -> None:
    """A target tool point already as far along the push as the source's went: no wait,
    no shift."""
    finish = _finish()
    assert _run(finish, finish.reach_m, 0.0) == [False]
    assert finish.waited_s == 0.0
    assert not finish.extension(finish.ended_s).any()


def test_a_moving_hand_is_waited_for_until_it_arrives_or_at_most_the_longest_wait() -> None:
    """A hand 1 cm short moving at 5 cm/s is waited for until it arrives (within 3 mm);
    one 10 cm short, for the longest wait."""
    finish = _finish()
    held = _run(finish, finish.reach_m - 0.01, 0.05)
    assert sum(held) * DT_S == pytest.approx((0.01 - 0.003) / 0.05, abs=2 * DT_S)
    finish = _finish()
    held = _run(finish, finish.reach_m - 0.1, 0.05)
    assert sum(held) * DT_S == pytest.approx(STROKE_WAIT_MAX_S, abs=2 * DT_S)


def test_the_clock_waits_during_the_stroke_for_a_hand_trailing_more_than_the_sources() -> None:
    """From the push's start (1.2 s) to the stroke's end the clock is held while the target's
    tool point trails its goal along the push by more than the source's did (10 cm/s for
    0.1 s: 1 cm) plus :data:`CATCH_UP_M`; not across the push, not outside the stroke, and
    at most :data:`CATCH_UP_MAX_S` in all."""
    finish = _finish()
    t, _, _, _ = _stroke()
    k = int(np.searchsorted(t, 1.5))
    assert finish.source_lag_m is not None
    assert finish.source_lag_m[k] == pytest.approx(0.01, abs=1e-6)
    goal = np.array([0.08, 0.0, 0.0])
    behind = goal - np.array([0.0, 0.01 + CATCH_UP_M + 0.002, 0.0])
    near = goal - np.array([0.0, 0.01 + CATCH_UP_M - 0.002, 0.0])
    aside = goal - np.array([0.05, 0.0, 0.0])
    assert not finish.catch_up(1.5, k, DT_S, near, goal)
    assert not finish.catch_up(1.5, k, DT_S, aside, goal)
    assert not finish.catch_up(1.1, k, DT_S, behind, goal)  # before the push
    assert not finish.catch_up(finish.end_s, k, DT_S, behind, goal)  # the stroke has ended
    steps = 0
    while finish.catch_up(1.5, k, DT_S, behind, goal):
        steps += 1
    assert steps * DT_S == pytest.approx(CATCH_UP_MAX_S, abs=DT_S)
    assert finish.caught_up_s == pytest.approx(CATCH_UP_MAX_S, abs=DT_S)
