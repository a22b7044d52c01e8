"""The compiled IK equals a plain numpy + pinocchio statement of the same math, and stays in
bounds."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.retarget.ik_kernel import (
    _MAX_STEP_HALVINGS,
    CONVERGED,
    STEPPED_FAR,
    STEPPED_NEAR,
    _iteration,
    _solve,
    kernel_settings,
    task_step,
)
from humanoid_teleop.core.robot import RobotModel

from .conftest import model_of

FloatArray = NDArray[np.float64]
Bounds = FloatArray


def _damped_pinv(jp: FloatArray, lam2: float) -> FloatArray:
    pinv: FloatArray = jp.T @ np.linalg.inv(jp @ jp.T + lam2 * np.eye(3))
    return pinv


def _reference_prioritized(
    jac: FloatArray,
    error: FloatArray,
    lam_p2: float,
    lam_o2: float,
    posture: FloatArray,
    weight: FloatArray,
    secondary: NDArray[np.bool_],
) -> FloatArray:
    """Position over all columns; weighted orientation, then posture, over ``secondary``."""
    jp, jo = jac[:3], jac[3:]
    dq: FloatArray = _damped_pinv(jp, lam_p2) @ error[:3]
    if not secondary.any():
        return dq
    jp_s, jo_s = jp[:, secondary], jo[:, secondary]
    n1 = np.eye(jp_s.shape[1]) - _damped_pinv(jp_s, lam_p2) @ jp_s
    jon = jo_s @ n1
    jw = jon * weight[secondary]
    solve = np.linalg.inv(jw @ jon.T + lam_o2 * np.eye(3))
    aim = solve @ (error[3:] - jo @ dq) - solve @ (jon @ posture[secondary])
    dq[secondary] += n1 @ (jw.T @ aim + posture[secondary])
    return dq


def _bounded(dq: FloatArray, max_step: float) -> FloatArray:
    peak = float(np.max(np.abs(dq)))
    return dq if peak <= max_step else dq * (max_step / peak)


def _reference_step(
    qj: FloatArray, jac: FloatArray, error: FloatArray, bounds: Bounds, cfg: IkConfig
) -> FloatArray:
    """The damped least-squares step with the two-stage active set, in numpy."""
    lower, upper, aim, band, avoid_lo, avoid_hi = bounds
    lam_p2 = cfg.damping**2 + cfg.damping_gain * float(error[:3] @ error[:3])
    lam_o2 = cfg.orientation_damping**2 + cfg.damping_gain * float(error[3:] @ error[3:])
    depth_lo = np.clip((avoid_lo - qj) / band, 0.0, 1.0)
    depth_hi = np.clip((qj - avoid_hi) / band, 0.0, 1.0)
    posture = (
        cfg.posture_gain * (aim - qj) + cfg.limit_avoidance_gain * (depth_lo - depth_hi) * band
    )
    weight = 1.0 - 0.9 * np.maximum(depth_lo, depth_hi)
    secondary = np.ones(len(qj), dtype=bool)
    pinned = np.zeros(len(qj), dtype=bool)
    step = _reference_prioritized(jac, error, lam_p2, lam_o2, posture, weight, secondary)
    new = qj + _bounded(step, cfg.max_step_rad)
    for _ in range(2 * cfg.active_set_passes):
        out = ~pinned & ((new < lower) | (new > upper))
        if not out.any():
            break
        pinned |= out & ~secondary
        secondary &= ~out
        dq_pinned = np.where(pinned, np.clip(new, lower, upper) - qj, 0.0)
        new = qj + dq_pinned
        free = ~pinned
        if not free.any():
            break
        step = _reference_prioritized(
            jac[:, free],
            error - jac @ dq_pinned,
            lam_p2,
            lam_o2,
            posture[free],
            weight[free],
            secondary[free],
        )
        new[free] += _bounded(step, cfg.max_step_rad)
    result: FloatArray = np.clip(new, lower, upper)
    return result


def _case(
    seed: int, n: int, error_scale: float
) -> tuple[FloatArray, FloatArray, FloatArray, Bounds]:
    rng = np.random.default_rng(seed)
    lower = rng.uniform(-2.5, 0.0, n)
    upper = lower + rng.uniform(0.2, 3.0, n)
    band = 0.15 * (upper - lower)
    bounds = np.vstack((lower, upper, rng.uniform(lower, upper), band, lower + band, upper - band))
    qj = rng.uniform(lower, upper)
    jac = rng.normal(size=(6, n))
    error = rng.normal(size=6) * error_scale
    return qj, jac, error, bounds


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 9),
    error_scale=st.sampled_from([1e-4, 0.05, 0.5, 3.0]),
)
def test_kernel_matches_numpy_reference(seed: int, n: int, error_scale: float) -> None:
    """Tasks of 3-9 joints, any error size, any start inside the bounds: the reference step.

    Below 3 joints the position task cannot be met and its null-space projector is
    ``1 - (1 - eps)``: both versions then round differently (up to ~1e-6 rad). With 3 or 4
    joints the position task takes (nearly) all of them and the projector is still poorly
    conditioned: over 12 000 cases the two differed by up to 7.7e-10 and 1.9e-10 rad
    (hypothesis found 2.0e-9 with 3 joints, seed 3909), against 1.5e-12 from 5 joints on."""
    qj, jac, error, bounds = _case(seed, n, error_scale)
    cfg = IkConfig()
    got = task_step(qj.copy(), jac, error, bounds, kernel_settings(cfg))
    want = _reference_step(qj.copy(), jac, error, bounds, cfg)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8 if n <= 4 else 1e-9)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9))
def test_kernel_never_leaves_bounds(seed: int, n: int) -> None:
    """Huge errors push joints at their limits: the result stays within lower..upper."""
    qj, jac, error, bounds = _case(seed, n, 50.0)
    got = task_step(qj, jac, error, bounds, kernel_settings(IkConfig(max_step_rad=5.0)))
    assert np.all(got >= bounds[0]) and np.all(got <= bounds[1])


def test_kernel_leaves_its_input_unchanged() -> None:
    """The start positions passed in are not modified (the caller keeps its warm start)."""
    qj, jac, error, bounds = _case(7, 7, 0.5)
    before = qj.copy()
    task_step(qj, jac, error, bounds, kernel_settings(IkConfig()))
    np.testing.assert_array_equal(qj, before)


def _reference_solve(ik: DifferentialIk, q: FloatArray, targets: list[Pose | None]) -> FloatArray:
    """``DifferentialIk.solve`` in plain numpy over pinocchio's whole-model kinematics."""
    cfg, model = ik.config, ik.model
    pm = model.pin_model
    data = pm.createData()
    lower, upper = ik.lower, ik.upper
    bounded = np.isfinite(upper - lower)
    band = np.maximum(np.where(bounded, 0.15 * (upper - lower), 1.0), 1e-6)
    avoid_lo = np.where(bounded, lower + band, -np.inf)
    avoid_hi = np.where(bounded, upper - band, np.inf)
    posture = np.clip(ik.home, avoid_lo, avoid_hi)
    weights = np.array([cfg.position_weight] * 3 + [cfg.orientation_weight] * 3)
    pin.framesForwardKinematics(pm, data, pin.neutral(pm))
    base = data.oMf[pm.getFrameId(model.description.base_frame)].copy()
    world = [None if t is None else base * pin.SE3(t.rotation, t.position_m) for t in targets]
    frames = [pm.getFrameId(task.frame) for task in ik.tasks]
    q = np.clip(q, lower, upper)
    start = q.copy()
    done = [t is None for t in world]
    for _ in range(cfg.max_iterations):
        pin.computeJointJacobians(pm, data, model.to_pinocchio(q))
        for k, (task, fid, target) in enumerate(zip(ik.tasks, frames, world, strict=True)):
            if done[k] or target is None:
                continue
            pin.updateFramePlacement(pm, data, fid)
            placement = data.oMf[fid]
            jac = pin.getFrameJacobian(pm, data, fid, pin.ReferenceFrame.LOCAL_WORLD_ALIGNED)
            e_p = target.translation - placement.translation
            e_o = pin.log3(target.rotation @ placement.rotation.T)
            dist, angle = float(np.linalg.norm(e_p)), float(np.linalg.norm(e_o))
            if dist < cfg.tolerance_m and angle < cfg.tolerance_rad:
                done[k] = True
                continue
            e_p = e_p * min(1.0, cfg.max_position_error_m / dist)
            e_o = e_o * min(1.0, cfg.max_orientation_error_rad / max(angle, 1e-300))
            j = task.joints
            rows = (lower, upper, posture, band, avoid_lo, avoid_hi)
            before = q[j].copy()
            q[j] = _reference_step(
                q[j],
                jac[:, j] * weights[:, None],
                np.concatenate((e_p, e_o)) * weights,
                np.vstack([r[j] for r in rows]),
                cfg,
            )
            for _ in range(_MAX_STEP_HALVINGS):  # a step that moved the frame away: halved
                pin.framesForwardKinematics(pm, data, model.to_pinocchio(q))
                if np.linalg.norm(target.translation - data.oMf[fid].translation) <= (
                    dist + cfg.tolerance_m
                ):
                    break
                q[j] = before + 0.5 * (q[j] - before)
            done[k] = dist > cfg.refine_below_m or angle > cfg.refine_below_rad
        if all(done):
            break
    result: FloatArray = q if np.isfinite(q).all() else start
    return result


