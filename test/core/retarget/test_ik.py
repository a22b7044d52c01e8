"""Differential IK: tracks reachable trajectories and stays inside joint limits."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.core.motion.rotation import rotation_angle
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.retarget.reference_motion import reachable_arm_trajectory
from humanoid_teleop.core.robot import RobotModel

from .conftest import model_of


def _arm_ik(model: RobotModel) -> DifferentialIk:
    return DifferentialIk(model, arm_tasks(model), IkConfig())


def test_g1_tracks_fk_generated_trajectory_within_5_mm_and_3_deg() -> None:
    """One solve per 100 Hz step follows a reachable trajectory: p95 < 5 mm and < 3 deg."""
    ik = _arm_ik(model_of("g1"))
    q = ik.home.copy()
    pos, ori = [], []
    for q_true in reachable_arm_trajectory(ik, 6.0):
        targets = ik.forward(q_true)
        q = ik.solve(q, targets)
        for want, got in zip(targets, ik.forward(q), strict=True):
            pos.append(np.linalg.norm(want.position_m - got.position_m))
            ori.append(np.degrees(rotation_angle(want.rotation.T @ got.rotation)))
    assert np.percentile(pos, 95) < 0.005
    assert np.percentile(ori, 95) < 3.0


def test_unreachable_target_keeps_joints_within_limits(shipped_model: RobotModel) -> None:
    """A target 3 m away drives the arm toward it without leaving the solver's limits."""
    ik = _arm_ik(shipped_model)
    q = ik.home.copy()
    far = [p.__class__(p.position_m + np.array([3.0, 0.0, 1.0]), p.rotation) for p in ik.forward(q)]
    for _ in range(50):
        q = ik.solve(q, far)
    assert np.all(q >= ik.lower - 1e-12) and np.all(q <= ik.upper + 1e-12)
    assert np.all(np.isfinite(q))


def test_untargeted_task_keeps_its_joints() -> None:
    """A None target leaves that arm's joints where they were."""
    ik = _arm_ik(model_of("talos"))
    q = ik.home.copy()
    targets = ik.forward(q)
    moved = targets[0].__class__(
        targets[0].position_m + np.array([0.05, 0, 0]), targets[0].rotation
    )
    out = ik.solve(q.copy(), [moved, None])
    right = ik.tasks[1].joints
    assert np.array_equal(out[right], q[right])


def test_infeasible_orientation_does_not_cost_position(shipped_model: RobotModel) -> None:
    """A reachable position with the hand turned upside down is still reached within 1 cm."""
    ik = _arm_ik(shipped_model)
    q = ik.home.copy()
    idx = np.concatenate([t.joints for t in ik.tasks])
    goal = ik.home.copy()
    goal[idx] = ik.home[idx] + 0.3 * ((ik.lower[idx] + ik.upper[idx]) / 2 - ik.home[idx])
    flip = np.diag([1.0, -1.0, -1.0])
    targets = [p.__class__(p.position_m, p.rotation @ flip) for p in ik.forward(goal)]
    for _ in range(300):
        q = ik.solve(q, targets)
    for want, got in zip(targets, ik.forward(q), strict=True):
        assert np.linalg.norm(want.position_m - got.position_m) < 0.01
