"""arm_ik on the shipped mocap clip: the wrist position wins over an infeasible orientation.

Runs the ``replay`` profile pipeline offline (as ``humanoid-teleop retarget --profile replay``)
on the shipped CMU "unscrew cap, drink soda" clip for every shipped robot, plus the reach
limit that keeps EE targets inside the arm's reach.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh
from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.resources import MOTION_CLIPS
from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.offline import OfflineRun, run_offline
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline

from .conftest import SHIPPED, model_of

CLIP = MOTION_CLIPS.find("cmu_14_05_unscrew_cap_drink_soda")
#: Robots whose safe command lags the IK by more than 8 cm p95 on this clip: their arm
#: velocity / acceleration limits (romeo: 1 rad/s) are slower than the performer's hand.
LAGGING = {"romeo", "talos"}


@cache
def _soda_run(robot: str) -> tuple[OfflineRun, dict[str, list[float]]]:
    """Offline replay run of the shipped clip, plus the IK-only error per side [m].

    The IK-only error compares each EE target with the FK of the retargeters' joint
    targets before the safety filter.
    """
    model = model_of(robot)
    pipeline = TeleopPipeline.create(model.description, model, "replay")
    motion = human_frames_from_bvh(read_bvh(CLIP), skip_frames=5)
    pipeline.set_operator_arm_length(motion.operator_arm_length_m)
    frames = list(motion.frames)
    run = run_offline(pipeline, frames)
    # Second pass for the IK-only error: the same pipeline, stepped by hand.
    pipeline = TeleopPipeline.create(model.description, model, "replay")
    pipeline.set_operator_arm_length(motion.operator_arm_length_m)
    q = model.home_positions()
    pipeline.engage(q, frames[0].t_s - (frames[1].t_s - frames[0].t_s))
    ik_error: dict[str, list[float]] = {"left": [], "right": []}
    for frame in frames:
        out = pipeline.step(frame, q, frame.t_s)
        q = out.q
        for side, target in pipeline.ee_targets().items():
            _, position = model.fk(out.targets, model.description.arms[side].ee_frame)
            ik_error[side].append(float(np.linalg.norm(position - target.position_m)))
    return run, ik_error


@pytest.mark.parametrize("robot", SHIPPED)
def test_soda_clip_wrist_position_error_p50_within_3_cm(robot: str) -> None:
    """Both arms' commanded wrist position is within 3 cm of the target half of the time."""
    run, _ = _soda_run(robot)
    for side in ("left", "right"):
        assert np.percentile(run.position_error_m[side], 50) <= 0.03, side


@pytest.mark.parametrize(
    "robot",
    [
        pytest.param(
            r,
            marks=pytest.mark.xfail(
                strict=True,
                reason="safety velocity/acceleration limits lag the fast lift to the mouth; "
                "the IK targets themselves meet the bound (test_soda_clip_ik_targets...)",
            ),
        )
        if r in LAGGING
        else r
        for r in SHIPPED
    ],
)
def test_soda_clip_wrist_position_error_p95_within_8_cm(robot: str) -> None:
    """Both arms' commanded wrist position is within 8 cm of the target 95 % of the time."""
    run, _ = _soda_run(robot)
    for side in ("left", "right"):
        assert np.percentile(run.position_error_m[side], 95) <= 0.08, side


@pytest.mark.parametrize("robot", SHIPPED)
def test_soda_clip_ik_targets_track_wrist_position_p95_within_8_cm(robot: str) -> None:
    """The IK's joint targets (before safety) put both wrists within 8 cm, p95."""
    _, ik_error = _soda_run(robot)
    for side in ("left", "right"):
        assert np.percentile(ik_error[side], 95) <= 0.08, side


@pytest.mark.parametrize("robot", SHIPPED)
def test_soda_clip_stays_within_position_and_velocity_limits(robot: str) -> None:
    """No joint leaves its position limits and no velocity exceeds its limit."""
    run, _ = _soda_run(robot)
    assert run.limit_violations() == 0
    assert run.max_velocity_ratio() <= 1.0


