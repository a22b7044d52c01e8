"""Episode catalog speed: SQLite vs PostgreSQL, side by side.

    .venv/bin/python bench/catalog.py [--rows 1000000] [--episodes 200] [--repeats 40]

- ``index``: ``catalog index`` (humanoid_teleop.catalog.index.index) of ``--episodes`` small
  recorded episodes (core recorder, no DDS; joint states at 10 Hz for 3 s, an annotation
  sidecar on every other one): episodes per second on a first run (read, hash, insert) and
  on a second run with nothing changed (stat + sidecar digest only).
- ``query``: the catalog filled to ``--rows`` synthetic episode rows (20 robots, 2 000 task
  texts, 500 operators, 50 stations, 4 devices, every 25th ported from another robot, a year
  of days, 3 labels per episode: bulk inserted, untimed), then each ``catalog query`` /
  ``report`` below ``--repeats`` times through the same functions the CLI calls; p50 / p95
  wall time [ms]. Queries return at most 1 000 paths (``--limit 1000``), as a command
  feeding ``export`` in batches would.

PostgreSQL is a private server (test/catalog/postgres.py: initdb in a temporary folder,
127.0.0.1, fsync off), so both sides run on this machine's disk. Prints one table, the date,
commit and load; the issue's target is query p95 <= 100 ms at 1M episodes on both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from humanoid_teleop.annotation.schema import Annotation, Provenance  # noqa: E402
from humanoid_teleop.annotation.sidecar import append  # noqa: E402
from humanoid_teleop.catalog.db import CatalogDb  # noqa: E402
from humanoid_teleop.catalog.index import EPISODE_COLUMNS, LABEL_COLUMNS, index  # noqa: E402
from humanoid_teleop.catalog.query import Filters, query, report  # noqa: E402
from test.annotation.helpers import record_synthetic  # noqa: E402
from test.catalog.postgres import missing, private_server  # noqa: E402

NS = 1_000_000_000
DAY0 = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * NS
QUERIES: dict[str, Callable[[CatalogDb], Any]] = {
    "robot + 1 week": lambda db: query(
        db, Filters(robot="robot3", since="2026-06-01", until="2026-06-07"), 1000
    ),
    "task text": lambda db: query(db, Filters(task="towel 17"), 1000),
    "operator + outcome": lambda db: query(db, Filters(operator="op42", outcome="success"), 1000),
    "station + day": lambda db: query(
        db, Filters(station="st7", since="2026-03-03", until="2026-03-03"), 1000
    ),
    "label": lambda db: query(db, Filters(label="grasp 12"), 1000),
    "qc reject, robot": lambda db: query(db, Filters(qc="reject", robot="robot5"), 1000),
    "report by day, 1 week": lambda db: report(
        db, ["day"], Filters(since="2026-06-01", until="2026-06-07")
    ),
    "report by station, 1 day": lambda db: report(
        db, ["station", "operator"], Filters(since="2026-06-01", until="2026-06-01")
    ),
    "ported from a robot": lambda db: query(db, Filters(ported_from="robot5"), 1000),
    "report by robot and source, 1 week": lambda db: report(
        db, ["robot", "ported_from"], Filters(since="2026-06-01", until="2026-06-07")
    ),
}


def record_episodes(root: Path, count: int) -> None:
    prov = Provenance("annotator", "bench", "bench", "2026-12-04T00:00:00+00:00")
    for i in range(count):
        episode = record_synthetic(
            root, f"ep{i:05d}", start=f"2026-12-0{1 + i % 5}T09:00:00", duration_s=3.0,
            task=f"task {i % 7}", operator=f"op{i % 9}", robot="g1", station=f"st{i % 3}",
        )  # fmt: skip
        if i % 2:
            append(episode, [Annotation("s", "span", prov, text="fold", start_ns=0, end_ns=NS)])


def bench_index(target: str, root: Path, count: int) -> tuple[float, float]:
    with CatalogDb.open(target, create=True) as db:
        start = time.perf_counter()
        first = index(db, [root])
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = index(db, [root])
        second_s = time.perf_counter() - start
    assert len(first.added) == count and second.unchanged == count, (first, second)
    return count / first_s, count / second_s


def fill(target: str, rows: int, seed: int = 1) -> float:
    """Bulk-insert ``rows`` synthetic episodes (+3 labels each); returns seconds taken."""
    rng = random.Random(seed)
    start = time.perf_counter()
    with CatalogDb.open(target, create=True) as db:
        with db.transaction():
            db.executemany(
                "INSERT INTO tasks (id, text) VALUES (?, ?)",
                [(i + 1, f"fold the towel {i}" if i % 2 else f"pick cup {i}") for i in range(2000)],
            )
        marks = ", ".join("?" for _ in EPISODE_COLUMNS)
        label_marks = ", ".join("?" for _ in LABEL_COLUMNS)
        batch = 20_000
        for first in range(0, rows, batch):
            episodes, labels = [], []
            for i in range(first, min(rows, first + batch)):
                start_ns = DAY0 + rng.randrange(365 * 86_400) * NS
                day = dt.datetime.fromtimestamp(start_ns / NS, dt.timezone.utc).strftime("%Y-%m-%d")
                qc = "reject" if rng.random() < 0.1 else "pass"
                duration = rng.uniform(10, 120)
                values = {
                    "path": f"/data/bags/{day}/ep{i:07d}", "episode": f"ep{i:07d}",
                    "content_hash": f"sha256:{i:064x}", "signature": "", "sidecar_hash": "",
                    "robot": f"robot{rng.randrange(20)}", "task_id": rng.randrange(2000) + 1,
                    "operator": f"op{rng.randrange(500)}", "station": f"st{rng.randrange(50)}",
                    "device": rng.choice(("vr", "gamepad", "exo", "scripted")),
                    # every 25th a port of another robot's episode (no draw: the same rows)
                    "ported_from": f"robot{(7 * i) % 20}" if i % 25 == 0 else "",
                    "outcome": "success" if rng.random() < 0.8 else "failure", "qc": qc,
                    "qc_reasons": "[]", "start_ns": start_ns, "day": day,
                    "duration_s": duration, "usable_s": 0.0 if qc == "reject" else duration,
                    "indexed_at": "2026-12-04T00:00:00+00:00",
                }  # fmt: skip
                episodes.append([i + 1] + [values[c] for c in EPISODE_COLUMNS])
                for k in range(3):
                    labels.append((i + 1, "span", f"grasp {rng.randrange(200)}", "", "", "rule",
                                   1, k, k + 1))  # fmt: skip
            with db.transaction():
                db.executemany(f"INSERT INTO episodes (id, {', '.join(EPISODE_COLUMNS)}) VALUES "
                               f"(?, {marks})", episodes)  # fmt: skip
                db.executemany(
                    f"INSERT INTO labels ({', '.join(LABEL_COLUMNS)}) VALUES ({label_marks})",
                    labels,
                )
        db.refresh_statistics()  # as an index run that changed episodes leaves them
    return time.perf_counter() - start


def bench_queries(target: str, repeats: int) -> dict[str, tuple[float, float, int]]:
    out = {}
    with CatalogDb.open(target) as db:
        for name, run in QUERIES.items():
            run(db)  # warm
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                found = run(db)
                times.append((time.perf_counter() - start) * 1e3)
            out[name] = (
                float(np.percentile(times, 50)),
                float(np.percentile(times, 95)),
                len(found),
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    why = missing()
    if why:
        print(f"bench/catalog.py: PostgreSQL side unavailable: {why}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench_catalog_"))
    try:
        bags = work / "bags"
        record_episodes(bags, args.episodes)
        with private_server() as server:
            from test.catalog.postgres import new_database

            postgres = (new_database(server, "bench_index"), new_database(server, "bench_query"))
            targets = {
                "SQLite": (str(work / "index.sqlite"), str(work / "query.sqlite")),
                "PostgreSQL": postgres,
            }
            results: dict[str, dict[str, Any]] = {}
            for name, (index_db, query_db) in targets.items():
                first, again = bench_index(index_db, bags, args.episodes)
                fill_s = fill(query_db, args.rows)
                results[name] = {"index": (first, again), "fill_s": fill_s,
                                 "queries": bench_queries(query_db, args.repeats)}  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    now = dt.datetime.now(dt.timezone.utc)
    print(
        f"bench/catalog.py  {now:%Y-%m-%d %H:%M} UTC  commit {commit}  "
        f"load {os.getloadavg()[0]:.1f}  rows {args.rows}  repeats {args.repeats}"
    )
    names = list(results)
    print(f"| measure | {' | '.join(names)} |")
    print("|---|" + "---:|" * len(names))
    print(f"| index, first run [episodes/s] ({args.episodes} episodes) | "
          + " | ".join(f"{results[n]['index'][0]:.0f}" for n in names) + " |")  # fmt: skip
    print("| index, nothing changed [episodes/s] | "
          + " | ".join(f"{results[n]['index'][1]:.0f}" for n in names) + " |")  # fmt: skip
    print(f"| bulk fill of {args.rows} rows [s] (untimed setup) | "
          + " | ".join(f"{results[n]['fill_s']:.0f}" for n in names) + " |")  # fmt: skip
    worst = dict.fromkeys(names, 0.0)
    for query_name in QUERIES:
        cells = []
        for n in names:
            p50, p95, found = results[n]["queries"][query_name]
            worst[n] = max(worst[n], p95)
            cells.append(f"{p50:.1f} / {p95:.1f} ({found})")
        print(f"| {query_name}: p50 / p95 [ms] (rows) | " + " | ".join(cells) + " |")
    print("| worst p95 [ms] (target <= 100) | "
          + " | ".join(f"{worst[n]:.1f} {'met' if worst[n] <= 100 else 'MISSED'}" for n in names)
          + " |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
