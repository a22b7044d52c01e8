"""Index episodes into the catalog, incrementally.

An episode is re-read only when its files changed: its signature (name, size, mtime of each
MCAP file and of metadata.yaml) or its sidecar's digest differs from the catalog's row. When
the signature changed, the content hash (:func:`bag_content_hash`, the MCAP bytes) decides
whether the recording itself changed; a sidecar edit only replaces the episode's labels,
outcome, task and QC verdict. Episodes under an indexed root that are gone are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humanoid_teleop.annotation.errors import AnnotationError
from humanoid_teleop.annotation.sidecar import current, read_sidecar, sidecar_digest
from humanoid_teleop.annotation.signals import live_labels
from humanoid_teleop.core.bag.errors import BagError, BagFormatError
from humanoid_teleop.core.bag.metadata import METADATA_FILE, ported_from
from humanoid_teleop.core.bag.reader import (
    BagSummary,
    bag_content_hash,
    find_episodes,
    mcap_files,
    read_bag,
)
from humanoid_teleop.export.qc import QcRules, recorder_verdict

from .db import CatalogDb
from .errors import CatalogError

LOG = logging.getLogger(__name__)
EPISODE_COLUMNS = (
    "path", "episode", "content_hash", "signature", "sidecar_hash", "robot", "task_id",
    "operator", "station", "device", "ported_from", "outcome", "qc", "qc_reasons", "start_ns",
    "day", "duration_s", "usable_s", "indexed_at",
)  # fmt: skip
LABEL_COLUMNS = (
    "episode_id", "kind", "text", "skill", "arm", "source", "prediction", "start_ns", "end_ns",
)  # fmt: skip
UNUSABLE_OUTCOMES = ("error", "incomplete")


@dataclass
class IndexReport:
    """What one ``catalog index`` run did, by episode path."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "removed": self.removed, "failed": self.failed,
        }  # fmt: skip


def signature(episode: Path) -> str:
    """Names, sizes and modification times of the episode's recorded files."""
    parts = []
    for path in [*mcap_files(episode), episode / METADATA_FILE]:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def metadata_verdict(summary: BagSummary, rules: QcRules) -> list[str]:
    """Why the episode fails the quality gates that need only its metadata (loss ratio, sync
    skew, duration); the frame-level gates run in ``export``."""
    reasons = list(recorder_verdict(summary, rules).reasons)
    duration = summary.metadata.duration_ns / 1e9
    if duration < rules.min_duration_s:
        reasons.append(f"too short: {duration:.2f} s < {rules.min_duration_s} s")
    if duration > rules.max_duration_s:
        reasons.append(f"too long: {duration:.2f} s > {rules.max_duration_s} s")
    return reasons


