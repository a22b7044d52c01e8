"""The virtual table: force only under the top, spring-damper, friction, sensor-frame wrench."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.sim import SimConfigError, TableConfig, TableContact

TABLE = TableConfig(height_m=0.0, stiffness_n_m=1000.0, damping_n_s_m=20.0, friction=0.5)
STILL = np.zeros(3)


def test_no_force_above_the_table() -> None:
    """A point 1 mm above the top feels nothing."""
    force = TableContact(TABLE).force_on_point(np.array([0.5, 0.0, 0.001]), STILL)
    np.testing.assert_array_equal(force, np.zeros(3))


def test_no_force_below_the_top_but_beside_the_table() -> None:
    """A point below the top height but outside the rectangle feels nothing."""
    force = TableContact(TABLE).force_on_point(np.array([0.05, 0.0, -0.02]), STILL)
    np.testing.assert_array_equal(force, np.zeros(3))


def test_penetration_pushes_up_like_a_spring() -> None:
    """2 cm into a 1000 N/m table at rest gives 20 N straight up."""
    force = TableContact(TABLE).force_on_point(np.array([0.5, 0.0, -0.02]), STILL)
    np.testing.assert_allclose(force, [0.0, 0.0, 20.0])


def test_pressing_down_adds_damping() -> None:
    """Moving down at 0.5 m/s adds 20 N·s/m × 0.5 m/s = 10 N to the spring force."""
    force = TableContact(TABLE).force_on_point(
        np.array([0.5, 0.0, -0.02]), np.array([0.0, 0.0, -0.5])
    )
    assert force[2] == pytest.approx(30.0)


def test_table_never_pulls_a_hand_that_lifts_off_fast() -> None:
    """Damping cannot make the normal force negative while leaving the surface."""
    force = TableContact(TABLE).force_on_point(
        np.array([0.5, 0.0, -0.001]), np.array([0.0, 0.0, 3.0])
    )
    np.testing.assert_array_equal(force, np.zeros(3))


def test_sliding_feels_coulomb_friction_against_the_motion() -> None:
    """Sliding along +x at 0.2 m/s gives −μ·N along x."""
    force = TableContact(TABLE).force_on_point(
        np.array([0.5, 0.0, -0.02]), np.array([0.2, 0.0, 0.0])
    )
    np.testing.assert_allclose(force, [-10.0, 0.0, 20.0])


def test_wrench_is_expressed_in_the_sensor_frame_about_its_origin() -> None:
    """A sensor 10 cm above the contact, rotated 90° about z, sees the force and lever torque."""
    contact = TableContact(TABLE)
    yaw90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    point = np.array([0.5, 0.0, -0.02])
    wrench = contact.wrench_at(
        yaw90, np.array([0.5, 0.0, 0.08]), [point], [np.array([0.2, 0.0, 0.0])]
    )
    # base frame: f = (-10, 0, 20) at r = (0, 0, -0.1) → τ = r × f = (0, 1, 0)
    np.testing.assert_allclose(wrench.force_n, [0.0, 10.0, 20.0], atol=1e-12)
    np.testing.assert_allclose(wrench.torque_nm, [1.0, 0.0, 0.0], atol=1e-12)


def test_config_rejects_an_empty_rectangle() -> None:
    """x_min_m >= x_max_m is refused with both values when the contact is built."""
    with pytest.raises(SimConfigError, match=r"x_min_m=1\.0 must be < x_max_m=0\.5"):
        TableContact(TableConfig(height_m=0.0, x_min_m=1.0, x_max_m=0.5))


def test_normal_force_saturates_like_a_sensor() -> None:
    """A hand 1 m deep in a 1000 N/m table reads the 100 N maximum, not 1000 N."""
    force = TableContact(TABLE).force_on_point(np.array([0.5, 0.0, -1.0]), STILL)
    np.testing.assert_allclose(force, [0.0, 0.0, 100.0])


@settings(max_examples=200, deadline=None)
@given(
    point=st.tuples(st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2)),
    velocity=st.tuples(st.floats(-10, 10), st.floats(-10, 10), st.floats(-10, 10)),
)
def test_table_only_pushes_up_and_never_beyond_its_limit(
    point: tuple[float, float, float], velocity: tuple[float, float, float]
) -> None:
    """For any point and velocity: no pull, normal ≤ max_force_n, friction ≤ μ·normal."""
    force = TableContact(TABLE).force_on_point(np.array(point), np.array(velocity))
    assert 0.0 <= force[2] <= TABLE.max_force_n
    assert np.hypot(force[0], force[1]) <= TABLE.friction * force[2] + 1e-9
    if point[2] > TABLE.height_m:
        np.testing.assert_array_equal(force, 0.0)
