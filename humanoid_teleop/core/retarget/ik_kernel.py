"""The solver of :class:`~humanoid_teleop.core.retarget.ik.DifferentialIk`, compiled.

:func:`solve_tasks` is a whole ``solve`` call: per iteration and end-effector task, the
frame's pose and Jacobian from its kinematic chain (:func:`frame_kinematics`, over the arrays
of :mod:`~humanoid_teleop.core.retarget.task_chains`), the error, its checks and bounds, then
:func:`task_step`, one damped least-squares step over the task's own joints: position task,
orientation in its null space, posture and limit avoidance below both, and the active set
that pins joints at their limits (the math is in :mod:`humanoid_teleop.core.retarget.ik`).

Compiled with numba because these are dozens of operations on 3 x 7 matrices: as numpy calls,
Python overhead made the step alone cost more than the rest of a teleop step, and as Python
calls into pinocchio and numpy a whole solve touched so much code that a 250 Hz step, which
starts with cold caches, paid several times its hot-loop time (``bench/kernels.py``).
Loops replace ``@`` so no BLAS is needed. The first call on a machine compiles (~10 s) and
caches the result beside this file (or in the user's cache directory); later processes load
it (~0.5 s). :func:`compile_now` does this up front. Every compiled function lives in this
one file on purpose: numba's cache is invalidated by changes to the file that defines a
function, not to the files of the functions it calls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.retarget.task_chains import TaskChains

FloatArray = NDArray[np.float64]

#: Below this angle [rad] the log map uses its series expansion.
_SMALL_ANGLE_RAD = 1e-6
#: Within this angle [rad] of pi the log map reads the axis from the symmetric part.
_NEAR_PI_RAD = 1e-3


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
    "max_iterations",
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
    _MAX_ITERATIONS,
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
"""A task iteration's status: the task was within tolerance; nothing moved."""
STEPPED_FAR = 1
"""... one step was taken and the target is too far for another one to pay this call."""
STEPPED_NEAR = 2
"""... one step was taken and the target is near: another iteration may refine it."""


def kernel_settings(config: IkConfig) -> FloatArray:
    """The :data:`SETTINGS` of ``config`` as one float64 array (one kernel argument)."""
    return np.array([float(getattr(config, name)) for name in SETTINGS])


@njit(cache=True)
def task_step(qj: Any, jac: Any, error: Any, bounds: Any, settings: Any) -> Any:
    """New positions [rad] of one task's joints after one step from ``qj`` [rad].

    ``jac`` (6 x n) and ``error`` (6: position, then orientation) are weighted; ``bounds`` is
    the task's 6 x n array of :data:`BOUND_ROWS` and ``settings`` comes from
    :func:`kernel_settings`. Every array is C-contiguous float64 (another layout would
    compile another kernel; :func:`solve_tasks` passes only those). ``qj`` is not changed.
    """
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
def _compose(r: Any, p: Any, rt: Any) -> None:
    """``(r, p) <- (r, p) * (rt[:9] as 3x3, rt[9:12])`` in place."""
    for i in range(3):
        p[i] += r[i, 0] * rt[9] + r[i, 1] * rt[10] + r[i, 2] * rt[11]
    for i in range(3):
        a, b, c = r[i, 0], r[i, 1], r[i, 2]
        for j in range(3):
            r[i, j] = a * rt[j] + b * rt[3 + j] + c * rt[6 + j]


@njit(cache=True)
def _rotate_about(r: Any, axis: Any, angle: float) -> None:
    """``r <- r @ Rot(axis, angle)`` in place (Rodrigues; ``axis`` a unit vector)."""
    s, c = math.sin(angle), math.cos(angle)
    x, y, z = axis[0], axis[1], axis[2]
    v = 1.0 - c
    m = np.empty((3, 3))
    m[0, 0], m[0, 1], m[0, 2] = c + x * x * v, x * y * v - z * s, x * z * v + y * s
    m[1, 0], m[1, 1], m[1, 2] = y * x * v + z * s, c + y * y * v, y * z * v - x * s
    m[2, 0], m[2, 1], m[2, 2] = z * x * v - y * s, z * y * v + x * s, c + z * z * v
    for i in range(3):
        a, b, d = r[i, 0], r[i, 1], r[i, 2]
        for j in range(3):
            r[i, j] = a * m[0, j] + b * m[1, j] + d * m[2, j]