def episode_row(
    episode: Path, content_hash: str, sig: str, rules: QcRules
) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The catalog row of ``episode`` (task as text) and its label rows (without episode id)."""
    try:
        summary = read_bag(episode)
    except (BagFormatError, OSError) as err:
        raise CatalogError(f"{episode}: unreadable episode: {err}") from err
    custom = summary.metadata.custom_data
    records = current(read_sidecar(episode))
    labels: dict[str, str] = {}
    for record in records:
        if record.kind == "label" and not record.prediction:
            labels[record.key] = record.value
    start_ns = summary.metadata.starting_time_ns
    duration_s = summary.metadata.duration_ns / 1e9
    outcome = labels.get("outcome") or custom.get("outcome", "") or "unknown"
    reasons = metadata_verdict(summary, rules)
    if labels.get("quality") == "reject":
        reasons.append("rejected by an annotator")
    usable = not reasons and outcome not in UNUSABLE_OUTCOMES
    try:
        day = dt.datetime.fromtimestamp(start_ns / 1e9, dt.timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        raise CatalogError(
            f"{episode / METADATA_FILE}: starting_time {start_ns} ns is no date"
        ) from None
    row = {
        "path": str(episode.resolve()), "episode": custom.get("episode", episode.name),
        "content_hash": content_hash, "signature": sig, "sidecar_hash": sidecar_digest(episode),
        "robot": custom.get("robot", ""), "task": labels.get("task") or custom.get("task", ""),
        "operator": custom.get("operator", ""), "station": custom.get("station", ""),
        "device": custom.get("device", ""),
        "ported_from": ported_from(custom), "outcome": outcome,
        "qc": "reject" if reasons else "pass", "qc_reasons": json.dumps(reasons),
        "start_ns": start_ns, "day": day, "duration_s": duration_s,
        "usable_s": duration_s if usable else 0.0,
        "indexed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }  # fmt: skip
    label_rows: list[tuple[Any, ...]] = []
    for record in records:
        if record.kind == "retract":
            continue
        text = record.value if record.kind == "label" else record.text
        start = record.time_ns if record.kind == "event" else record.start_ns
        end = record.time_ns if record.kind == "event" else record.end_ns
        source, predicted = record.provenance.source, int(record.prediction)
        kind, skill = record.kind, record.skill or record.key
        label_rows.append((kind, text, skill, record.arm, source, predicted, start, end))
    if not any(r.provenance.source == "operator-live" for r in records):
        for t_ns, text in live_labels(summary):
            label_rows.append(("event", text, "", "", "operator-live", 0, t_ns, t_ns))
    return row, label_rows


def task_id(db: CatalogDb, text: str) -> int:
    """The id of the task text, added when new."""
    rows = db.fetch("SELECT id FROM tasks WHERE text = ?", (text,))
    if rows:
        return int(rows[0][0])
    cursor = db.execute("INSERT INTO tasks (text) VALUES (?) RETURNING id", (text,))
    return int(cursor.fetchone()[0])


def store(db: CatalogDb, row: dict[str, Any], labels: Sequence[tuple[Any, ...]]) -> None:
    """Insert or replace one episode's row and labels (inside the caller's transaction)."""
    values = dict(row)
    values["task_id"] = task_id(db, values.pop("task"))
    existing = db.fetch("SELECT id FROM episodes WHERE path = ?", (values["path"],))
    if existing:
        episode_id = int(existing[0][0])
        assignments = ", ".join(f"{c} = ?" for c in EPISODE_COLUMNS[1:])
        db.execute(
            f"UPDATE episodes SET {assignments} WHERE id = ?",
            [values[c] for c in EPISODE_COLUMNS[1:]] + [episode_id],
        )
        db.execute("DELETE FROM labels WHERE episode_id = ?", (episode_id,))
    else:
        marks = ", ".join("?" for _ in EPISODE_COLUMNS)
        cursor = db.execute(
            f"INSERT INTO episodes ({', '.join(EPISODE_COLUMNS)}) VALUES ({marks}) RETURNING id",
            [values[c] for c in EPISODE_COLUMNS],
        )
        episode_id = int(cursor.fetchone()[0])
    marks = ", ".join("?" for _ in LABEL_COLUMNS)
    db.executemany(
        f"INSERT INTO labels ({', '.join(LABEL_COLUMNS)}) VALUES ({marks})",
        [(episode_id, *label) for label in labels],
    )


def index(db: CatalogDb, roots: Sequence[Path], rules: QcRules | None = None) -> IndexReport:
    """Bring the catalog up to date with the episodes under ``roots``."""
    rules = rules or QcRules.load()
    report = IndexReport()
    for root in roots:
        if not root.exists():
            raise CatalogError(f"{root}: no such file or directory")
    episodes = find_episodes(roots)
    known = {
        path: (content, sig, side)
        for path, content, sig, side in db.fetch(
            "SELECT path, content_hash, signature, sidecar_hash FROM episodes"
        )
    }
    for episode in episodes:
        path = str(episode.resolve())
        try:
            sig = signature(episode)
            side = sidecar_digest(episode)
            old = known.get(path)
            if old is not None and old[1] == sig and old[2] == side:
                report.unchanged += 1
                continue
            content = old[0] if old is not None and old[1] == sig else bag_content_hash(episode)
            row, labels = episode_row(episode, content, sig, rules)
            with db.transaction():
                store(db, row, labels)
        except (CatalogError, AnnotationError, BagError, OSError) as err:
            report.failed[path] = str(err)
            LOG.warning("%s: not indexed: %s", path, err)
            continue
        (report.updated if old is not None else report.added).append(path)
    present = {str(e.resolve()) for e in episodes}
    resolved_roots = [str(r.resolve()) for r in roots]
    gone = [
        p
        for p in known
        if p not in present and any(p == r or p.startswith(r + "/") for r in resolved_roots)
    ]
    if gone:
        with db.transaction():
            for path in gone:
                (episode_id,) = db.fetch("SELECT id FROM episodes WHERE path = ?", (path,))[0]
                db.execute("DELETE FROM labels WHERE episode_id = ?", (episode_id,))
                db.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        report.removed = gone
    if report.added or report.updated or report.removed:
        db.refresh_statistics()
    return report
