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
#: How many times a step that moved its frame farther from the target position is halved
#: (then kept at 1/16). A target the arm cannot reach (TALOS' elbow at its bound, the wrist
#: asked nearer the shoulder) leaves a residual the linear step cannot see: full 0.5 rad
#: steps moved the frame away, their sign flipped call to call and the rate-limited command
#: swung ~1 rad at ~1.5 Hz (scripted TALOS pushes after the push).
_MAX_STEP_HALVINGS = 4


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
    m00, m01, m02 = c + x * x * v, x * y * v - z * s, x * z * v + y * s
    m10, m11, m12 = y * x * v + z * s, c + y * y * v, y * z * v - x * s
    m20, m21, m22 = z * x * v - y * s, z * y * v + x * s, c + z * z * v
    for i in range(3):
        a, b, d = r[i, 0], r[i, 1], r[i, 2]
        r[i, 0] = a * m00 + b * m10 + d * m20
        r[i, 1] = a * m01 + b * m11 + d * m21
        r[i, 2] = a * m02 + b * m12 + d * m22


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
def chain_poses(
    q: Any, links: Any, link_index: Any, ends: Any, shared: Any, rotations: Any, positions: Any
) -> None:
    """The poses of every task frame of a :class:`TaskChains` at ``q``, in the base frame,
    into ``rotations`` (T x 3 x 3) and ``positions`` (T x 3) [m]: the pose part of
    :func:`frame_kinematics` (the same operations in the same order, so the same numbers bit
    for bit) without the Jacobian, for several frames in one call (an EE and its
    fingertips). ``shared[t]`` > 0: task ``t``'s chain starts with task 0's whole chain of
    ``shared[t]`` links (a fingertip's runs through the arm to the EE), so it goes on from
    task 0's pose after them instead of walking them again."""
    arm_r = np.empty((3, 3))
    arm_p = np.empty(3)
    for t in range(links.shape[0]):
        r = rotations[t]
        p = positions[t]
        end = ends[t]
        first = shared[t]
        for i in range(3):
            for j in range(3):
                r[i, j] = arm_r[i, j] if first else end[3 * i + j]
            p[i] = arm_p[i] if first else end[9 + i]
        for k in range(first, link_index.shape[1]):
            qi = link_index[t, k, 0]
            if qi < 0:
                break
            link = links[t, k]
            _compose(r, p, link)
            if link_index[t, k, 1] == 1:
                for i in range(3):
                    axis = r[i, 0] * link[12] + r[i, 1] * link[13] + r[i, 2] * link[14]
                    p[i] += axis * q[qi]
            else:
                _rotate_about(r, link[12:15], q[qi])
        if t == 0:  # the pose at the end of task 0's links, where sharing chains go on
            for i in range(3):
                for j in range(3):
                    arm_r[i, j] = r[i, j]
                arm_p[i] = p[i]
        _compose(r, p, end[12:24])


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
def _backtrack(
    q: Any,
    at: Any,
    joints: Any,
    links: Any,
    link_index: Any,
    ends: Any,
    target: Any,
    e_p: Any,
    settings: Any,
    rotation: Any,
    position: Any,
    jac: Any,
) -> None:
    """Halve the step of the task's ``joints`` from ``at`` to ``q`` (updated in place) while
    it leaves the frame farther from the ``target`` position than ``e_p`` (the error [m] at
    ``at``) by more than ``tolerance_m``, at most :data:`_MAX_STEP_HALVINGS` times.
    ``rotation``, ``position`` and ``jac`` are the caller's kinematics scratch (overwritten:
    this runs every iteration of a solve)."""
    before = math.sqrt(e_p[0] ** 2 + e_p[1] ** 2 + e_p[2] ** 2) + settings[_TOLERANCE_M]
    for _ in range(_MAX_STEP_HALVINGS):
        frame_kinematics(q, links, link_index, ends, rotation, position, jac)
        d0 = target[9] - position[0]
        d1 = target[10] - position[1]
        d2 = target[11] - position[2]
        if math.sqrt(d0 * d0 + d1 * d1 + d2 * d2) <= before:
            return
        for c in range(joints.shape[0]):
            j = joints[c]
            q[j] = at[j] + 0.5 * (q[j] - at[j])


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
            if status != CONVERGED:
                _backtrack(
                    q, at, joints, links[t], link_index[t], ends[t], targets[t], e_p, settings,
                    rotation, position, chain_jac,
                )  # fmt: skip
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


