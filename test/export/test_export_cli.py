"""`export lerobot` on recorded episodes: scale-out, QC, resume, verify, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanoid_teleop.export.errors import VerifyError
from humanoid_teleop.export.verify import verify
from test.export.helpers import LENIENT_QC, Episode, run_export

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(900)]


def _files(root: Path, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in suffixes and ".shards" not in p.parts
    }


def _paths(episodes: list[Episode]) -> list[Path]:
    return [e.path for e in episodes]


def test_ray_local_gives_byte_identical_parquet_and_meta_to_one_worker(
    episodes: list[Episode], tmp_path: Path
) -> None:
    """--ray local on three episodes writes the same parquet and meta bytes as --workers 1."""
    one, ray = tmp_path / "one", tmp_path / "ray"
    common = ["--layout", "canonical", "--include-failed"]
    first = run_export(*_paths(episodes), "-o", one, "--workers", "1", *common)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_export(*_paths(episodes), "-o", ray, "--ray", "local", "--workers", "2", *common)
    assert second.returncode == 0, second.stderr[-3000:]
    expected = _files(one, (".parquet", ".json"))
    assert len(expected) >= 8 and _files(ray, (".parquet", ".json")) == expected
    info = json.loads((ray / "meta/info.json").read_text())
    assert info["total_episodes"] == 3


def test_failing_qc_episode_is_excluded_with_its_reason_or_kept_flagged(
    episodes: list[Episode], tmp_path: Path
) -> None:
    """An episode too short for the rules is left out with its reason; --include-failed keeps it."""
    rules = tmp_path / "qc.yaml"
    rules.write_text(LENIENT_QC + "min_duration_s: 3.0\n")
    long_one, short_one = episodes[0], episodes[2]
    excluded = run_export(long_one.path, short_one.path, "-o", tmp_path / "a", "--qc", rules)
    assert excluded.returncode == 0, excluded.stderr[-3000:]
    assert f"excluded {short_one.path.resolve()}: too short" in excluded.stderr
    assert "export:" not in excluded.stderr  # no progress bar into a pipe or log file
    qc = pq.read_table(tmp_path / "a/meta/qc.parquet").to_pylist()
    assert [row["passed"] for row in qc] == [True, False]
    assert qc[1]["reasons"][0].startswith("too short") and not qc[1]["kept"]
    info = json.loads((tmp_path / "a/meta/info.json").read_text())
    assert info["total_episodes"] == 1

    kept = run_export(
        long_one.path, short_one.path, "-o", tmp_path / "b", "--qc", rules, "--include-failed"
    )
    assert kept.returncode == 0, kept.stderr[-3000:]
    assert f"kept, failed QC {short_one.path.resolve()}: too short" in kept.stderr
    rows = pq.read_table(tmp_path / "b/meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [r["qc_passed"] for r in rows] == [True, False]
    assert rows[1]["qc_reasons"][0].startswith("too short")


def test_resume_reuses_the_shards_of_episodes_already_exported(
    episodes: list[Episode], tmp_path: Path, lenient_qc: Path
) -> None:
    """--resume leaves complete shards untouched and writes the same dataset again."""
    out = tmp_path / "ds"
    assert run_export(episodes[0].path, "-o", out, "--qc", lenient_qc).returncode == 0
    shard = next((out / ".shards").iterdir())
    stamp = (shard / "episode.json").stat().st_mtime_ns
    before = _files(out, (".parquet", ".json", ".mp4"))
    again = run_export(episodes[0].path, "-o", out, "--resume", "--json", "--qc", lenient_qc)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (shard / "episode.json").stat().st_mtime_ns == stamp
    assert _files(out, (".parquet", ".json", ".mp4")) == before


def test_export_into_a_non_empty_folder_without_resume_is_refused(
    episodes: list[Episode], tmp_path: Path, lenient_qc: Path
) -> None:
    """An existing dataset is never overwritten by accident: one error line, exit 2."""
    out = tmp_path / "ds"
    assert run_export(episodes[0].path, "-o", out, "--qc", lenient_qc).returncode == 0
    again = run_export(episodes[0].path, "-o", out, "--qc", lenient_qc)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {out}: exists and is not empty (use --resume to continue an export)"
    ]


def test_verify_passes_and_reports_what_it_checked(
    episodes: list[Episode], tmp_path: Path, lenient_qc: Path
) -> None:
    """--verify re-reads the dataset and checks every requested video frame."""
    result = run_export(
        episodes[1].path, "-o", tmp_path / "ds", "--verify", "--json", "--qc", lenient_qc
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["verify"]["video_frames_checked"] == summary["frames"] > 0


def test_verify_catches_timestamps_off_the_grid(
    episodes: list[Episode], tmp_path: Path, lenient_qc: Path
) -> None:
    """A dataset whose timestamps are not frame_index / fps fails verification."""
    out = tmp_path / "ds"
    assert run_export(episodes[1].path, "-o", out, "--qc", lenient_qc).returncode == 0
    path = out / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    shifted = table.column("timestamp").to_numpy() + np.float32(0.01)
    index = table.column_names.index("timestamp")
    pq.write_table(table.set_column(index, "timestamp", pa.array(shifted)), path)
    with pytest.raises(VerifyError, match="timestamp != frame_index / fps"):
        verify(out)


def test_missing_source_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    """A source that is no episode gives one clear line naming it, exit 2, no traceback."""
    result = run_export(tmp_path / "nothing", "-o", tmp_path / "ds")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nothing'}: no such episode or folder"
    ]
    assert not (tmp_path / "ds").exists()


def test_robot_layout_refuses_two_robot_models(episodes: list[Episode], tmp_path: Path) -> None:
    """The robot layout holds one robot: g1 + talos is refused, pointing at --layout canonical."""
    result = run_export(episodes[0].path, episodes[1].path, "-o", tmp_path / "ds")
    assert result.returncode == 2
    assert "use --layout canonical" in result.stderr and "Traceback" not in result.stderr


def test_bad_qc_file_names_file_line_and_key(episodes: list[Episode], tmp_path: Path) -> None:
    """A QC rules file with an unknown key is refused before any work, naming file:line: key."""
    rules = tmp_path / "qc.yaml"
    rules.write_text("schema_version: 1\nmax_los_ratio: 0.1\n")
    result = run_export(episodes[0].path, "-o", tmp_path / "ds", "--qc", rules)
    assert result.returncode == 2
    assert f"{rules}:2: max_los_ratio: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def _unknown_robot(bag: Path) -> None:
    text = (bag / "metadata.yaml").read_text()
    (bag / "metadata.yaml").write_text(text.replace("robot: g1\n", "robot: nosuchrobot\n"))


def _missing_file(bag: Path) -> None:
    next(bag.glob("*.mcap")).unlink()


def _cut_short(bag: Path) -> None:
    mcap = next(bag.glob("*.mcap"))
    with mcap.open("r+b") as handle:
        handle.truncate(mcap.stat().st_size // 3)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_unknown_robot, "robot 'nosuchrobot' of the episode: no robot 'nosuchrobot'"),
        (_missing_file, "cannot read"),
        (_cut_short, "bag recover` repairs it"),
    ],
)
def test_a_damaged_episode_is_one_error_line_naming_it(
    episodes: list[Episode], tmp_path: Path, damage: Any, message: str
) -> None:
    """An unknown robot, a missing or a cut-short MCAP file: one line, exit 2, no traceback."""
    bag = tmp_path / episodes[0].path.name
    shutil.copytree(episodes[0].path, bag)
    damage(bag)
    result = run_export(bag, "-o", tmp_path / "ds")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_port_targets_leave_out_ported_episodes_whose_port_missed_them(
    matrix_run: tuple[Path, Any], tmp_path: Path
) -> None:
    """`port_targets` in the QC rules: of the two pushes ported into G1 (G1's own replayed,
    Alex's), one missing the contact target fails with its report's reason when the rules
    ask for that target, and passes when they ask only for the free-space one."""
    folder, run = matrix_run
    ported = [folder / "ported" / f"scripted_{s}_push_0001_to_g1" for s in ("g1", "alex")]
    missed = run.reports[("push", "alex", 1, "g1")].misses()
    assert [target for target, _ in missed] == ["contact"], missed
    verdicts = {}
    for targets in ("[contact, free space]", "[free space]"):
        rules = tmp_path / "qc.yaml"
        rules.write_text(LENIENT_QC + f"port_targets: {targets}\n")
        out = tmp_path / targets.strip("[]").replace(", ", "_").replace(" ", "-")
        done = run_export(*ported, "-o", out, "--qc", rules, "--cameras", "none")
        assert done.returncode == 0, done.stderr[-3000:]
        verdicts[targets] = [
            (row["passed"], row["reasons"])
            for row in pq.read_table(out / "meta/qc.parquet").to_pylist()
        ]
    assert verdicts["[contact, free space]"] == [(True, []), (False, [f"port: {missed[0][1]}"])]
    assert verdicts["[free space]"] == [(True, []), (True, [])]
