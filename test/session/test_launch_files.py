"""The launch files start executables that exist, with the same arguments as bringup."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from humanoid_teleop.session.launch_support import launch_arguments
from humanoid_teleop.session.plan import DEVICES, SessionArgs, session_plan

from ..conftest import REPO

LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.py"))
REQUIRED_ARGUMENTS = {"robot", "device", "record", "sim", "profile", "bag_dir"}


def _setup_py_nodes() -> dict[str, str]:
    """The NODES dict of setup.py (executable → module), read without running setup()."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "NODES":
            return dict(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no NODES dict")


def test_three_launch_files_exist() -> None:
    """teleop, record and sim launch files are shipped."""
    assert [p.name for p in LAUNCH_FILES] == [
        "record.launch.py",
        "sim.launch.py",
        "teleop.launch.py",
    ]


def test_launch_arguments_cover_the_issue_list() -> None:
    """robot, device, record, sim, profile and bag_dir are declared with bringup's defaults."""
    arguments = launch_arguments()
    assert set(arguments) >= REQUIRED_ARGUMENTS
    assert SessionArgs.from_strings(arguments) == SessionArgs()


@pytest.mark.parametrize("device", DEVICES)
def test_every_planned_executable_is_a_console_script_with_main(device: str) -> None:
    """Each executable a session can start is in setup.py's NODES and its module has main()."""
    nodes = _setup_py_nodes()
    for spec in session_plan(SessionArgs(device=device)):
        assert spec.executable in nodes, f"{spec.executable} missing from setup.py NODES"
        assert f"humanoid_teleop.nodes.{nodes[spec.executable]}" == spec.module
        assert importlib.util.find_spec(spec.module) is not None, spec.module


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_builds_a_description_where_launch_imports(path: Path) -> None:
    """With a sourced distro, each launch file yields a LaunchDescription with our arguments."""
    if importlib.util.find_spec("launch") is None or importlib.util.find_spec("launch_ros") is None:
        pytest.skip(
            "ROS 2 `launch`/`launch_ros` are not installable from PyPI; needs a sourced distro"
        )
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    names = {a.name for a in description.get_launch_arguments()}
    assert set(launch_arguments()) == names


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_only_delegates_to_the_plan(path: Path) -> None:
    """Each launch file imports launch_support and the plan, and defines the entry point."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"humanoid_teleop.session.launch_support", "humanoid_teleop.session.plan"}
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["generate_launch_description"]
