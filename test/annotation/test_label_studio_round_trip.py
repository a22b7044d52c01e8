"""The Label Studio round trip against a real server on loopback, driven by label-studio-sdk:
to-label-studio -> create project, import, submit an annotation, export -> from-label-studio;
the merged spans then show in `bag info`, in the catalog and in an exported dataset."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from humanoid_teleop.annotation.sidecar import current, read_sidecar
from humanoid_teleop.cli.main import main
from test.annotation.label_studio_server import Server, label_studio, label_studio_venv

DRIVER = Path(__file__).with_name("label_studio_driver.py")
NS = 1_000_000_000
FPS = 25
EDITS = [
    {"id": "place1", "from_name": "phases", "to_name": "video", "type": "timelinelabels",
     "value": {"ranges": [{"start": 101, "end": 151}], "timelinelabels": ["place [right]"]}},
    {"id": "lift1", "from_name": "phases", "to_name": "video", "type": "timelinelabels",
     "value": {"ranges": [{"start": 80, "end": 80}], "timelinelabels": ["lift"]}},
    {"id": "out1", "from_name": "outcome", "to_name": "video", "type": "choices",
     "value": {"choices": ["success"]}},
    {"id": "task1", "from_name": "instruction", "to_name": "video", "type": "textarea",
     "value": {"text": ["put the red cube on the green disc"]}},
]  # fmt: skip
"""What the annotator adds to the predictions: a span, an instant, the outcome, the task."""
LENIENT_QC = (
    "schema_version: 1\nmax_loss_ratio: 1.0\nmax_sync_skew_ms: 1000000.0\n"
    "max_missing_image_ratio: 1.0\nmax_saturated_ratio: 1.0\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Label Studio server for this module; skips saying why when it is not installed."""
    venv = label_studio_venv()
    if venv is None:
        pytest.skip(
            "no Label Studio venv for these requirements: `make test` creates it with "
            "tools/setup_label_studio.sh, which needs a Python 3.12 (python3.12 or pyenv)"
        )
    with label_studio(venv, tmp_path_factory.mktemp("label_studio")) as running:
        yield running


@pytest.fixture(scope="module")
def merged(
    server: Server, scripted_g1_episode: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """The episode (a copy) after the whole round trip; with the export file and CLI output."""
    work = tmp_path_factory.mktemp("round_trip")
    episode = Path(
        __import__("shutil").copytree(scripted_g1_episode, work / "bags" / scripted_g1_episode.name)
    )
    out = server.document_root / "batch1"
    assert main(["annotate", "to-label-studio", str(episode), "-o", str(out)]) == 0
    edits = work / "edits.json"
    edits.write_text(json.dumps(EDITS))
    export = work / "export.json"
    result = subprocess.run(
        [str(server.python), str(DRIVER), server.url, server.token, str(out), str(export),
         str(edits)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert main(["annotate", "from-label-studio", str(export)]) == 0
    return episode, export, result.stdout


def _confirmed(episode: Path) -> list:
    return [r for r in current(read_sidecar(episode)) if not r.prediction]


def test_frames_become_episode_time_exactly(merged: tuple[Path, Path, str]) -> None:
    """Frames 101..151 at 25 fps are the span 4.000000000 s .. 6.000000000 s, to the ns."""
    episode, _, _ = merged
    (place,) = [r for r in _confirmed(episode) if r.text == "place"]
    assert (place.kind, place.arm, place.start_ns, place.end_ns) == (
        "span",
        "right",
        4 * NS,
        6 * NS,
    )
    (lift,) = [r for r in _confirmed(episode) if r.text == "lift"]
    assert (lift.kind, lift.time_ns) == ("event", 79 * NS // FPS)


def test_merged_records_carry_the_annotators_provenance(merged: tuple[Path, Path, str]) -> None:
    """Every merged record says Label Studio, the annotating user and when."""
    episode, _, _ = merged
    records = _confirmed(episode)
    assert records
    assert {(r.provenance.source, r.provenance.tool) for r in records} == {
        ("annotator", "label-studio")
    }
    assert all(r.provenance.time and r.provenance.who for r in records)


def test_confirmed_predictions_and_episode_labels_merge(merged: tuple[Path, Path, str]) -> None:
    """The submitted predictions come back confirmed; outcome and instruction are labels."""
    episode, _, _ = merged
    records = _confirmed(episode)
    predicted = {(r.text, r.arm) for r in current(read_sidecar(episode)) if r.prediction}
    confirmed = {(r.text, r.arm) for r in records if r.kind != "label"}
    assert ("grasp", "right") in predicted and predicted <= confirmed
    labels = {r.key: r.value for r in records if r.kind == "label"}
    assert labels == {"outcome": "success", "task": "put the red cube on the green disc"}


def test_merging_the_same_export_again_adds_nothing(merged: tuple[Path, Path, str]) -> None:
    """A second from-label-studio of the same export appends no record."""
    episode, export, _ = merged
    before = (episode / "annotations.jsonl").read_bytes()
    assert main(["annotate", "from-label-studio", str(export)]) == 0
    assert (episode / "annotations.jsonl").read_bytes() == before


def test_merged_span_shows_in_bag_info(
    merged: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag info` lists the annotator's span with its times and arm."""
    episode, _, _ = merged
    capsys.readouterr()
    assert main(["bag", "info", str(episode)]) == 0
    out = capsys.readouterr().out
    assert "4.00 -     6.00 s  place [right]  (confirmed, annotator:" in out


def test_merged_span_is_found_by_the_catalog(
    merged: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`catalog query --label place` finds the episode; its task is the annotator's."""
    episode, _, _ = merged
    db = str(tmp_path / "catalog.sqlite")
    assert main(["catalog", "index", str(episode.parent), "--db", db]) == 0
    capsys.readouterr()
    assert main(["catalog", "query", "--db", db, "--label", "place", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["path"], row["task"]) == (
        str(episode.resolve()),
        "put the red cube on the green disc",
    )


def test_merged_span_is_an_exported_subtask(merged: tuple[Path, Path, str], tmp_path: Path) -> None:
    """The exported dataset's sub-task column holds 'place' on the frames of 4 s .. 6 s that
    no later-starting confirmed span (a prediction of the rules) takes over."""
    episode, _, _ = merged
    rules = tmp_path / "qc.yaml"
    rules.write_text(LENIENT_QC)
    dataset = tmp_path / "dataset"
    argv = ["export", "lerobot", str(episode), "-o", str(dataset), "--fps", "10",
            "--video-codec", "h264", "--qc", str(rules)]  # fmt: skip
    assert main(argv) == 0
    names = {
        row["task_index"]: row["task"]
        for row in pq.read_table(dataset / "meta/tasks.parquet").to_pylist()
    }
    frames = pq.read_table(next((dataset / "data").rglob("*.parquet"))).to_pylist()
    subtasks = [names[int(row["annotation.human.subtask"])] for row in frames]
    later = [
        (r.start_ns, r.end_ns)
        for r in _confirmed(episode)
        if r.kind == "span" and r.text != "place" and r.start_ns > 4 * NS
    ]
    frames_in_span = [4 * NS + k * NS // 10 for k in range(21)]  # 4 s .. 6 s at 10 Hz
    expected = sum(not any(a <= t <= b for a, b in later) for t in frames_in_span)
    assert expected - 2 <= subtasks.count("place") <= expected
