"""The automatic π/2 offset search."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from humanoid_teleop.devices.dynamixel.calibration import CalibrationError, quarter_turn_offsets

HALF_PI = math.pi / 2


def test_offsets_are_the_nearest_quarter_turns() -> None:
    """Horns mounted a quarter turn off (plus small pose error) get offsets of -π/2, 0, π."""
    raw = np.array([HALF_PI + 0.05, 0.1, -math.pi])
    target = np.array([0.0, 0.0, 0.1])
    offsets = quarter_turn_offsets(raw, target, np.ones(3))
    np.testing.assert_allclose(offsets, [-HALF_PI, 0.0, math.pi])


def test_sign_is_applied_before_the_search() -> None:
    """With sign -1, a raw reading of π/2 at target 0 needs offset +π/2."""
    assert quarter_turn_offsets(np.array([HALF_PI]), np.zeros(1), -np.ones(1))[0] == HALF_PI


@given(
    st.lists(st.integers(-4, 4), min_size=1, max_size=8),
    st.floats(-0.7, 0.7),
    st.sampled_from([1.0, -1.0]),
)
def test_residual_is_at_most_an_eighth_turn(turns: list[int], error: float, sign: float) -> None:
    """For any mounting and a pose error, the calibrated angle is within π/4 of the target."""
    target = np.linspace(-1.0, 1.0, len(turns))
    raw = sign * (target - np.array(turns) * HALF_PI + error)
    signs = np.full(len(turns), sign)
    offsets = quarter_turn_offsets(raw, target, signs)
    assert np.all(np.abs(signs * raw + offsets - target) <= math.pi / 4 + 1e-9)
    assert np.allclose(offsets / HALF_PI, np.round(offsets / HALF_PI))


def test_sloppy_pose_is_refused_naming_the_joint() -> None:
    """With a 0.2 rad tolerance, a joint 0.5 rad off is refused by name."""
    with pytest.raises(CalibrationError, match=r"elbow off by 0\.500 rad"):
        quarter_turn_offsets(
            np.array([0.0, 0.5]), np.zeros(2), np.ones(2), ["shoulder", "elbow"], 0.2
        )


def test_nan_reading_is_refused() -> None:
    """A NaN servo reading cannot be calibrated."""
    with pytest.raises(CalibrationError, match="NaN"):
        quarter_turn_offsets(np.array([np.nan]), np.zeros(1), np.ones(1))
