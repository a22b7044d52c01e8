"""The portability matrix of scripted episodes (``port matrix``'s run): a 2 x 2 push matrix."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import read_bag
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.physics_config import physics_hash
from humanoid_teleop.portability.matrix import read_run
from humanoid_teleop.portability.port import port_episode, target_pipeline
from humanoid_teleop.portability.scripted_matrix import (
    MATRIX_PORT,
    PORTED_DIR,
    REPORTS_FILE,
    SOURCES_DIR,
    MatrixRun,
    run_matrix,
    source_path,
)
from humanoid_teleop.portability.source import read_source

from ..conftest import MATRIX


def test_every_source_is_ported_to_every_robot(matrix_run: tuple[Path, Any]) -> None:
    """2 robots x 1 push each: 2 sources, 4 physics ports (self-replays included), one report
    line each in reports.jsonl, every pair summed up."""
    folder, run = matrix_run
    robots, tasks, episodes = MATRIX
    assert run.robots == robots and run.tasks == tasks and run.episodes == episodes
    assert [(s.robot, s.task, s.seed) for s in run.sources] == [
        (robot, "push", 1) for robot in robots
    ]
    assert all(s.path == source_path(folder / SOURCES_DIR, s.robot, "push", 1) for s in run.sources)
    assert all(s.outcome == "success" and not s.kept and s.duration_s > 5 for s in run.sources)
    expected = {("push", source, 1, target) for source in robots for target in robots}
    assert set(run.reports) == expected
    assert read_run(folder / REPORTS_FILE).keys() == expected
    assert sorted(p.name for p in (folder / PORTED_DIR).iterdir() if p.is_dir()) == sorted(
        f"scripted_{source}_push_0001_to_{target}" for source in robots for target in robots
    )
    assert [(s.source, s.target) for s in run.summaries] == [
        (source, target) for source in robots for target in robots
    ]
    assert not run.errors
    for report in run.reports.values():
        assert report.sim and report.outcome == "success"


def test_self_replays_reproduce_their_sources(matrix_run: tuple[Path, Any]) -> None:
    """A robot's own push replayed in physics: no error, transfer ratio 1 (what the other
    pairs' transfer ratios divide by)."""
    _, run = matrix_run
    for summary in run.summaries:
        if summary.source == summary.target:
            assert summary.transfer_ratio == 1.0
            assert summary.contact_p95_m < 1e-3 and summary.free_p95_m < 1e-3, summary


def test_a_pair_reports_what_the_port_command_does(matrix_run: tuple[Path, Any]) -> None:
    """The matrix's g1 -> alex report is the one a port of the same source gives (same
    options: physics, no cameras), and its episode passes bag check."""
    folder, run = matrix_run
    source = read_source(source_path(folder / SOURCES_DIR, "g1", "push", 1))
    alex = RobotModel(load_robot("alex"))
    out = folder.parent / f"{folder.name}_single"
    alone = port_episode(
        source, RobotModel(load_robot("g1")), alex, out, MATRIX_PORT,
        pipeline=target_pipeline(alex),
    )  # fmt: skip
    try:
        assert run.reports[("push", "g1", 1, "alex")].to_dict() == alone.report.to_dict()
    finally:
        shutil.rmtree(out)
    ported = folder / PORTED_DIR / "scripted_g1_push_0001_to_alex"
    assert check_bag(ported).ok


def test_the_same_run_again_keeps_everything(matrix_run: tuple[Path, Any]) -> None:
    """Run again into the same folder: every source and port is kept (nothing recorded or
    ported), and the matrix is the same."""
    folder, run = matrix_run
    robots, tasks, episodes = MATRIX
    lines: list[str] = []
    again: MatrixRun = run_matrix(robots, tasks, episodes, folder, progress=lines.append)
    assert all(s.kept for s in again.sources)
    assert again.kept_ports == len(again.reports) == 4 and not again.port_wall_s
    assert {k: r.to_dict() for k, r in again.reports.items()} == {
        k: r.to_dict() for k, r in run.reports.items()
    }
    assert again.text() == run.text()
    assert lines == [
        f"2 source episodes in {folder / SOURCES_DIR} (2 kept from an earlier run)",
        f"4 physics ports in {folder / PORTED_DIR} (4 kept from an earlier run)",
    ]


