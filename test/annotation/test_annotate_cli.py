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
