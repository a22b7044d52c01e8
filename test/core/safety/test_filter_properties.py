"""Property tests: no input sequence makes the filter leave position or velocity limits."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.robot import JointLimits
from humanoid_teleop.core.safety import SafetyConfig, SafetyFilter
from humanoid_teleop.core.safety.filter import MoveLimits
from humanoid_teleop.core.safety.move_kernel import limited_move

LIMITS = JointLimits.from_arrays(
    ("shoulder", "elbow", "wrist", "finger"),
    lower=(-2.0, 0.0, -0.5, 0.0),
    upper=(2.0, 2.5, 0.5, 0.02),
    velocity=(2.0, 3.0, 1.0, 0.1),
    acceleration=(20.0, np.inf, 5.0, 1.0),
)
CONFIG = SafetyConfig(position_margin_rad=0.02)

SPECIAL = np.array([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0, 5e-324, -3.5])
EVENTS = ("none", "none", "none", "estop", "reset", "disengage", "engage")
STEP_BYTES = 6 * 8 + 6


def _value(raw: bytes, mode: int) -> float:
    """One float from 8 bytes: any bit pattern, a value in [-3, 3], or a special value."""
    bits = float(np.frombuffer(raw, dtype=np.float64)[0])
    word = int.from_bytes(raw[:2], "little")
    if mode % 3 == 0:
        return bits
    if mode % 3 == 1:
        return -3.0 + 6.0 * word / 65535.0
    return float(SPECIAL[word % len(SPECIAL)])


def _decode(blob: bytes) -> list[tuple[np.ndarray | None, float, float, bool, str]]:
    """Steps of (target or None, time step [s], input age [s], deadman, operator event).

    Each step is 54 bytes, so hypothesis draws (and shrinks) one byte string per example
    and every float64 bit pattern -- NaN, inf, huge, denormal -- is reachable.
    """
    steps = []
    for k in range(len(blob) // STEP_BYTES):
        chunk = blob[k * STEP_BYTES : (k + 1) * STEP_BYTES]
        modes = chunk[48:]
        goal = np.array([_value(chunk[8 * i : 8 * i + 8], modes[0] >> i) for i in range(4)])
        dt = _value(chunk[32:40], modes[1])
        if modes[1] % 3 == 1:
            dt /= 6.0  # mostly time steps in [-0.5, 0.5] s
        age = _value(chunk[40:48], modes[2])
        target = None if modes[3] % 7 == 0 else goal
        steps.append((target, dt, age, bool(modes[4] % 4), EVENTS[modes[5] % len(EVENTS)]))
    return steps


measured = st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4).map(np.array)


def _check(command: np.ndarray, previous: np.ndarray | None, dt: float) -> None:
    lo, hi = LIMITS.inner_bounds(CONFIG.position_margin_rad)
    assert np.all(command >= lo - 1e-12) and np.all(command <= hi + 1e-12), command
    if previous is not None:
        with np.errstate(over="ignore"):  # a huge random time step may allow "inf"
            allowed = LIMITS.velocity * max(dt, 0.0) * (1 + 1e-9) + 1e-12
        assert np.all(np.abs(command - previous) <= allowed), (command, previous, dt)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=measured,
    steps=st.binary(min_size=STEP_BYTES, max_size=6 * STEP_BYTES).map(_decode),
)
def test_commands_stay_within_position_and_velocity_limits(
    start: np.ndarray, steps: list[tuple[np.ndarray | None, float, float, bool, str]]
) -> None:
    """Any mix of NaN/inf/huge targets, stale or future input, reversed time and e-stops."""
    safety = SafetyFilter(CONFIG, LIMITS)
    t = 0.0
    safety.engage(start, t)
    previous: np.ndarray | None = None
    previous_t = t
    for goal, dt, age, deadman, event in steps:
        if event == "estop":
            safety.estop()
        elif event == "reset":
            safety.reset_estop()
        elif event == "disengage":
            safety.disengage()
        elif event == "engage" and not safety.state.estopped and previous is not None:
            safety.engage(previous, t)
        t = t + dt if math.isfinite(dt) else dt
        command, report = safety.step(goal, t, t - age, deadman)
        assert command is not None
        if previous is None:
            _check(command, None, 0.0)
        else:
            elapsed = t - previous_t if math.isfinite(t) else 0.0
            if not math.isfinite(t) or elapsed <= 0.0:
                assert np.array_equal(command, previous), "time did not advance but command moved"
            _check(command, previous, elapsed)
        if report.hold_reason is not None and previous is not None:
            assert np.array_equal(command, previous)
        previous = command
        if math.isfinite(t) and (previous_t is None or t > previous_t):
            previous_t = t
        else:
            t = previous_t


@settings(max_examples=500, deadline=None)
@given(start=measured, goal=st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4).map(np.array))
def test_engage_ramp_never_exceeds_engage_speed(start: np.ndarray, goal: np.ndarray) -> None:
    """While ramping after engage, no joint moves faster than the engage speed."""
    config = SafetyConfig(engage_speed_rad_s=0.3, max_step_s=0.05)
    safety = SafetyFilter(config, LIMITS)
    safety.engage(start, 0.0)
    previous = safety.state.command
    assert previous is not None
    for k in range(1, 30):
        t = k * 0.01
        command, report = safety.step(goal, t, t)
        assert command is not None
        if not report.ramping:
            break
        assert np.all(np.abs(command - previous) <= 0.3 * 0.01 + 1e-12)
        previous = command


@settings(max_examples=300, deadline=None)
@given(start=measured, goal=st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4).map(np.array))
def test_engage_ramp_to_a_still_target_moves_at_the_engage_speed_cap(
    start: np.ndarray, goal: np.ndarray
) -> None:
    """A still target ramps exactly as a move capped at min(velocity limit, engage speed)."""
    config = SafetyConfig(engage_speed_rad_s=0.3, max_step_s=0.05)
    safety = SafetyFilter(config, LIMITS)
    bounds = MoveLimits.of(config, LIMITS)
    safety.engage(start, 0.0)
    expected, velocity = safety.state.command, np.zeros(4)
    assert expected is not None
    for k in range(1, 30):
        t = k * 0.01
        command, report = safety.step(goal, t, t)
        moves, _kinds, _residual = limited_move(
            expected,
            velocity,
            goal,
            bounds.lower,
            bounds.upper,
            bounds.vmax_ramping,
            bounds.amax,
            t - (k - 1) * 0.01,  # the filter's step: the difference of the two times
        )
        expected, velocity = moves[0], moves[1]
        assert np.array_equal(command, expected)
        if not report.ramping:
            break


targets = st.lists(
    st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4).map(np.array), min_size=2, max_size=30
)


@settings(max_examples=500, deadline=None)
@given(start=measured, path=targets)
def test_engage_ramp_gains_on_a_moving_target_at_most_at_engage_speed(
    start: np.ndarray, path: list[np.ndarray]
) -> None:
    """While ramping, a joint moves at most engage speed plus its goal's own speed, and never
    beyond its velocity limit."""
    config = SafetyConfig(engage_speed_rad_s=0.3, max_step_s=0.05)
    safety = SafetyFilter(config, LIMITS)
    lo, hi = LIMITS.inner_bounds(config.position_margin_rad)
    safety.engage(start, 0.0)
    previous, last_goal = safety.state.command, None
    assert previous is not None
    for k, target in enumerate(path, start=1):
        command, report = safety.step(target, k * 0.01, k * 0.01)
        assert command is not None
        goal = np.clip(target, lo, hi)
        goal_step = np.zeros(4) if last_goal is None else np.abs(goal - last_goal)
        allowed = np.minimum(LIMITS.velocity * 0.01, 0.3 * 0.01 + goal_step) * (1 + 1e-9)
        assert np.all(np.abs(command - previous) <= allowed + 1e-12), (command, previous)
        if not report.ramping:
            break
        previous, last_goal = command, goal
