"""Property tests: nothing the robot API produces for a command leaves the joint limits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from humanoid_teleop.core.robot import HandSpec, RobotModel

from .conftest import SHIPPED

Models = Callable[[str], RobotModel]
HANDED = ["g1", "talos", "romeo", "alex"]


@pytest.mark.parametrize("name", SHIPPED)
def test_clamp_output_is_within_limits(robot_model: Models, name: str) -> None:
    """For any finite q, clamp(q) lies within [lower, upper] for every joint."""
    model = robot_model(name)

    @settings(max_examples=50, deadline=None)
    @given(arrays(np.float64, model.nq, elements=st.floats(-1e6, 1e6)))
    def check(q: np.ndarray) -> None:
        clamped = model.clamp(q)
        assert np.all(clamped >= model.limits.lower) and np.all(clamped <= model.limits.upper)

    check()


@pytest.mark.parametrize("name", HANDED)
def test_grasp_positions_are_within_limits(robot_model: Models, name: str) -> None:
    """For any closure (even out of [0, 1] or infinite) hand positions stay within limits."""
    model = robot_model(name)

    @settings(max_examples=50, deadline=None)
    @given(st.floats(allow_nan=False))
    def check(closure: float) -> None:
        for hand in model.description.hands.values():
            assert hand.group is not None
            idx = model.group_indices(hand.group)
            positions = np.array(hand.grasp_positions(closure))
            assert np.all(positions >= model.limits.lower[idx] - 1e-9)
            assert np.all(positions <= model.limits.upper[idx] + 1e-9)

    check()


@pytest.mark.parametrize("name", HANDED)
def test_closure_of_inverts_grasp_positions(robot_model: Models, name: str) -> None:
    """closure_of(grasp_positions(c)) == c on [0, 1], clipped outside the open -> closed
    line; closures_of gives the same per row."""
    for hand in robot_model(name).description.hands.values():
        closures = np.linspace(0.0, 1.0, 11)
        rows = np.array([hand.grasp_positions(c) for c in closures])
        assert [hand.closure_of(r) for r in rows] == pytest.approx(closures, abs=1e-12)
        np.testing.assert_allclose(hand.closures_of(rows), closures, atol=1e-12)
        opened, closed = np.array(hand.open_positions), np.array(hand.closed_positions)
        assert hand.closure_of(closed + (closed - opened)) == 1.0
        assert hand.closure_of(opened - (closed - opened)) == 0.0


def test_closure_of_a_hand_without_travel_is_zero() -> None:
    """A hand whose open and closed positions are the same has no closure line: 0."""
    hand = HandSpec(side="left", kind="gripper", group="g", open_positions=(0.1, 0.2),
                    closed_positions=(0.1, 0.2))  # fmt: skip
    assert hand.closure_of([0.3, 0.4]) == 0.0
    np.testing.assert_array_equal(hand.closures_of([[0.3, 0.4], [0.1, 0.2]]), [0.0, 0.0])


def test_nan_closure_is_refused(robot_model: Models) -> None:
    """A NaN grasp closure raises instead of producing a command."""
    hand = robot_model("g1").description.hands["left"]
    with pytest.raises(ValueError, match="left hand closure is NaN"):
        hand.grasp_positions(float("nan"))


def test_nan_q_is_refused_by_clamp(robot_model: Models) -> None:
    """clamp() refuses a NaN rather than passing it through np.clip."""
    model = robot_model("g1")
    q = model.home_positions()
    q[0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        model.clamp(q)
