"""The joint integrator: limits, first-order lag, bad commands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.robot import JointLimits, JointLimitsError
from humanoid_teleop.core.sim import InvalidCommand, JointIntegrator, SimConfigError

NAMES = ("shoulder", "elbow")


def _limits(
    velocity: float = 2.0, acceleration: float = 10.0, lower: float = -2.0, upper: float = 2.0
) -> JointLimits:
    return JointLimits.from_arrays(
        NAMES,
        lower=np.full(2, lower),
        upper=np.full(2, upper),
        velocity=np.full(2, velocity),
        acceleration=np.full(2, acceleration),
    )


def _run(integrator: JointIntegrator, seconds: float, dt_s: float) -> list[np.ndarray]:
    return [integrator.step(dt_s) for _ in range(round(seconds / dt_s))]


def test_joints_hold_their_start_until_commanded() -> None:
    """Without a command the joints stay exactly at the initial positions."""
    integrator = JointIntegrator(_limits(), [0.3, -0.4], lag_s=0.05)
    _run(integrator, 1.0, 0.004)
    np.testing.assert_array_equal(integrator.positions, [0.3, -0.4])


def test_velocity_never_exceeds_the_joint_limit() -> None:
    """A far target is approached no faster than the velocity limit."""
    integrator = JointIntegrator(_limits(velocity=1.5), [0.0, 0.0], lag_s=0.0)
    integrator.set_targets(NAMES, [1.9, -1.9])
    speeds = []
    for _ in range(500):
        integrator.step(0.004)
        speeds.append(np.abs(integrator.velocities).max())
    assert max(speeds) == pytest.approx(1.5)


def test_speed_ramps_up_at_the_acceleration_limit() -> None:
    """From rest, speed grows by at most acceleration·dt per step."""
    integrator = JointIntegrator(_limits(acceleration=5.0), [0.0, 0.0], lag_s=0.0)
    integrator.set_targets(NAMES, [1.0, 1.0])
    integrator.step(0.01)
    np.testing.assert_allclose(integrator.velocities, [0.05, 0.05])


def test_first_order_lag_has_the_configured_time_constant() -> None:
    """With loose limits, after one time constant 1/e of a small step remains."""
    integrator = JointIntegrator(_limits(velocity=100.0, acceleration=1e6), [0.0, 0.0], 0.1)
    integrator.set_targets(NAMES, [0.1, 0.1])
    _run(integrator, 0.1, 0.0005)
    remaining = 0.1 - integrator.positions[0]
    assert remaining / 0.1 == pytest.approx(math.exp(-1.0), abs=0.01)


def test_lag_converges_onto_the_target() -> None:
    """Given time, every joint settles on its commanded position."""
    integrator = JointIntegrator(_limits(), [0.0, 0.0], lag_s=0.05)
    integrator.set_targets(NAMES, [1.2, -0.7])
    _run(integrator, 3.0, 0.004)
    np.testing.assert_allclose(integrator.positions, [1.2, -0.7], atol=1e-6)
    np.testing.assert_allclose(integrator.velocities, [0.0, 0.0], atol=1e-4)


def test_acceleration_limited_joint_stops_without_overshoot() -> None:
    """Braking starts early enough that the position never passes the target."""
    integrator = JointIntegrator(_limits(velocity=3.0, acceleration=4.0), [0.0, 0.0], 0.0)
    integrator.set_targets(NAMES, [1.5, 1.5])
    trace = _run(integrator, 3.0, 0.004)
    assert max(q[0] for q in trace) <= 1.5 + 1e-12
    assert trace[-1][0] == pytest.approx(1.5)


def test_targets_outside_the_limits_are_clamped() -> None:
    """A command beyond the upper limit drives the joint to the limit, not past it."""
    integrator = JointIntegrator(_limits(upper=1.0), [0.0, 0.0], lag_s=0.02)
    integrator.set_targets(("elbow",), [5.0])
    _run(integrator, 3.0, 0.004)
    assert integrator.positions[1] == pytest.approx(1.0)
    assert integrator.targets[1] == 1.0


def test_partial_command_leaves_other_joints_alone() -> None:
    """Commanding one joint keeps the other joint's target unchanged."""
    integrator = JointIntegrator(_limits(), [0.2, 0.4], lag_s=0.02)
    integrator.set_targets(("shoulder",), [1.0])
    _run(integrator, 2.0, 0.004)
    assert integrator.positions[1] == 0.4


def test_nan_command_is_rejected_and_changes_nothing() -> None:
    """A NaN in a command raises InvalidCommand naming the joint, and the target is kept."""
    integrator = JointIntegrator(_limits(), [0.0, 0.0], lag_s=0.02)
    with pytest.raises(InvalidCommand, match="non-finite position for joints \\['elbow'\\]"):
        integrator.set_targets(NAMES, [0.5, float("nan")])
    np.testing.assert_array_equal(integrator.targets, [0.0, 0.0])


def test_unknown_joint_in_command_is_rejected() -> None:
    """A command naming a joint the robot does not have raises InvalidCommand."""
    integrator = JointIntegrator(_limits(), [0.0, 0.0], lag_s=0.02)
    with pytest.raises(InvalidCommand, match="unknown joints \\['wrist'\\]"):
        integrator.set_targets(("wrist",), [0.5])


def test_command_length_mismatch_is_rejected() -> None:
    """Fewer values than joint names raises InvalidCommand."""
    integrator = JointIntegrator(_limits(), [0.0, 0.0], lag_s=0.02)
    with pytest.raises(InvalidCommand, match="1 values for 2 joints"):
        integrator.set_targets(NAMES, [0.5])


def test_zero_velocity_limit_is_a_config_error() -> None:
    """Limits with a joint whose velocity limit is 0 (not for motion) are refused by name."""
    limits = JointLimits.from_arrays(NAMES, [-1.0, -1.0], [1.0, 1.0], [1.0, 0.0])
    with pytest.raises(JointLimitsError, match=r"joint integrator: elbow: velocity 0\.0"):
        JointIntegrator(limits, [0.0, 0.0], lag_s=0.0)


def test_negative_lag_is_a_config_error() -> None:
    """A negative lag time constant is refused."""
    with pytest.raises(SimConfigError, match=r"lag_s=-0\.1"):
        JointIntegrator(_limits(), [0.0, 0.0], lag_s=-0.1)


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), min_size=1, max_size=8),
    dt_s=st.floats(0.0005, 0.05),
    lag_s=st.floats(0.0, 0.3),
)
def test_no_command_sequence_breaks_any_limit(
    targets: list[tuple[float, float]], dt_s: float, lag_s: float
) -> None:
    """Whatever is commanded, positions, speeds and speed changes stay within limits."""
    limits = _limits(velocity=1.0, acceleration=6.0, lower=-1.0, upper=1.5)
    integrator = JointIntegrator(limits, [0.0, 0.0], lag_s=lag_s)
    previous = integrator.velocities
    for target in targets:
        integrator.set_targets(NAMES, target)
        for _ in range(20):
            q = integrator.step(dt_s)
            v = integrator.velocities
            assert np.all(q >= -1.0) and np.all(q <= 1.5)
            assert np.all(np.abs(v) <= 1.0 + 1e-9)
            at_limit = (q == -1.0) | (q == 1.5)
            dv = np.abs(v - previous)[~at_limit]
            assert np.all(dv <= 6.0 * dt_s + 1e-9)
            previous = v
