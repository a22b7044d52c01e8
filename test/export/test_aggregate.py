"""The dataset says, per episode, which groups' action is the measured state because their
command topics were not recorded (episode column, export summary), and still loads in lerobot."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.export.runner import ExportRequest, export
from test.export.helpers import load_with_lerobot

EPISODES = "meta/episodes/chunk-000/file-000.parquet"


@pytest.fixture(scope="module")
def mixed_dataset(
    talos_offline: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, object]]:
    """A robot-layout dataset of the native then the command-less TALOS episode; its summary."""
    out = tmp_path_factory.mktemp("mixed") / "ds"
    sources = (talos_offline["native"], talos_offline["no_commands"])
    request = ExportRequest(sources=sources, output=out, codec="h264", include_failed=True)
    return out, export(request)


def test_episode_column_names_the_groups_whose_commands_were_not_recorded(
    mixed_dataset: tuple[Path, dict[str, object]],
) -> None:
    """unrecorded_commands: {} for the native episode, group -> topic for the command-less one."""
    out, _ = mixed_dataset
    rows = pq.read_table(out / EPISODES).to_pylist()
    interfaces = load_robot("talos").interfaces
    assert json.loads(rows[0]["unrecorded_commands"]) == {}
    assert json.loads(rows[1]["unrecorded_commands"]) == {
        group: spec.topic for group, spec in interfaces.items()
    }


def test_summary_lists_only_the_episode_whose_commands_were_not_recorded(
    mixed_dataset: tuple[Path, dict[str, object]], talos_offline: dict[str, Path]
) -> None:
    """The export summary's action_is_state names the command-less episode alone, kept."""
    _, summary = mixed_dataset
    noted = summary["action_is_state"]
    assert isinstance(noted, list) and len(noted) == 1
    assert noted[0]["source"] == str(talos_offline["no_commands"].resolve())
    assert noted[0]["episode_index"] == 1
    assert noted[0]["groups"]["left_arm"] == "/arm_left_controller/joint_trajectory"
    assert summary["episodes"] == 2


def test_dataset_with_a_command_less_episode_loads_in_lerobot(
    mixed_dataset: tuple[Path, dict[str, object]], lerobot_python: Path, tmp_path: Path
) -> None:
    """lerobot 0.6.1 reads both episodes; the command-less one's action is its state."""
    out, _ = mixed_dataset
    loaded = load_with_lerobot(lerobot_python, out, tmp_path)
    assert loaded.meta["num_episodes"] == 2
    notes = [json.loads(text) for text in loaded.meta["episode_unrecorded_commands"]]
    assert notes[0] == {} and "left_arm" in notes[1]
    second = loaded.arrays["episode_index"] == 1
    assert second.any()
    assert (loaded.arrays["action"][second] == loaded.arrays["state"][second]).all()