def test_target_beyond_reach_is_pulled_onto_the_reach_sphere() -> None:
    """A wrist moved 2 m forward gives a target at max_reach_ratio x arm length."""
    model = model_of("g1")
    arm = ArmIkRetargeter(RetargetContext(model, ("left_arm",), {"max_reach_ratio": 0.9}))
    q = model.home_positions()
    wrist = Pose(np.array([0.3, 0.2, 1.0]), np.eye(3))
    assert arm.calibrate(HumanFrame(0.0, left_wrist=wrist), q)
    far = Pose(wrist.position_m + np.array([2.0, 0.0, 0.0]), np.eye(3))
    arm.step(HumanFrame(0.01, left_wrist=far), q)
    target = arm.ee_targets()["left"]
    shoulder = arm.shoulder_m["left"]
    distance = np.linalg.norm(target.position_m - shoulder)
    assert distance == pytest.approx(0.9 * arm.robot_arm_length_m["left"])


def test_null_max_reach_ratio_keeps_the_scaled_target() -> None:
    """With max_reach_ratio null the target is the scaled wrist displacement, however far."""
    model = model_of("g1")
    params = {"max_reach_ratio": None, "scale": 1.0}
    arm = ArmIkRetargeter(RetargetContext(model, ("left_arm",), params))
    q = model.home_positions()
    wrist = Pose(np.array([0.3, 0.2, 1.0]), np.eye(3))
    arm.calibrate(HumanFrame(0.0, left_wrist=wrist), q)
    start = arm.ik.forward(np.clip(q, arm.ik.lower, arm.ik.upper))[0].position_m
    far = Pose(wrist.position_m + np.array([2.0, 0.0, 0.0]), np.eye(3))
    arm.step(HumanFrame(0.01, left_wrist=far), q)
    assert np.allclose(arm.ee_targets()["left"].position_m, start + np.array([2.0, 0.0, 0.0]))


@pytest.mark.parametrize("bad", [0, -0.5, "far", True, float("nan")])
def test_bad_max_reach_ratio_is_rejected_with_its_value(bad: object) -> None:
    """max_reach_ratio must be a number > 0 or null; the error names key and value."""
    with pytest.raises(RetargetConfigError, match=r"params\.max_reach_ratio: expected a"):
        ArmIkRetargeter(RetargetContext(model_of("g1"), ("left_arm",), {"max_reach_ratio": bad}))


def _turned(tilt_rad: float, roll_rad: float) -> np.ndarray:
    """The operator wrist rotation of the scripted demonstrator: fingers tipped ``tilt_rad``
    down (about the operator's y), then the hand rolled ``roll_rad`` about its fingers' axis."""
    ct, st, cr, sr = np.cos(tilt_rad), np.sin(tilt_rad), np.cos(roll_rad), np.sin(roll_rad)
    pitch = np.array([[ct, 0.0, st], [0.0, 1.0, 0.0], [-st, 0.0, ct]])
    roll = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    return pitch @ roll


@pytest.mark.parametrize("tilt_deg", [13.0, 30.0])
def test_alex_wrist_turns_palm_down_without_pinning_a_wrist_limit(tilt_deg: float) -> None:
    """Alex's wrist (z-x-z) is singular at WristRoll 0; from a home there the IK took the
    scripted demonstrator's palm-down turn (roll -90 deg while the fingers tip down 30 deg,
    robots/alex/physics.yaml; or 13 deg) into WristRoll's 35 deg side, pinned it at that
    limit and missed the rotation by 3-16 deg. From the shipped home, WristRoll 0.3 rad on
    its wide side (105 deg), it reaches the asked rotation."""
    model = model_of("alex")
    arm = ArmIkRetargeter(RetargetContext(model, ("right_arm",), {}))
    q = model.home_positions()
    wrist_m = np.array([0.3, -0.2, 1.0])
    assert arm.calibrate(HumanFrame(0.0, right_wrist=Pose(wrist_m, np.eye(3))), q)
    dt_s = 0.004
    errors_deg = []
    for k in range(1, 751):  # 3 s at 250 Hz; tilt at 0.5 rad/s and roll at 1 rad/s, as scripted
        t_s = k * dt_s
        rotation = _turned(min(0.5 * t_s, np.radians(tilt_deg)), -min(1.0 * t_s, np.pi / 2))
        out = arm.step(HumanFrame(t_s, right_wrist=Pose(wrist_m, rotation)), q)
        q = q.copy()
        q[model.group_indices("right_arm")] = out["right_arm"]
        target = arm.ee_targets()["right"]
        reached, _ = model.fk(q, "RightGripperYawLink")
        cos = (np.trace(reached.T @ target.rotation) - 1.0) / 2.0
        errors_deg.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    assert max(errors_deg[-250:]) < 1.0  # the last second, turned
