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
from typing import Any

import numpy as np
from numba import njit

VELOCITY_EPS = 1e-12
"""Slack [rad/s] before a desired velocity counts as clamped by the velocity limit."""
CLAMP_EPS = 1e-9
"""Slack [rad or rad/s] before a goal or a velocity counts as clamped."""


@njit(cache=True)
def limited_move(
    command: Any,
    v_prev: Any,
    target: Any,
    lower: Any,
    upper: Any,
    vmax: Any,
    amax: Any,
    dt: float,
) -> Any:
    """Move ``command`` [rad] (velocity ``v_prev`` [rad/s]) toward ``target`` [rad] for
    ``dt`` [s] > 0.

    Per joint: the goal is the target clipped into ``lower``..``upper``; the velocity is the
    one reaching the goal this step, limited by the braking velocity (a stop within the
    remaining distance at ``amax`` [rad/s^2], ``inf`` for none), by ``v_prev`` +- ``amax`` dt
    and by +-``vmax`` [rad/s]; the new command is clipped into the bounds again. Every array
    is finite (``amax`` may hold ``inf``), over the same joints and C-contiguous float64
    (another layout would compile another kernel: ``SafetyFilter`` guarantees it).

    Returns ``(moves, clamped_kinds, max_residual)``: ``moves``, (5, joints) float64, holds
    in row 0 the new command [rad], in row 1 its velocity over ``dt`` [rad/s], and 1.0 (else
    0.0) in row 2 at the joints whose target was outside the bounds, in row 3 at those whose
    velocity limit set the move (the joint moves at it and the goal is farther than it
    reaches in ``dt``), in row 4 at those whose move was otherwise limited (the acceleration
    window, braking: a joint lagging a goal that needs more than the velocity limit to reach
    this step is acceleration-clamped unless it moves at that limit); ``clamped_kinds``,
    whether each of rows 2-4 marks any joint (position, velocity, acceleration); the largest
    |goal - new command| [rad].

    One array, not a command, a velocity and a mask: numba boxes each array it returns,
    unpickling its type on every call (~0.3 us an array: 2.1 -> 1.45 us a call).
    """
    n = command.shape[0]
    moves = np.zeros((5, n))
    position_any = velocity_any = acceleration_any = False
    residual = 0.0
    for i in range(n):
        goal = min(max(target[i], lower[i]), upper[i])
        position_clamped = abs(goal - target[i]) > CLAMP_EPS
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
        moves[0, i] = moved
        moves[1, i] = (moved - command[i]) / dt
        # The limit that set the move: the velocity limit when the joint moves at it toward
        # a goal it cannot reach at it, else braking or the acceleration window.
        velocity_clamped = abs(desired) > vmax[i] + VELOCITY_EPS and abs(v) >= vmax[i]
        acceleration_clamped = not velocity_clamped and abs(v - desired) > CLAMP_EPS
        moves[2, i] = position_clamped
        moves[3, i] = velocity_clamped
        moves[4, i] = acceleration_clamped
        position_any |= position_clamped
        velocity_any |= velocity_clamped
        acceleration_any |= acceleration_clamped
        residual = max(residual, abs(goal - moved))
    return moves, (position_any, velocity_any, acceleration_any), residual


def compile_now() -> None:
    """Compile :func:`limited_move` (or load it from numba's cache) now, not in a step."""
    ones = np.ones(2)
    limited_move(ones, ones, ones, -ones, ones, ones, ones, 0.004)
