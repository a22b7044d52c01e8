"""Bad input to `annotate` is one line naming the file or option, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanoid_teleop.annotation.label_studio import frame_to_ns, ns_to_frame
from humanoid_teleop.cli.main import main
from test.annotation.helpers import record_synthetic


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_missing_episode_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is named; exit 2."""
    assert main(["annotate", "pre", str(tmp_path / "nope")]) == 2
    assert _error_line(capsys) == f"error: {tmp_path / 'nope'}: no such file or directory"


def test_fps_must_give_whole_nanosecond_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--fps 30 (33333333.3 ns frames) is refused before anything is written."""
    episode = record_synthetic(tmp_path / "bags", "ep", robot="g1")
    out = tmp_path / "ls"
    assert main(["annotate", "to-label-studio", str(episode), "-o", str(out), "--fps", "30"]) == 2
    assert "--fps 30: must divide 1000000000" in _error_line(capsys)
    assert not out.exists()


def test_export_that_is_not_ours_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Label Studio task without our data fields names the task and the missing field."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": 5, "data": {"image": "x.png"}, "annotations": []}]))
    assert main(["annotate", "from-label-studio", str(export)]) == 2
    assert _error_line(capsys) == (
        f"error: {export}: task 5: data.episode missing "
        "(not a task made by annotate to-label-studio)"
    )


def test_moved_episode_is_found_under_root(tmp_path: Path) -> None:
    """A task whose episode moved is matched by name and content hash under --root."""
    from humanoid_teleop.core.bag.reader import bag_content_hash

    episode = record_synthetic(tmp_path / "old", "ep", robot="g1")
    moved = episode.rename(tmp_path / "ep")
    task = {
        "id": 1,
        "data": {"episode": "ep", "episode_path": str(episode), "content_hash":
                 bag_content_hash(moved), "fps": 25},
        "annotations": [{"id": 9, "completed_by": 1, "updated_at": "2026-12-04T10:00:00Z",
                         "result": [{"id": "r", "type": "timelinelabels", "from_name": "phases",
                                     "value": {"ranges": [{"start": 1, "end": 26}],
                                               "timelinelabels": ["wipe"]}}]}],
    }  # fmt: skip
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task]))
    assert main(["annotate", "from-label-studio", str(export), "--root", str(tmp_path)]) == 0
    assert '"text": "wipe"' in (moved / "annotations.jsonl").read_text()


@pytest.mark.parametrize("fps", [10, 25, 40, 50])
def test_frame_and_time_conversions_invert(fps: int) -> None:
    """Frame -> episode time -> frame gives the same frame; frame 1 is time 0."""
    assert frame_to_ns(1, fps) == 0
    assert all(ns_to_frame(frame_to_ns(k, fps), fps) == k for k in range(1, 5000))


@pytest.mark.parametrize("inside", [False, True], ids=["is_a_file", "inside_a_file"])
def test_to_label_studio_output_that_is_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inside: bool
) -> None:
    """-o naming an existing file (or a path inside one) is one line naming it; exit 2; no
    pre-annotation is written into the episode."""
    episode = record_synthetic(tmp_path / "bags", "ep", robot="g1")
    file = tmp_path / "ls"
    file.write_text("not a folder")
    out = file / "inner" if inside else file
    assert main(["annotate", "to-label-studio", str(episode), "-o", str(out)]) == 2
    where = f"is inside {file}, which is" if inside else "is"
    assert _error_line(capsys) == (
        f"error: {out}: {where} a file, not a folder (-o names the output folder)"
    )
    assert not (episode / "annotations.jsonl").exists()


@pytest.mark.parametrize("fps", ["0", "-5"])
def test_action_config_fps_must_be_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fps: str
) -> None:
    """action-config --fps 0 or negative is refused when the arguments are parsed (exit 2)."""
    episode = record_synthetic(tmp_path / "bags", "ep", robot="g1")
    with pytest.raises(SystemExit) as exit_:
        main(["annotate", "action-config", str(episode), f"--fps={fps}"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith(f"argument --fps: {fps} must be > 0"), last


@pytest.fixture(scope="module")
def merge_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic g1 episode for from-label-studio tasks (read, never written: every task
    of the tests using it is refused)."""
    return record_synthetic(tmp_path_factory.mktemp("merge"), "ep", robot="g1")


def _task(
    episode: Path, data: dict[str, object], annotation: dict[str, object]
) -> dict[str, object]:
    """Task 7 of a Label Studio export of ``episode`` with one timeline-label result, its
    ``data`` and its one annotation updated with ``data`` and ``annotation``."""
    from humanoid_teleop.core.bag.reader import bag_content_hash

    result = {
        "id": "r",
        "type": "timelinelabels",
        "from_name": "phases",
        "value": {"ranges": [{"start": 1, "end": 26}], "timelinelabels": ["wipe"]},
    }
    return {
        "id": 7,
        "data": {"episode": episode.name, "episode_path": str(episode),
                 "content_hash": bag_content_hash(episode), "fps": 25} | data,
        "annotations": [{"id": 9, "completed_by": 1, "updated_at": "2026-12-04T10:00:00Z",
                         "result": [result]} | annotation],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "annotation", "field"),
    [
        ({"fps": "abc"}, {}, "data.fps 'abc': not a frame rate"),
        ({"fps": 0}, {}, "data.fps 0: not a frame rate"),
        ({"content_hash": 5}, {}, "data.content_hash 5: not a non-empty string"),
        ({"episode_path": 5}, {}, "data.episode_path 5: not a non-empty string"),
        ({}, {"result": ["x"]}, "annotations[0]: result[0] 'x': not an object"),
        ({}, {"result": [{"type": "timelinelabels", "value": [1]}]},
         "annotations[0]: result[0].value [1]: not an object"),
        ({}, {"result": [{"type": "timelinelabels", "value": {
            "ranges": [{"start": 1, "end": 26}], "timelinelabels": "wipe"}}]},
         "annotations[0]: result[0].value.timelinelabels 'wipe': not a list of strings"),
        ({}, {"result": [{"type": "timelinelabels", "value": {
            "ranges": [{"start": -10, "end": 26}], "timelinelabels": ["wipe"]}}]},
         "annotations[0]: result[0].value.ranges[0] {'start': -10, 'end': 26}: not a frame "
         "range"),
    ],
    ids=["fps_text", "fps_zero", "hash_int", "path_int", "result_text", "value_list",
         "labels_text", "negative_frame"],
)  # fmt: skip
def test_from_label_studio_field_of_the_wrong_type_is_one_line(
    merge_target: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    data: dict[str, object], annotation: dict[str, object], field: str,
) -> None:  # fmt: skip
    """A task field of the wrong type (or a frame before 1) is one line naming the export
    file, the task and the field; exit 2; nothing is merged."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps([_task(merge_target, data, annotation)]))
    assert main(["annotate", "from-label-studio", str(export)]) == 2
    line = _error_line(capsys)
    assert line.startswith(f"error: {export}: task 7: {field}"), line
    assert not (merge_target / "annotations.jsonl").exists()


@pytest.mark.parametrize("annotations", ["abc", 5])
def test_from_label_studio_annotations_not_a_list_is_one_line(
    merge_target: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], annotations: object
) -> None:
    """A task whose ``annotations`` is no list is one line naming the file, task and field."""
    export = tmp_path / "export.json"
    task = _task(merge_target, {}, {}) | {"annotations": annotations}
    export.write_text(json.dumps([task]))
    assert main(["annotate", "from-label-studio", str(export)]) == 2
    assert _error_line(capsys) == (
        f"error: {export}: task 7: annotations {annotations!r}: not a list"
    )
