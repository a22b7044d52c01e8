"""The annotation sidecar: ``<episode>/annotations.jsonl``, append-only JSON lines.

The first line is the header ``{"schema": "humanoid_teleop.annotations", "version": 1}``;
every other line is one :class:`~.schema.Annotation`. Records are only ever appended (one
``write`` + ``fsync`` per batch), never edited or removed: a correction appends a ``retract``
record and the new one. The recorded MCAP files and ``metadata.yaml`` are never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from humanoid_teleop.core.bag.metadata import METADATA_FILE

from .errors import AnnotationError
from .schema import SCHEMA_NAME, SCHEMA_VERSION, Annotation

SIDECAR = "annotations.jsonl"
HEADER = {"schema": SCHEMA_NAME, "version": SCHEMA_VERSION}


def sidecar_path(episode: Path) -> Path:
    """Where the sidecar of the episode directory ``episode`` lives (it may not exist yet)."""
    return episode / SIDECAR


def read_sidecar(episode: Path) -> list[Annotation]:
    """Every record of the episode's sidecar in file order ([] when there is none)."""
    path = sidecar_path(episode)
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise AnnotationError(f"{path}: unreadable ({err})") from err
    if not lines:
        raise AnnotationError(f"{path}:1: empty file (expected the header {json.dumps(HEADER)})")
    header = _json_line(path, 1, lines[0])
    if not isinstance(header, dict) or header.get("schema") != SCHEMA_NAME:
        raise AnnotationError(f"{path}:1: not an annotation sidecar (header {lines[0][:80]!r})")
    if header.get("version") != SCHEMA_VERSION:
        raise AnnotationError(
            f"{path}:1: annotation schema version {header.get('version')!r}; this humanoid_teleop "
            f"reads version {SCHEMA_VERSION}"
        )
    records: list[Annotation] = []
    seen: set[str] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        record = Annotation.from_dict(_json_line(path, number, line), f"{path}:{number}")
        if record.id in seen:
            raise AnnotationError(f"{path}:{number}: id {record.id!r} is used twice")
        if record.kind == "retract" and record.target not in seen:
            raise AnnotationError(f"{path}:{number}: retracts {record.target!r}, no earlier record")
        seen.add(record.id)
        records.append(record)
    return records


def append(episode: Path, records: Iterable[Annotation]) -> list[Annotation]:
    """Append ``records`` to the episode's sidecar (created with its header if absent).

    A record whose id is already in the sidecar with the same content is skipped, so importing
    the same file twice adds nothing; the same id with other content is an error. Returns the
    records written."""
    if not (episode / METADATA_FILE).is_file():
        raise AnnotationError(f"{episode}: not an episode (no {METADATA_FILE})")
    existing = {r.id: r for r in read_sidecar(episode)}
    path = sidecar_path(episode)
    new: list[Annotation] = []
    for record in records:
        known = existing.get(record.id)
        if known is not None:
            if known.to_dict() | {"provenance": None} != record.to_dict() | {"provenance": None}:
                raise AnnotationError(
                    f"{path}: id {record.id!r} is already recorded with other content"
                )
            continue
        if record.kind == "retract" and record.target not in existing:
            raise AnnotationError(f"{path}: retracts {record.target!r}, no such record")
        existing[record.id] = record
        new.append(record)
    if not new:
        return []
    text = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in new)
    if not path.exists():
        text = json.dumps(HEADER) + "\n" + text
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return new


def current(records: Iterable[Annotation]) -> list[Annotation]:
    """The records in force: retractions and the records they withdraw removed."""
    records = list(records)
    retracted = {r.target for r in records if r.kind == "retract"}
    return [r for r in records if r.kind != "retract" and r.id not in retracted]


def sidecar_digest(episode: Path) -> str:
    """``sha256:<hex>`` of the sidecar's bytes, or "" when the episode has none."""
    path = sidecar_path(episode)
    if not path.is_file():
        return ""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _json_line(path: Path, number: int, line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise AnnotationError(f"{path}:{number}: not JSON ({err.msg}, column {err.colno})") from err


def describe(episode: Path) -> tuple[list[dict[str, object]], str]:
    """What ``bag info`` shows: the records in force as JSON objects, and a warning ("" if
    none) when the sidecar cannot be read (``bag info`` still shows the rest)."""
    if not episode.is_dir():
        return [], ""
    try:
        return [r.to_dict() for r in current(read_sidecar(episode))], ""
    except AnnotationError as err:
        return [], str(err)


def summary_line(record: dict[str, object]) -> str:
    """One line of ``bag info`` for a record from :func:`describe` (times in [s])."""
    flag = "predicted" if record["prediction"] else "confirmed"
    prov = record["provenance"]
    who = f"{prov['source']}:{prov['who']}" if isinstance(prov, dict) else ""
    arm = f" [{record['arm']}]" if record.get("arm") else ""
    if record["kind"] == "span":
        when = f"{record['start_ns'] / 1e9:8.2f} - {record['end_ns'] / 1e9:8.2f} s"  # type: ignore[operator]
        return f"{when}  {record['text']}{arm}  ({flag}, {who})"
    if record["kind"] == "event":
        when = f"{record['time_ns'] / 1e9:8.2f} s" + " " * 13  # type: ignore[operator]
        return f"{when}  {record['text']}{arm}  ({flag}, {who})"
    return f"{'episode':>24}  {record['key']} = {record['value']}  ({flag}, {who})"
