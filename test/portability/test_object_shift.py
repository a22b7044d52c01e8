"""A physics push into another robot re-aims at the target's own object where both objects
rest (port.py): the rest test (track.at_rest), the source's object held unrested through
its push (port._resting_outside_push) and the rate-limited shift (port._toward)."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.port import _resting_outside_push, _toward
from humanoid_teleop.portability.track import REST_M, REST_S, at_rest


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
    moved = _toward(np.zeros(3), np.array([0.03, 0.04, 0.0]), 0.01)
    np.testing.assert_allclose(moved, [0.006, 0.008, 0.0])
    goal = np.array([0.001, 0.0, 0.0])
    np.testing.assert_array_equal(_toward(np.zeros(3), goal, 0.01), goal)


def test_the_source_object_does_not_rest_from_the_push_start_to_its_last_motion() -> None:
    """A push in two strokes with a pause between them: the pause is not rest (the shift is
    held through it); before the push's start and after the last stroke the object rests."""
    t = np.arange(0.0, 3.0, 0.01)
    positions = np.zeros((len(t), 3))
    positions[:, 1] = 0.03 * np.clip((t - 0.5) / 0.3, 0.0, 1.0)  # first stroke 0.5-0.8 s
    positions[:, 1] += 0.03 * np.clip((t - 1.6) / 0.3, 0.0, 1.0)  # second 1.6-1.9 s
    touch = int(np.argmax(t >= 0.5))
    assert at_rest(t, positions)[(t > 1.1) & (t < 1.5)].all()  # the pause, on its own
    rest = _resting_outside_push(t, positions, touch)
    assert rest[t < 0.5].all()
    assert not rest[(t >= 0.5) & (t < 1.9)].any()
    assert rest[t > 1.9 + REST_S + 0.01].all()
    np.testing.assert_array_equal(_resting_outside_push(t, positions, None), at_rest(t, positions))
