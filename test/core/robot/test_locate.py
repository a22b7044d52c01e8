"""Robot folders and model packages are found from a checkout, an install and the ament index."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.robot.locate import (
    ROBOTS_PATH_ENV,
    find_package_share,
    robot_search_path,
    shipped_robots_dirs,
)

from ...conftest import REPO
from .toy import toy_config, toy_urdf, write_toy


def _ament_prefix(root: Path, package: str) -> Path:
    """A real ament prefix layout registering ``package``; returns its share directory."""
    index = root / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / package).write_text("", encoding="utf-8")
    share = root / "share" / package
    share.mkdir(parents=True)
    return share


def test_source_checkout_robots_are_shipped() -> None:
    """From this checkout, the repository's robots/ folder is the first shipped folder."""
    assert shipped_robots_dirs()[0] == REPO / "robots"


def test_installed_share_dir_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """<sys.prefix>/share/humanoid_teleop/robots of a pip-installed package is a shipped folder."""
    installed = tmp_path / "share" / "humanoid_teleop" / "robots"
    write_toy(installed)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert installed in shipped_robots_dirs()


def test_ament_index_share_dir_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A humanoid_teleop registered in the ament index contributes the first share/robots."""
    share = _ament_prefix(tmp_path, "humanoid_teleop")
    write_toy(share / "robots")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path))
    assert shipped_robots_dirs()[0] == share / "robots"


def test_search_path_starts_with_environment_folders(tmp_path: Path) -> None:
    """HUMANOID_TELEOP_ROBOTS_PATH folders come before the shipped ones."""
    path = robot_search_path({ROBOTS_PATH_ENV: str(tmp_path)})
    assert path[0] == tmp_path and REPO / "robots" in path


def test_model_package_resolves_through_ament_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """model.package finds a ROS description package's share directory via the index."""
    share = _ament_prefix(tmp_path / "ws", "toy_description")
    (share / "urdf").mkdir()
    (share / "urdf" / "toy.urdf").write_text(toy_urdf(), encoding="utf-8")
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "ws"))
    config = toy_config()
    config["model"] = {"package": "toy_description", "file": "urdf/toy.urdf"}
    description = load_robot(write_toy(tmp_path / "robots", config))
    assert description.model.path == share / "urdf" / "toy.urdf"
    assert description.model.describe() == "toy_description:urdf/toy.urdf"
    assert RobotModel(description).nq == 8


def test_example_robot_data_is_found() -> None:
    """The example-robot-data wheel's share directory (cmeel prefix) is found."""
    share = find_package_share("example-robot-data")
    assert share is not None and (share / "robots" / "g1_description").is_dir()