@njit(cache=True)
def frame_kinematics(
    q: Any, links: Any, link_index: Any, ends: Any, rotation: Any, position: Any, jac: Any
) -> None:
    """One task frame's pose and Jacobian at ``q``, in the base frame.

    Arguments are one task's rows of :class:`TaskChains`. Writes the frame's ``rotation``
    (3x3) and ``position`` (3) [m], and into ``jac`` (6 x L) the column of each chain joint in
    chain order: linear velocity of the frame origin [m/rad or m/m], then angular velocity.
    """
    n = link_index.shape[0]
    axes = np.zeros((n, 3))
    origins = np.zeros((n, 3))
    for i in range(3):
        for j in range(3):
            rotation[i, j] = ends[3 * i + j]
        position[i] = ends[9 + i]
    for k in range(n):
        qi = link_index[k, 0]
        if qi < 0:
            break
        _compose(rotation, position, links[k])
        for i in range(3):
            axes[k, i] = (
                rotation[i, 0] * links[k, 12]
                + rotation[i, 1] * links[k, 13]
                + rotation[i, 2] * links[k, 14]
            )
            origins[k, i] = position[i]
        if link_index[k, 1] == 1:
            for i in range(3):
                position[i] += axes[k, i] * q[qi]
        else:
            _rotate_about(rotation, links[k, 12:15], q[qi])
    _compose(rotation, position, ends[12:24])
    for k in range(n):
        if link_index[k, 0] < 0:
            for r in range(6):
                jac[r, k] = 0.0
            continue
        a = axes[k]
        if link_index[k, 1] == 1:
            for i in range(3):
                jac[i, k] = a[i]
                jac[3 + i, k] = 0.0
        else:
            d0 = position[0] - origins[k, 0]
            d1 = position[1] - origins[k, 1]
            d2 = position[2] - origins[k, 2]
            jac[0, k] = a[1] * d2 - a[2] * d1
            jac[1, k] = a[2] * d0 - a[0] * d2
            jac[2, k] = a[0] * d1 - a[1] * d0
            for i in range(3):
                jac[3 + i, k] = a[i]


@njit(cache=True)
def log3(r: Any, out: Any) -> None:
    """The rotation vector [rad] of rotation matrix ``r`` (axis times angle in [0, pi])."""
    cos = 0.5 * (r[0, 0] + r[1, 1] + r[2, 2] - 1.0)
    cos = min(1.0, max(-1.0, cos))
    angle = math.acos(cos)
    v0, v1, v2 = r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]
    if angle < _SMALL_ANGLE_RAD:
        f = 0.5 + angle * angle / 12.0
        out[0], out[1], out[2] = f * v0, f * v1, f * v2
    elif angle < math.pi - _NEAR_PI_RAD:
        f = angle / (2.0 * math.sin(angle))
        out[0], out[1], out[2] = f * v0, f * v1, f * v2
    else:
        # Near pi, sin(angle) ~ 0: the axis comes from the diagonal of (r + r^T) / 2
        # = cos I + (1 - cos) a a^T, signs from the largest component's row.
        k = 0
        if r[1, 1] > r[k, k]:
            k = 1
        if r[2, 2] > r[k, k]:
            k = 2
        a = np.empty(3)
        a[k] = math.sqrt(max(0.0, (r[k, k] - cos) / (1.0 - cos)))
        for i in range(3):
            if i != k:
                a[i] = 0.5 * (r[i, k] + r[k, i]) / ((1.0 - cos) * a[k])
        vk = v0 if k == 0 else v1 if k == 1 else v2
        sign = -1.0 if vk < 0.0 else 1.0
        for i in range(3):
            out[i] = sign * angle * a[i]


@njit(cache=True)
def _iteration(
    q: Any, joints: Any, jac: Any, e_p: Any, e_o: Any, weights: Any, bounds: Any, settings: Any
) -> int:
    """One iteration of one task: ``jac`` (6 x n) holds the unweighted columns of the task's
    ``joints`` (indices into ``q``, which is updated in place). Returns the status."""
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
    weighted = np.empty((6, n))
    qj = np.empty(n)
    for c in range(n):
        qj[c] = q[joints[c]]
        for r in range(6):
            weighted[r, c] = jac[r, c] * weights[r]
    new = task_step(qj, weighted, error, bounds, settings)
    for c in range(n):
        q[joints[c]] = new[c]
    return STEPPED_FAR if far else STEPPED_NEAR


