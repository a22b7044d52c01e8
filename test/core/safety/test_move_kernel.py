"""The compiled safety move equals a plain numpy statement of the same limits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from humanoid_teleop.core.safety.move_kernel import limited_move

FloatArray = NDArray[np.float64]


def _reference(
    command: FloatArray,
    v_prev: FloatArray,
    target: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    vmax: FloatArray,
    amax: FloatArray,
    dt: float,
) -> tuple[FloatArray, ...]:
    goal = np.clip(target, lo, hi)
    error = goal - command
    desired = error / dt
    with np.errstate(invalid="ignore"):
        brake = np.where(np.isfinite(amax), np.sqrt(2.0 * amax * np.abs(error)), np.inf)
    v = np.clip(desired, -brake, brake)
    v = np.minimum(
        np.maximum(v, np.maximum(-vmax, v_prev - amax * dt)), np.minimum(vmax, v_prev + amax * dt)
    )
    v = np.clip(v, -vmax, vmax)
    new = np.clip(command + v * dt, lo, hi)
    velocity_clamped = (np.abs(desired) > vmax + 1e-12) & (np.abs(v) >= vmax)
    return (
        new,
        (new - command) / dt,
        np.abs(goal - target) > 1e-9,
        velocity_clamped,
        ~velocity_clamped & (np.abs(v - desired) > 1e-9),
        np.max(np.abs(goal - new)),
    )


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    dt=st.sampled_from([1e-4, 0.002, 0.004, 0.05]),
    unlimited_acceleration=st.booleans(),
)
def test_move_matches_numpy_reference(
    seed: int, n: int, dt: float, unlimited_acceleration: bool
) -> None:
    """Targets inside and outside the bounds, any previous velocity: the reference move."""
    rng = np.random.default_rng(seed)
    lo = rng.uniform(-3.0, 0.0, n)
    hi = lo + rng.uniform(0.1, 4.0, n)
    command = rng.uniform(lo, hi)
    target = rng.uniform(lo - 1.0, hi + 1.0)
    vmax = rng.uniform(0.1, 5.0, n)
    v_prev = rng.uniform(-6.0, 6.0, n)
    amax = np.full(n, np.inf) if unlimited_acceleration else rng.uniform(1.0, 100.0, n)
    moves, clamped_kinds, max_residual = limited_move(
        command, v_prev, target, lo, hi, vmax, amax, dt
    )
    want = _reference(command, v_prev, target, lo, hi, vmax, amax, dt)
    assert moves.dtype == np.float64 and moves.shape == (5, n)
    np.testing.assert_allclose(moves[0], want[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(moves[1], want[1], rtol=1e-9, atol=1e-9)
    for row, mask in enumerate(want[2:5], start=2):
        np.testing.assert_array_equal(moves[row], mask.astype(np.float64))
    assert clamped_kinds == tuple(bool(mask.any()) for mask in want[2:5])
    assert max_residual == want[5]
