"""The byte test of all_finite gives numpy's isfinite-all answer for every array."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from humanoid_teleop.core.finite import all_finite

_SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])


@settings(max_examples=300, deadline=None)
@given(
    values=arrays(
        st.sampled_from([np.float64, np.float32]),
        array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=30),
        elements=st.floats(width=32) | _SPECIAL,
    )
)
def test_all_finite_matches_numpy(values: np.ndarray) -> None:
    """Any shape (empty and 0-d too), float32 or float64, NaN/inf anywhere: numpy's answer."""
    assert all_finite(values) is bool(np.isfinite(values).all())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 37, 74])
def test_one_bad_number_in_a_hand_is_found(bad: float, where: int) -> None:
    """One NaN or inf among 75 coordinates (first, middle, last) makes the array not finite."""
    hand = np.ones((25, 3))
    hand.flat[where] = bad
    assert all_finite(hand) is False


def test_a_strided_view_is_tested_by_its_own_elements() -> None:
    """A non-contiguous view is judged by the elements it shows, not by its base's."""
    base = np.ones((25, 6))
    base[:, 1::2] = np.nan
    assert all_finite(base[:, ::2]) is True
    assert all_finite(base[:, 1::2]) is False


def test_huge_finite_numbers_are_finite() -> None:
    """Numbers whose sum would overflow are finite (no sum is involved)."""
    assert all_finite(np.full((25, 3), 1.7e308)) is True


def test_integers_and_complex_numbers() -> None:
    """Integer arrays are finite; a complex number with an inf part is not."""
    assert all_finite(np.arange(5)) is True
    assert all_finite(np.array([1 + 1j, complex(np.inf, 0)])) is False


def test_a_non_number_array_raises_as_numpy_does() -> None:
    """An object array raises numpy's TypeError, as np.isfinite does."""
    with pytest.raises(TypeError):
        all_finite(np.array(["a"], dtype=object))
