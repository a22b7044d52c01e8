"""Shipped files are found in one order: override, ament index, source tree, install prefix."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from humanoid_teleop.core.resources import (
    KINDS,
    MOTION_CLIPS,
    ROBOTS,
    TELEOP_PROFILES,
    ResourceKind,
    ResourceNotFoundError,
    share_roots,
)

from ..conftest import REPO

NO_ENV: dict[str, str] = {}


def _profile(share: Path, name: str = "vr") -> Path:
    """A teleop profile file ``name`` under the share directory ``share``."""
    path = share / "config" / "teleop" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"name: {name}\ndevice: vr\nretargeters: []\n", encoding="utf-8")
    return path


def _ament_prefix(prefix: Path) -> Path:
    """An install prefix registering humanoid_teleop in the ament index; its share dir."""
    marker = prefix / "share" / "ament_index" / "resource_index" / "packages"
    marker.mkdir(parents=True)
    (marker / "humanoid_teleop").write_text("", encoding="utf-8")
    return prefix / "share" / "humanoid_teleop"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.folder)
def test_every_kind_has_shipped_files_in_the_source_tree(kind: ResourceKind) -> None:
    """Each kind of shipped file has at least one file, found in this checkout."""
    names = kind.names(NO_ENV)
    assert names, kind.label
    assert kind.find(names[0], NO_ENV).is_relative_to(REPO)


def test_source_tree_is_a_share_root_in_a_checkout() -> None:
    """Running from this checkout, the repository is a share root (origin: source tree)."""
    assert [r.path for r in share_roots(NO_ENV) if r.origin == "source tree"] == [REPO]


def test_environment_override_comes_first(tmp_path: Path) -> None:
    """A profile in HUMANOID_TELEOP_SHARE shadows the shipped one of the same name."""
    mine = _profile(tmp_path)
    assert TELEOP_PROFILES.find("vr", {"HUMANOID_TELEOP_SHARE": str(tmp_path)}) == mine


def test_ament_index_comes_before_the_source_tree(tmp_path: Path) -> None:
    """A humanoid_teleop registered under AMENT_PREFIX_PATH wins over the checkout."""
    installed = _profile(_ament_prefix(tmp_path))
    assert TELEOP_PROFILES.find("vr", {"AMENT_PREFIX_PATH": str(tmp_path)}) == installed


def test_prefix_without_the_ament_marker_is_not_searched(tmp_path: Path) -> None:
    """A prefix on AMENT_PREFIX_PATH that does not register humanoid_teleop contributes nothing."""
    _profile(tmp_path / "share" / "humanoid_teleop", "only_here")
    with pytest.raises(ResourceNotFoundError, match="humanoid_teleop not in the ament index"):
        TELEOP_PROFILES.find("only_here", {"AMENT_PREFIX_PATH": str(tmp_path)})


def test_install_prefix_share_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """<sys.prefix>/share/humanoid_teleop (pip into a venv) is searched after the source tree."""
    installed = _profile(tmp_path / "share" / "humanoid_teleop", "pip_only")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert TELEOP_PROFILES.find("pip_only", NO_ENV) == installed


def test_missing_name_lists_what_exists_and_every_folder_looked_in(tmp_path: Path) -> None:
    """The error names the kind, the shipped names and each folder with its origin."""
    env = {"HUMANOID_TELEOP_SHARE": str(tmp_path)}
    with pytest.raises(ResourceNotFoundError) as caught:
        TELEOP_PROFILES.find("vr2", env)
    message = str(caught.value)
    assert "no teleop profile 'vr2' (vr2.yaml); available: " in message
    assert {"gamepad", "vr"} <= set(message.split("available: ")[1].split(";")[0].split(", "))
    assert f"{tmp_path / 'config' / 'teleop'} (HUMANOID_TELEOP_SHARE)" in message
    assert f"{REPO / 'config' / 'teleop'} (source tree)" in message
    assert "AMENT_PREFIX_PATH unset" in message


def test_missing_path_is_named(tmp_path: Path) -> None:
    """A path (it has a / or the kind's suffix) that does not exist is an error naming it."""
    with pytest.raises(ResourceNotFoundError, match=r"nope\.bvh: motion clip file not found"):
        MOTION_CLIPS.find(str(tmp_path / "nope.bvh"))


def test_robot_names_are_their_folders() -> None:
    """Robots are <name>/robot.yaml; their names are the folder names."""
    assert "g1" in ROBOTS.names(NO_ENV)
    assert ROBOTS.find("g1", NO_ENV) == REPO / "robots" / "g1" / "robot.yaml"


# Modules allowed to build paths from their own location or an install prefix, and why.
PATH_BUILDERS = {
    "humanoid_teleop/core/resources.py": "the lookup itself",
    "humanoid_teleop/core/robot/locate.py": "share dirs of other packages (model.package)",
    "humanoid_teleop/core/bag/msgdefs.py": "message definitions of other installed packages",
    "humanoid_teleop/devices/webxr/server.py": "the WebXR page is package data it serves",
    "humanoid_teleop/cli/doctor.py": "reports where rclpy was imported from",
}
#: ``Path(...).parents[n]``, not a model's ``parents[joint]`` (pinocchio's joint tree); a path
#: kept in a variable came from ``__file__`` first.
PATH_BUILDING = re.compile(r"__file__|sys\.prefix|\)\.parents\[|get_package_share_directory")


def test_no_module_finds_shipped_files_by_itself() -> None:
    """No package module (but core/resources.py and the listed exceptions) or launch file
    builds paths from ``__file__``, ``sys.prefix`` or the ament index: shipped files go
    through the one lookup."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted(
            [*(REPO / "humanoid_teleop").rglob("*.py"), *(REPO / "launch").glob("*.py")]
        )
        if str(path.relative_to(REPO)) not in PATH_BUILDERS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PATH_BUILDING.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []
