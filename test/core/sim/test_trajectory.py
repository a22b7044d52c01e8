"""Trajectory playback: linear interpolation from the start posture through the points."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.sim import InvalidCommand, TrajectoryPlayback

NAMES = ("a", "b")


def _playback(times: list[float], points: list[list[float]]) -> TrajectoryPlayback:
    return TrajectoryPlayback.build(NAMES, [0.0, 0.0], times, points, start_s=10.0, source="/t")


def test_before_the_start_it_commands_the_start_posture() -> None:
    """Until the trajectory starts the command is where the joints were."""
    np.testing.assert_array_equal(_playback([1.0], [[1.0, 2.0]]).sample(9.0), [0.0, 0.0])


def test_halfway_to_the_first_point_is_half_the_way() -> None:
    """Half the first point's time_from_start gives the midpoint from the start posture."""
    np.testing.assert_allclose(_playback([1.0], [[1.0, 2.0]]).sample(10.5), [0.5, 1.0])


def test_between_points_it_interpolates_linearly() -> None:
    """A quarter of the way from point 0 to point 1 in time is a quarter in position."""
    playback = _playback([1.0, 3.0], [[1.0, 1.0], [3.0, -1.0]])
    np.testing.assert_allclose(playback.sample(11.5), [1.5, 0.5])


def test_after_the_last_point_it_holds_it() -> None:
    """Past the end the command stays on the last point."""
    playback = _playback([1.0, 3.0], [[1.0, 1.0], [3.0, -1.0]])
    np.testing.assert_array_equal(playback.sample(20.0), [3.0, -1.0])
    assert playback.end_s == 13.0


def test_single_point_at_time_zero_applies_at_once() -> None:
    """A streaming command (one point, time_from_start 0) is the target immediately."""
    np.testing.assert_array_equal(_playback([0.0], [[0.4, 0.2]]).sample(10.0), [0.4, 0.2])


def test_decreasing_times_are_rejected() -> None:
    """time_from_start going backwards is an InvalidCommand naming the topic."""
    with pytest.raises(InvalidCommand, match="/t: time_from_start must be"):
        _playback([2.0, 1.0], [[0.0, 0.0], [1.0, 1.0]])


def test_point_with_wrong_joint_count_is_rejected() -> None:
    """A point with three positions for two joints names the point."""
    with pytest.raises(InvalidCommand, match="point 0 has 3 positions for 2 joints"):
        _playback([1.0], [[0.0, 0.0, 0.0]])


def test_nan_position_is_rejected() -> None:
    """A NaN inside a point is an InvalidCommand."""
    with pytest.raises(InvalidCommand, match="point 0 has a non-finite position"):
        _playback([1.0], [[0.0, float("nan")]])
