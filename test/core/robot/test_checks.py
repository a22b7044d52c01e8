"""robots check findings about hands: fingertip frames a hand should move, and a hand whose
tool point is its EE frame."""

from __future__ import annotations

from pathlib import Path

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.robot.checks import check_robot

from .toy import toy_config, write_toy


def _findings(tmp_path: Path, hand: dict[str, object], level: str = "warning") -> list[str]:
    """The ``level`` findings of the toy robot with ``hand`` as its left hand."""
    config = toy_config()
    config["hands"]["left"] = hand
    model = RobotModel(load_robot(write_toy(tmp_path, config)))
    return [f.message for f in check_robot(model) if f.level == level]


def test_gripper_tip_fixed_on_its_base_is_not_a_warning(tmp_path: Path) -> None:
    """A gripper's jaw-tip frame need not move with its joint (a fixed grasp point)."""
    hand = {
        "kind": "gripper",
        "group": "left_hand",
        "fingertip_frames": {"thumb": "l_hand"},
        "open": [0.0],
        "closed": [1.0],
    }
    assert not [w for w in _findings(tmp_path, hand) if "fingertip" in w]


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
        "thumb fingertip frame 'l_hand' does not move" in w for w in _findings(tmp_path, hand)
    )


def test_a_hand_without_fingertip_frames_is_noted_with_its_tool_point(tmp_path: Path) -> None:
    """A hand naming no fingertip frames is noted: its tool point is the arm's EE frame; one
    that names them (the toy's right gripper does not; its left here does) is not."""
    hand = {"kind": "none", "fingertip_frames": {"middle": "l_hand"}}
    notes = _findings(tmp_path, hand, "info")
    tool_notes = [n for n in notes if "fingertip_frames" in n]
    assert tool_notes == [
        "right hand names no fingertip_frames: its tool point (porting, the scripted "
        "demonstrator) is EE frame 'r_hand', which goes where another robot's fingertips "
        "went; a rigid hand names the frame that touches objects (robots/icub/robot.yaml)"
    ]
