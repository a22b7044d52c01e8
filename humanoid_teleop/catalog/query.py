"""Find episodes and count them: the queries behind ``catalog query`` and ``catalog report``,
the same SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .db import CatalogDb
from .errors import CatalogError

GROUPS = {
    "day": "e.day", "station": "e.station", "operator": "e.operator", "robot": "e.robot",
    "task": "t.text", "device": "e.device", "ported_from": "e.ported_from",
}  # fmt: skip
"""``report --by`` keys and the column each groups by."""
REPORT_NUMBERS = ("episodes", "usable_hours", "success_rate", "qc_rejections", "mean_length_s")
"""The numbers :func:`report` gives each group, in the order the table and page show them."""


@dataclass(frozen=True)
class Filters:
    """What to select; empty fields select everything. Dates are UTC days, inclusive."""

    robot: str = ""
    task: str = ""
    """Case-insensitive substring of the task instruction."""
    operator: str = ""
    station: str = ""
    device: str = ""
    ported_from: str = ""
    """The robot a ported episode was recorded on (its ``custom.port.source_robot``)."""
    outcome: str = ""
    qc: str = ""
    """``pass`` or ``reject``."""
    label: str = ""
    """Text of an annotation (span, event or episode label value), exact."""
    since: str = ""
    until: str = ""

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition on ``episodes e`` and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for name in ("robot", "operator", "station", "device", "ported_from", "outcome", "qc"):
            value = getattr(self, name)
            if value:
                clauses.append(f"e.{name} = ?")
                params.append(value)
        if self.qc and self.qc not in ("pass", "reject"):
            raise CatalogError(f"--qc {self.qc!r}: pass or reject")
        if self.task:
            escaped = self.task.lower().replace("\\", "\\\\").replace("%", "\\%")
            clauses.append(
                "e.task_id IN (SELECT id FROM tasks WHERE LOWER(text) LIKE ? ESCAPE '\\')"
            )
            params.append("%" + escaped.replace("_", "\\_") + "%")
        if self.label:
            clauses.append("e.id IN (SELECT episode_id FROM labels WHERE text = ?)")
            params.append(self.label)
        if self.since:
            clauses.append("e.start_ns >= ?")
            params.append(_day_ns(self.since, "--since"))
        if self.until:
            clauses.append("e.start_ns < ?")
            params.append(_day_ns(self.until, "--until") + 86_400 * 1_000_000_000)
        return (" AND ".join(clauses) or "1 = 1"), params


def _day_ns(text: str, option: str) -> int:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CatalogError(f"{option} {text!r}: a date as YYYY-MM-DD (UTC)") from None
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return int(start.timestamp()) * 1_000_000_000


def query(db: CatalogDb, filters: Filters, limit: int = 0) -> list[dict[str, Any]]:
    """Matching episodes, newest first (at most ``limit``; 0: all)."""
    where, params = filters.where()
    # An annotation label picks episodes scattered over the whole catalog: find them through
    # the labels index and sort those, rather than walking the time index newest first and
    # probing labels per episode (PostgreSQL's choice under LIMIT: ~80 000 probes at 1M rows).
    # ``+ 0`` sorts the same values but keeps the planner off the time index.
    newest = "e.start_ns + 0" if filters.label else "e.start_ns"
    sql = (
        "SELECT e.path, e.episode, e.robot, t.text, e.operator, e.station, e.device, e.outcome,"
        " e.qc, e.qc_reasons, e.start_ns, e.duration_s, e.usable_s, e.content_hash,"
        " e.ported_from"
        " FROM episodes e JOIN tasks t ON t.id = e.task_id WHERE "
    )
    order = f" ORDER BY {newest} DESC, e.path"
    if limit > 0:
        # Pick the newest ids first (from an index alone where one covers the filter, e.g. a
        # task search's tens of thousands of matches), then read just those rows.
        newest_ids = f"SELECT e.id FROM episodes e WHERE {where}{order} LIMIT {int(limit)}"
        sql += f"e.id IN ({newest_ids}){order}"
    else:
        sql += where + order
    out = []
    for row in db.fetch(sql, params):
        start = dt.datetime.fromtimestamp(row[10] / 1e9, dt.timezone.utc)
        out.append(
            {
                "path": row[0], "episode": row[1], "robot": row[2], "task": row[3],
                "operator": row[4], "station": row[5], "device": row[6], "outcome": row[7],
                "qc": row[8], "qc_reasons": json.loads(row[9]),
                "start_time": start.isoformat(timespec="seconds"),
                "duration_s": round(float(row[11]), 3), "usable_s": round(float(row[12]), 3),
                "content_hash": row[13], "ported_from": row[14],
            }
        )  # fmt: skip
    return out


def report(db: CatalogDb, by: Sequence[str], filters: Filters) -> list[dict[str, Any]]:
    """Per group of ``by``: episodes, usable hours, success rate (of the episodes with a
    success/failure outcome; None without any), QC rejections and mean length [s]."""
    unknown = [b for b in by if b not in GROUPS]
    if unknown or not by:
        raise CatalogError(f"--by {','.join(by)}: group by one or more of {', '.join(GROUPS)}")
    keys = [GROUPS[b] for b in by]
    where, params = filters.where()
    # Join the task texts only to group by them: without the join the planner reads the date
    # range from the time index instead of probing it once per task.
    join = " JOIN tasks t ON t.id = e.task_id" if "task" in by else ""
    sql = (
        f"SELECT {', '.join(keys)}, COUNT(*), SUM(e.usable_s),"
        " AVG(CASE WHEN e.outcome = 'success' THEN 1.0"
        " WHEN e.outcome = 'failure' THEN 0.0 END),"
        " SUM(CASE WHEN e.qc = 'reject' THEN 1 ELSE 0 END), AVG(e.duration_s)"
        f" FROM episodes e{join} WHERE {where}"
        f" GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
    )
    out = []
    n = len(by)
    for row in db.fetch(sql, params):
        rate = row[n + 2]
        out.append(
            dict(zip(by, row[:n], strict=True))
            | {
                "episodes": int(row[n]),
                "usable_hours": round(float(row[n + 1] or 0.0) / 3600.0, 4),
                "success_rate": None if rate is None else round(float(rate), 4),
                "qc_rejections": int(row[n + 3] or 0),
                "mean_length_s": round(float(row[n + 4] or 0.0), 3),
            }
        )
    return out


def report_cell(value: Any) -> str:
    """A report value as the table and the HTML page print it: "-" for none (no success or
    failure outcome), floats to 3 decimals."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