def test_text_shows_the_matrix_and_each_pairs_reasons(matrix_run: tuple[Path, Any]) -> None:
    """The text: the sources' successes, the 2 x 2 transfer-ratio matrix (a * where a pair is
    below target) and one table row per pair naming why it misses (or that it meets) the
    targets."""
    _, run = matrix_run
    text = run.text()
    assert "## push: source demonstrations that succeeded (scripted, recorded offline)" in text
    assert "  g1 1/1, alex 1/1" in text
    assert "| source \\ target | g1 | alex |" in text
    for summary in run.summaries:
        mark = "*" if summary.below_target() else ""
        row = f"| {summary.source} | "
        assert any(line.startswith(row) and f"1.00{mark}" in line for line in text.splitlines())
        reasons = "; ".join(summary.below_target()) or "meets targets"
        assert f"| push | {summary.source} | {summary.target} | 1/1 | 1/1 | 1.00 |" in text
        assert reasons in text


def test_a_half_recorded_source_is_recorded_again(tmp_path: Path) -> None:
    """What a killed recording left (its ``<name>.partial`` folder, as the recorder writes
    it until the metadata is in, or a folder of the final name without metadata.yaml) is
    removed and the source recorded again, not kept and not refused."""
    from humanoid_teleop.core.bag.episode import PARTIAL_SUFFIX
    from humanoid_teleop.portability.scripted_matrix import SourceJob, record_source

    job = SourceJob("g1", "push", 1, tmp_path / SOURCES_DIR)
    half = source_path(job.folder, "g1", "push", 1)
    partial = half.with_name(half.name + PARTIAL_SUFFIX)
    for folder in (half, partial):
        folder.mkdir(parents=True)
        (folder / "scripted_g1_push_0001_0.mcap").write_bytes(b"\x89MCAP0\r\n")
    source = record_source(job)
    assert not source.kept and source.outcome == "success"
    assert check_bag(source.path).ok and not partial.exists()


def test_a_source_kept_from_another_rate_is_one_line(
    matrix_run: tuple[Path, Any], tmp_path: Path
) -> None:
    """The matrix's sources (250 Hz) asked for again at 100 Hz: the kept source stops the run
    with one line naming it and both rates (its ports would be of the other rate)."""
    from humanoid_teleop.portability.errors import PortError
    from humanoid_teleop.portability.scripted_matrix import SourceJob, record_source

    folder, _ = matrix_run
    sources = folder / SOURCES_DIR
    assert record_source(SourceJob("g1", "push", 1, sources, rate_hz=250.0)).kept
    with pytest.raises(PortError) as err:
        record_source(SourceJob("g1", "push", 1, sources, rate_hz=100.0))
    line = str(err.value)
    assert line.startswith(f"{source_path(sources, 'g1', 'push', 1)}/metadata.yaml: "), line
    assert "recorded at 250 Hz" in line and "not the 100 Hz asked" in line, line
    assert "\n" not in line


def test_a_scene_file_as_task_is_one_line_before_anything_is_written(tmp_path: Path) -> None:
    """A scene named by its file (a port finds its episode's scene by name) stops the run
    with one line naming it, before anything is recorded."""
    from humanoid_teleop.core.sim.scene import scene_dirs
    from humanoid_teleop.portability.errors import PortError

    scene = next(d / "push.yaml" for d in scene_dirs() if (d / "push.yaml").is_file())
    with pytest.raises(PortError, match=f"not files: {scene}$"):
        run_matrix(("g1",), ("pick_and_place", str(scene)), 1, tmp_path / "matrix")
    assert not (tmp_path / "matrix").exists()


