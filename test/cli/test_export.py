"""`export lerobot` prints one line per episode whose action is the measured state because its
command topics were not recorded, and lists it in --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test.export.helpers import run_export, write_offline_episode

NOTE = "action is the measured state, commands not recorded"


@pytest.fixture(scope="module")
def talos_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A native TALOS episode of the offline writer and one without command topics."""
    root = tmp_path_factory.mktemp("bags")
    native = write_offline_episode(root, "talos", "native", commands=True)
    bare = write_offline_episode(root, "talos", "no_commands", commands=False)
    return native, bare


def test_command_less_episode_gets_one_line_naming_it_its_groups_and_topics(
    talos_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """stderr: one note line, for the command-less episode only, with group (topic) pairs."""
    native, bare = talos_pair
    result = run_export(
        native, bare, "-o", tmp_path / "ds", "--video-codec", "h264", "--include-failed"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stderr.splitlines() if line.startswith(NOTE)]
    assert len(notes) == 1
    assert notes[0].startswith(f"{NOTE} {bare.resolve()}: ")
    assert "right_arm (/arm_right_controller/joint_trajectory)" in notes[0]
    assert "head (/head_controller/joint_trajectory)" in notes[0]


def test_json_summary_lists_the_command_less_episode(
    talos_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """--json: action_is_state holds the command-less episode and not the native one."""
    native, bare = talos_pair
    result = run_export(
        native, bare, "-o", tmp_path / "ds", "--video-codec", "h264", "--include-failed", "--json"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    noted = json.loads(result.stdout)["action_is_state"]
    assert [item["source"] for item in noted] == [str(bare.resolve())]


def test_cameras_option_exports_keys_or_none_and_refuses_unknown(tmp_path: Path) -> None:
    """--cameras none exports an episode without images (exit 0, no videos); an unknown key
    or none combined with keys is one error line, exit 2, nothing written."""
    bare = write_offline_episode(tmp_path, "talos", "imageless", commands=True, images=False)
    common = ["--video-codec", "h264", "--include-failed"]
    done = run_export(bare, "-o", tmp_path / "ds", "--cameras", "none", *common)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "ds" / "videos").exists()
    unknown = run_export(bare, "-o", tmp_path / "bad", "--cameras", "head,chest", *common)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines()[-1] == (
        "error: --cameras chest: not a camera of the robot layout's episodes (they have: head)"
    )
    assert not (tmp_path / "bad").exists()
    mixed = run_export(bare, "-o", tmp_path / "mixed", "--cameras", "none,head", *common)
    assert mixed.returncode == 2 and "none cannot be combined" in mixed.stderr
