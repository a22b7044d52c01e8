"""JointLimits: validation, the motion view shared by safety and sim, and the model's limits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from humanoid_teleop.core.robot import (
    DEFAULT_VELOCITY_RAD_S,
    JointLimits,
    JointLimitsError,
    RobotModel,
)
from humanoid_teleop.core.robot.limits import UNBOUNDED_POSITION_RAD

from .conftest import SHIPPED

Models = Callable[[str], RobotModel]


def test_reversed_range_is_refused_naming_the_joint() -> None:
    """Lower above upper is refused naming the joint."""
    with pytest.raises(JointLimitsError, match="elbow: position limits"):
        JointLimits.from_arrays(("elbow",), (1.0,), (0.0,), (1.0,))


def test_negative_velocity_is_refused_naming_the_joint() -> None:
    """A velocity below 0 is refused (0 alone means "not given")."""
    with pytest.raises(JointLimitsError, match=r"wrist: velocity -1\.0"):
        JointLimits.from_arrays(("wrist",), (-1.0,), (1.0,), (-1.0,))


def test_wrong_array_length_is_refused() -> None:
    """An array whose length is not the number of names is refused naming the field."""
    with pytest.raises(JointLimitsError, match=r"upper has shape \(1,\), need \(2,\)"):
        JointLimits(("a", "b"), np.zeros(2), np.zeros(1), np.ones(2), np.ones(2), np.zeros(2))


def test_for_motion_fills_unbounded_joints_and_missing_velocities() -> None:
    """Infinite bounds become ±UNBOUNDED_POSITION_RAD and velocity 0 the one default."""
    raw = JointLimits.from_arrays(("a", "b"), (-1.0, -np.inf), (1.0, np.inf), (2.0, 0.0))
    motion = raw.for_motion()
    np.testing.assert_array_equal(motion.lower, [-1.0, -UNBOUNDED_POSITION_RAD])
    np.testing.assert_array_equal(motion.upper, [1.0, UNBOUNDED_POSITION_RAD])
    np.testing.assert_array_equal(motion.velocity, [2.0, DEFAULT_VELOCITY_RAD_S])
    assert raw.velocity_not_given == ("b",)
    assert motion.fit_for_motion and not raw.fit_for_motion


def test_require_for_motion_names_the_user_and_the_joint() -> None:
    """Raw limits with a velocity of 0 are refused naming who needs them and the joint."""
    raw = JointLimits.from_arrays(("a",), (-1.0,), (1.0,), (0.0,))
    with pytest.raises(JointLimitsError, match=r"for the joint integrator: a: velocity 0\.0"):
        raw.require_for_motion("the joint integrator")


def test_select_keeps_every_field_of_the_chosen_joints() -> None:
    """select() picks names and every array by index."""
    limits = JointLimits.from_arrays(
        ("a", "b", "c"), (-1.0, -2.0, -3.0), (1.0, 2.0, 3.0), (1.0, 2.0, 3.0), effort=(4, 5, 6)
    )
    part = limits.select(np.array([2, 0], dtype=np.intp))
    assert part.names == ("c", "a")
    np.testing.assert_array_equal(part.upper, [3.0, 1.0])
    np.testing.assert_array_equal(part.effort, [6.0, 4.0])


@pytest.mark.parametrize("name", SHIPPED)
def test_model_motion_limits_are_its_limits_for_motion(robot_model: Models, name: str) -> None:
    """Every shipped robot's motion_limits are fit for motion and keep its finite limits."""
    model = robot_model(name)
    motion = model.motion_limits
    assert motion.fit_for_motion
    assert motion.names == model.joint_names == model.limits.names
    finite = np.isfinite(model.limits.lower)
    np.testing.assert_array_equal(motion.lower[finite], model.limits.lower[finite])
    given = model.limits.velocity > 0
    np.testing.assert_array_equal(motion.velocity[given], model.limits.velocity[given])
