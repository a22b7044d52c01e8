"""Operator wrist pose -> arm end-effector target, compiled (the hot part of ``arm_ik``).

:func:`arm_target` does what ``usable`` + ``ArmCalibration.target`` + the reach limit of
:class:`~humanoid_teleop.core.retarget.arm_ik.ArmIkRetargeter` state in Python, in one call
that writes the target straight into the IK's target row: as ~30 small numpy calls per step,
that was more time than the compiled IK solve itself on a 250 Hz step's cold caches. The
tests hold it to the Python statement.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

MAX_OPERATOR_DISTANCE_M = 100.0
"""Operator poses farther than this from the operator-frame origin [m] are treated as invalid."""

MAP_SIZE = 20
"""Length of a side's map: ``a`` (3), ``b`` (3), ``scale``, ``c`` (9, row-major), then the
shoulder (3) [m] and the reach radius [m] (``inf``: no limit)."""


def side_map(
    a_m: FloatArray,
    b_m: FloatArray,
    scale: float,
    c: FloatArray,
    shoulder_m: FloatArray,
    reach_m: float,
) -> FloatArray:
    """One side's map for :func:`arm_target`: target position ``a + scale (wrist - b)`` [m],
    rotation ``wrist_rotation @ c``, pulled onto the sphere of radius ``reach_m`` [m] around
    ``shoulder_m`` when beyond it."""
    return np.concatenate(
        [a_m, b_m, [float(scale)], np.asarray(c).reshape(9), shoulder_m, [float(reach_m)]]
    ).astype(np.float64)


@njit(cache=True)
def _pull_within_reach(p: Any, shoulder: Any, reach: float) -> None:
    """``p`` (3) [m] pulled, in place, onto the sphere of radius ``reach`` [m] around
    ``shoulder`` (3) [m] when beyond it (``inf``: no limit)."""
    if math.isfinite(reach):
        d0, d1, d2 = p[0] - shoulder[0], p[1] - shoulder[1], p[2] - shoulder[2]
        distance = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        if distance > reach:
            f = reach / distance
            p[0], p[1], p[2] = shoulder[0] + d0 * f, shoulder[1] + d1 * f, shoulder[2] + d2 * f


@njit(cache=True)
def _arm_target(position: Any, rotation: Any, side: Any, out: Any) -> bool:
    for i in range(3):
        if not math.isfinite(position[i]) or abs(position[i]) >= MAX_OPERATOR_DISTANCE_M:
            return False
        for j in range(3):
            if not math.isfinite(rotation[i, j]):
                return False
    scale = side[6]
    p = np.empty(3)
    for i in range(3):
        p[i] = side[i] + scale * (position[i] - side[3 + i])
    _pull_within_reach(p, side[16:19], side[19])
    for i in range(3):
        for j in range(3):
            out[3 * i + j] = (
                rotation[i, 0] * side[7 + j]
                + rotation[i, 1] * side[10 + j]
                + rotation[i, 2] * side[13 + j]
            )
        out[9 + i] = p[i]
    return True


def arm_target(
    position_m: FloatArray, rotation: FloatArray, side: FloatArray, out: FloatArray
) -> bool:
    """Write the EE target of a wrist pose into ``out`` (12: rotation row-major, position [m]).

    ``position_m`` (3) and ``rotation`` (3x3) are the wrist in the operator frame, ``side``
    comes from :func:`side_map`. Returns False, leaving ``out`` as it was, when the wrist is
    not finite or farther than :data:`MAX_OPERATOR_DISTANCE_M` from the origin.
    """
    return bool(_arm_target(_kernel_array(position_m), _kernel_array(rotation), side, out))


def _kernel_array(values: FloatArray) -> FloatArray:
    """``values`` as the one array type the kernels are compiled for: C-contiguous, writable
    float64 (a read-only array, e.g. one decoded in place from message bytes, is another
    type to numba: it would compile the kernel again, ~1 s, in a step)."""
    array: FloatArray = np.ascontiguousarray(values, dtype=np.float64)
    return array if array.flags.writeable else array.copy()


def within_reach(position_m: FloatArray, shoulder_m: FloatArray, reach_m: float) -> FloatArray:
    """An EE target position ``position_m`` [m] (base frame) as :func:`arm_target` limits
    it: pulled onto the sphere of radius ``reach_m`` [m] (``inf``: no limit) around
    ``shoulder_m`` [m] when beyond it (a copy; the arm IK's reach limit, for a caller that
    predicts the IK's answer for an EE goal)."""
    position = np.array(position_m, dtype=np.float64)
    _pull_within_reach(position, _kernel_array(shoulder_m), reach_m)
    return position


def compile_now() -> None:
    """Compile :func:`arm_target` and :func:`within_reach` (or load them from numba's
    cache) now, not in a step."""
    side = side_map(np.zeros(3), np.zeros(3), 1.0, np.eye(3), np.zeros(3), math.inf)
    arm_target(np.zeros(3), np.eye(3), side, np.empty(12))
    within_reach(np.zeros(3), np.zeros(3), 1.0)