def test_solve_matches_a_numpy_and_pinocchio_reference(shipped_model: RobotModel) -> None:
    """On each shipped robot, from random starts toward reachable, far, rotated and missing
    targets, the compiled solve (own chain kinematics) gives the reference's joints."""
    ik = DifferentialIk(shipped_model, arm_tasks(shipped_model), IkConfig())
    rng = np.random.default_rng(11)
    worst = 0.0
    for trial in range(150):
        start = rng.uniform(np.maximum(ik.lower, -3.0), np.minimum(ik.upper, 3.0))
        goal = rng.uniform(np.maximum(ik.lower, -3.0), np.minimum(ik.upper, 3.0))
        near = np.clip(start + rng.normal(0.0, 0.02, len(start)), ik.lower, ik.upper)
        targets: list[Pose | None] = list(ik.forward(goal if trial % 2 else near))
        if trial % 5 == 0:
            targets[0] = Pose(targets[0].position_m + rng.normal(0.0, 2.0, 3), targets[0].rotation)
        if trial % 7 == 0:
            targets[-1] = None
        got = ik.solve(start, targets)
        want = _reference_solve(ik, start, targets)
        worst = max(worst, float(np.max(np.abs(got - want))))
    assert worst < 1e-9


def test_solve_leaves_its_warm_start_unchanged_and_untargeted_tasks_alone() -> None:
    model = model_of("g1")
    ik = DifferentialIk(model, arm_tasks(model), IkConfig())
    start = np.clip(model.home_positions() + 0.1, ik.lower, ik.upper)
    before = start.copy()
    targets = ik.forward(start)
    moved = Pose(targets[0].position_m + np.array([0.05, 0.0, 0.0]), targets[0].rotation)
    out = ik.solve(start, [moved, None])
    np.testing.assert_array_equal(start, before)
    other = ik.tasks[1].joints
    np.testing.assert_array_equal(out[other], before[other])
    assert not np.array_equal(out[ik.tasks[0].joints], before[ik.tasks[0].joints])