HAND_SETTINGS = (
    "pinch_closed_m", "pinch_weight", "damping", "iterations", "side_sign", "fingers",
    "thumb_weight", "rest",
)  # fmt: skip
"""A hand solve's ``settings`` (:func:`hand_solve`), in this order: the operator's pinch
distance below which a pinch closes [m], the pinch pairs' extra weight, the damping added to
the normal matrix (``damping**2 + 1e-6``), the Gauss-Newton iterations, +1 for a right hand
and -1 for a left one (the side of the hand frame's +y axis), how many fingers the
operator's ``bones`` cover, the weight of the thumb's vectors away from a pinch (EE ->
thumb and thumb -> finger; the long fingers' EE vectors weigh 1) and the squared weight
[m^2/rad^2] of the pull toward the ``rest`` (open) hand (``rest_weight**2``)."""
(
    _PINCH_CLOSED_M, _PINCH_WEIGHT, _HAND_DAMPING, _HAND_ITERATIONS, _SIDE_SIGN, _FINGERS,
    _THUMB_WEIGHT, _REST,
) = range(len(HAND_SETTINGS))  # fmt: skip
#: Operator hand input farther than this from the origin [m] is absurd: the hand holds.
MAX_HAND_COORDINATE_M = 1e3
#: Length [m] over which a pinch pair's weight falls off past ``pinch_closed_m``.
_PINCH_FALLOFF_M = 0.02
#: Shortest operator hand [m] the scale divides by.
_MIN_HAND_LENGTH_M = 1e-3


@njit(cache=True)
def _spd_solve(a: Any, b: Any, free: Any, m: int, low: Any, y: Any, out: Any) -> bool:
    """``out[free[k]] <- (a_ff^-1 b_f)[k]`` for ``k < m``: the subsystem of a symmetric
    positive definite ``a`` over the rows and columns ``free[:m]`` (Cholesky into the work
    arrays ``low`` (n x n) and ``y`` (n)); the other entries of ``out`` are left alone. False,
    with ``out`` undefined, when the subsystem is not positive definite or not finite."""
    for j in range(m):
        fj = free[j]
        s = a[fj, fj]
        for k in range(j):
            s -= low[j, k] * low[j, k]
        if not s > 0.0 or not math.isfinite(s):
            return False
        d = math.sqrt(s)
        low[j, j] = d
        for i in range(j + 1, m):
            s = a[free[i], fj]
            for k in range(j):
                s -= low[i, k] * low[j, k]
            low[i, j] = s / d
    for i in range(m):
        s = b[free[i]]
        for k in range(i):
            s -= low[i, k] * y[k]
        y[i] = s / low[i, i]
    for i in range(m - 1, -1, -1):
        s = y[i]
        for k in range(i + 1, m):
            s -= low[k, i] * y[k]
        y[i] = s / low[i, i]
    for i in range(m):
        if not math.isfinite(y[i]):
            return False
        out[free[i]] = y[i]
    return True


@njit(cache=True)
def _hand_local(joints: Any, side_sign: float, out: Any) -> bool:
    """The operator's joints in the human hand frame (wrist at the origin): +x toward the
    middle knuckle (joint 11), +y toward the index knuckle (6) from the pinky's (21) on a
    right hand (away from it on a left one), +z = x cross y. False when it is not defined.

    The compiled copy of :func:`humanoid_teleop.core.motion.hands.hand_frame_of_webxr`, the
    reference (``test_hand`` holds it there on the recorded hand, both sides)."""
    x = np.empty(3)
    hint = np.empty(3)
    for i in range(3):
        x[i] = joints[11, i] - joints[0, i]
        hint[i] = side_sign * (joints[6, i] - joints[21, i])
    norm = math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2])
    if not norm > 0.0:
        return False
    for i in range(3):
        x[i] /= norm
    z0 = x[1] * hint[2] - x[2] * hint[1]
    z1 = x[2] * hint[0] - x[0] * hint[2]
    z2 = x[0] * hint[1] - x[1] * hint[0]
    norm = math.sqrt(z0 * z0 + z1 * z1 + z2 * z2)
    if not norm > 0.0:
        return False
    z0, z1, z2 = z0 / norm, z1 / norm, z2 / norm
    y0 = z1 * x[2] - z2 * x[1]
    y1 = z2 * x[0] - z0 * x[2]
    y2 = z0 * x[1] - z1 * x[0]
    for j in range(joints.shape[0]):
        d0 = joints[j, 0] - joints[0, 0]
        d1 = joints[j, 1] - joints[0, 1]
        d2 = joints[j, 2] - joints[0, 2]
        out[j, 0] = d0 * x[0] + d1 * x[1] + d2 * x[2]
        out[j, 1] = d0 * y0 + d1 * y1 + d2 * y2
        out[j, 2] = d0 * z0 + d1 * z1 + d2 * z2
        for i in range(3):
            if not math.isfinite(out[j, i]):
                return False
    return True


