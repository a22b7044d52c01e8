"""Safety filter behaviours: engage ramp, e-stop latch, deadman, stale input, NaN frames."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.robot import JointLimits, JointLimitsError
from humanoid_teleop.core.safety import (
    SafetyConfig,
    SafetyConfigError,
    SafetyError,
    SafetyFilter,
    SafetyReport,
)

LIMITS = JointLimits.from_arrays(("a", "b"), (-1.0, -1.0), (1.0, 1.0), (1.0, 2.0))


def _engaged(config: SafetyConfig | None = None, start: float = 0.0) -> SafetyFilter:
    safety = SafetyFilter(config or SafetyConfig(), LIMITS)
    safety.engage(np.array([start, start]), 0.0)
    return safety


def test_far_first_target_ramps_at_engage_speed() -> None:
    """A target 0.8 rad away after engage is approached at engage_speed, not in one jump."""
    safety = _engaged(SafetyConfig(engage_speed_rad_s=0.5))
    command, report = safety.step(np.array([0.8, 0.0]), 0.01, 0.01)
    assert command is not None
    assert command[0] == pytest.approx(0.005)
    assert report.ramping is True


def test_ramp_ends_at_the_target_then_full_speed_applies() -> None:
    """Once the ramp reaches the target, the joint may move at its velocity limit."""
    safety = _engaged(SafetyConfig(engage_speed_rad_s=0.5, engage_tolerance_rad=0.01))
    t = 0.0
    report = None
    for _ in range(300):
        t += 0.01
        _command, report = safety.step(np.array([0.3, 0.0]), t, t)
        if not report.ramping:
            break
    assert report is not None and report.ramping is False
    before = safety.state.command
    assert before is not None
    command, _report = safety.step(np.array([0.9, 0.0]), t + 0.01, t + 0.01)
    assert command is not None
    assert command[0] - before[0] == pytest.approx(0.01)


def test_close_first_target_ends_ramp_at_once() -> None:
    """A first target within the engage tolerance needs no ramp."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=0.05))
    _command, report = safety.step(np.array([0.001, 0.0]), 0.01, 0.01)
    assert report.ramping is False


FAST = JointLimits.from_arrays(("a", "b"), (-3.0, -3.0), (3.0, 3.0), (3.0, 3.0))


def _ramp_to_moving_target(speed_rad_s: float, steps: int) -> tuple[list[float], list[bool]]:
    """Engage at 0 and follow a target 0.8 rad ahead moving at ``speed_rad_s`` on joint a
    (100 Hz); returns joint a's commands (the engage command first) and the ramp flags."""
    safety = SafetyFilter(SafetyConfig(engage_speed_rad_s=0.5), FAST)
    safety.engage(np.zeros(2), 0.0)
    commands, ramping = [0.0], []
    for k in range(1, steps + 1):
        t = 0.01 * k
        command, report = safety.step(np.array([0.8 + speed_rad_s * t, 0.0]), t, t)
        assert command is not None
        commands.append(float(command[0]))
        ramping.append(report.ramping)
    return commands, ramping


def test_ramp_ends_while_the_target_moves_faster_than_engage_speed() -> None:
    """A target 0.8 rad away moving at 1 rad/s (twice the engage speed) is caught: the ramp
    ends within gap / engage speed (1.6 s) plus 0.1 s."""
    _commands, ramping = _ramp_to_moving_target(1.0, 400)
    ended = ramping.index(False) if False in ramping else None
    assert ended is not None and 0.01 * (ended + 1) <= 0.8 / 0.5 + 0.1, ended
    assert not any(ramping[ended:])


def test_ramp_to_a_fast_target_never_exceeds_the_velocity_limit() -> None:
    """A target moving at 5 rad/s (beyond the 3 rad/s limit) is followed at most at the
    velocity limit on every step of the ramp."""
    commands, _ramping = _ramp_to_moving_target(5.0, 100)
    assert np.max(np.abs(np.diff(commands))) <= 3.0 * 0.01 * (1 + 1e-9)


