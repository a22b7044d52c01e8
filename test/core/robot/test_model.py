"""RobotModel: Jacobians agree with FK, inputs are checked, limits are read-only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel

Models = Callable[[str], RobotModel]


def _rotation_log(rotation: np.ndarray) -> np.ndarray:
    """Rotation vector [rad] of a small rotation matrix."""
    angle = np.arccos(np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0))
    axis = np.array(
        [
            rotation[2, 1] - rotation[1, 2],
            rotation[0, 2] - rotation[2, 0],
            rotation[1, 0] - rotation[0, 1],
        ]
    )
    return axis / 2.0 if angle < 1e-9 else axis * angle / (2.0 * np.sin(angle))


@pytest.mark.parametrize("name", ["g1", "icub"])
def test_jacobian_matches_finite_differences_of_fk(robot_model: Models, name: str) -> None:
    """Each Jacobian column equals the FK change per joint step, in the base frame axes."""
    model = robot_model(name)
    frame = model.description.arms["right"].ee_frame
    q = model.home_positions()
    jac = model.jacobian(q, frame)
    rotation, position = model.fk(q, frame)
    step = 1e-6
    for i in model.group_indices(model.description.arms["right"].group):
        moved = q.copy()
        moved[i] += step
        rotation_2, position_2 = model.fk(moved, frame)
        assert (position_2 - position) / step == pytest.approx(jac[:3, i], abs=1e-4)
        omega = _rotation_log(rotation_2 @ rotation.T) / step
        assert omega == pytest.approx(jac[3:, i], abs=1e-4)


def test_fk_rejects_nan_naming_the_joint(robot_model: Models) -> None:
    """A NaN in q raises ValueError naming the joint it belongs to."""
    model = robot_model("g1")
    q = model.home_positions()
    q[model.index_of(["left_elbow_joint"])] = np.nan
    with pytest.raises(ValueError, match="not finite for joints left_elbow_joint"):
        model.fk(q, "left_wrist_yaw_link")


def test_fk_rejects_wrong_length(robot_model: Models) -> None:
    """q of the wrong length raises ValueError stating the expected shape."""
    model = robot_model("g1")
    with pytest.raises(ValueError, match=r"q must have shape \(43,\)"):
        model.fk(np.zeros(29), "pelvis")


def test_unknown_frame_lists_nearest_frames(robot_model: Models) -> None:
    """FK of an unknown frame raises KeyError naming close frame names."""
    model = robot_model("g1")
    with pytest.raises(KeyError, match="nearest: left_wrist_yaw_link"):
        model.fk(model.home_positions(), "left_wrist_yaw")


def test_unknown_joint_lists_nearest_joints(robot_model: Models) -> None:
    """index_of an unknown joint raises KeyError naming close joint names."""
    with pytest.raises(KeyError, match="nearest: left_elbow_joint"):
        robot_model("g1").index_of(["left_elbow"])


def test_limits_are_read_only(robot_model: Models) -> None:
    """The limit arrays cannot be changed by a caller."""
    with pytest.raises(ValueError, match="read-only"):
        robot_model("g1").limits.upper[0] = 10.0


def test_clamp_clips_into_position_limits(robot_model: Models) -> None:
    """clamp() moves every joint into [lower, upper]."""
    model = robot_model("talos")
    clamped = model.clamp(np.full(model.nq, 10.0))
    assert np.array_equal(clamped, model.limits.upper)


def test_base_frame_other_than_root_is_respected(robot_model: Models) -> None:
    """iCub's REP-103 base frame is the identity pose of itself and has the head above it."""
    model = robot_model("icub")
    rotation, position = model.fk(model.home_positions(), "base_rep103")
    assert np.allclose(rotation, np.eye(3)) and np.allclose(position, 0.0)
    _, head = model.fk(model.home_positions(), "head")
    assert head[2] > 0.2


def test_per_model_and_side_builds_once_and_lets_the_model_go() -> None:
    """What per_model_and_side builds is made once per model and side, and released with
    its model (a centre's worker ports to many robots in turn)."""
    import gc
    import weakref

    from humanoid_teleop.core.robot import load_robot, per_model_and_side
    from humanoid_teleop.core.robot.locate import shipped_robots_dirs

    calls: list[tuple[int, str]] = []

    class Built:
        def __init__(self, model: RobotModel, side: str) -> None:
            calls.append((id(model), side))

    built = per_model_and_side(Built)
    model = RobotModel(load_robot("g1", shipped_robots_dirs()))
    left = built(model, "left")
    assert built(model, "left") is left
    assert built(model, "right") is not left
    assert len(calls) == 2
    gone = weakref.ref(left)
    del model, left
    gc.collect()
    assert gone() is None
