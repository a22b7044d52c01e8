"""`humanoid-teleop robots list|check|show` on the shipped robots and on broken ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from humanoid_teleop.cli.main import main
from humanoid_teleop.core.robot import ROBOTS_PATH_ENV

from ..core.robot.toy import toy_config, toy_urdf, write_toy


@pytest.fixture
def no_extra_robots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the shipped robots are on the search path."""
    monkeypatch.delenv(ROBOTS_PATH_ENV, raising=False)


def test_list_json_has_five_robots_from_four_makers(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`robots list --json` prints >= 5 robots from >= 4 makers with name, maker and dof."""
    assert main(["robots", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 5 and len({row["maker"] for row in rows}) >= 4
    assert all(row["dof"]["left_arm"] >= 6 for row in rows)


def test_list_table_names_every_robot(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plain table has a line per robot and a count of robots and makers."""
    assert main(["robots", "list"]) == 0
    out = capsys.readouterr().out
    assert "g1     Unitree Robotics" in out
    assert out.rstrip().endswith("5 robots from 5 makers")


def test_check_passes_for_every_shipped_robot(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`robots check` with no names checks all shipped robots and exits 0."""
    assert main(["robots", "check", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["robot"] for r in results if not r["ok"]] == []
    assert [r["robot"] for r in results if r["warnings"]] == []


def test_check_fails_with_precise_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken robot makes `check PATH` exit 1 and print file, key path and value."""
    config = toy_config()
    config["groups"]["left_arm"][2] = "l_wrst"
    path = write_toy(tmp_path, config)
    assert main(["robots", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  " in out
    assert f"{path}:" in out and "groups.left_arm[2]: joint 'l_wrst'" in out


def test_check_warns_about_zero_velocity_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A commanded joint whose URDF velocity is 0 passes with a warning naming it."""
    config = toy_config()
    config["limits"] = {"joints": {"l_shoulder": {"velocity": 1.0}}}
    path = write_toy(tmp_path, config, urdf=toy_urdf(arm_velocity=0.0))
    assert main(["robots", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: joint 'l_elbow' (group 'left_arm') has a zero velocity limit" in out
    assert "'r_shoulder'" in out


def test_check_warns_when_ee_frame_ignores_arm_joints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An EE frame on a link the arm does not move is reported with the still joints."""
    config = toy_config()
    config["arms"]["left"]["ee_frame"] = "head_link"
    path = write_toy(tmp_path, config)
    assert main(["robots", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "left EE frame 'head_link' does not move with joint(s) l_shoulder, l_elbow" in out


def test_check_json_reports_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check --json` gives ok=false and the error text for a broken robot."""
    config = toy_config()
    config["colour"] = "red"
    path = write_toy(tmp_path, config)
    assert main(["robots", "check", "--json", str(path)]) == 1
    (result,) = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and "unknown key 'colour'" in result["error"]


def test_show_prints_groups_limits_and_home_fk(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`robots show g1` lists groups with limits, EE frames with home positions, sensors."""
    assert main(["robots", "show", "g1"]) == 0
    out = capsys.readouterr().out
    assert "left_arm (7 DoF, forward -> /left_arm_controller/commands)" in out
    assert "left: ee_frame left_wrist_yaw_link" in out
    assert "camera head: /cameras/head/image_raw" in out


def test_show_unknown_robot_exits_2_with_nearest(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`robots show` of an unknown name exits 2 and suggests close names."""
    assert main(["robots", "show", "tallos"]) == 2
    assert "nearest: talos" in capsys.readouterr().err


def test_check_warns_about_commanded_mimic_joint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A group joint that the URDF declares as a mimic of another joint is a warning."""
    urdf = toy_urdf().replace(
        '<child link="r_finger"/>', '<child link="r_finger"/><mimic joint="l_gripper"/>'
    )
    path = write_toy(tmp_path, urdf=urdf)
    assert main(["robots", "check", str(path)]) == 0
    assert "joint 'r_gripper' in group 'right_hand' mimics 'l_gripper'" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["alex", "g1", "icub", "romeo", "talos"])
def test_show_works_for_every_shipped_robot(
    no_extra_robots: None, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """`robots show NAME` exits 0 and prints both arms' home EE positions."""
    assert main(["robots", "show", name]) == 0
    out = capsys.readouterr().out
    assert "  left: ee_frame " in out and "  right: ee_frame " in out


def test_list_flags_a_broken_robot_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken robot in HUMANOID_TELEOP_ROBOTS_PATH is listed as INVALID and list exits 1."""
    config = toy_config()
    config["colour"] = "red"
    write_toy(tmp_path, config, name="broken")
    monkeypatch.setenv(ROBOTS_PATH_ENV, str(tmp_path))
    assert main(["robots", "list"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^broken  INVALID: .*robot.yaml:\d+: colour: unknown key", out, re.M)
    assert "g1 " in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(128, 256)) * 4, "not a UTF-8 text file"),
        (b"name: x\x00\x01 garbage\n", "not a YAML text file"),
        (b"{[: garbage", "invalid YAML"),
    ],
    ids=["binary", "nul", "garbage"],
)
def test_list_shows_every_robot_beside_a_bad_robot_yaml(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    reason: str,
) -> None:
    """A binary or garbage robot.yaml is one INVALID line with its reason; the rest still list."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "robot.yaml").write_bytes(content)
    monkeypatch.setenv(ROBOTS_PATH_ENV, str(tmp_path))
    assert main(["robots", "list"]) == 1
    captured = capsys.readouterr()
    bad = [line for line in captured.out.splitlines() if line.startswith("bad ")]
    assert len(bad) == 1 and reason in bad[0] and str(tmp_path / "bad" / "robot.yaml") in bad[0]
    assert "g1 " in captured.out and "talos " in captured.out
    assert "Traceback" not in captured.err


def test_check_of_a_binary_robot_yaml_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`robots check FILE` on a binary robot.yaml exits 1 with the file and the reason."""
    path = tmp_path / "robot.yaml"
    path.write_bytes(bytes(range(128, 256)))
    assert main(["robots", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"      {path}: not a UTF-8 text file (byte 0x80 at offset 0)" in out


@pytest.mark.parametrize(
    ("physics", "where"),
    [
        ("schema_version: 1\ntimestep_s: fast\n", r"physics\.yaml:2: timestep_s"),
        ("- schema_version: 1\n", r"physics\.yaml:1"),
    ],
)
def test_check_fails_on_a_broken_physics_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], physics: str, where: str
) -> None:
    """The physics.yaml beside robot.yaml (what the simulator and the demonstrator read) is
    checked too: a bad one fails the robot with its file and line (it said "ok", and the
    simulator or `port` refused it later)."""
    path = write_toy(tmp_path)
    path.with_name("physics.yaml").write_text(physics)
    assert main(["robots", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  " in out and re.search(where, out), out
