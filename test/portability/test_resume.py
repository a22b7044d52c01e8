"""What a port run finds of an earlier one in its folder: kept, redone, or one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.reader import bag_content_hash
from humanoid_teleop.core.robot import RobotModel, load_robot, robot_model_hash
from humanoid_teleop.portability.errors import PortError
from humanoid_teleop.portability.port import PortOptions, port_episode
from humanoid_teleop.portability.resume import (
    LOCK_NAME,
    earlier_port,
    hold_output,
    ported_name,
)
from humanoid_teleop.portability.source import read_source

from .conftest import PAIR

#: The hash of the pair's target robot.yaml, as a port into it records it.
ALEX_HASH = robot_model_hash(load_robot(PAIR[2]))


@pytest.fixture(scope="module")
def ported(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, str, str]:
    """The first source ported without physics: (output folder, episode name, source hash)."""
    _, robot, target = PAIR
    out = tmp_path_factory.mktemp("ported")
    source = read_source(sources[0])
    result = port_episode(source, models(robot), models(target), out, PortOptions(sim=False))
    assert result.path.name == ported_name(source.name, target)
    return out, result.path.name, bag_content_hash(sources[0])


def test_nothing_earlier_is_nothing_to_keep(tmp_path: Path) -> None:
    assert earlier_port(tmp_path, "x_to_alex", "sha256:0", physics=True, target_model_hash="") == (
        None,
        "",
    )


def test_a_port_of_the_same_source_is_kept_with_its_report(
    ported: tuple[Path, str, str], sources: list[Path], models: Callable[[str], RobotModel]
) -> None:
    """The episode and the report it holds come back: the same report the port returned."""
    out, name, source_hash = ported
    earlier, note = earlier_port(out, name, source_hash, physics=False, target_model_hash=ALEX_HASH)
    assert note == "" and earlier is not None
    assert earlier.path == out / name
    assert earlier.tool_version.startswith("humanoid_teleop ")
    again = port_episode(
        read_source(sources[0]), models(PAIR[1]), models(PAIR[2]), out / "again",
        PortOptions(sim=False),
    )  # fmt: skip
    assert earlier.report.to_dict() == again.report.to_dict()


def test_a_port_of_another_source_under_the_name_is_one_line_and_stays(
    ported: tuple[Path, str, str],
) -> None:
    out, name, _ = ported
    before = bag_content_hash(out / name)
    with pytest.raises(PortError, match=r"custom\.port\.source_content_hash") as err:
        earlier_port(out, name, "sha256:" + "0" * 64, physics=False, target_model_hash=ALEX_HASH)
    assert str(out / name / "metadata.yaml") in str(err.value) and "\n" not in str(err.value)
    assert bag_content_hash(out / name) == before


def test_the_other_physics_setting_is_one_line_and_stays(ported: tuple[Path, str, str]) -> None:
    out, name, source_hash = ported
    with pytest.raises(PortError, match=r"custom\.port\.physics none, this run mujoco"):
        earlier_port(out, name, source_hash, physics=True, target_model_hash=ALEX_HASH)
    assert (out / name / "metadata.yaml").is_file()


def test_a_port_into_the_target_before_its_robot_yaml_changed_is_one_line_and_stays(
    ported: tuple[Path, str, str],
) -> None:
    """A kept episode ported to the target as its robot.yaml was (another hash): ported
    with another model, so not kept; the line names both hashes and the episode stays."""
    out, name, source_hash = ported
    before = bag_content_hash(out / name)
    changed = "sha256:" + "f" * 16
    with pytest.raises(PortError) as err:
        earlier_port(out, name, source_hash, physics=False, target_model_hash=changed)
    assert str(err.value) == (
        f"{out / name}/metadata.yaml: robot_model_hash {ALEX_HASH} is not alex's robot.yaml "
        f"now ({changed}): it was ported before that robot.yaml changed; port into another "
        "folder, or remove it to port it again"
    )
    assert bag_content_hash(out / name) == before


def test_an_unfinished_episode_is_removed_and_said(tmp_path: Path) -> None:
    """A ``.partial`` (a killed run's) goes, with a line naming it; nothing else is touched."""
    partial = tmp_path / "x_to_alex.partial"
    partial.mkdir()
    (partial / "x_to_alex_0.mcap").write_bytes(b"\x89MCAP0\r\n")
    other = tmp_path / "y_to_alex.partial"
    other.mkdir()
    earlier, note = earlier_port(
        tmp_path, "x_to_alex", "sha256:0", physics=True, target_model_hash=""
    )
    assert earlier is None and not partial.exists() and other.exists()
    assert note.startswith(f"{partial}: left unfinished by an earlier run")


def test_unreadable_metadata_names_the_episode_and_leaves_it(tmp_path: Path) -> None:
    episode = tmp_path / "x_to_alex"
    episode.mkdir()
    (episode / "metadata.yaml").write_text("rosbag2_bagfile_information: [unclosed\n")
    with pytest.raises(PortError, match="metadata cannot be read") as err:
        earlier_port(tmp_path, "x_to_alex", "sha256:0", physics=True, target_model_hash="")
    assert str(episode) in str(err.value)
    assert (episode / "metadata.yaml").is_file()


def test_a_held_folder_stops_a_second_holder_naming_the_first(tmp_path: Path) -> None:
    """flock conflicts between two opens of the lock file, in one process as in two; the
    second is told the first's pid; once the first lets go the folder is free again."""
    out = tmp_path / "out"
    with hold_output(out):
        with pytest.raises(PortError, match="another port run is writing") as err, hold_output(out):
            pass
        assert "pid " in str(err.value) and str(out) in str(err.value)
    with hold_output(out):
        assert (out / LOCK_NAME).is_file()


def test_an_unwritable_output_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "out"
    with pytest.raises(PortError, match="cannot write the output folder"), hold_output(out):
        pass


def test_a_physics_port_before_the_targets_physics_yaml_changed_is_one_line(
    matrix_run: tuple[Path, object],
) -> None:
    """A port in physics records the target's physics.yaml hash; asked again with another
    one (its physics or scene settings edited since), it is one line naming both hashes and
    stays; with the same, it is kept. A kinematic port does not compare it."""
    from humanoid_teleop.core.sim.physics_config import physics_hash
    from humanoid_teleop.portability.scripted_matrix import PORTED_DIR, SOURCES_DIR

    folder, _ = matrix_run
    out, name = folder / PORTED_DIR, "scripted_g1_push_0001_to_alex"
    source_hash = bag_content_hash(folder / SOURCES_DIR / "scripted_g1_push_0001")
    alex = load_robot(PAIR[2])
    now = physics_hash(alex.source_file)
    assert now.startswith("sha256:")  # the shipped Alex has a physics.yaml
    kept, _ = earlier_port(
        out, name, source_hash, physics=True, target_model_hash=ALEX_HASH, target_physics_hash=now
    )
    assert kept is not None
    changed = "sha256:" + "e" * 16
    with pytest.raises(PortError) as err:
        earlier_port(
            out, name, source_hash, physics=True, target_model_hash=ALEX_HASH,
            target_physics_hash=changed,
        )  # fmt: skip
    assert str(err.value) == (
        f"{out / name}/metadata.yaml: custom.physics_hash {now} is not alex's physics.yaml now "
        f"({changed}): it was ported in physics before that physics.yaml changed; port into "
        "another folder, or remove it to port it again"
    )
