"""Hand retargeter on real recorded hand data: fingers follow, grippers follow the pinch; an
open hand opens and a fist closes every shipped dexterous hand, a still hand gives still
fingers whatever the warm start; the compiled dexterous solve equals its numpy and
pinocchio statement and its hand frame the reference one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pinocchio as pin
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame
from humanoid_teleop.core.motion.hands import (
    hand_frame_of_webxr,
    load_mediapipe_right_hand_mano,
)
from humanoid_teleop.core.motion.rotation import rpy_to_matrix
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.hand import HAND_BONES, HandRetargeter, pinch_distance_m
from humanoid_teleop.core.retarget.ik_kernel import MAX_HAND_COORDINATE_M, _hand_local, hand_solve
from humanoid_teleop.core.safety import SafetyConfig
from humanoid_teleop.devices.scripted.hand_model import fist_points, hand_points
from humanoid_teleop.portability.tool import ArmTool

from ...conftest import SHARED_DATA
from .conftest import SHIPPED, model_of

HAND_FILE = SHARED_DATA / "hands" / "dex_retargeting_human_joint_right.npy"
needs_hands = pytest.mark.skipif(not HAND_FILE.exists(), reason=f"shared data absent: {HAND_FILE}")


def _hands() -> np.ndarray:
    return load_mediapipe_right_hand_mano(str(HAND_FILE))


#: (robot, side) of every shipped dexterous hand.
DEXTEROUS = [
    (robot, side)
    for robot in SHIPPED
    for side, spec in model_of(robot).description.hands.items()
    if spec.kind == "dexterous"
]
#: Synthetic operator hands held still (hand frame): flat open, half closed, pinch, fist.
STILL_POSES = {
    "open": lambda side: hand_points(side, 0.0),
    "half": lambda side: hand_points(side, 0.5),
    "pinch": lambda side: hand_points(side, 1.0),
    "fist": fist_points,
}


def _solver(robot: str, side: str) -> Any:
    """A fresh dexterous solver for ``robot``'s ``side`` hand."""
    model = model_of(robot)
    spec = model.description.hands[side]
    assert spec.group is not None
    return HandRetargeter(RetargetContext(model, (spec.group,))).dexterous[side]


def _held(solver: Any, points: np.ndarray, steps: int) -> np.ndarray:
    """The solver's hand joints [rad] at each of ``steps`` steps on a still hand."""
    return np.array([solver.solve(HandSkeleton(points)) for _ in range(steps)])


def _tool_closure(robot: str, side: str, q_hand: np.ndarray) -> float:
    """The portability report's closure (``ArmTool.closure``) of the hand at ``q_hand``."""
    model = model_of(robot)
    q = model.home_positions()
    q[model.group_indices(model.description.hands[side].group or "")] = q_hand
    return ArmTool(model, side).closure(q)


def test_every_shipped_dexterous_hand_is_covered() -> None:
    """The hand tests below cover g1's and alex's hands (the dexterous ones shipped today)."""
    assert {robot for robot, _ in DEXTEROUS} >= {"g1", "alex"}


@pytest.mark.parametrize(("robot", "side"), DEXTEROUS)
def test_flat_open_hand_opens_the_robot_hand(robot: str, side: str) -> None:
    """A flat open operator hand, held, leaves the robot hand open (closure < 0.3; G1's
    Dex3 curled to 0.64 when the bounded joints' steps were clipped after the solve)."""
    q = _held(_solver(robot, side), hand_points(side, 0.0), 200)[-1]
    assert _tool_closure(robot, side, q) < 0.3


@pytest.mark.parametrize(("robot", "side"), DEXTEROUS)
def test_fist_closes_the_robot_hand(robot: str, side: str) -> None:
    """An operator fist, held, closes the robot hand (closure > 0.7)."""
    q = _held(_solver(robot, side), fist_points(side), 200)[-1]
    assert _tool_closure(robot, side, q) > 0.7


@pytest.mark.parametrize("pose", sorted(STILL_POSES))
@pytest.mark.parametrize(("robot", "side"), DEXTEROUS)
def test_still_hand_gives_still_fingers(robot: str, side: str, pose: str) -> None:
    """After 100 steps on a still operator hand no finger joint moves 0.01 rad in a step
    (Alex's swung ~0.1-0.5 rad from step to step)."""
    held = _held(_solver(robot, side), STILL_POSES[pose](side), 150)
    assert np.abs(np.diff(held[100:], axis=0)).max() < 0.01


