"""Every shipped robot loads, and its groups, frames, hands and home pose make sense."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel

from .conftest import SHIPPED

Models = Callable[[str], RobotModel]
ARM_SIDES = [(name, side) for name in SHIPPED for side in ("left", "right")]


def _hand_rotation(model: RobotModel, q: np.ndarray, side: str) -> np.ndarray:
    arm = model.description.arms[side]
    rotation, _ = model.fk(q, arm.ee_frame)
    return rotation @ arm.hand_frame_rotation()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_group_joint_is_an_actuated_model_joint(robot_model: Models, name: str) -> None:
    """Each joint of each group is one of the model's 1-DoF joints."""
    model = robot_model(name)
    missing = [j for j in model.description.group_joints if j not in model.joint_names]
    assert missing == []


@pytest.mark.parametrize("name", SHIPPED)
def test_home_is_within_limits(robot_model: Models, name: str) -> None:
    """The home posture as written in robot.yaml needs no clamping."""
    model = robot_model(name)
    home = model.description.home
    index = model.index_of(home)
    written = np.array(list(home.values()))
    assert np.all(written >= model.limits.lower[index] - 1e-9)
    assert np.all(written <= model.limits.upper[index] + 1e-9)


@pytest.mark.parametrize("name", SHIPPED)
def test_fk_at_home_is_finite_for_every_frame(robot_model: Models, name: str) -> None:
    """Forward kinematics at home gives finite poses with orthonormal rotations."""
    model = robot_model(name)
    for frame, (rotation, position) in model.fk_all(model.home_positions()).items():
        assert np.all(np.isfinite(position)), frame
        assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-9), frame


@pytest.mark.parametrize(("name", "side"), ARM_SIDES)
def test_hand_at_home_is_in_front_on_its_side(robot_model: Models, name: str, side: str) -> None:
    """At home each EE is in front of the base frame and on its own side of it."""
    model = robot_model(name)
    _, position = model.fk(model.home_positions(), model.description.arms[side].ee_frame)
    assert position[0] > 0.05
    assert position[1] > 0.05 if side == "left" else position[1] < -0.05


@pytest.mark.parametrize(("name", "side"), ARM_SIDES)
def test_ee_frame_moves_with_every_arm_joint(robot_model: Models, name: str, side: str) -> None:
    """Each joint of the arm group moves the EE frame (non-zero Jacobian column at home)."""
    model = robot_model(name)
    arm = model.description.arms[side]
    jac = model.jacobian(model.home_positions(), arm.ee_frame)
    columns = jac[:, model.group_indices(arm.group)]
    still = [
        joint
        for joint, norm in zip(
            model.description.groups[arm.group], np.linalg.norm(columns, axis=0), strict=True
        )
        if norm < 1e-6
    ]
    assert still == []


@pytest.mark.parametrize(("name", "side"), ARM_SIDES)
def test_elbow_is_bent_about_90_degrees_at_home(robot_model: Models, name: str, side: str) -> None:
    """The angle shoulder-elbow-wrist at home is between 60° and 120°."""
    model = robot_model(name)
    arm = model.description.arms[side]
    q = model.home_positions()
    _, shoulder = model.fk(q, model.description.groups[arm.group][0])
    _, elbow = model.fk(q, arm.elbow_joint)
    _, wrist = model.fk(q, arm.ee_frame)
    a, b = shoulder - elbow, wrist - elbow
    angle = math.degrees(math.acos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    assert 60.0 <= angle <= 120.0


@pytest.mark.parametrize(("name", "side"), ARM_SIDES)
def test_hand_x_points_along_forearm(robot_model: Models, name: str, side: str) -> None:
    """At home the human-hand +x axis points from the elbow out through the wrist (±37°)."""
    model = robot_model(name)
    arm = model.description.arms[side]
    q = model.home_positions()
    _, elbow = model.fk(q, arm.elbow_joint)
    _, wrist = model.fk(q, arm.ee_frame)
    forearm = (wrist - elbow) / np.linalg.norm(wrist - elbow)
    assert _hand_rotation(model, q, side)[:, 0] @ forearm > 0.8
