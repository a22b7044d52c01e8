"""The annotation schema and the append-only sidecar beside an episode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanoid_teleop.annotation.errors import AnnotationError
from humanoid_teleop.annotation.schema import Annotation, Provenance
from humanoid_teleop.annotation.sidecar import SIDECAR, append, current, read_sidecar
from humanoid_teleop.cli.main import main
from test.annotation.helpers import mcap_digest, record_synthetic

PROV = Provenance("annotator", "ann@example.com", "test", "2026-12-01T10:00:00+00:00")


def _span(id_: str, start_s: float, end_s: float, text: str = "fold") -> Annotation:
    return Annotation(id_, "span", PROV, text=text, skill=text, arm="left",
                      start_ns=int(start_s * 1e9), end_ns=int(end_s * 1e9))  # fmt: skip


@pytest.fixture
def episode(tmp_path: Path) -> Path:
    return record_synthetic(tmp_path / "bags", "ep", task="fold towel", robot="g1")


def test_records_round_trip_through_json() -> None:
    """Every kind of record reads back equal from its JSON object."""
    records = [
        _span("s", 0.5, 1.5),
        Annotation("e", "event", PROV, prediction=True, text="grasp", arm="right", time_ns=7),
        Annotation("l", "label", PROV, key="quality", value="reject"),
        Annotation("r", "retract", PROV, target="s"),
    ]
    assert [Annotation.from_dict(json.loads(json.dumps(r.to_dict())), "x") for r in records] == (
        records
    )


def test_unknown_field_is_rejected_naming_it() -> None:
    """A record with a field its kind does not have names the field and the allowed ones."""
    data = _span("s", 0, 1).to_dict() | {"colour": "red"}
    with pytest.raises(AnnotationError, match=r"f:3: unknown field 'colour' \(allowed: "):
        Annotation.from_dict(data, "f:3")


def test_span_ending_before_it_starts_is_rejected() -> None:
    """end_ns before start_ns is an error naming both."""
    data = _span("s", 2, 1).to_dict()
    with pytest.raises(AnnotationError, match="end_ns 1000000000 is before start_ns"):
        Annotation.from_dict(data, "f:2")


def test_append_never_touches_the_recorded_files(episode: Path) -> None:
    """Appending annotations leaves the MCAP files and metadata.yaml byte for byte."""
    before = mcap_digest(episode)
    append(episode, [_span("a", 0, 1)])
    append(episode, [_span("b", 1, 2)])
    assert mcap_digest(episode) == before
    assert [r.id for r in read_sidecar(episode)] == ["a", "b"]


def test_sidecar_only_grows(episode: Path) -> None:
    """A second append keeps the first append's bytes as the file's prefix."""
    append(episode, [_span("a", 0, 1)])
    first = (episode / SIDECAR).read_bytes()
    append(episode, [_span("b", 1, 2)])
    assert (episode / SIDECAR).read_bytes().startswith(first)


def test_appending_the_same_records_again_adds_nothing(episode: Path) -> None:
    """Records whose id and content are already there are skipped."""
    append(episode, [_span("a", 0, 1)])
    assert append(episode, [_span("a", 0, 1)]) == []
    assert len(read_sidecar(episode)) == 1


def test_same_id_with_other_content_is_refused(episode: Path) -> None:
    """An id already used for different content is an error and nothing is written."""
    append(episode, [_span("a", 0, 1)])
    with pytest.raises(AnnotationError, match="'a' is already recorded with other content"):
        append(episode, [_span("b", 0, 1), _span("a", 0, 2)])
    assert [r.id for r in read_sidecar(episode)] == ["a"]


def test_retraction_withdraws_a_record(episode: Path) -> None:
    """A retract record removes its target from the records in force."""
    append(episode, [_span("a", 0, 1), _span("b", 1, 2)])
    append(episode, [Annotation("r", "retract", PROV, target="a")])
    assert [r.id for r in current(read_sidecar(episode))] == ["b"]


def test_bad_line_names_file_and_line(episode: Path) -> None:
    """A line that is not JSON is reported with the sidecar's path and line number."""
    append(episode, [_span("a", 0, 1)])
    with (episode / SIDECAR).open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(AnnotationError, match=rf"{SIDECAR}:3: not JSON"):
        read_sidecar(episode)


def test_newer_schema_version_is_refused(episode: Path) -> None:
    """A sidecar of another schema version names both versions."""
    (episode / SIDECAR).write_text('{"schema": "humanoid_teleop.annotations", "version": 2}\n')
    with pytest.raises(AnnotationError, match="version 2; this humanoid_teleop reads version 1"):
        read_sidecar(episode)


def test_bag_info_lists_the_sidecar_annotations(
    episode: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag info` prints each record in force with its times, arm and provenance."""
    append(episode, [_span("a", 0.5, 1.5, "fold sleeve")])
    assert main(["bag", "info", str(episode)]) == 0
    out = capsys.readouterr().out
    assert "labels:      1 in annotations.jsonl" in out
    assert "0.50 -     1.50 s  fold sleeve [left]  (confirmed, annotator:ann@example.com)" in out


def test_bag_info_json_carries_the_sidecar_annotations(
    episode: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag info --json` has the records in force under sidecar_annotations."""
    append(episode, [_span("a", 0.5, 1.5)])
    assert main(["bag", "info", "--json", str(episode)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in info["sidecar_annotations"]] == ["a"]


def test_bag_info_still_works_with_a_broken_sidecar(
    episode: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged sidecar is one warning line; the rest of `bag info` is printed, exit 0."""
    (episode / SIDECAR).write_text("garbage\n")
    assert main(["bag", "info", str(episode)]) == 0
    captured = capsys.readouterr()
    assert f"{SIDECAR}:1: not JSON" in captured.err
    assert "episode:     ep" in captured.out