@njit(cache=True)
def hand_solve(
    joints: Any,
    q_hand: Any,
    q: Any,
    cols: Any,
    limits: Any,
    rest: Any,
    tips: Any,
    tip_columns: Any,
    links: Any,
    link_index: Any,
    ends: Any,
    pairs: Any,
    bones: Any,
    ee_r_hand: Any,
    robot_length_m: float,
    settings: Any,
) -> bool:
    """One dexterous-hand solve (vector matching, :mod:`humanoid_teleop.core.retarget.hand`):
    moves ``q_hand`` [rad] (the hand's joints, warm start, updated in place) so the robot's
    EE -> fingertip and thumb -> fingertip vectors match the operator's.

    ``joints`` (25 x 3) are the operator's WebXR hand joints [m]; ``q`` the configuration the
    fingertips are placed at (its ``cols`` entries, the hand's joints, are overwritten),
    ``limits`` (2 x n) the hand joints' lower and upper bounds [rad], ``rest`` (n) the open
    hand [rad] the solve is pulled toward (weakly: it settles where the vectors leave a
    joint free, so the solution does not depend on where the warm start came from). Per
    fingertip ``t`` (thumb first): ``tips[t]`` its joint row in ``joints``,
    ``tip_columns[t, c]`` where hand joint ``c`` sits in its chain (-1: not in it), and its
    chain rows of :class:`~humanoid_teleop.core.retarget.task_chains.TaskChains` read from
    the EE frame at ``q``. ``pairs`` (P x 2) are the matched vectors as (from, to) over the
    points (EE, then the fingertips): a pair from 1 (the thumb) is a pinch. ``bones``
    (B x 2): the operator's long-finger bones (parent, child joint rows), whose summed length
    per finger, averaged, is the operator's hand length; ``ee_r_hand`` turns the human hand
    frame into the EE frame; ``robot_length_m`` [m] is the robot's mean EE -> long-fingertip
    distance at the open hand; ``settings`` holds :data:`HAND_SETTINGS`.

    Each iteration is a damped Gauss-Newton step on the joints that are free: a joint at a
    bound the step would push past is held there and the step solved again without it (an
    active set), so a solve at rest is the bounded least-squares solution. Clipping an
    unbounded step instead settles where the held joints' "motion" is made up by the others
    (G1's open hand curled its fingers to 0.64 that way) or swings between bounds. Returns
    False, leaving ``q_hand`` as it was, for an absurd or degenerate hand.
    """
    n_joints = joints.shape[0]
    for j in range(n_joints):
        for i in range(3):
            if abs(joints[j, i]) > MAX_HAND_COORDINATE_M:
                return False
    local = np.empty((n_joints, 3))
    if not _hand_local(joints, settings[_SIDE_SIGN], local):
        return False
    length = 0.0
    for k in range(bones.shape[0]):
        d0 = local[bones[k, 1], 0] - local[bones[k, 0], 0]
        d1 = local[bones[k, 1], 1] - local[bones[k, 0], 1]
        d2 = local[bones[k, 1], 2] - local[bones[k, 0], 2]
        length += math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    scale = robot_length_m / max(length / settings[_FINGERS], _MIN_HAND_LENGTH_M)
    n_tips = tips.shape[0]
    points = np.zeros((n_tips + 1, 3))  # the human's, in the EE frame; row 0 the EE
    for t in range(n_tips):
        row = tips[t]
        for i in range(3):
            points[t + 1, i] = (
                local[row, 0] * ee_r_hand[i, 0]
                + local[row, 1] * ee_r_hand[i, 1]
                + local[row, 2] * ee_r_hand[i, 2]
            )
    n_pairs = pairs.shape[0]
    weight = np.empty(n_pairs)
    target = np.empty(3 * n_pairs)  # weighted
    closed_m = settings[_PINCH_CLOSED_M]
    thumb_weight = settings[_THUMB_WEIGHT]
    for k in range(n_pairs):
        a, b = pairs[k, 0], pairs[k, 1]
        v0 = points[b, 0] - points[a, 0]
        v1 = points[b, 1] - points[a, 1]
        v2 = points[b, 2] - points[a, 2]
        distance = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
        w = 1.0
        if a == 0 and b == 1:
            w = thumb_weight
        elif a == 1:
            gap = max(distance - closed_m, 0.0)
            w = thumb_weight + settings[_PINCH_WEIGHT] * math.exp(-gap / _PINCH_FALLOFF_M)
        weight[k] = w
        pinched = a == 1 and distance < closed_m
        target[3 * k] = 0.0 if pinched else scale * v0 * w
        target[3 * k + 1] = 0.0 if pinched else scale * v1 * w
        target[3 * k + 2] = 0.0 if pinched else scale * v2 * w
    n = cols.shape[0]
    rotation = np.empty((3, 3))
    position = np.empty(3)
    chain_jac = np.empty((6, links.shape[1]))
    robot = np.zeros((n_tips + 1, 3))  # the robot's points in the EE frame
    tip_jac = np.zeros((n_tips + 1, 3, n))  # their Jacobians over the hand's joints
    jac = np.empty((3 * n_pairs, n))
    error = np.empty(3 * n_pairs)
    normal = np.empty((n, n))
    gradient = np.empty(n)
    dq = np.empty(n)
    free = np.empty(n, dtype=np.int64)  # the free joints' columns, then unused
    low = np.empty((n, n))
    y = np.empty(n)
    rest_weight = settings[_REST]
    for _ in range(int(settings[_HAND_ITERATIONS])):
        for c in range(n):
            q[cols[c]] = q_hand[c]
        for t in range(n_tips):
            frame_kinematics(q, links[t], link_index[t], ends[t], rotation, position, chain_jac)
            for i in range(3):
                robot[t + 1, i] = position[i]
                for c in range(n):
                    k = tip_columns[t, c]
                    tip_jac[t + 1, i, c] = chain_jac[i, k] if k >= 0 else 0.0
        for k in range(n_pairs):
            a, b, w = pairs[k, 0], pairs[k, 1], weight[k]
            for i in range(3):
                row = 3 * k + i
                error[row] = target[row] - (robot[b, i] - robot[a, i]) * w
                for c in range(n):
                    jac[row, c] = (tip_jac[b, i, c] - tip_jac[a, i, c]) * w
        for r in range(n):
            s = rest_weight * (rest[r] - q_hand[r])
            for k in range(3 * n_pairs):
                s += jac[k, r] * error[k]
            gradient[r] = s
            for c in range(r, n):
                s = 0.0
                for k in range(3 * n_pairs):
                    s += jac[k, r] * jac[k, c]
                normal[r, c] = s
                normal[c, r] = s
            normal[r, r] += settings[_HAND_DAMPING] + rest_weight
        if not _bounded_step(normal, gradient, q_hand, limits, free, low, y, dq):
            break
        for c in range(n):
            q_hand[c] = min(max(q_hand[c] + dq[c], limits[0, c]), limits[1, c])
    return True


