"""robots/README.md's walkthrough works: its example robot, added from a temp folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO

README = REPO / "robots" / "README.md"
MARKER = "<!-- integrator-example: my_g1/robot.yaml -->"


def example_robot_yaml() -> str:
    """The YAML block that follows the integrator-example marker in robots/README.md."""
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"\s*```yaml\n(.*?)```", text, re.S)
    assert found, f"{README} lost its integrator example block"
    return found.group(1)


def _cli(*args: str, robots_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUMANOID_TELEOP_ROBOTS_PATH": str(robots_path)}
    return subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "robots", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_readme_example_robot_is_found_and_checks_clean(tmp_path: Path) -> None:
    """The README's robot.yaml, put in a folder on HUMANOID_TELEOP_ROBOTS_PATH, is listed
    next to the shipped robots and passes `robots check` without warnings."""
    (tmp_path / "my_g1").mkdir()
    (tmp_path / "my_g1" / "robot.yaml").write_text(example_robot_yaml(), encoding="utf-8")
    listed = _cli("list", "--json", robots_path=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["my_g1"]["file"] == str(tmp_path / "my_g1" / "robot.yaml")
    assert "g1" in rows
    checked = _cli("check", "my_g1", robots_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok    my_g1\n" in checked.stdout


def test_readme_example_with_a_typo_fails_with_nearest_name(tmp_path: Path) -> None:
    """The walkthrough's promise: a wrong joint name fails and suggests the real one."""
    (tmp_path / "my_g1").mkdir()
    broken = example_robot_yaml().replace("left_elbow_joint,", "left_elbow,", 1)
    (tmp_path / "my_g1" / "robot.yaml").write_text(broken, encoding="utf-8")
    checked = _cli("check", "my_g1", robots_path=tmp_path)
    assert checked.returncode == 1
    assert "groups.left_arm[3]: joint 'left_elbow' is not in g1_29dof_rev_1_0.urdf" in (
        checked.stdout
    )
    assert "nearest: left_elbow_joint" in checked.stdout
