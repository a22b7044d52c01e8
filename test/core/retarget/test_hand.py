"""Hand retargeter on real recorded hand data: fingers follow, grippers follow the pinch; the
compiled dexterous solve equals its numpy and pinocchio statement."""

from __future__ import annotations

from typing import Any

import numpy as np
import pinocchio as pin
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame
from humanoid_teleop.core.motion.hands import (
    hand_frame_from_keypoints,
    load_mediapipe_right_hand_mano,
)
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.hand import HAND_BONES, HandRetargeter, pinch_distance_m
from humanoid_teleop.core.retarget.ik_kernel import hand_solve

from ...conftest import SHARED_DATA
from .conftest import model_of

HAND_FILE = SHARED_DATA / "hands" / "dex_retargeting_human_joint_right.npy"
needs_hands = pytest.mark.skipif(not HAND_FILE.exists(), reason=f"shared data absent: {HAND_FILE}")


def _hands() -> np.ndarray:
    return load_mediapipe_right_hand_mano(str(HAND_FILE))


def _closure(robot: str, side: str, joints: np.ndarray) -> np.ndarray:
    """Per frame: mean fraction of the way from the open to the closed hand pose."""
    model = model_of(robot)
    spec = model.description.hands[side]
    assert spec.group is not None
    hand = HandRetargeter(RetargetContext(model, (spec.group,)))
    q = model.home_positions()
    open_q, closed_q = np.array(spec.open_positions), np.array(spec.closed_positions)
    span = np.where(np.abs(closed_q - open_q) > 1e-6, closed_q - open_q, np.inf)
    out = []
    for i, points in enumerate(joints):
        frame = HumanFrame(i / 30.0, right_hand=HandSkeleton(points))
        for _ in range(3):  # settle like three 90 Hz steps per 30 Hz video frame
            values = hand.step(frame, q)[spec.group]
        out.append(float(np.mean(np.clip((values - open_q) / span, -1, 2))))
    return np.array(out)


@needs_hands
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_dexterous_hand_closes_more_for_fist_than_open_hand(robot: str) -> None:
    """Frames where the human's fingertips are near the wrist close the robot hand more."""
    joints = _hands()[::3]
    closure = _closure(robot, "right", joints)
    reach = np.linalg.norm(joints[:, [9, 14, 19, 24]], axis=2).mean(axis=1)
    curled, extended = reach < np.percentile(reach, 20), reach > np.percentile(reach, 80)
    assert closure[curled].mean() > closure[extended].mean() + 0.15


@needs_hands
def test_dexterous_targets_stay_within_limits() -> None:
    """Every dexterous target for the recorded clip is inside the hand joints' limits."""
    model = model_of("alex")
    spec = model.description.hands["right"]
    assert spec.group is not None
    hand = HandRetargeter(RetargetContext(model, (spec.group,)))
    idx = model.group_indices(spec.group)
    q = model.home_positions()
    for i, points in enumerate(_hands()[::5]):
        values = hand.step(HumanFrame(i / 6.0, right_hand=HandSkeleton(points)), q)[spec.group]
        assert np.all(values >= model.limits.lower[idx]) and np.all(
            values <= model.limits.upper[idx]
        )


@needs_hands
def test_gripper_follows_pinch_distance() -> None:
    """Talos' gripper is closed at the recorded pinch and open for the widest thumb-index gap."""
    model = model_of("talos")
    spec = model.description.hands["right"]
    hand = HandRetargeter(RetargetContext(model, ("right_hand",)))
    joints = _hands()
    gaps = [pinch_distance_m(HandSkeleton(p)) for p in joints]
    pinch, wide = joints[int(np.argmin(gaps))], joints[int(np.argmax(gaps))]
    closed = hand.step(HumanFrame(0.0, right_hand=HandSkeleton(pinch)), model.home_positions())
    opened = hand.step(HumanFrame(0.1, right_hand=HandSkeleton(wide)), model.home_positions())
    assert np.allclose(closed["right_hand"], spec.closed_positions)
    assert np.allclose(opened["right_hand"], spec.open_positions)


def test_missing_hand_input_gives_no_target() -> None:
    """Without a hand skeleton the retargeter leaves the hand group's target alone."""
    model = model_of("g1")
    hand = HandRetargeter(RetargetContext(model, ("left_hand", "right_hand")))
    assert hand.step(HumanFrame(0.0), model.home_positions()) == {}