@njit(cache=True)
def _solve(
    q: Any,
    limits: Any,
    links: Any,
    link_index: Any,
    ends: Any,
    task_joints: Any,
    targets: Any,
    weights: Any,
    bounds: Any,
    settings: Any,
) -> None:
    """See :func:`solve_tasks`."""
    for i in range(q.shape[0]):
        q[i] = min(max(q[i], limits[0, i]), limits[1, i])
    start = q.copy()
    n_tasks = targets.shape[0]
    done = np.zeros(n_tasks, dtype=np.bool_)
    for t in range(n_tasks):
        done[t] = not np.isfinite(targets[t]).all()
    rotation = np.empty((3, 3))
    position = np.empty(3)
    chain_jac = np.empty((6, links.shape[1]))
    e_p = np.empty(3)
    e_o = np.empty(3)
    error_rotation = np.empty((3, 3))
    for _ in range(int(settings[_MAX_ITERATIONS])):
        # Every task of an iteration sees the kinematics of the same q (tasks' joints are
        # disjoint; a shared, undriven torso is the same for all).
        at = q.copy()
        for t in range(n_tasks):
            if done[t]:
                continue
            frame_kinematics(at, links[t], link_index[t], ends[t], rotation, position, chain_jac)
            for i in range(3):
                e_p[i] = targets[t, 9 + i] - position[i]
                for j in range(3):
                    # target rotation @ rotation^T
                    error_rotation[i, j] = (
                        targets[t, 3 * i] * rotation[j, 0]
                        + targets[t, 3 * i + 1] * rotation[j, 1]
                        + targets[t, 3 * i + 2] * rotation[j, 2]
                    )
            log3(error_rotation, e_o)
            n = 0
            while n < task_joints.shape[1] and task_joints[t, n, 0] >= 0:
                n += 1
            joints = np.empty(n, dtype=np.int64)
            jac = np.empty((6, n))
            for c in range(n):
                joints[c] = task_joints[t, c, 0]
                k = task_joints[t, c, 1]
                for r in range(6):
                    jac[r, c] = chain_jac[r, k] if k >= 0 else 0.0
            status = _iteration(
                q, joints, jac, e_p, e_o, weights, bounds[t, :, :n].copy(), settings
            )
            # Refining only pays near the target; far ones get one step per call.
            done[t] = status != STEPPED_NEAR
        if done.all():
            break
    if not np.isfinite(q).all():
        q[:] = start


def solve_tasks(
    q: FloatArray,
    limits: FloatArray,
    chains: TaskChains,
    task_joints: NDArray[np.int64],
    targets: FloatArray,
    weights: FloatArray,
    bounds: FloatArray,
    settings: FloatArray,
) -> None:
    """Move ``q`` [rad] (C-contiguous float64, updated in place) toward every task's target.

    ``q`` is first clipped into ``limits`` (2 x nq: lower, upper [rad]). Per task ``t``:
    ``chains`` locate its frame (:func:`~humanoid_teleop.core.retarget.task_chains.task_chains`);
    ``task_joints[t]`` (K x 2, -1 padded) lists the joints it drives, as index into ``q`` and
    position in its chain (-1: not in it); ``targets[t]`` (12) is the target pose in the base
    frame, rotation row-major then position [m] (NaN: no target, leave the task);
    ``bounds[t]`` (6 x K) holds the :data:`BOUND_ROWS` over its joints. ``weights`` are the six
    error-row weights and ``settings`` comes from :func:`kernel_settings`. Iterates up to
    ``max_iterations`` times; a result that is not finite is replaced by the clipped start.
    """
    _solve(
        q,
        limits,
        chains.links,
        chains.link_index,
        chains.ends,
        task_joints,
        targets,
        weights,
        bounds,
        settings,
    )


def compile_now() -> None:
    """Compile the kernels (or load them from numba's cache) now, not in the first solve.

    The arguments have the dtypes and layouts :class:`DifferentialIk` passes, so this is the
    one specialisation a solve needs."""
    n = 2
    row = np.ones(n)
    bounds = np.vstack((-row, row, 0 * row, row, -row, row))
    settings = kernel_settings(IkConfig())
    task_step(np.zeros(n), np.ones((6, n)), np.ones(6), bounds, settings)
    identity = np.eye(3).reshape(9)
    links = np.concatenate([identity, np.zeros(3), [0.0, 0.0, 1.0]])[None, None, :]
    chains = TaskChains(
        links=np.repeat(links, n, axis=1),
        link_index=np.array([[[0, 0], [1, 1]]], dtype=np.int64),
        ends=np.concatenate([identity, np.zeros(3), identity, [0.1, 0.0, 0.0]])[None, :],
    )
    solve_tasks(
        np.zeros(n),
        np.vstack((-row, row)),
        chains,
        np.array([[[0, 0], [1, 1]]], dtype=np.int64),
        np.concatenate([identity, [0.0, 0.1, 0.0]])[None, :],
        np.ones(6),
        bounds[None, :, :],
        settings,
    )
