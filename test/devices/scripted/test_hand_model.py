"""The synthetic operator hand: the row-at-a-time and the one-pass forms agree."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.devices.scripted.hand_model import hand_points, hand_points_rows


@pytest.mark.parametrize("side", ["left", "right"])
def test_hand_points_rows_is_hand_points_at_each_closure(side: str) -> None:
    """hand_points_rows gives hand_points at every closure (clipped into [0, 1] alike)."""
    closures = np.concatenate([np.linspace(-0.2, 1.2, 57), [0.0, 0.41, 1.0]])
    rows = hand_points_rows(side, closures)
    expected = np.array([hand_points(side, float(c)) for c in closures])
    assert rows.shape == (len(closures), 25, 3)
    np.testing.assert_allclose(rows, expected, rtol=0.0, atol=1e-15)


def test_hand_points_rows_refuses_an_unknown_side() -> None:
    """A side other than left or right is refused, as hand_points refuses it."""
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        hand_points_rows("middle", np.zeros(2))
