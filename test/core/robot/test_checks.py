"""robots check findings about hands: fingertip frames a hand should move."""

from __future__ import annotations

from pathlib import Path

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.robot.checks import check_robot

from .toy import toy_config, write_toy


def _warnings(tmp_path: Path, hand: dict[str, object]) -> list[str]:
    config = toy_config()
    config["hands"]["left"] = hand
    model = RobotModel(load_robot(write_toy(tmp_path, config)))
    return [f.message for f in check_robot(model) if f.level == "warning"]


def test_gripper_tip_fixed_on_its_base_is_not_a_warning(tmp_path: Path) -> None:
    """A gripper's jaw-tip frame need not move with its joint (a fixed grasp point)."""
    hand = {
        "kind": "gripper",
        "group": "left_hand",
        "fingertip_frames": {"thumb": "l_hand"},
        "open": [0.0],
        "closed": [1.0],
    }
    assert not [w for w in _warnings(tmp_path, hand) if "fingertip" in w]


def test_dexterous_tip_its_hand_does_not_move_is_a_warning(tmp_path: Path) -> None:
    """A dexterous fingertip frame that no joint of its hand moves is reported."""
    hand = {
        "kind": "dexterous",
        "group": "left_hand",
        "fingers": {"thumb": ["l_gripper"]},
        "fingertip_frames": {"thumb": "l_hand"},
        "open": [0.0],
        "closed": [1.0],
    }
    assert any(
        "thumb fingertip frame 'l_hand' does not move" in w for w in _warnings(tmp_path, hand)
    )
