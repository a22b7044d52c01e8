"""Resampling onto the frame grid: hold, interpolate (slerp), nearest image with a flag."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.export.resample import frame_grid, hold, interpolate, nearest, slerp


def test_frame_grid_spans_start_to_end_at_fps() -> None:
    """The grid starts at the first stamp and steps by 1/fps up to the last one."""
    grid = frame_grid(1_000_000_000, 2_000_000_000, 30)
    assert len(grid) == 31 and grid[0] == 1_000_000_000 and grid[-1] == 2_000_000_000


def test_hold_takes_the_newest_sample_at_or_before_each_frame() -> None:
    """Commands are held: a frame gets the last sample stamped at or before it."""
    values, present = hold(np.array([10, 20]), np.array([[1.0], [2.0]]), np.array([5, 10, 19, 25]))
    assert values[:, 0].tolist() == [1.0, 1.0, 1.0, 2.0]
    assert present.tolist() == [False, True, True, True]


def test_interpolate_is_linear_between_samples_and_clamped_outside() -> None:
    """States are interpolated linearly and held at the first/last value outside the samples."""
    out = interpolate(np.array([0, 10]), np.array([[0.0], [1.0]]), np.array([-5, 0, 5, 10, 15]))
    assert out[:, 0].tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_slerp_halfway_between_two_rotations_about_z_is_the_half_angle() -> None:
    """Quaternions are interpolated on the sphere: halfway between 0 and 90° about z is 45°."""
    q0 = np.array([[0.0, 0.0, 0.0, 1.0]])
    q1 = np.array([[0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4)]])
    mid = slerp(q0, q1, np.array([0.5]))
    np.testing.assert_allclose(mid, [[0.0, 0.0, np.sin(np.pi / 8), np.cos(np.pi / 8)]], atol=1e-12)


def test_interpolate_slerps_quaternion_columns() -> None:
    """Pose columns 3..7 (xyzw) go by slerp, keeping a unit quaternion."""
    poses = np.array([[0, 0, 0, 0, 0, 0, 1.0], [2, 0, 0, 0, 0, 1.0, 0]])
    out = interpolate(np.array([0, 10]), poses, np.array([5]), (slice(3, 7),))
    assert out[0, 0] == 1.0
    np.testing.assert_allclose(np.linalg.norm(out[0, 3:]), 1.0)
    np.testing.assert_allclose(out[0, 3:], [0, 0, np.sqrt(0.5), np.sqrt(0.5)], atol=1e-12)


def test_nearest_flags_frames_farther_than_half_a_period() -> None:
    """An image more than half a frame period away is still used but the frame is flagged."""
    period = 1_000_000_000 // 10
    pick, flagged = nearest(
        np.array([0, 3 * period]), np.array([0, period, 2 * period, 3 * period]), 10
    )
    assert pick.tolist() == [0, 0, 1, 1]
    assert flagged.tolist() == [False, True, True, False]
