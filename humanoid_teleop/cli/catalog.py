"""``humanoid-teleop catalog index|query|report``: find and count recorded episodes.

    catalog index ROOT...                       (incremental) into ROOT/catalog.sqlite
    catalog query --robot g1 --task towel --operator 17 --since 2026-12-01
    catalog report --by day,operator [--json | --html report.html]

``--db`` is a SQLite file or a ``postgresql://`` URL (default: ``$HUMANOID_TELEOP_CATALOG``,
else ``catalog.sqlite`` in the first ROOT for ``index`` and in ``./bags`` otherwise). Query
paths print one per line, ready for ``export lerobot`` and ``retarget``. ``docs/catalog.md``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from humanoid_teleop.catalog.db import DEFAULT_NAME, CatalogDb
from humanoid_teleop.catalog.errors import CatalogError
from humanoid_teleop.catalog.html import report_page
from humanoid_teleop.catalog.index import index
from humanoid_teleop.catalog.query import (
    GROUPS,
    REPORT_NUMBERS,
    Filters,
    query,
    report,
    report_cell,
)
from humanoid_teleop.export.qc import QcRules

ENV = "HUMANOID_TELEOP_CATALOG"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("catalog", help="index, query and report on episodes")
    commands = parser.add_subparsers(dest="catalog_command", metavar="COMMAND", required=True)

    build = commands.add_parser("index", help="add new and changed episodes under ROOTs")
    build.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    _db_option(build)
    build.add_argument("--qc-rules", type=Path, help="QC rules YAML (default: the shipped ones)")
    build.add_argument("--json", action="store_true", help="print what was done as JSON")
    build.set_defaults(func=_index)

    find = commands.add_parser("query", help="episodes matching all the given filters")
    _db_option(find)
    _filters(find)
    find.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    find.add_argument("--json", action="store_true", help="one JSON list of episode records")
    find.set_defaults(func=_query)

    count = commands.add_parser("report", help="episodes, usable hours, success, QC per group")
    _db_option(count)
    _filters(count)
    count.add_argument(
        "--by", default="day", help=f"comma-separated groups: {', '.join(GROUPS)} (default day)"
    )
    count.add_argument("--json", action="store_true", help="print the rows as JSON")
    count.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML page")
    count.set_defaults(func=_report)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="SQLite file or postgresql:// URL (see above)")


def _filters(parser: argparse.ArgumentParser) -> None:
    for name, text in (
        ("robot", "robot name"), ("task", "substring of the task, any case"),
        ("operator", "operator"), ("station", "station"), ("device", "device"),
        ("ported_from", "robot a ported episode was recorded on (`port`'s source robot)"),
        ("outcome", "success, failure, error, incomplete, unknown"), ("qc", "pass or reject"),
        ("label", "annotation text (span, event or episode label)"),
        ("since", "first day, YYYY-MM-DD (UTC)"), ("until", "last day, YYYY-MM-DD (UTC)"),
    ):  # fmt: skip
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default="", help=text)


def _target(args: argparse.Namespace, fallback: Path) -> str:
    return str(args.db or os.environ.get(ENV) or fallback / DEFAULT_NAME)


def _open(args: argparse.Namespace, fallback: Path, create: bool = False) -> CatalogDb:
    target = _target(args, fallback)
    return CatalogDb.open(target, create=create)


def _filters_of(args: argparse.Namespace) -> Filters:
    return Filters(**{name: getattr(args, name) for name in Filters.__dataclass_fields__})


def _index(args: argparse.Namespace) -> int:
    rules = QcRules.load(args.qc_rules) if args.qc_rules else None
    with _open(args, args.roots[0], create=True) as db:
        done = index(db, args.roots, rules)
        target = db.target
    if args.json:
        print(json.dumps(done.as_dict() | {"db": target}, indent=1))
    else:
        print(
            f"{target}: {len(done.added)} added, {len(done.updated)} updated, "
            f"{done.unchanged} unchanged, {len(done.removed)} removed, {len(done.failed)} failed"
        )
        for path, error in done.failed.items():
            print(f"  not indexed: {path}: {error}")
    return 1 if done.failed else 0


def _query(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise CatalogError(f"--limit {args.limit}: 0 (all) or more")
    with _open(args, Path("bags")) as db:
        rows = query(db, _filters_of(args), args.limit)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            print(row["path"])
    return 0


def _report(args: argparse.Namespace) -> int:
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    with _open(args, Path("bags")) as db:
        rows = report(db, by, _filters_of(args))
        target = db.target
    if args.html is not None:
        try:
            args.html.write_text(report_page(rows, by, f"Episodes by {', '.join(by)}: {target}"))
        except OSError as err:
            raise CatalogError(f"{args.html}: cannot write: {err.strerror or err}") from err
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    columns = [*by, *REPORT_NUMBERS]
    cells = [[report_cell(row[c]) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    return 0
