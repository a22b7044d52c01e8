"""A tiny two-armed robot (URDF + robot.yaml) written into a temp folder, for loader tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

_JOINT = """  <joint name="{name}" type="revolute">
    <parent link="{parent}"/><child link="{child}"/>
    <origin xyz="{xyz}" rpy="0 0 0"/><axis xyz="{axis}"/>
    <limit lower="{lower}" upper="{upper}" velocity="{velocity}" effort="10"/>
  </joint>
"""


def toy_urdf(arm_velocity: float = 2.0) -> str:
    """URDF text: base_link with two 3-joint arms (elbows bent 90° at zero) and 1-DoF grippers."""
    links = ["base_link", "head_link"]
    joints = [
        '  <joint name="head_mount" type="fixed"><parent link="base_link"/>'
        '<child link="head_link"/><origin xyz="0 0 0.6" rpy="0 0 0"/></joint>\n'
    ]
    for side, sign in (("l", 1), ("r", -1)):
        links += [f"{side}_upper", f"{side}_fore", f"{side}_hand", f"{side}_finger"]
        specs = [
            (f"{side}_shoulder", "base_link", f"{side}_upper", f"0 {0.2 * sign} 0.4", "0 1 0"),
            (f"{side}_elbow", f"{side}_upper", f"{side}_fore", "0 0 -0.3", "0 1 0"),
            (f"{side}_wrist", f"{side}_fore", f"{side}_hand", "0.25 0 0", "1 0 0"),
            (f"{side}_gripper", f"{side}_hand", f"{side}_finger", "0.05 0 0", "0 0 1"),
        ]
        for name, parent, child, xyz, axis in specs:
            joints.append(
                _JOINT.format(
                    name=name,
                    parent=parent,
                    child=child,
                    xyz=xyz,
                    axis=axis,
                    lower=-1.5,
                    upper=1.5,
                    velocity=arm_velocity if name.endswith(("shoulder", "elbow")) else 1.0,
                )
            )
    body = "".join(f'  <link name="{link}"/>\n' for link in links) + "".join(joints)
    return f'<?xml version="1.0"?>\n<robot name="toy">\n{body}</robot>\n'


TOY_CONFIG: dict[str, Any] = {
    "schema_version": 1,
    "name": "toy",
    "display_name": "Toy two-arm robot",
    "maker": "Test Lab",
    "model": {"file": "urdf/toy.urdf"},
    "base_frame": "base_link",
    "groups": {
        "left_arm": ["l_shoulder", "l_elbow", "l_wrist"],
        "right_arm": ["r_shoulder", "r_elbow", "r_wrist"],
        "left_hand": ["l_gripper"],
        "right_hand": ["r_gripper"],
    },
    "arms": {
        "left": {
            "group": "left_arm",
            "ee_frame": "l_hand",
            "elbow_joint": "l_elbow",
            "hand_frame_rpy": [0.0, 0.0, 0.0],
        },
        "right": {
            "group": "right_arm",
            "ee_frame": "r_hand",
            "elbow_joint": "r_elbow",
            "hand_frame_rpy": [0.0, 0.0, 0.0],
        },
    },
    "hands": {
        "left": {"kind": "gripper", "group": "left_hand", "open": [0.0], "closed": [1.0]},
        "right": {"kind": "gripper", "group": "right_hand", "open": [0.0], "closed": [-1.0]},
    },
    "interfaces": {
        "left_arm": {"kind": "forward", "topic": "/left_arm_controller/commands"},
        "right_arm": {"kind": "forward", "topic": "/right_arm_controller/commands"},
        "left_hand": {"kind": "forward", "topic": "/left_hand_controller/commands"},
        "right_hand": {"kind": "forward", "topic": "/right_hand_controller/commands"},
    },
    "sensors": {
        "cameras": [
            {
                "name": "head",
                "topic": "/cameras/head/image_raw",
                "frame_id": "head_camera_optical_frame",
                "parent": "head_link",
                "rpy": [-1.5707963, 0.0, -1.5707963],
                "width": 64,
                "height": 48,
                "fov_deg": 60.0,
            }
        ],
        "wrenches": [
            {"name": "left_wrist", "topic": "/ft/left_wrist", "frame_id": "l_hand"},
        ],
    },
    "limits": {"joints": {"left_arm": {"velocity": 1.0}}},
    "home": {"l_shoulder": -0.2, "r_shoulder": -0.2},
}


def toy_config() -> dict[str, Any]:
    """A fresh deep copy of the toy robot.yaml content, to be edited by a test."""
    return copy.deepcopy(TOY_CONFIG)


def write_toy(
    folder: Path,
    config: dict[str, Any] | None = None,
    name: str = "toy",
    urdf: str | None = None,
) -> Path:
    """Write ``folder/<name>/robot.yaml`` and its ``urdf/toy.urdf``; return the YAML path."""
    robot_dir = folder / name
    (robot_dir / "urdf").mkdir(parents=True, exist_ok=True)
    (robot_dir / "urdf" / "toy.urdf").write_text(urdf or toy_urdf(), encoding="utf-8")
    data = toy_config() if config is None else config
    data["name"] = name
    path = robot_dir / "robot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
