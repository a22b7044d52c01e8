"""joint_map: leader joints -> robot joints with sign/scale/offset/clamp and offset search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HumanFrame, LeaderJoints
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.joint_map import JointMapRetargeter, search_offset

from .conftest import model_of


def test_offset_search_finds_quarter_turn() -> None:
    """A leader reading home + pi/2 gets offset -pi/2."""
    assert search_offset(0.1 + math.pi / 2, 0.1, 1.0, 1.0) == pytest.approx(-math.pi / 2)


def test_offset_search_prefers_zero_when_aligned() -> None:
    """A leader already at home keeps offset 0."""
    assert search_offset(0.3, 0.3, 1.0, 1.0) == 0.0


def _leader(names: list[str], values: list[float], t: float = 0.0) -> HumanFrame:
    return HumanFrame(t, leader=LeaderJoints(tuple(names), np.array(values)))


def test_sign_scale_offset_and_clamp_apply() -> None:
    """robot = clamp(sign * scale * leader + offset)."""
    model = model_of("g1")
    params = {
        "joints": [
            {"leader": "a", "robot": "left_elbow_joint", "sign": -1, "scale": 2.0,
             "offset_rad": 0.1, "clamp": [-0.5, 0.5]},
            {"leader": "b", "robot": "left_shoulder_pitch_joint"},
        ]
    }  # fmt: skip
    jm = JointMapRetargeter(RetargetContext(model, ("left_arm",), params))
    out = jm.step(_leader(["a", "b"], [0.1, 0.4]), model.home_positions())["left_arm"]
    names = model.description.groups["left_arm"]
    assert out[names.index("left_elbow_joint")] == pytest.approx(-0.1)
    assert out[names.index("left_shoulder_pitch_joint")] == pytest.approx(0.4)
    big = jm.step(_leader(["a", "b"], [-5.0, 0.0]), model.home_positions())["left_arm"]
    assert big[names.index("left_elbow_joint")] == pytest.approx(0.5)


def test_auto_offset_aligns_leader_to_home() -> None:
    """With auto_offset, a leader a quarter turn off in the home pose maps to home."""
    model = model_of("g1")
    names = list(model.description.groups["right_arm"])
    home = model.home_positions()[model.group_indices("right_arm")]
    readings = list(home + np.array([math.pi / 2, 0, -math.pi / 2, math.pi, 0, 0, 0]))
    jm = JointMapRetargeter(RetargetContext(model, ("right_arm",), {"auto_offset": True}))
    assert jm.calibrate(_leader(names, readings), model.home_positions())
    out = jm.step(_leader(names, readings), model.home_positions())["right_arm"]
    assert np.allclose(out, home)


def test_unknown_robot_joint_is_refused() -> None:
    """Mapping onto a joint outside the assigned groups names the joint and groups."""
    params = {"joints": [{"leader": "a", "robot": "left_knee_joint"}]}
    with pytest.raises(RetargetConfigError, match=r"'left_knee_joint' is not in the groups"):
        JointMapRetargeter(RetargetContext(model_of("g1"), ("left_arm",), params))


def test_sign_must_be_plus_or_minus_one() -> None:
    """sign 0.5 is refused listing 1 and -1."""
    params = {"joints": [{"leader": "a", "robot": "left_elbow_joint", "sign": 0.5}]}
    with pytest.raises(
        RetargetConfigError, match=r"params\.joints\[0\]\.sign: got 0.5; allowed: 1, -1"
    ):
        JointMapRetargeter(RetargetContext(model_of("g1"), ("left_arm",), params))


def test_by_order_maps_leader_names_onto_group_joints() -> None:
    """joints: by_order maps leader_joint_1..7 onto the right arm's joints in order."""
    model = model_of("g1")
    jm = JointMapRetargeter(RetargetContext(model, ("right_arm",), {"joints": "by_order"}))
    names = [f"leader_joint_{i}" for i in range(1, 8)]
    values = [0.1 * i for i in range(1, 8)]
    out = jm.step(_leader(names, values), model.home_positions())["right_arm"]
    assert np.allclose(out, values)
    assert jm.mappings[0].robot == model.description.groups["right_arm"][0]
