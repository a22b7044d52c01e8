"""The dataset export reads the sidecar: sub-task spans, episode labels, action_config."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from humanoid_teleop.annotation.rules import pre_annotations
from humanoid_teleop.annotation.schema import Annotation, Provenance
from humanoid_teleop.annotation.sidecar import append
from humanoid_teleop.cli.main import main

PROV = Provenance("annotator", "ann7", "test", "2026-12-04T10:00:00+00:00")
NS = 1_000_000_000
LENIENT_QC = "schema_version: 1\nmax_loss_ratio: 1.0\nmax_sync_skew_ms: 1000000.0\n"


def _export(episode: Path, tmp_path: Path) -> Path:
    rules = tmp_path / "qc.yaml"
    rules.write_text(LENIENT_QC + "max_missing_image_ratio: 1.0\nmax_saturated_ratio: 1.0\n")
    out = tmp_path / "dataset"
    argv = ["export", "lerobot", str(episode), "-o", str(out), "--fps", "10",
            "--video-codec", "h264", "--qc", str(rules)]  # fmt: skip
    assert main(argv) == 0
    return out


def test_confirmed_spans_are_the_subtask_column(episode_copy: Path, tmp_path: Path) -> None:
    """Frames inside a confirmed span carry its text as sub-task; predictions are ignored."""
    append(episode_copy, pre_annotations(episode_copy))
    append(episode_copy, [
        Annotation("s", "span", PROV, text="place the cube", start_ns=4 * NS, end_ns=6 * NS),
        Annotation("q", "label", PROV, key="quality", value="ok"),
    ])  # fmt: skip
    dataset = _export(episode_copy, tmp_path)
    tasks = pq.read_table(dataset / "meta/tasks.parquet").to_pylist()
    names = {row["task_index"]: row["task"] for row in tasks}
    frames = pq.read_table(next((dataset / "data").rglob("*.parquet"))).to_pylist()
    episode = pq.read_table(next((dataset / "meta/episodes").rglob("*.parquet"))).to_pylist()[0]
    subtask = [names[int(row["annotation.human.subtask"])] for row in frames]
    assert {"grasp", "approach", "transport"}.isdisjoint(names.values())
    assert json.loads(episode["annotation_labels"]) == {"quality": "ok"}
    (action,) = json.loads(episode["action_config"])
    assert action["action_text"] == "place the cube"
    assert 19 <= subtask.count("place the cube") <= 21  # 4 s to 6 s at 10 Hz, inclusive
    assert action["end_frame"] - action["start_frame"] == 20
