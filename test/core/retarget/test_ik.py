"""Differential IK: tracks reachable trajectories and stays inside joint limits."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.core.motion.frame import Pose
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


def test_a_step_toward_a_target_too_near_the_shoulder_does_not_move_away() -> None:
    """TALOS' right arm as a scripted push's command left it (elbow at its bound) with the
    wrist asked nearer the shoulder than the bent elbow allows: the linear step (0.5 rad)
    moved the EE from 2.7 to 3.1 cm off the target, and its sign flipped call to call (the
    arm swung ~1 rad). The step is halved until the EE is no farther than before."""
    model = model_of("talos")
    ik = DifferentialIk(model, arm_tasks(model, ["right"]), IkConfig())
    q = model.home_positions()
    q[model.group_indices("right_arm")] = [0.1964, -0.6386, 0.107, -2.204, -0.927, -0.894, 0.6154]
    tilted = np.array(
        [[0.8213, -0.0795, -0.5649], [0.0954, 0.9954, -0.0014], [0.5624, -0.0527, 0.8252]]
    )
    u, _, vt = np.linalg.svd(tilted)  # the fingers tipped 1 rad down
    target = Pose(np.array([0.2701, -0.2905, 0.2516]), u @ vt)

    def off_m(joints: np.ndarray) -> float:
        return float(np.linalg.norm(ik.forward(joints)[0].position_m - target.position_m))

    assert off_m(q) > 0.025  # out of reach: no solve gets it
    assert off_m(ik.solve(q, [target])) <= off_m(q) + ik.config.tolerance_m
