"""The inner loop of :class:`~humanoid_teleop.core.retarget.ik.DifferentialIk`, compiled.

:func:`task_iteration` is one solver iteration of one end-effector task: it checks and bounds
the task's error, weights it and the task's Jacobian columns, then takes :func:`task_step`, one
damped least-squares step over the task's own joints: position task, orientation in its null
space, posture and limit avoidance below both, and the active set that pins joints at their
limits (the math is in :mod:`humanoid_teleop.core.retarget.ik`). The pinocchio calls stay in
``ik.py``.

Compiled with numba because these are dozens of operations on 3 x 7 matrices: as numpy calls,
Python overhead made the step alone cost more than the rest of a teleop step (``bench/kernels.py``).
Loops replace ``@`` so no BLAS is needed. The first call on a machine compiles (~10 s) and
caches the result beside this file (or in the user's cache directory); later processes load
it (~0.5 s). :func:`compile_now` does this up front.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.ik_config import IkConfig

FloatArray = NDArray[np.float64]


@njit(cache=True)
def _inv3(m: Any) -> Any:
    """Inverse of a damped (positive definite) 3x3 matrix by cofactors."""
    a, b, c = m[0, 0], m[0, 1], m[0, 2]
    d, e, f = m[1, 0], m[1, 1], m[1, 2]
    g, h, i = m[2, 0], m[2, 1], m[2, 2]
    c00, c10, c20 = e * i - f * h, f * g - d * i, d * h - e * g
    det = a * c00 + b * c10 + c * c20
    out = np.empty((3, 3))
    out[0, 0], out[0, 1], out[0, 2] = c00, c * h - b * i, b * f - c * e
    out[1, 0], out[1, 1], out[1, 2] = c10, a * i - c * g, c * d - a * f
    out[2, 0], out[2, 1], out[2, 2] = c20, b * g - a * h, a * e - b * d
    return out / det


@njit(cache=True)
def _mm(a: Any, b: Any) -> Any:
    """Matrix product ``a @ b``."""
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m))
    for i in range(n):
        for p in range(k):
            aip = a[i, p]
            for j in range(m):
                out[i, j] += aip * b[p, j]
    return out


@njit(cache=True)
def _mv(a: Any, v: Any) -> Any:
    """Matrix-vector product ``a @ v``."""
    n, k = a.shape
    out = np.zeros(n)
    for i in range(n):
        s = 0.0
        for p in range(k):
            s += a[i, p] * v[p]
        out[i] = s
    return out


@njit(cache=True)
def _damped_pinv(jp: Any, lam2: float) -> Any:
    """Damped pseudo-inverse ``jp^T (jp jp^T + lam2 I)^-1`` of a 3 x k Jacobian (k x 3)."""
    a = _mm(jp, jp.T.copy())
    for i in range(3):
        a[i, i] += lam2
    return _mm(_inv3(a), jp).T.copy()


@njit(cache=True)
def _prioritized(
    jac: Any,
    error: Any,
    lam_p2: float,
    lam_o2: float,
    posture: Any,
    weight: Any,
    secondary: Any,
    cols: Any,
) -> Any:
    """Step over the joints ``cols``: position over all of them; orientation, then posture,
    over those also in ``secondary``, in the null space of the position task restricted to
    them (so they do not disturb the position, up to damping)."""
    k = cols.shape[0]
    jp = np.empty((3, k))
    jo = np.empty((3, k))
    for c in range(k):
        for r in range(3):
            jp[r, c] = jac[r, cols[c]]
            jo[r, c] = jac[r + 3, cols[c]]
    jp_pinv = _damped_pinv(jp, lam_p2)
    dq = _mv(jp_pinv, error[:3].copy())
    m = 0
    for c in range(k):
        if secondary[cols[c]]:
            m += 1
    if m == 0:
        return dq
    sidx = np.empty(m, dtype=np.int64)
    j = 0
    for c in range(k):
        if secondary[cols[c]]:
            sidx[j] = c
            j += 1
    jp_s = np.empty((3, m))
    jo_s = np.empty((3, m))
    post = np.empty(m)
    w = np.empty(m)
    for c in range(m):
        col = cols[sidx[c]]
        post[c] = posture[col]
        w[c] = weight[col]
        for r in range(3):
            jp_s[r, c] = jp[r, sidx[c]]
            jo_s[r, c] = jo[r, sidx[c]]
    pinv_s = jp_pinv if m == k else _damped_pinv(jp_s, lam_p2)
    n1 = -_mm(pinv_s, jp_s)
    for i in range(m):
        n1[i, i] += 1.0
    jon = _mm(jo_s, n1)
    jw = jon * w
    jodq = _mv(jo, dq)
    rhs0 = np.empty(3)
    for r in range(3):
        rhs0[r] = error[3 + r] - jodq[r]
    rhs1 = _mv(jon, post)
    b = _mm(jw, jon.T.copy())
    for i in range(3):
        b[i, i] += lam_o2
    binv = _inv3(b)
    sol = _mv(binv, rhs0) - _mv(binv, rhs1)
    inner = _mv(jw.T.copy(), sol) + post
    step = _mv(n1, inner)
    for c in range(m):
        dq[sidx[c]] += step[c]
    return dq


@njit(cache=True)
def _bounded(dq: Any, max_step: float) -> Any:
    """``dq`` scaled down (direction kept) so no entry exceeds ``max_step``."""
    peak = 0.0
    for v in dq:
        if abs(v) > peak:
            peak = abs(v)
    if peak <= max_step:
        return dq
    return dq * (max_step / peak)


@njit(cache=True)
def _clip(x: Any, lo: Any, hi: Any) -> Any:
    return np.minimum(np.maximum(x, lo), hi)


SETTINGS = (
    "damping",
    "damping_gain",
    "orientation_damping",
    "posture_gain",
    "limit_avoidance_gain",
    "max_step_rad",
    "active_set_passes",
    "tolerance_m",
    "tolerance_rad",
    "refine_below_m",
    "refine_below_rad",
    "max_position_error_m",
    "max_orientation_error_rad",
)
"""The :class:`IkConfig` fields the kernels read, in the order of :func:`kernel_settings`."""
(
    _DAMPING,
    _DAMPING_GAIN,
    _ORIENTATION_DAMPING,
    _POSTURE_GAIN,
    _LIMIT_AVOIDANCE_GAIN,
    _MAX_STEP_RAD,
    _ACTIVE_SET_PASSES,
    _TOLERANCE_M,
    _TOLERANCE_RAD,
    _REFINE_BELOW_M,
    _REFINE_BELOW_RAD,
    _MAX_POSITION_ERROR_M,
    _MAX_ORIENTATION_ERROR_RAD,
) = range(len(SETTINGS))

BOUND_ROWS = ("lower", "upper", "posture_target", "band", "avoid_lo", "avoid_hi")
"""Rows of a task's bounds array (6 x n, over the task's joints): the solver's lower and
upper bounds [rad], the posture pull's aim [rad], the limit-avoidance band width [rad] and
where that band starts below and above [rad]."""

CONVERGED = 0
""":func:`task_iteration`: the task was within tolerance; nothing moved."""
STEPPED_FAR = 1
"""... one step was taken and the target is too far for another one to pay this call."""
STEPPED_NEAR = 2
"""... one step was taken and the target is near: another iteration may refine it."""


def kernel_settings(config: IkConfig) -> FloatArray:
    """The :data:`SETTINGS` of ``config`` as one float64 array (one kernel argument)."""
    return np.array([float(getattr(config, name)) for name in SETTINGS])


@njit(cache=True)
def _task_step(qj: Any, jac: Any, error: Any, bounds: Any, settings: Any) -> Any:
    """See :func:`task_step`."""
    lower, upper, posture_target, band, avoid_lo, avoid_hi = (
        bounds[0],
        bounds[1],
        bounds[2],
        bounds[3],
        bounds[4],
        bounds[5],
    )
    max_step_rad = settings[_MAX_STEP_RAD]
    n = qj.shape[0]
    ep2 = error[0] ** 2 + error[1] ** 2 + error[2] ** 2
    eo2 = error[3] ** 2 + error[4] ** 2 + error[5] ** 2
    lam_p2 = settings[_DAMPING] ** 2 + settings[_DAMPING_GAIN] * ep2
    lam_o2 = settings[_ORIENTATION_DAMPING] ** 2 + settings[_DAMPING_GAIN] * eo2
    posture = settings[_POSTURE_GAIN] * (posture_target - qj)
    depth_lo = _clip((avoid_lo - qj) / band, 0.0, 1.0)
    depth_hi = _clip((qj - avoid_hi) / band, 0.0, 1.0)
    if settings[_LIMIT_AVOIDANCE_GAIN] > 0.0:
        posture = posture + settings[_LIMIT_AVOIDANCE_GAIN] * (depth_lo - depth_hi) * band
    # Secondary tasks move joints deep in a limit band less (either direction: cheap).
    weight = 1.0 - 0.9 * np.maximum(depth_lo, depth_hi)
    # Active set in two stages: a joint the step would push past a limit first leaves the
    # secondary tasks (orientation, posture), which must not drive it further; only if the
    # position step alone still does is it pinned at the limit.
    secondary = np.ones(n, dtype=np.bool_)
    pinned = np.zeros(n, dtype=np.bool_)
    cols = np.arange(n)
    new = qj + _bounded(
        _prioritized(jac, error, lam_p2, lam_o2, posture, weight, secondary, cols), max_step_rad
    )
    for _ in range(2 * int(settings[_ACTIVE_SET_PASSES])):
        out = ~pinned & ((new < lower) | (new > upper))
        if not out.any():
            break
        pinned |= out & ~secondary
        secondary &= ~out
        dq_pinned = np.where(pinned, _clip(new, lower, upper) - qj, 0.0)
        new = qj + dq_pinned
        free = np.nonzero(~pinned)[0]
        if free.shape[0] == 0:
            break
        residual = error - _mv(jac, dq_pinned)
        dq = _bounded(
            _prioritized(jac, residual, lam_p2, lam_o2, posture, weight, secondary, free),
            max_step_rad,
        )
        for c in range(free.shape[0]):
            new[free[c]] += dq[c]
    return _clip(new, lower, upper)


@njit(cache=True)
def _task_iteration(
    q: Any,
    joints: Any,
    frame_jacobian: Any,
    e_p: Any,
    e_o: Any,
    weights: Any,
    bounds: Any,
    settings: Any,
) -> int:
    """See :func:`task_iteration`."""
    dist2 = e_p[0] ** 2 + e_p[1] ** 2 + e_p[2] ** 2
    angle2 = e_o[0] ** 2 + e_o[1] ** 2 + e_o[2] ** 2
    if dist2 < settings[_TOLERANCE_M] ** 2 and angle2 < settings[_TOLERANCE_RAD] ** 2:
        return CONVERGED
    far = dist2 > settings[_REFINE_BELOW_M] ** 2 or angle2 > settings[_REFINE_BELOW_RAD] ** 2
    # Far targets pull with a bounded error: smooth, and finite for absurd inputs.
    position_scale = 1.0
    if dist2 > settings[_MAX_POSITION_ERROR_M] ** 2:
        position_scale = settings[_MAX_POSITION_ERROR_M] / math.sqrt(dist2)
    orientation_scale = 1.0
    if angle2 > settings[_MAX_ORIENTATION_ERROR_RAD] ** 2:
        orientation_scale = settings[_MAX_ORIENTATION_ERROR_RAD] / math.sqrt(angle2)
    error = np.empty(6)
    for r in range(3):
        error[r] = e_p[r] * position_scale * weights[r]
        error[3 + r] = e_o[r] * orientation_scale * weights[3 + r]
    n = joints.shape[0]
    jac = np.empty((6, n))
    qj = np.empty(n)
    for c in range(n):
        qj[c] = q[joints[c]]
        for r in range(6):
            jac[r, c] = frame_jacobian[r, joints[c]] * weights[r]
    new = _task_step(qj, jac, error, bounds, settings)
    for c in range(n):
        q[joints[c]] = new[c]
    return STEPPED_FAR if far else STEPPED_NEAR


def task_step(
    qj: FloatArray, jac: FloatArray, error: FloatArray, bounds: FloatArray, settings: FloatArray
) -> FloatArray:
    """New positions [rad] of one task's joints after one step from ``qj`` [rad].

    ``jac`` (6 x n) and ``error`` (6: position, then orientation) are weighted; ``bounds`` is
    the task's 6 x n array of :data:`BOUND_ROWS` (C-contiguous float64) and ``settings`` comes
    from :func:`kernel_settings`. ``qj``, ``jac`` and ``error`` may have any layout; the kernel
    gets them C-contiguous float64 (another layout would compile another kernel).
    """
    contiguous = np.ascontiguousarray
    result: FloatArray = _task_step(
        contiguous(qj, dtype=np.float64),
        contiguous(jac, dtype=np.float64),
        contiguous(error, dtype=np.float64),
        bounds,
        settings,
    )
    return result


def task_iteration(
    q: FloatArray,
    joints: NDArray[np.intp],
    frame_jacobian: FloatArray,
    e_p: FloatArray,
    e_o: FloatArray,
    weights: FloatArray,
    bounds: FloatArray,
    settings: FloatArray,
) -> int:
    """One solver iteration of one task: check, bound and weight its error, step its joints.

    ``q`` [rad] (C-contiguous float64) is updated in place at ``joints``; ``frame_jacobian``
    is pinocchio's 6 x nv frame Jacobian (column-major, as pinocchio returns it), ``e_p`` [m]
    and ``e_o`` [rad] the unweighted position and orientation errors, ``weights`` the six row
    weights; ``bounds`` and ``settings`` as for :func:`task_step`. Returns
    :data:`CONVERGED`, :data:`STEPPED_FAR` or :data:`STEPPED_NEAR` (see
    ``IkConfig.tolerance_m`` and ``refine_below_m``).
    """
    if not (q.flags.c_contiguous and q.dtype == np.float64):
        raise ValueError("task_iteration updates q in place: it must be C-contiguous float64")
    status: int = _task_iteration(
        q,
        np.ascontiguousarray(joints, dtype=np.intp),
        np.asfortranarray(frame_jacobian, dtype=np.float64),
        np.ascontiguousarray(e_p, dtype=np.float64),
        np.ascontiguousarray(e_o, dtype=np.float64),
        weights,
        bounds,
        settings,
    )
    return status


def compile_now() -> None:
    """Compile the kernels (or load them from numba's cache) now, not in the first solve."""
    n = 2
    row = np.ones(n)
    bounds = np.vstack((-row, row, 0 * row, row, -row, row))
    settings = kernel_settings(IkConfig())
    task_iteration(
        np.zeros(n + 1), np.arange(n), np.ones((6, n + 1), order="F"), np.ones(3), np.ones(3),
        np.ones(6), bounds, settings,
    )  # fmt: skip
    task_step(np.zeros(n), np.ones((6, n)), np.ones(6), bounds, settings)