@pytest.mark.parametrize("pose", sorted(STILL_POSES))
@pytest.mark.parametrize(("robot", "side"), DEXTEROUS)
def test_still_hand_settles_the_same_from_open_or_closed(robot: str, side: str, pose: str) -> None:
    """A still hand's settled joints do not depend on the warm start: from the open hand
    and from the closed hand they agree within 0.01 rad."""
    points = STILL_POSES[pose](side)
    from_open = _solver(robot, side)
    from_closed = _solver(robot, side)
    from_closed.q_hand = np.array(model_of(robot).description.hands[side].closed_positions)
    np.testing.assert_allclose(
        _held(from_open, points, 300)[-1], _held(from_closed, points, 300)[-1], atol=0.01
    )


@needs_hands
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_recorded_hand_settles_on_every_frame(robot: str) -> None:
    """Every 4th frame of the recorded clip, held for 40 steps from where the clip had led
    the solver: the last step moves no joint 0.01 rad (no orbit on real hands)."""
    solver = _solver(robot, "right")
    worst = 0.0
    for points in _hands()[::4]:
        held = _held(solver, points, 40)
        worst = max(worst, float(np.abs(held[-1] - held[-2]).max()))
    assert worst < 0.01


@needs_hands
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_recorded_hand_steps_stay_bounded(robot: str) -> None:
    """Over the recorded clip at three steps per 30 Hz frame the 95th percentile of the
    largest joint change per step stays under 0.25 rad (was 0.38 on G1, 1.8 on Alex)."""
    solver = _solver(robot, "right")
    steps = np.concatenate([_held(solver, points, 3) for points in _hands()])
    assert np.percentile(np.abs(np.diff(steps, axis=0)).max(axis=1), 95) < 0.25


@needs_hands
@pytest.mark.parametrize("side", ["right", "left"])
def test_compiled_hand_frame_equals_the_reference(side: str) -> None:
    """The solve's compiled hand frame (``_hand_local``) places every joint of the recorded
    clip (mirrored for a left hand, turned and moved off the origin) where
    ``hand_frame_of_webxr`` does, within 1e-12 m."""
    mirror = np.array([1.0, -1.0, 1.0]) if side == "left" else np.ones(3)
    turn, offset = rpy_to_matrix(0.4, -1.1, 2.3), np.array([0.3, -0.2, 1.1])
    local = np.empty((25, 3))
    for points in _hands():
        joints = (points * mirror) @ turn.T + offset
        assert _hand_local(joints, 1.0 if side == "right" else -1.0, local)
        want = (joints - joints[0]) @ hand_frame_of_webxr(joints, side)
        np.testing.assert_allclose(local, want, rtol=0, atol=1e-12)


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
@pytest.mark.parametrize("margin_rad", [0.0, 0.02, 0.1])
def test_dexterous_targets_stay_within_the_commandable_bounds(margin_rad: float) -> None:
    """Every dexterous target for the recorded clip is inside the hand joints' limits shrunk
    by the safety margin, which the safety filter would otherwise clip it to."""
    model = model_of("alex")
    spec = model.description.hands["right"]
    assert spec.group is not None
    safety = SafetyConfig(position_margin_rad=margin_rad)
    hand = HandRetargeter(RetargetContext(model, (spec.group,), safety=safety))
    idx = model.group_indices(spec.group)
    lower, upper = model.limits.inner_bounds(margin_rad)
    q = model.home_positions()
    for i, points in enumerate(_hands()[::5]):
        values = hand.step(HumanFrame(i / 6.0, right_hand=HandSkeleton(points)), q)[spec.group]
        assert np.all(values >= lower[idx]) and np.all(values <= upper[idx])


@needs_hands
def test_gripper_follows_pinch_distance() -> None:
    """Talos' gripper is closed at the recorded pinch and open for the widest thumb-index gap
    (its positions within the safety margin of the joint's limits)."""
    model = model_of("talos")
    spec = model.description.hands["right"]
    hand = HandRetargeter(RetargetContext(model, ("right_hand",)))
    joints = _hands()
    gaps = [pinch_distance_m(HandSkeleton(p)) for p in joints]
    pinch, wide = joints[int(np.argmin(gaps))], joints[int(np.argmax(gaps))]
    closed = hand.step(HumanFrame(0.0, right_hand=HandSkeleton(pinch)), model.home_positions())
    opened = hand.step(HumanFrame(0.1, right_hand=HandSkeleton(wide)), model.home_positions())
    lower, upper = model.limits.inner_bounds(SafetyConfig().position_margin_rad)
    idx = model.group_indices("right_hand")
    # robot.yaml's open and closed positions, aimed inside what the filter commands
    assert np.allclose(closed["right_hand"], np.clip(spec.closed_positions, lower[idx], upper[idx]))
    assert np.allclose(opened["right_hand"], np.clip(spec.open_positions, lower[idx], upper[idx]))