def test_a_source_recorded_before_its_robot_yaml_changed_is_one_line(tmp_path: Path) -> None:
    """A kept source of a robot whose robot.yaml changed since (robots/README.md's
    walkthrough robot, by path) stops the run with one line naming the source and both
    hashes: its ports would be of the robot as it was."""
    from humanoid_teleop.portability.errors import PortError
    from humanoid_teleop.portability.scripted_matrix import SourceJob, record_source
    from test.cli.test_robots_integrator import example_robot_yaml

    robot_yaml = tmp_path / "robots" / "my_g1" / "robot.yaml"
    robot_yaml.parent.mkdir(parents=True)
    robot_yaml.write_text(example_robot_yaml(), encoding="utf-8")
    job = SourceJob(str(robot_yaml), "push", 1, tmp_path / SOURCES_DIR)
    first = record_source(job)
    assert record_source(job).kept
    robot_yaml.write_text(example_robot_yaml() + "# tuned\n", encoding="utf-8")
    with pytest.raises(PortError) as err:
        record_source(job)
    line = str(err.value)
    assert line.startswith(f"{first.path}/metadata.yaml: robot_model_hash sha256:"), line
    assert line.endswith(
        "recorded before that robot.yaml changed; run the matrix into another folder"
    ), line
    assert "\n" not in line
    # its physics.yaml (robots/README.md's collide_visual_links) written since: one line too
    robot_yaml.write_text(example_robot_yaml(), encoding="utf-8")
    assert read_bag(first.path).metadata.custom_data["custom.physics_hash"] == "none"
    physics = robot_yaml.with_name("physics.yaml")
    physics.write_text("schema_version: 1\ncollide_visual_links: [right_rubber_hand]\n")
    with pytest.raises(PortError) as err:
        record_source(job)
    assert str(err.value) == (
        f"{first.path}/metadata.yaml: custom.physics_hash none is not my_g1's physics.yaml now "
        f"({physics_hash(robot_yaml)}): recorded before that physics.yaml changed; run the "
        "matrix into another folder"
    )


def test_each_stage_says_how_far_it_got(
    matrix_run: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every PROGRESS_EVERY_S (here: at once) each stage says how many of its jobs are done,
    so a long matrix shows it is going on."""
    from humanoid_teleop.portability import scripted_matrix

    folder, _ = matrix_run
    robots, tasks, episodes = MATRIX
    monkeypatch.setattr(scripted_matrix, "PROGRESS_EVERY_S", 0.0)
    lines: list[str] = []
    run_matrix(robots, tasks, episodes, folder, progress=lines.append)
    stages = [line.split(" in ")[0] for line in lines]
    assert stages == [
        "source episodes: 1/2", "source episodes: 2/2", "2 source episodes",
        "physics ports: 1/4", "physics ports: 2/4", "physics ports: 3/4", "physics ports: 4/4",
        "4 physics ports",
    ], lines  # fmt: skip


def test_ports_kept_from_another_version_are_named(
    matrix_run: tuple[Path, Any], tmp_path: Path
) -> None:
    """A copy of the matrix whose g1 -> alex port says another humanoid_teleop version made
    it: the run again keeps it, and a line says the kept numbers are that version's."""
    from humanoid_teleop.portability.port import TOOL_VERSION

    folder, _ = matrix_run
    copy = tmp_path / "matrix"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".port.lock"))
    metadata = copy / PORTED_DIR / "scripted_g1_push_0001_to_alex" / "metadata.yaml"
    text = metadata.read_text()
    assert f"custom.port.tool_version: {TOOL_VERSION}\n" in text
    metadata.write_text(text.replace(TOOL_VERSION, "humanoid_teleop 0.0.9"))
    robots, tasks, episodes = MATRIX
    lines: list[str] = []
    again = run_matrix(robots, tasks, episodes, copy, progress=lines.append)
    assert again.kept_ports == 4
    assert lines[-1] == (
        f"1 of the kept ports were made by humanoid_teleop 0.0.9, not {TOOL_VERSION}: their "
        "numbers are that version's; run the matrix into another folder to measure this one"
    )