def test_a_real_solve_uses_the_one_compiled_kernel() -> None:
    """The solver's arrays reach each kernel in the layout ``compile_now`` compiled: a solve
    on a real robot compiles nothing more (a second compile would cost ~10 s mid-session)."""
    model = model_of("g1")
    ik = DifferentialIk(model, arm_tasks(model), IkConfig())
    targets = ik.forward(ik.home)
    targets[0].position_m[0] += 0.05
    ik.solve(ik.home.copy(), targets)
    assert len(_solve.signatures) == 1
    assert len(task_step.signatures) == 1


@pytest.mark.parametrize(
    ("position_error_m", "status"),
    [(1e-5, CONVERGED), (0.005, STEPPED_NEAR), (0.05, STEPPED_FAR)],
)
def test_iteration_status_follows_tolerance_and_refine_bands(
    position_error_m: float, status: int
) -> None:
    """Within tolerance nothing moves; near targets may refine; far ones take one step."""
    qj, jac, _error, bounds = _case(3, 7, 0.0)
    q = np.concatenate(([9.0], qj))  # task joints 1..7 of an 8-joint vector
    before = q.copy()
    got = _iteration(
        q,
        np.arange(1, 8),
        jac,
        np.array([position_error_m, 0.0, 0.0]),
        np.zeros(3),
        np.ones(6),
        bounds,
        kernel_settings(IkConfig()),
    )
    assert got == status
    assert q[0] == 9.0  # a joint outside the task never moves
    assert (q == before).all() == (status == CONVERGED)
