"""The safety filter: target + state + time -> safe command + a report of what was limited.

Pure functions over arrays. Invariants, for every call of :func:`safety_step` with any input:

* the command stays within the position limits shrunk by the margin;
* between two commands at times t0 < t1, no joint moves more than its velocity limit times
  (t1 - t0); if time does not advance, the command does not change.

Order of checks: time -> e-stop -> engaged -> deadman -> input age -> finite target; any of
them failing makes the filter *hold* (repeat the last command). Otherwise the target is
clamped into the position limits, then the step is bounded by the acceleration window, by a
braking speed that lets the joint stop at its goal, and by the velocity limit, then clamped
into position limits again.

The engage ramp: from engage until every joint is within ``engage_tolerance_rad`` of its
target, each joint's speed is further capped at ``engage_speed_rad_s`` plus the speed of its
own target (|new target - last target| over the time between them), so the command closes
its gap to the target at the engage speed *relative to the target's motion*: the ramp ends
after about gap / engage speed whatever the operator does (a still target ramps at exactly
the engage speed), and the velocity limit still bounds every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import compress

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.finite import all_finite
from humanoid_teleop.core.records import frozen_record
from humanoid_teleop.core.robot.limits import JointLimits
from humanoid_teleop.core.safety.config import SafetyConfig
from humanoid_teleop.core.safety.errors import SafetyError
from humanoid_teleop.core.safety.move_kernel import compile_now, limited_move

FloatArray = NDArray[np.float64]
#: The kinds of limit a step can clamp (:meth:`SafetyReport.clamps`' keys), in this order.
CLAMP_KINDS = ("position", "velocity", "acceleration")
#: Steps shorter than this [s] hold: dividing by them would overflow the rate estimate.
MIN_STEP_S = 1e-6


@dataclass(frozen=True)
class SafetyState:
    """Everything the filter remembers between steps.

    ``command`` is the last command [rad] (None before the first engage), ``velocity`` its
    rate [rad/s], ``t_s`` its time [s], ``last_target`` the last finite target and
    ``last_input_t_s`` the capture time of the input it came from, ``last_target_t_s`` the
    step time [s] the last target was followed at (the engage ramp's target speed is taken
    over it: a hold advances ``t_s`` but not this).
    """

    engaged: bool = False
    estopped: bool = False
    ramping: bool = False
    command: FloatArray | None = None
    velocity: FloatArray | None = None
    t_s: float | None = None
    last_target: FloatArray | None = None
    last_input_t_s: float | None = None
    last_target_t_s: float | None = None


@dataclass(frozen=True)
class MoveLimits:
    """The per-joint bounds a move uses, derived once from the config and the limits.

    ``lower`` / ``upper``: position bounds shrunk by the margin [rad]; ``vmax``: velocity
    limit times ``velocity_scale`` [rad/s], a hair under it so |dq| / dt recomputed from the
    commands never rounds above; ``vmax_ramping``: the same, capped at the engage speed (the
    ramp's cap for a still target); ``amax``: acceleration limit times
    ``acceleration_scale`` [rad/s^2].
    """

    lower: FloatArray
    upper: FloatArray
    vmax: FloatArray
    vmax_ramping: FloatArray
    amax: FloatArray

    @classmethod
    def of(cls, config: SafetyConfig, limits: JointLimits) -> MoveLimits:
        """Raises :class:`JointLimitsError` unless ``limits`` are fit for motion."""
        limits.require_for_motion("the safety filter")
        lower, upper = limits.inner_bounds(config.position_margin_rad)
        vmax = limits.velocity * (config.velocity_scale * (1.0 - 1e-9))
        as_array = np.ascontiguousarray
        return cls(
            lower=as_array(lower, dtype=np.float64),
            upper=as_array(upper, dtype=np.float64),
            vmax=as_array(vmax, dtype=np.float64),
            vmax_ramping=as_array(np.minimum(vmax, config.engage_speed_rad_s), dtype=np.float64),
            amax=as_array(limits.acceleration * config.acceleration_scale, dtype=np.float64),
        )


@dataclass(frozen=True)
class SafetyReport:
    """What the filter did at one step and why.

    ``hold_reason`` is None while the command follows the target. ``input_age_s`` is the
    age of the input at this step [s] (nan if unknown). Joint names list which joints the
    position, velocity or acceleration limit changed.
    """

    engaged: bool
    estopped: bool
    ramping: bool
    hold_reason: str | None
    input_age_s: float
    rejected_nonfinite: bool = False
    position_clamped: tuple[str, ...] = ()
    velocity_clamped: tuple[str, ...] = ()
    acceleration_clamped: tuple[str, ...] = ()

    @property
    def holding(self) -> bool:
        """True when the command repeats the previous one instead of following the target."""
        return self.hold_reason is not None

    def clamps(self) -> dict[str, tuple[str, ...]]:
        """Limit kind -> joints it changed at this step (only non-empty kinds)."""
        clamps = {}  # built by hand, not from a dict of all three: once per teleop step
        if self.position_clamped:
            clamps["position"] = self.position_clamped
        if self.velocity_clamped:
            clamps["velocity"] = self.velocity_clamped
        if self.acceleration_clamped:
            clamps["acceleration"] = self.acceleration_clamped
        return clamps


def safety_engage(
    state: SafetyState, config: SafetyConfig, limits: JointLimits, measured: FloatArray, t_s: float
) -> SafetyState:
    """Start following targets from the measured joint positions [rad] at time ``t_s`` [s].

    The first command is ``measured`` clamped into the limits; the filter then ramps: it
    closes each joint's gap to its target at ``engage_speed_rad_s`` relative to the target's
    own motion (see the module docstring) until every joint is within
    ``engage_tolerance_rad``. Raises SafetyError while the e-stop
    is latched or when ``measured`` or ``t_s`` is not finite.
    """
    if state.estopped:
        raise SafetyError("cannot engage: e-stop is latched; reset it first")
    if not math.isfinite(t_s):
        raise SafetyError(f"cannot engage: time {t_s} is not finite")
    measured = np.asarray(measured, dtype=np.float64)
    if measured.shape != (len(limits.names),):
        raise SafetyError(
            f"cannot engage: measured state has shape {measured.shape}, "
            f"expected ({len(limits.names)},)"
        )
    bad = [n for n, v in zip(limits.names, measured, strict=True) if not math.isfinite(v)]
    if bad:
        raise SafetyError(f"cannot engage: measured position not finite for {', '.join(bad)}")
    lo, hi = limits.inner_bounds(config.position_margin_rad)
    return SafetyState(
        engaged=True,
        estopped=False,
        ramping=True,
        command=np.clip(measured, lo, hi),
        velocity=np.zeros_like(measured),
        t_s=t_s,
        last_target=None,
        last_input_t_s=None,
        last_target_t_s=None,
    )


def safety_disengage(state: SafetyState) -> SafetyState:
    """Stop following targets; the last command is held."""
    return replace(state, engaged=False, ramping=False)


def safety_estop(state: SafetyState) -> SafetyState:
    """Latch the e-stop: hold the last command until :func:`safety_reset_estop` and engage."""
    return replace(state, engaged=False, ramping=False, estopped=True)


def safety_reset_estop(state: SafetyState) -> SafetyState:
    """Clear the e-stop latch; the filter stays disengaged until the next engage."""
    return replace(state, estopped=False)


def safety_step(
    state: SafetyState,
    config: SafetyConfig,
    limits: JointLimits,
    target: FloatArray | None,
    t_s: float,
    input_t_s: float,
    deadman_pressed: bool = True,
    move_limits: MoveLimits | None = None,
    held: NDArray[np.bool_] | None = None,
) -> tuple[SafetyState, FloatArray | None, SafetyReport]:
    """One filter step: the safe command at time ``t_s`` [s] for ``target`` [rad].

    ``input_t_s`` is the capture time of the input the target came from [s];
    ``move_limits`` is ``MoveLimits.of(config, limits)``, passed in by callers that step
    often (default: derived here); ``held`` marks joints that must repeat their last command
    this step (their input is stale or rejected: see
    :mod:`humanoid_teleop.core.retarget.input_guard`), as a whole-robot hold does, with zero
    velocity. Returns the new state, the command (None before the first engage) and the
    report.
    """
    age = t_s - input_t_s if math.isfinite(t_s) and math.isfinite(input_t_s) else math.nan

    def hold(
        reason: str, advance_time: bool = True
    ) -> tuple[SafetyState, FloatArray | None, SafetyReport]:
        new_state = state
        if state.command is not None and advance_time:
            new_state = replace(state, t_s=t_s, velocity=np.zeros_like(state.command))
        report = SafetyReport(state.engaged, state.estopped, state.ramping, reason, age)
        return new_state, state.command, report

    if state.command is None or state.t_s is None:
        return hold("never engaged", advance_time=False)
    if not math.isfinite(t_s) or t_s - state.t_s < MIN_STEP_S:
        return hold("time did not advance", advance_time=False)
    if state.estopped:
        return hold("e-stop latched")
    if not state.engaged:
        return hold("disengaged")
    if not deadman_pressed:
        return hold("deadman released")
    if not math.isfinite(age) or age > config.stale_timeout_s or age < -config.stale_timeout_s:
        return hold(f"input stale (age {age:.3f} s, timeout {config.stale_timeout_s} s)")
    if state.last_input_t_s is not None and input_t_s < state.last_input_t_s:
        return hold("input time went backwards")
    rejected = False
    if target is not None:
        # Our own copy: the state keeps it as the last finite target, and callers (the
        # pipeline) reuse their target array step after step.
        target = np.array(target, dtype=np.float64)
    if target is None or target.shape != state.command.shape or not all_finite(target):
        rejected = target is not None
        if state.last_target is None:
            return hold("no finite target yet")
        target = state.last_target
    bounds = move_limits if move_limits is not None else MoveLimits.of(config, limits)
    if held is not None:
        # A held joint aims at where it is, so it adds nothing to the ramp's residual.
        target = np.where(held, state.command, target)
    new_state, command, report = _move(
        state, config, limits, bounds, target, t_s, input_t_s, age, rejected
    )
    if held is not None:
        assert state.command is not None and new_state.velocity is not None
        command = np.where(held, state.command, command)
        velocity = np.where(held, 0.0, new_state.velocity)
        new_state = replace(new_state, command=command, velocity=velocity)
    return new_state, command, report


def _names(limits: JointLimits, flags: FloatArray) -> tuple[str, ...]:
    """The joints a clamp row of :func:`limited_move` marks (1.0), in joint order."""
    # the row's 0.0 / 1.0 as Python floats pick the names (~1 us less than a boolean mask
    # into an object array)
    return tuple(compress(limits.names, flags.tolist()))


def _ramp_vmax(
    state: SafetyState, config: SafetyConfig, bounds: MoveLimits, target: FloatArray, t_s: float
) -> FloatArray:
    """The engage ramp's per-joint speed cap [rad/s]: the engage speed plus the target's own
    speed since the last followed target, never above the velocity limit.

    Without the target's speed a joint whose target moves faster than the engage speed would
    never catch it, and the ramp (and its lag) would last as long as the operator moves.
    """
    if state.last_target is None or state.last_target_t_s is None:
        return bounds.vmax_ramping
    # > MIN_STEP_S: the step's time advanced past the state's, which is at or after this.
    elapsed = t_s - state.last_target_t_s
    # The goals' speed: targets clipped into the (finite) bounds, so no difference overflows.
    lower, upper = bounds.lower, bounds.upper
    # (the arrays' clip method: np.clip's own dispatch adds ~1 us a call)
    moved: FloatArray = target.clip(lower, upper) - state.last_target.clip(lower, upper)
    target_speed = np.abs(moved) / elapsed
    return np.minimum(bounds.vmax, config.engage_speed_rad_s + target_speed)


def _move(
    state: SafetyState,
    config: SafetyConfig,
    limits: JointLimits,
    bounds: MoveLimits,
    target: FloatArray,
    t_s: float,
    input_t_s: float,
    age: float,
    rejected: bool,
) -> tuple[SafetyState, FloatArray, SafetyReport]:
    assert state.command is not None and state.t_s is not None and state.velocity is not None
    command, v_prev = state.command, state.velocity
    dt = min(t_s - state.t_s, config.max_step_s)
    vmax = _ramp_vmax(state, config, bounds, target, t_s) if state.ramping else bounds.vmax
    # Every array is C-contiguous float64 (the kernel's outputs, MoveLimits, the copied
    # target): the one layout the kernel is compiled for.
    lower, upper, amax = bounds.lower, bounds.upper, bounds.amax
    moves, clamped_kinds, residual = limited_move(
        command, v_prev, target, lower, upper, vmax, amax, dt
    )
    new_command, velocity = moves[0], moves[1]  # rows of one array: C-contiguous
    ramping = state.ramping and residual >= config.engage_tolerance_rad
    new_state = frozen_record(
        SafetyState,
        engaged=True,
        estopped=False,
        ramping=ramping,
        command=new_command,
        velocity=velocity,
        t_s=t_s,
        last_target=target,
        last_input_t_s=input_t_s,
        last_target_t_s=t_s,
    )
    # The names are looked up only for the kinds that clamped (most steps clamp few).
    position, velocity_limit, acceleration = clamped_kinds
    report = frozen_record(
        SafetyReport,
        engaged=True,
        estopped=False,
        ramping=ramping,
        hold_reason=None,
        input_age_s=age,
        rejected_nonfinite=rejected,
        position_clamped=_names(limits, moves[2]) if position else (),
        velocity_clamped=_names(limits, moves[3]) if velocity_limit else (),
        acceleration_clamped=_names(limits, moves[4]) if acceleration else (),
    )
    return new_state, new_command, report


class SafetyFilter:
    """The pure safety functions with their state kept in one object (one per robot)."""

    def __init__(self, config: SafetyConfig, limits: JointLimits) -> None:
        """``limits`` must be fit for motion (finite bounds, velocities > 0): pass a model's
        ``motion_limits``; others raise :class:`JointLimitsError`."""
        self.config = config
        self.limits = limits
        self.state = SafetyState()
        self.move_limits = MoveLimits.of(config, limits)
        compile_now()  # here, not in the first step

    def engage(self, measured: FloatArray, t_s: float) -> None:
        """See :func:`safety_engage`."""
        self.state = safety_engage(self.state, self.config, self.limits, measured, t_s)

    def disengage(self) -> None:
        """See :func:`safety_disengage`."""
        self.state = safety_disengage(self.state)

    def estop(self) -> None:
        """See :func:`safety_estop`."""
        self.state = safety_estop(self.state)

    def reset_estop(self) -> None:
        """See :func:`safety_reset_estop`."""
        self.state = safety_reset_estop(self.state)

    def step(
        self,
        target: FloatArray | None,
        t_s: float,
        input_t_s: float,
        deadman_pressed: bool = True,
        held: NDArray[np.bool_] | None = None,
    ) -> tuple[FloatArray | None, SafetyReport]:
        """See :func:`safety_step`; returns the command and the report."""
        self.state, command, report = safety_step(
            self.state,
            self.config,
            self.limits,
            target,
            t_s,
            input_t_s,
            deadman_pressed,
            self.move_limits,
            held,
        )
        return command, report