def test_engagement_restarts_the_dexterous_solver_from_the_open_hand() -> None:
    """After a new engagement (calibrate) the hand commands equal a fresh retargeter's, not
    ones warm-started from the earlier engagement's closed hand."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("g1")
    spec = model.description.hands["right"]
    assert spec.group is not None
    used = HandRetargeter(RetargetContext(model, (spec.group,)))
    fresh = HandRetargeter(RetargetContext(model, (spec.group,)))
    q = model.home_positions()
    closed = HumanFrame(0.0, right_hand=HandSkeleton(hand_points("right", 1.0)))
    for _ in range(30):
        used.step(closed, q)
    half = HumanFrame(1.0, right_hand=HandSkeleton(hand_points("right", 0.5)))
    assert used.calibrate(half, q)
    assert fresh.calibrate(half, q)
    np.testing.assert_array_equal(used.step(half, q)[spec.group], fresh.step(half, q)[spec.group])


def _statement_solve(solver: Any, q_hand: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """One vector-matching solve in plain numpy over pinocchio's whole-model kinematics (the
    math the compiled ``hand_solve`` implements; the solver's code before it was compiled)."""
    p = solver.params
    if float(np.max(np.abs(joints))) > 1e3:
        return q_hand
    with np.errstate(invalid="ignore", divide="ignore"):
        rotation = hand_frame_from_keypoints(
            joints[0], joints[6], joints[11], joints[21], solver.side
        )
        local = (joints - joints[0]) @ rotation
    if not np.isfinite(local).all():
        return q_hand
    bones = local[HAND_BONES[:, 1]] - local[HAND_BONES[:, 0]]
    length = float(np.sqrt((bones * bones).sum(axis=1)).sum()) / 4
    n = len(solver.fingers)
    selection = np.zeros((len(solver.pairs), n + 1))
    for row, (a, b) in enumerate(solver.pairs):
        selection[row, a] -= 1.0
        selection[row, b] += 1.0
    pinch = solver.pairs[:, 0] == 1
    points = np.zeros((n + 1, 3))
    points[1:] = local[solver.tip_rows] @ solver.ee_r_hand.T
    human = selection @ points
    distance = np.sqrt((human * human).sum(axis=1))
    falloff = np.exp(-np.maximum(distance - p.pinch_closed_m, 0.0) / 0.02)
    weight = np.repeat(np.where(pinch, 1.0 + p.pinch_weight * falloff, 1.0), 3)
    target = solver.robot_length_m / max(length, 1e-3) * human
    target[pinch & (distance < p.pinch_closed_m)] = 0.0
    pm, model, idx = solver.pm, solver.model, solver.idx
    data = pm.createData()
    q = model.home_positions()
    lwa = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
    for _ in range(p.iterations):
        q[idx] = q_hand
        pin.computeJointJacobians(pm, data, model.to_pinocchio(q))
        ee = pin.updateFramePlacement(pm, data, solver.ee_id)
        positions, jacobians = np.zeros((n + 1, 3)), np.zeros((n + 1, 3, len(idx)))
        for i, fid in enumerate(solver.tip_ids):
            positions[i + 1] = pin.updateFramePlacement(pm, data, fid).translation
            jacobians[i + 1] = pin.getFrameJacobian(pm, data, fid, lwa)[:3, idx]
        positions[1:] = (positions[1:] - ee.translation) @ ee.rotation
        jacobians[1:] = ee.rotation.T @ jacobians[1:]
        jac = (selection @ jacobians.reshape(n + 1, -1)).reshape(-1, len(idx)) * weight[:, None]
        error = target.reshape(-1) * weight - (selection @ positions).reshape(-1) * weight
        damping = np.eye(len(idx)) * (p.damping**2 + 1e-6)
        dq = np.linalg.solve(jac.T @ jac + damping, jac.T @ error)
        if not np.isfinite(dq).all():
            break
        q_hand = np.clip(q_hand + dq, solver.lower, solver.upper)
    return q_hand


@needs_hands
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_compiled_solve_matches_the_numpy_and_pinocchio_statement(robot: str, side: str) -> None:
    """Over the recorded clip (mirrored for a left hand), each warm-started compiled solve
    gives the statement's hand joints within 1e-9 rad (seen: ~1e-11, rounding only)."""
    model = model_of(robot)
    spec = model.description.hands[side]
    assert spec.group is not None
    solver = HandRetargeter(RetargetContext(model, (spec.group,))).dexterous[side]
    mirror = np.array([1.0, -1.0, 1.0]) if side == "left" else np.ones(3)
    want = solver.q_open.copy()
    worst = 0.0
    for points in _hands():
        got = solver.solve(HandSkeleton(points * mirror))
        want = _statement_solve(solver, want, points * mirror)
        worst = max(worst, float(np.max(np.abs(got - want))))
    assert worst < 1e-9


@pytest.mark.parametrize("bad", ["absurd", "one point"])
def test_an_absurd_or_degenerate_hand_keeps_the_last_pose(bad: str) -> None:
    """A skeleton beyond 1 km or with every joint at one point leaves the hand as it was."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("g1")
    solver = HandRetargeter(RetargetContext(model, ("right_hand",))).dexterous["right"]
    last = solver.solve(HandSkeleton(hand_points("right", 0.7)))
    points = np.full((25, 3), 0.3) if bad == "one point" else hand_points("right", 0.2) + 2e3
    np.testing.assert_array_equal(solver.solve(HandSkeleton(points)), last)


def test_a_real_hand_solve_uses_the_one_compiled_kernel() -> None:
    """The solver's arrays reach the kernel in the layout ``compile_now`` compiled: a solve
    on a real hand compiles nothing more (a second compile would cost seconds mid-session)."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("alex")
    solver = HandRetargeter(RetargetContext(model, ("left_hand",))).dexterous["left"]
    solver.solve(HandSkeleton(hand_points("left", 0.5)))
    assert len(hand_solve.signatures) == 1
