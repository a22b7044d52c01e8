"""Every shipped robot loads, and its groups, frames, hands and home pose make sense."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.robot.locate import shipped_robots_dirs

from .conftest import SHIPPED

Models = Callable[[str], RobotModel]
ARM_SIDES = [(name, side) for name in SHIPPED for side in ("left", "right")]


def _hand_rotation(model: RobotModel, q: np.ndarray, side: str) -> np.ndarray:
    arm = model.description.arms[side]
    rotation, _ = model.fk(q, arm.ee_frame)
    return rotation @ arm.hand_frame_rotation()


def test_at_least_five_robots_from_four_makers(robot_model: Models) -> None:
    """The package ships >= 5 humanoids from >= 4 makers."""
    makers = {robot_model(name).description.maker for name in SHIPPED}
    assert len(SHIPPED) >= 5 and len(makers) >= 4, (SHIPPED, makers)


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


def _sides_with_hand(kind: str) -> list[tuple[str, str]]:
    """(robot, side) pairs whose hand is of ``kind`` (read from the YAML at collection)."""
    return [
        (name, side)
        for name in SHIPPED
        for side, hand in load_robot(name, shipped_robots_dirs()).hands.items()
        if hand.kind == kind
    ]


DEXTEROUS = _sides_with_hand("dexterous")
FINGERED = [
    (name, side)
    for name, side in DEXTEROUS
    if {"thumb", "index", "middle"}
    <= set(load_robot(name, shipped_robots_dirs()).hands[side].fingertip_frames)
]
CAMERAS = [
    (name, camera.name)
    for name in SHIPPED
    for camera in load_robot(name, shipped_robots_dirs()).sensors.cameras
]


def _tips(model: RobotModel, side: str, closure: float) -> dict[str, np.ndarray]:
    hand = model.description.hands[side]
    assert hand.group is not None
    q = model.home_positions()
    q[model.group_indices(hand.group)] = hand.grasp_positions(closure)
    return {finger: model.fk(q, frame)[1] for finger, frame in hand.fingertip_frames.items()}


@pytest.mark.parametrize(("name", "side"), FINGERED)
def test_closing_hand_brings_thumb_to_index(robot_model: Models, name: str, side: str) -> None:
    """Thumb and index fingertips are at least 4 cm closer when the hand is closed."""
    model = robot_model(name)
    open_tips, closed_tips = _tips(model, side, 0.0), _tips(model, side, 1.0)
    gap_open = np.linalg.norm(open_tips["thumb"] - open_tips["index"])
    gap_closed = np.linalg.norm(closed_tips["thumb"] - closed_tips["index"])
    assert gap_closed < gap_open - 0.04


@pytest.mark.parametrize(("name", "side"), FINGERED)
def test_fingers_close_toward_the_palm(robot_model: Models, name: str, side: str) -> None:
    """Closing moves the index fingertip toward the palm, i.e. along the human hand's -z."""
    model = robot_model(name)
    hand_z = _hand_rotation(model, model.home_positions(), side)[:, 2]
    motion = _tips(model, side, 1.0)["index"] - _tips(model, side, 0.0)["index"]
    assert motion @ hand_z < -0.01


@pytest.mark.parametrize(("name", "side"), FINGERED)
def test_index_is_on_the_thumb_side_of_middle(robot_model: Models, name: str, side: str) -> None:
    """Open-hand index tip lies toward the thumb (human +y right, -y left) from the middle tip."""
    model = robot_model(name)
    hand_y = _hand_rotation(model, model.home_positions(), side)[:, 1]
    tips = _tips(model, side, 0.0)
    thumb_side = hand_y if side == "right" else -hand_y
    assert (tips["index"] - tips["middle"]) @ thumb_side > 0.005


@pytest.mark.parametrize(("name", "camera"), CAMERAS)
def test_camera_looks_forward_upright(robot_model: Models, name: str, camera: str) -> None:
    """At home each camera's optical z looks forward, x points right and y down."""
    model = robot_model(name)
    spec = next(c for c in model.description.sensors.cameras if c.name == camera)
    rotation, _ = model.fk(model.home_positions(), spec.frame_id)
    assert rotation[0, 2] > 0.5
    assert rotation[1, 0] < -0.7
    assert rotation[2, 1] < -0.5


@pytest.mark.parametrize("name", ["talos", "romeo"])
def test_mimic_fingers_follow_the_hand_motor(robot_model: Models, name: str) -> None:
    """With URDF mimics applied, closing the 1-motor hand moves its passive finger joints."""
    model = robot_model(name)
    hand = model.description.hands["left"]
    assert hand.group is not None
    q_open, q_closed = model.home_positions(), model.home_positions()
    q_open[model.group_indices(hand.group)] = hand.open_positions
    q_closed[model.group_indices(hand.group)] = hand.closed_positions
    followers = model.index_of(
        [m.joint for m in model.mimics if m.source == model.description.groups[hand.group][0]]
    )
    moved = model.apply_mimic(q_closed)[followers] - model.apply_mimic(q_open)[followers]
    assert len(followers) >= 5 and np.all(np.abs(moved) > 0.5)


def test_apply_mimic_sets_each_shipped_mimic_from_its_source(robot_model: Models) -> None:
    """On every shipped robot with mimics (one pass over all of them at once), each mimic
    joint is multiplier x source + offset within its limits, the other joints untouched."""
    rng = np.random.default_rng(7)
    checked = 0
    for name in SHIPPED:
        model = robot_model(name)
        if not model.mimics:
            continue
        lower, upper = model.limits.lower, model.limits.upper
        q = rng.uniform(np.maximum(lower, -3.0), np.minimum(upper, 3.0))
        out = model.apply_mimic(q)
        expected = q.copy()
        for mimic in model.mimics:
            i, j = model.index_of([mimic.joint, mimic.source])
            expected[i] = np.clip(mimic.multiplier * q[j] + mimic.offset, lower[i], upper[i])
        np.testing.assert_array_equal(out, expected, err_msg=name)
        checked += 1
    assert checked >= 2  # TALOS' jaws, Romeo's fingers