def test_estop_latches_until_reset_and_engage() -> None:
    """After e-stop the command holds; reset alone does not move; engage again does."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=0.5))
    held, _ = safety.step(np.array([0.2, 0.0]), 0.01, 0.01)
    safety.estop()
    command, report = safety.step(np.array([0.4, 0.0]), 0.02, 0.02)
    assert np.array_equal(command, held) and report.hold_reason == "e-stop latched"
    safety.reset_estop()
    command, report = safety.step(np.array([0.4, 0.0]), 0.03, 0.03)
    assert np.array_equal(command, held) and report.hold_reason == "disengaged"
    assert held is not None
    safety.engage(held, 0.03)
    command, report = safety.step(np.array([0.4, 0.0]), 0.04, 0.04)
    assert report.hold_reason is None and command is not None and command[0] > held[0]


def test_engage_refused_while_estop_latched() -> None:
    """engage() raises while the e-stop latch is set."""
    safety = _engaged()
    safety.estop()
    with pytest.raises(SafetyError, match="e-stop is latched"):
        safety.engage(np.zeros(2), 1.0)


def test_engage_refuses_nan_measured_state_naming_joint() -> None:
    """A NaN in the measured state at engage names the joint."""
    safety = SafetyFilter(SafetyConfig(), LIMITS)
    with pytest.raises(SafetyError, match="not finite for b"):
        safety.engage(np.array([0.0, np.nan]), 0.0)


def test_released_deadman_holds() -> None:
    """A released deadman holds the last command."""
    safety = _engaged(SafetyConfig())
    command, report = safety.step(np.array([0.5, 0.5]), 0.01, 0.01, deadman_pressed=False)
    assert report.hold_reason == "deadman released"
    assert np.array_equal(command, np.zeros(2))


def test_stale_input_holds_naming_age() -> None:
    """Input older than the timeout holds the command and reports its age."""
    safety = _engaged(SafetyConfig(stale_timeout_s=0.2))
    _command, report = safety.step(np.array([0.5, 0.5]), 1.0, 0.5)
    assert report.hold_reason is not None
    assert "stale (age 0.500 s" in report.hold_reason


def test_nan_target_holds_last_good_target() -> None:
    """A NaN frame is rejected and the filter keeps moving toward the last finite target."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=1.0))
    first, _ = safety.step(np.array([0.5, 0.0]), 0.01, 0.01)
    second, report = safety.step(np.array([np.nan, 0.0]), 0.02, 0.02)
    assert report.rejected_nonfinite is True
    assert first is not None and second is not None and second[0] > first[0]


def test_reversed_time_does_not_move() -> None:
    """A step with an earlier time than the last command repeats the last command."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=1.0))
    first, _ = safety.step(np.array([0.5, 0.0]), 0.05, 0.05)
    second, report = safety.step(np.array([0.9, 0.0]), 0.04, 0.04)
    assert np.array_equal(first, second)
    assert report.hold_reason == "time did not advance"


def test_target_beyond_limits_is_clamped_and_reported() -> None:
    """A target past the upper limit stops at limit - margin and names the joint."""
    safety = _engaged(SafetyConfig(position_margin_rad=0.1, engage_tolerance_rad=5.0))
    t = 0.0
    for _ in range(200):
        t += 0.01
        command, report = safety.step(np.array([5.0, 0.0]), t, t)
    assert command is not None and command[0] == pytest.approx(0.9)
    assert report.position_clamped == ("a",)


def test_velocity_clamp_is_reported() -> None:
    """A step wanting more than the velocity limit names the joint as velocity-clamped."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=5.0, engage_speed_rad_s=10.0))
    _command, report = safety.step(np.array([0.5, 0.0]), 0.01, 0.01)
    assert report.velocity_clamped == ("a",)


def test_config_rejects_unknown_key_listing_allowed() -> None:
    """An unknown safety key names the file and the allowed keys."""
    with pytest.raises(
        SafetyConfigError,
        match=r"vr\.yaml: safety\.speed: unknown key 'speed'; allowed keys: position_margin_rad",
    ):
        SafetyConfig.from_dict({"speed": 1.0}, "vr.yaml")


def test_config_rejects_velocity_scale_above_one() -> None:
    """velocity_scale 2 is refused with its allowed range."""
    with pytest.raises(
        SafetyConfigError, match=r"vr\.yaml: safety\.velocity_scale: 2\.0: need 0 < value <= 1"
    ):
        SafetyConfig.from_dict({"velocity_scale": 2}, "vr.yaml")


def test_filter_refuses_limits_unfit_for_motion() -> None:
    """Limits with an infinite bound (a model's raw limits) are refused naming the joint."""
    limits = JointLimits.from_arrays(("a", "b"), (-1.0, -np.inf), (1.0, np.inf), (1.0, 1.0))
    with pytest.raises(JointLimitsError, match=r"safety filter: b: position limits"):
        SafetyFilter(SafetyConfig(), limits)


def test_a_reused_target_array_turning_nan_holds_the_last_finite_target() -> None:
    """Callers (the pipeline) write each step's target into the same array: a later NaN in
    it must not reach the stored last finite target the filter falls back to."""
    limits = JointLimits.from_arrays(["a", "b"], [-1.0, -1.0], [1.0, 1.0], [10.0, 10.0])
    flt = SafetyFilter(SafetyConfig(engage_speed_rad_s=10.0), limits)
    flt.engage(np.zeros(2), 0.0)
    target = np.array([0.2, -0.2])
    flt.step(target, 0.01, 0.01)
    target[:] = np.nan
    command, report = flt.step(target, 0.02, 0.02)
    assert report.rejected_nonfinite
    assert command is not None and np.isfinite(command).all()
    np.testing.assert_allclose(command, [0.2, -0.2], atol=1e-9)


