"""``humanoid-teleop bag info|check|recover PATH``: inspect, validate and repair episodes.

PATH is an episode (a rosbag2 bag directory), a single ``.mcap`` file, or for ``info`` and
``recover`` a folder of episodes. ``--json`` prints one JSON document and no progress bar
(an error too: ``{"path": ..., "ok": false, "error": ...}``). Bad input is one line naming
the file and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from humanoid_teleop.annotation import sidecar
from humanoid_teleop.cli.options import nonnegative_float
from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.metadata import METADATA_FILE, BagMetadata
from humanoid_teleop.core.bag.reader import (
    BagSummary,
    find_episodes,
    mcap_files,
    metadata_disagreements,
    metadata_from_files,
    read_bag,
)
from humanoid_teleop.core.bag.recover import (
    PARTIAL,
    RecoverReport,
    recover_bag,
    recover_mcap,
)
from humanoid_teleop.core.errors import TeleopError

MIB = 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bag", help="inspect, check and recover recorded episodes")
    commands = parser.add_subparsers(dest="bag_command", metavar="ACTION", required=True)

    info = commands.add_parser("info", help="topics, counts, rates, episode metadata, loss")
    info.add_argument("path", type=Path, help="episode directory or folder of episodes")
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(func=_info)

    check = commands.add_parser("check", help="exit non-zero on any defect")
    check.add_argument(
        "path", type=Path, help="episode directory, folder of episodes, or one .mcap file"
    )
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.add_argument(
        "--max-loss-ratio",
        type=nonnegative_float,
        default=0.0,
        help="allowed lost/expected messages per topic (default 0)",
    )
    check.add_argument(
        "--require-latched",
        nargs="*",
        default=[],
        metavar="TOPIC",
        help="topics every file must contain (latched topics with messages always must)",
    )
    check.set_defaults(func=_check)

    recover = commands.add_parser(
        "recover",
        help="repair an episode cut short or damaged, keeping every valid chunk",
        description="Repair a cut or damaged episode. A torn tail is repaired in place; any "
        "other repair writes a new file and keeps the original bytes as <name>.mcap.damaged.",
    )
    recover.add_argument(
        "path", type=Path, help="episode (.partial or not), folder of them, or one .mcap file"
    )
    recover.add_argument("--json", action="store_true", help="print one JSON document")
    recover.add_argument(
        "--discard-damaged",
        action="store_true",
        help="do not keep the original bytes of a file repaired beside (<name>.mcap.damaged)",
    )
    recover.set_defaults(func=_recover)


def _episodes(path: Path) -> list[Path]:
    """What ``bag info PATH`` describes: one file, an episode, or every episode under the
    folder at any depth (:func:`find_episodes`, as export and port find them)."""
    if not path.exists():
        raise BagError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    return find_episodes([path])


def _summary(path: Path) -> tuple[BagSummary, list[str]]:
    """The episode (or single file) and where metadata.yaml disagrees with its files."""
    if path.is_file():
        return BagSummary(path, metadata_from_files(path.parent, [path])), []
    bag = read_bag(path)
    files = mcap_files(path)
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        return bag, [f"listed in {METADATA_FILE} but absent: {', '.join(missing)}"]
    try:
        from_files: BagMetadata = metadata_from_files(path, files)
    except BagError as err:
        return bag, [f"cannot compare with the files: {err}"]
    return bag, metadata_disagreements(bag.metadata, from_files)


def describe(path: Path) -> dict[str, Any]:
    """Everything ``bag info`` shows about one episode, as plain data."""
    bag, warnings = _summary(path)
    meta = bag.metadata
    duration_s = meta.duration_ns / 1e9
    custom = dict(meta.custom_data)
    loss = bag.custom_json("loss") or {}
    topics = []
    for topic in meta.topics:
        stats = loss.get("topics", {}).get(topic.name, {})
        topics.append(
            {
                "name": topic.name,
                "type": topic.type,
                "count": topic.message_count,
                "rate_hz": stats.get("rate_hz")
                or (round(topic.message_count / duration_s, 2) if duration_s else 0.0),
                "dropped": stats.get("dropped", 0),
                "sequence_gaps": stats.get("sequence_gaps", 0),
                "latched": any(q.latched for q in topic.offered_qos_profiles),
            }
        )
    if path.is_file():
        size = path.stat().st_size
    else:
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    labels, label_warning = sidecar.describe(path)
    return {
        "path": str(path),
        "warnings": [f"{METADATA_FILE} and the files disagree: {w}" for w in warnings]
        + ([label_warning] if label_warning else []),
        "episode": custom.get("episode", path.name),
        "task": custom.get("task", ""),
        "operator": custom.get("operator", ""),
        "robot": custom.get("robot", ""),
        "robot_model_hash": custom.get("robot_model_hash", ""),
        "device": custom.get("device", ""),
        "station": custom.get("station", ""),
        "outcome": custom.get("outcome", ""),
        "start_time": custom.get("start_time", ""),
        "end_time": custom.get("end_time", ""),
        "starting_time_ns": meta.starting_time_ns,
        "duration_s": round(duration_s, 3),
        "messages": meta.message_count,
        "files": [f.path for f in meta.files],
        "size_bytes": size,
        "topics": topics,
        "annotations": bag.custom_json("annotations") or [],
        "sidecar_annotations": labels,  # annotations.jsonl records in force (episode time)
        "loss": {k: v for k, v in loss.items() if k != "topics"},
        "sync": bag.custom_json("sync") or {},
        "custom": {k[7:]: v for k, v in custom.items() if k.startswith("custom.")},
    }


def _print_info(info: dict[str, Any]) -> None:
    for warning in info["warnings"]:
        print(f"warning: {info['path']}: {warning}", file=sys.stderr)
    print(f"bag:         {info['path']}")
    print(
        f"episode:     {info['episode']}  outcome: {info['outcome'] or '-'}  "
        f"task: {info['task']!r}  operator: {info['operator'] or '-'}"
    )
    print(
        f"robot:       {info['robot'] or '-'} {info['robot_model_hash']}  "
        f"device: {info['device'] or '-'}  station: {info['station'] or '-'}"
    )
    print(
        f"time:        {info['start_time'] or '-'}  duration {info['duration_s']:.2f} s  "
        f"{info['messages']} messages  {len(info['files'])} file(s)  "
        f"{info['size_bytes'] / MIB:.1f} MiB"
    )
    width = max([len(t["name"]) for t in info["topics"]] + [5])
    type_width = max([len(t["type"]) for t in info["topics"]] + [4])
    print("topics:")
    for t in info["topics"]:
        flags = " latched" if t["latched"] else ""
        lost = f"  dropped {t['dropped']}" if t["dropped"] else ""
        gaps = f"  gaps {t['sequence_gaps']}" if t["sequence_gaps"] else ""
        print(
            f"  {t['name']:<{width}}  {t['type']:<{type_width}}  {t['count']:>8}  "
            f"{t['rate_hz']:>8.1f} Hz{flags}{lost}{gaps}"
        )
    if info["annotations"]:
        print("annotations:")
        for note in info["annotations"]:
            offset = (note["time_ns"] - info["starting_time_ns"]) / 1e9
            print(f"  {offset:8.2f} s  {note['text']}")
    if info["sidecar_annotations"]:
        print(f"labels:      {len(info['sidecar_annotations'])} in {sidecar.SIDECAR}")
        for record in info["sidecar_annotations"]:
            print(f"  {sidecar.summary_line(record)}")
    loss = info["loss"]
    if loss:
        print(
            f"loss:        received {loss.get('received', 0)}, written {loss.get('written', 0)}, "
            f"dropped in recorder {loss.get('dropped', 0)}"
        )
    sync = info["sync"]
    if sync.get("skew"):
        print(f"sync:        header-stamp skew against {sync['reference']}:")
        for name, skew in sync["skew"].items():
            print(f"  {name:<{width}}  mean {skew['mean_ms']:.2f} ms  max {skew['max_ms']:.2f} ms")


def _info(args: argparse.Namespace) -> int:
    infos = [describe(p) for p in _episodes(args.path)]
    if args.json:
        print(json.dumps(infos[0] if len(infos) == 1 else infos, indent=2))
        return 0
    for i, info in enumerate(infos):
        if i:
            print()
        _print_info(info)
    return 0


def _check(args: argparse.Namespace) -> int:
    if not args.json:
        return _run_check(args)
    try:
        return _run_check(args)
    except TeleopError as err:
        print(json.dumps({"path": str(args.path), "ok": False, "error": str(err)}, indent=2))
        return 2


def _check_targets(path: Path) -> list[Path]:
    """What ``bag check PATH`` checks: an episode (or one file, or a folder of MCAP files
    without metadata), else every episode under the folder at any depth, closed
    (``metadata.yaml``) or left open (``<name>.partial``: a recorder that was killed)."""
    if not path.is_dir() or (path / METADATA_FILE).is_file() or path.name.endswith(PARTIAL):
        return [path]
    if any(path.glob("*.mcap")):
        return [path]
    open_ones = {p for p in path.rglob(f"*{PARTIAL}") if p.is_dir()}
    try:
        closed = find_episodes([path])
    except BagError:  # none closed: the open ones, or no episode at all (its error)
        if not open_ones:
            raise
        closed = []
    return sorted({*closed, *open_ones})


def _run_check(args: argparse.Namespace) -> int:
    targets = _check_targets(args.path)
    bar: Any = None
    progress = None
    if not args.json:
        from tqdm import tqdm

        # no bar where stderr is not a terminal (a log file, a pipe): disable=None
        bar = tqdm(total=0, unit="msg", desc="checking", file=sys.stderr, leave=False, disable=None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    required = tuple(args.require_latched or ())
    reports = []
    try:
        for i, target in enumerate(targets):
            if bar is not None and i:
                bar.reset(total=0)
            report = check_bag(
                target,
                max_loss_ratio=args.max_loss_ratio,
                required_latched=required,
                progress=progress,
            )
            reports.append(report)
            if not args.json:
                if bar is not None:
                    bar.clear()
                for defect in report.defects:
                    print(f"DEFECT  {defect.kind:<18} {defect.where}: {defect.detail}")
                verdict = "ok" if report.ok else f"{len(report.defects)} defect(s)"
                print(
                    f"{report.path}: {verdict} ({report.files} file(s), {report.messages} "
                    f"messages, loss ratio {report.loss_ratio:.6f})",
                    flush=True,
                )
    finally:  # cleared before an error line, which must start a line of its own
        if bar is not None:
            bar.close()
    ok = all(r.ok for r in reports)
    if args.json:
        documents = [r.to_dict() for r in reports]
        single = len(targets) == 1 and targets[0] == args.path
        print(json.dumps(documents[0] if single else {"ok": ok, "episodes": documents}, indent=2))
    elif len(reports) > 1:
        bad = sum(not r.ok for r in reports)
        print(f"{args.path}: {len(reports)} episodes, {len(reports) - bad} ok, {bad} with defects")
    return 0 if ok else 1


def _file_report(report: RecoverReport) -> dict[str, Any]:
    return {
        "file": report.path.name,
        "was_complete": report.was_complete,
        "messages": report.messages,
        "chunks": report.chunks,
        "bytes_dropped": report.bytes_dropped,
        "problem": report.problem,
        "in_place": report.in_place,
        "kept_aside": str(report.kept_aside) if report.kept_aside else "",
        "topics": [vars(t) for t in report.topics],
    }


def _recover(args: argparse.Namespace) -> int:
    path: Path = args.path
    keep = not args.discard_damaged
    if not path.exists():
        raise BagError(f"{path}: no such file or directory")
    results: list[dict[str, Any]] = []
    if path.is_file():
        if path.suffix != ".mcap":
            raise BagError(f"{path}: not an .mcap file or an episode directory")
        report = recover_mcap(path, keep_damaged=keep)
        results.append(
            {
                "path": str(path),
                "was": str(path),
                "messages": report.messages,
                "files": [_file_report(report)],
            }
        )
    else:
        if not list(path.glob("*.mcap")):
            targets = sorted(p for p in path.iterdir() if p.is_dir() and p.name.endswith(PARTIAL))
            if not targets:
                raise BagError(f"{path}: no .mcap files and no .partial episodes to recover")
        else:
            targets = [path]
        for target in targets:
            recovered = recover_bag(target, keep_damaged=keep)
            results.append(
                {
                    "path": str(recovered.path),
                    "was": str(target),
                    "messages": recovered.metadata.message_count,
                    "files": [_file_report(r) for r in recovered.reports],
                }
            )
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return 0
    for result in results:
        for f in result["files"]:
            if f["was_complete"]:
                state = "already complete"
            else:
                how = "in place" if f["in_place"] else "beside"
                aside = f"; original kept as {f['kept_aside']}" if f["kept_aside"] else ""
                state = (
                    f"repaired {how} ({f['problem']}; {f['bytes_dropped']} bytes skipped{aside})"
                )
            print(f"{f['file']}: {state}, {f['messages']} messages in {f['chunks']} chunks")
            if not f["was_complete"]:
                for t in f["topics"]:
                    print(
                        f"  {t['topic']}: kept {t['kept_messages']} messages "
                        f"({t['kept_bytes']} bytes), dropped {t['dropped_messages']} "
                        f"({t['dropped_bytes']} bytes known)"
                    )
        print(f"recovered: {result['path']} ({result['messages']} messages)")
    return 0
