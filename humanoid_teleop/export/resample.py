"""Streams sampled at their own stamps -> values on the dataset's fixed-rate frame grid.

- commands (and operator intent) are **held** (zero-order): a frame gets the newest sample
  stamped at or before it;
- states are **interpolated** linearly between the samples around the frame; quaternions
  (``xyzw`` in columns ``q_slice``) by slerp;
- images take the **nearest** frame; one farther than half a frame period is flagged.

Times are integers in [ns] on the bag's clock; the grid is ``t0_ns + round(i * 1e9 / fps)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def frame_grid(start_ns: int, end_ns: int, fps: int) -> IntArray:
    """Frame times [ns] from ``start_ns`` through ``end_ns`` at ``fps`` [Hz]."""
    count = int((end_ns - start_ns) * fps // 1_000_000_000) + 1
    return start_ns + np.round(np.arange(count) * (1e9 / fps)).astype(np.int64)


def hold(
    t_ns: IntArray, values: FloatArray, grid_ns: IntArray
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Zero-order hold: per frame the newest sample at or before it, and whether there was one.

    Frames before the first sample get row 0 of ``values`` and ``False``."""
    index = np.searchsorted(t_ns, grid_ns, side="right") - 1
    present = index >= 0
    return values[np.clip(index, 0, None)], present


def interpolate(
    t_ns: IntArray, values: FloatArray, grid_ns: IntArray, q_slices: tuple[slice, ...] = ()
) -> FloatArray:
    """Linear interpolation per column, clamped at both ends; quaternion columns by slerp."""
    if len(t_ns) == 1:
        return np.repeat(values, len(grid_ns), axis=0)
    right = np.clip(np.searchsorted(t_ns, grid_ns, side="left"), 1, len(t_ns) - 1)
    left = right - 1
    span = (t_ns[right] - t_ns[left]).astype(np.float64)
    w = np.clip((grid_ns - t_ns[left]) / np.where(span > 0, span, 1.0), 0.0, 1.0)[:, None]
    out = values[left] * (1.0 - w) + values[right] * w
    for q in q_slices:
        out[:, q] = slerp(values[left, q], values[right, q], w[:, 0])
    return out


def slerp(q0: FloatArray, q1: FloatArray, w: FloatArray) -> FloatArray:
    """Row-wise spherical interpolation of unit quaternions (any component order) by ``w``."""
    q0 = q0 / np.linalg.norm(q0, axis=1, keepdims=True)
    q1 = q1 / np.linalg.norm(q1, axis=1, keepdims=True)
    dot = np.sum(q0 * q1, axis=1)
    q1 = np.where(dot[:, None] < 0.0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin = np.sin(theta)
    near = sin < 1e-9
    safe = np.where(near, 1.0, sin)
    a = np.where(near, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    b = np.where(near, w, np.sin(w * theta) / safe)
    out: FloatArray = a[:, None] * q0 + b[:, None] * q1
    unit: FloatArray = out / np.linalg.norm(out, axis=1, keepdims=True)
    return unit


def nearest(
    t_ns: IntArray, grid_ns: IntArray, fps: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Index of the nearest sample per frame, and whether it is farther than half a period."""
    right = np.clip(np.searchsorted(t_ns, grid_ns), 0, len(t_ns) - 1)
    left = np.clip(right - 1, 0, len(t_ns) - 1)
    pick = np.where(np.abs(t_ns[left] - grid_ns) <= np.abs(t_ns[right] - grid_ns), left, right)
    missing = np.abs(t_ns[pick] - grid_ns) > 500_000_000 / fps
    return pick, missing