def test_gripper_leaves_an_absurd_hand_alone() -> None:
    """A skeleton beyond MAX_HAND_COORDINATE_M gives no gripper target (the hand holds, as a
    dexterous hand does); one at the bound still drives it."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("talos")
    hand = HandRetargeter(RetargetContext(model, ("right_hand",)))
    points = hand_points("right", 0.5)
    at_bound = points - points[:, :1].max() + MAX_HAND_COORDINATE_M  # largest x on the bound
    beyond = points + 2 * MAX_HAND_COORDINATE_M
    q = model.home_positions()
    assert "right_hand" in hand.step(HumanFrame(0.0, right_hand=HandSkeleton(at_bound)), q)
    assert hand.step(HumanFrame(0.1, right_hand=HandSkeleton(beyond)), q) == {}


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
        local = (joints - joints[0]) @ hand_frame_of_webxr(joints, solver.side)
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
    ee_thumb = (solver.pairs[:, 0] == 0) & (solver.pairs[:, 1] == 1)
    points = np.zeros((n + 1, 3))
    points[1:] = local[solver.tip_rows] @ solver.ee_r_hand.T
    human = selection @ points
    distance = np.sqrt((human * human).sum(axis=1))
    falloff = np.exp(-np.maximum(distance - p.pinch_closed_m, 0.0) / 0.02)
    pair_weight = np.where(pinch, p.thumb_weight + p.pinch_weight * falloff, 1.0)
    weight = np.repeat(np.where(ee_thumb, p.thumb_weight, pair_weight), 3)
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
        rest = p.rest_weight**2
        normal = jac.T @ jac + np.eye(len(idx)) * (p.damping**2 + 1e-6 + rest)
        gradient = jac.T @ error + rest * (solver.q_open - q_hand)
        free = np.ones(len(idx), dtype=bool)
        while True:  # joints at a bound the step pushes past are held, the rest solved again
            dq = np.zeros(len(idx))
            dq[free] = np.linalg.solve(normal[np.ix_(free, free)], gradient[free])
            pushes = free & (
                ((q_hand <= solver.lower) & (dq < 0)) | ((q_hand >= solver.upper) & (dq > 0))
            )
            if not pushes.any():
                break
            free &= ~pushes
        if not np.isfinite(dq).all():
            break
        q_hand = np.clip(q_hand + dq, solver.lower, solver.upper)
    return q_hand


@needs_hands
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_compiled_solve_matches_the_numpy_and_pinocchio_statement(robot: str, side: str) -> None:
    """Over the recorded clip (mirrored for a left hand), each warm-started compiled solve
    gives the statement's hand joints within 1e-9 rad (seen: ~1e-11, rounding only), and
    the solver returns them clipped into the commandable bounds."""
    model = model_of(robot)
    spec = model.description.hands[side]
    assert spec.group is not None
    solver = HandRetargeter(RetargetContext(model, (spec.group,))).dexterous[side]
    mirror = np.array([1.0, -1.0, 1.0]) if side == "left" else np.ones(3)
    want = solver.q_open.copy()
    worst = 0.0
    for points in _hands():
        returned = solver.solve(HandSkeleton(points * mirror))
        got = solver.q_hand
        assert np.array_equal(returned, np.clip(got, *solver.commandable))
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


def test_a_read_only_skeleton_uses_the_one_compiled_kernel() -> None:
    """A skeleton whose points are read-only (the port's shared pick hands) reaches the kernel
    in the compiled layout too: numba types a read-only array apart, and compiled a second
    kernel in the first physics pick port of a process."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("alex")
    solver = HandRetargeter(RetargetContext(model, ("left_hand",))).dexterous["left"]
    points = hand_points("left", 0.5)
    points.flags.writeable = False
    solver.solve(HandSkeleton(points))
    assert len(hand_solve.signatures) == 1


@pytest.mark.parametrize("key", ["thumb_weight", "rest_weight"])
def test_a_negative_hand_weight_is_refused(key: str) -> None:
    """A negative ``thumb_weight`` / ``rest_weight`` in a profile is one error naming it."""
    from humanoid_teleop.core.retarget.errors import RetargetConfigError

    model = model_of("g1")
    context = RetargetContext(model, ("right_hand",), {key: -0.1}, "vr.yaml: hand")
    with pytest.raises(
        RetargetConfigError, match=rf"vr.yaml: hand: params.{key}: expected a number >= 0, got -0.1"
    ):
        HandRetargeter(context)


def test_the_thumb_weight_reaches_the_solve() -> None:
    """A profile's ``thumb_weight`` changes where G1's thumb settles for a flat open hand."""
    model = model_of("g1")
    settled = []
    for weight in (0.5, 1.0):
        context = RetargetContext(model, ("right_hand",), {"thumb_weight": weight})
        solver = HandRetargeter(context).dexterous["right"]
        settled.append(_held(solver, hand_points("right", 0.0), 200)[-1])
    assert np.abs(settled[0] - settled[1]).max() > 0.01
