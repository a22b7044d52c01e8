"""The per-joint arithmetic of one safety-filter move, compiled.

:func:`limited_move` moves each joint's command toward its goal within the position,
velocity and acceleration limits (the rules are in :func:`humanoid_teleop.core.safety.filter.
safety_step`); the decisions around it (hold, stale, e-stop, ramp state, the report) stay in
plain Python in :mod:`humanoid_teleop.core.safety.filter`.

Compiled with numba because it is ~25 numpy calls on ~40-element arrays, whose Python
overhead is most of its cost (``bench/kernels.py``). Like the IK kernel, the first call on a
machine compiles and caches it; :func:`compile_now` does that up front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

VELOCITY_EPS = 1e-12
"""Slack [rad/s] before a desired velocity counts as clamped by the velocity limit."""
CLAMP_EPS = 1e-9
"""Slack [rad or rad/s] before a goal or a velocity counts as clamped."""


@dataclass(frozen=True)
class Move:
    """Result of :func:`limited_move`, over the joints.

    Attributes:
        command: New command [rad].
        velocity: Its velocity over ``dt`` [rad/s].
        position_clamped: Target was outside the (inner) position bounds.
        velocity_clamped: Reaching the goal this step needed more than the velocity limit.
        acceleration_clamped: Otherwise limited (acceleration, braking distance).
        max_residual: Largest |goal - new command| [rad].
        any_clamped: Some joint is in one of the three clamped masks.
    """

    command: FloatArray
    velocity: FloatArray
    position_clamped: BoolArray
    velocity_clamped: BoolArray
    acceleration_clamped: BoolArray
    max_residual: float
    any_clamped: bool


@njit(cache=True)
def limited_move_arrays(
    command: Any,
    v_prev: Any,
    target: Any,
    lower: Any,
    upper: Any,
    vmax: Any,
    amax: Any,
    dt: float,
) -> Any:
    """The kernel of :func:`limited_move`, for callers whose arrays are already C-contiguous
    float64 (another layout compiles another kernel). Returns ``(command, velocity,
    position_clamped, velocity_clamped, acceleration_clamped, max_residual, any_clamped)``."""
    n = command.shape[0]
    new_command = np.empty(n)
    velocity = np.empty(n)
    position_clamped = np.zeros(n, dtype=np.bool_)
    velocity_clamped = np.zeros(n, dtype=np.bool_)
    acceleration_clamped = np.zeros(n, dtype=np.bool_)
    residual = 0.0
    any_clamped = False
    for i in range(n):
        goal = min(max(target[i], lower[i]), upper[i])
        position_clamped[i] = abs(goal - target[i]) > CLAMP_EPS
        error = goal - command[i]
        desired = error / dt
        # Braking: never approach the goal faster than a stop within the remaining distance.
        brake = math.sqrt(2.0 * amax[i] * abs(error)) if math.isfinite(amax[i]) else math.inf
        v = min(max(desired, -brake), brake)
        v = min(
            max(v, max(-vmax[i], v_prev[i] - amax[i] * dt)), min(vmax[i], v_prev[i] + amax[i] * dt)
        )
        v = min(max(v, -vmax[i]), vmax[i])
        moved = min(max(command[i] + v * dt, lower[i]), upper[i])
        new_command[i] = moved
        velocity[i] = (moved - command[i]) / dt
        velocity_clamped[i] = abs(desired) > vmax[i] + VELOCITY_EPS
        acceleration_clamped[i] = not velocity_clamped[i] and abs(v - desired) > CLAMP_EPS
        residual = max(residual, abs(goal - moved))
        any_clamped = (
            any_clamped or position_clamped[i] or velocity_clamped[i] or acceleration_clamped[i]
        )
    return (
        new_command,
        velocity,
        position_clamped,
        velocity_clamped,
        acceleration_clamped,
        residual,
        any_clamped,
    )


def limited_move(
    command: FloatArray,
    v_prev: FloatArray,
    target: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    vmax: FloatArray,
    amax: FloatArray,
    dt_s: float,
) -> Move:
    """Move ``command`` [rad] (velocity ``v_prev`` [rad/s]) toward ``target`` [rad] for
    ``dt_s`` [s] > 0.

    Per joint: the goal is the target clipped into ``lower``..``upper``; the velocity is the
    one reaching the goal this step, limited by the braking velocity (a stop within the
    remaining distance at ``amax`` [rad/s^2], ``inf`` for none), by ``v_prev`` +- ``amax`` dt
    and by +-``vmax`` [rad/s]; the new command is clipped into the bounds again. Every array
    is finite (``amax`` may hold ``inf``) and over the same joints.
    """
    as_array = np.ascontiguousarray
    result = limited_move_arrays(
        as_array(command, dtype=np.float64),
        as_array(v_prev, dtype=np.float64),
        as_array(target, dtype=np.float64),
        as_array(lower, dtype=np.float64),
        as_array(upper, dtype=np.float64),
        as_array(vmax, dtype=np.float64),
        as_array(amax, dtype=np.float64),
        float(dt_s),
    )
    command_rad, velocity, position, velocity_clamped, acceleration, residual, clamped = result
    return Move(
        command_rad,
        velocity,
        position,
        velocity_clamped,
        acceleration,
        float(residual),
        bool(clamped),
    )


def compile_now() -> None:
    """Compile :func:`limited_move` (or load it from numba's cache) now, not in a step."""
    ones = np.ones(2)
    limited_move(ones, ones, ones, -ones, ones, ones, ones, 0.004)
