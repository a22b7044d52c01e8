"""Every shipped config file of every kind loads through its reader (the one config layer)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.profile import RecordingProfile
from humanoid_teleop.core.config import read_mapping
from humanoid_teleop.core.retarget.joystick import load_pad_preset
from humanoid_teleop.core.retarget.profile import load_profile
from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.core.sim.physics_config import load_physics
from humanoid_teleop.core.sim.scene import load_scene
from humanoid_teleop.devices.camera.capture import CameraConfig
from humanoid_teleop.devices.dynamixel.leader import LeaderArmConfig
from humanoid_teleop.devices.gamepad.mapping import load_preset
from humanoid_teleop.devices.webxr.server import BridgeConfig
from humanoid_teleop.export.qc import QcRules

from .conftest import REPO


def _ros_parameters(path: Path, node: str) -> dict[str, object]:
    """The ``<node>: ros__parameters:`` block of a ROS 2 parameter file."""
    params = read_mapping(path)[node]["ros__parameters"]
    assert isinstance(params, dict)
    return params


def _config_of(keys: tuple[str, ...], path: Path, node: str) -> dict[str, object]:
    return {k: v for k, v in _ros_parameters(path, node).items() if k in keys}


def _physics(path: Path) -> None:
    robot = load_robot(path.parent / "robot.yaml")
    load_physics(robot.source_file, tuple(robot.groups))


#: (glob under the repository, reader): every shipped YAML file must match one.
READERS: tuple[tuple[str, Callable[[Path], object]], ...] = (
    ("robots/*/robot.yaml", load_robot),
    ("robots/*/physics.yaml", _physics),
    ("config/teleop/*.yaml", lambda p: load_profile(str(p))),
    ("config/teleop/pads/*.yaml", lambda p: load_pad_preset(str(p))),
    ("config/record/*.yaml", RecordingProfile.load),
    ("config/devices/exo_*.yaml", LeaderArmConfig.load),
    ("config/devices/gamepad/*.yaml", lambda p: load_preset(str(p))),
    ("config/sim/scenes/*.yaml", lambda p: load_scene(str(p))),
    ("config/export/*.yaml", QcRules.load),
    (
        "config/devices/camera.yaml",
        lambda p: CameraConfig.from_dict(_config_of(CameraConfig.KEYS, p, "camera_node"), str(p)),
    ),
    (
        "config/devices/vr_bridge.yaml",
        lambda p: BridgeConfig.from_dict(
            _config_of(BridgeConfig.KEYS, p, "vr_bridge_node"), str(p)
        ),
    ),
    ("config/devices/exo.yaml", lambda p: _ros_parameters(p, "exo_node")),
    ("config/devices/gamepad.yaml", lambda p: _ros_parameters(p, "gamepad_node")),
)

CASES = [
    pytest.param(path, reader, id=str(path.relative_to(REPO)))
    for pattern, reader in READERS
    for path in sorted(REPO.glob(pattern))
]


@pytest.mark.parametrize(("path", "reader"), CASES)
def test_shipped_config_file_loads(path: Path, reader: Callable[[Path], object]) -> None:
    """The file loads through the reader of its kind without an error."""
    reader(path)


def test_every_shipped_yaml_file_has_a_reader() -> None:
    """No YAML file under config/ or robots/ escapes the test above (a new kind needs one)."""
    shipped = {p for d in ("config", "robots") for p in (REPO / d).rglob("*.yaml")}
    covered = {path for param in CASES for path in param.values[:1]}
    assert sorted(str(p.relative_to(REPO)) for p in shipped - covered) == []