def test_held_joints_repeat_their_command_while_the_others_move() -> None:
    """A held joint keeps its last command (velocity 0), the other joint follows its target."""
    safety = _engaged(SafetyConfig(engage_tolerance_rad=0.5))
    t = 0.0
    for _ in range(20):
        t += 0.01
        safety.step(np.array([0.3, 0.3]), t, t)
    before = safety.state.command
    assert before is not None
    command, report = safety.step(
        np.array([0.9, 0.9]), t + 0.01, t + 0.01, held=np.array([True, False])
    )
    assert command is not None and report.hold_reason is None
    assert command[0] == before[0] and command[1] > before[1]
    assert safety.state.velocity is not None and safety.state.velocity[0] == 0.0


def test_future_tolerance_must_be_positive() -> None:
    """safety.future_tolerance_s = 0 is refused naming the key."""
    with pytest.raises(SafetyConfigError, match="future_tolerance_s"):
        SafetyConfig.from_dict({"future_tolerance_s": 0}, "p.yaml")


BRAKED = JointLimits.from_arrays(("a",), (-3.0,), (3.0,), (2.0,), acceleration=(10.0,))


def _follow(path: list[float], dt: float = 0.004) -> list[tuple[float, float, SafetyReport]]:
    """(target, command, report) of each step following ``path`` [rad] from 0 at rest."""
    safety = SafetyFilter(SafetyConfig(engage_tolerance_rad=1.0), BRAKED)
    safety.engage(np.zeros(1), 0.0)
    out = []
    for k, target in enumerate(path, start=1):
        command, report = safety.step(np.array([target]), k * dt, k * dt)
        assert command is not None
        out.append((target, float(command[0]), report))
    return out


def test_a_joint_lags_a_moving_target_by_its_braking_distance() -> None:
    """A target moving at 0.5 rad/s is followed at its speed, v^2 / (2 amax) behind (each
    step brakes for a stop at the goal: it assumes the goal stands), and the limit named is
    the acceleration, not the velocity limit the joint is far below."""
    speed, dt = 0.5, 0.004
    steps = _follow([speed * dt * k for k in range(1, 501)], dt)
    lag = speed**2 / (2 * 10.0)
    for target, command, report in steps[250:]:
        assert lag - speed * dt <= target - command <= lag + speed * dt
        assert report.acceleration_clamped == ("a",) and report.velocity_clamped == ()


@pytest.mark.parametrize("stop", [2.93, 2.98, 3.5])
def test_a_target_that_stops_is_passed_by_at_most_a_step(stop: float) -> None:
    """A target moving at 1 rad/s that stops before, at or beyond the upper bound (2.98
    with the margin) is passed by at most one step's travel (the braking speed is that of a
    continuous stop; the steps add ~v dt / 2), and no command leaves the bounds."""
    dt = 0.004
    path = [min(1.0 * dt * k + 2.0, stop) for k in range(1, 1001)]
    safety = SafetyFilter(SafetyConfig(engage_tolerance_rad=5.0), BRAKED)
    safety.engage(np.array([2.0]), 0.0)
    commands = []
    for k, target in enumerate(path, start=1):
        command, _report = safety.step(np.array([target]), k * dt, k * dt)
        assert command is not None
        commands.append(float(command[0]))
    assert max(commands) <= min(stop, 2.98) + 1.0 * dt
    assert max(commands) <= 2.98 + 1e-12
    assert commands[-1] == pytest.approx(min(stop, 2.98), abs=1e-9)


def test_a_steps_state_and_report_equal_the_constructors() -> None:
    """The state and report a step builds without the dataclass __init__ (frozen_record)
    equal the ones its constructor builds from the same fields, and have every field."""
    from dataclasses import fields

    from humanoid_teleop.core.safety.filter import SafetyState

    safety = _engaged(SafetyConfig(position_margin_rad=0.1, engage_tolerance_rad=5.0))
    _command, report = safety.step(np.array([5.0, -0.5]), 0.01, 0.01)
    assert report.position_clamped == ("a",) and report.velocity_clamped == ("a", "b")
    for built, cls in ((safety.state, SafetyState), (report, SafetyReport)):
        assert type(built) is cls
        assert set(vars(built)) == {f.name for f in fields(cls)}
        assert built == cls(**vars(built))
        assert not hasattr(cls, "__post_init__")


def test_clamps_lists_the_kinds_that_clamped_in_order() -> None:
    """clamps() maps each limit kind that changed a joint to its joints, none empty."""
    report = SafetyReport(True, False, False, None, 0.0, False, ("a",), (), ("a", "b"))
    assert report.clamps() == {"position": ("a",), "acceleration": ("a", "b")}
    assert list(report.clamps()) == ["position", "acceleration"]
    assert SafetyReport(True, False, False, None, 0.0).clamps() == {}