@njit(cache=True)
def _bounded_step(
    normal: Any, gradient: Any, q_hand: Any, limits: Any, free: Any, low: Any, y: Any, dq: Any
) -> bool:
    """``dq <- normal^-1 gradient`` over the free joints, 0 for the others: a joint is held
    (not free) when it is at a bound and the step would push it past; solved again until no
    free joint pushes out (``free``, ``low``, ``y``: work arrays). False, with ``dq``
    undefined, when a system is not solvable."""
    n = gradient.shape[0]
    m = n
    for c in range(n):
        free[c] = c
    while m > 0:
        for c in range(n):
            dq[c] = 0.0
        if not _spd_solve(normal, gradient, free, m, low, y, dq):
            return False
        kept = 0
        for r in range(m):
            c = free[r]
            pushes = (q_hand[c] <= limits[0, c] and dq[c] < 0.0) or (
                q_hand[c] >= limits[1, c] and dq[c] > 0.0
            )
            if not pushes:
                free[kept] = c
                kept += 1
        if kept == m:
            return True
        m = kept
    for c in range(n):
        dq[c] = 0.0
    return True


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
    chain_poses(
        np.zeros(n), chains.links, chains.link_index, chains.ends, np.zeros(1, dtype=np.int64),
        np.empty((1, 3, 3)), np.empty((1, 3)),
    )  # fmt: skip
    # the hand solve on a two-joint "hand" with one fingertip pair (the layouts hand.py passes)
    hand_solve(
        np.zeros((25, 3)),
        np.zeros(n),
        np.zeros(n),
        np.arange(n),
        np.vstack((-row, row)),
        np.zeros(n),
        np.array([0, 1], dtype=np.int64),
        np.array([[0, 1], [0, 1]], dtype=np.int64),
        np.repeat(chains.links, 2, axis=0),
        np.repeat(chains.link_index, 2, axis=0),
        np.repeat(chains.ends, 2, axis=0),
        np.array([[0, 1], [0, 2], [1, 2]], dtype=np.int64),
        np.array([[0, 1]], dtype=np.int64),
        np.eye(3),
        0.1,
        np.array([0.02, 4.0, 1e-4, 1.0, 1.0, 1.0, 0.3, 1e-4]),
    )
