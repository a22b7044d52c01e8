"""``humanoid-teleop bag info|check|recover PATH``: inspect, validate and repair episodes.

PATH is an episode (a rosbag2 bag directory), a single ``.mcap`` file, or for ``info`` and
``recover`` a folder of episodes. ``--json`` prints one JSON document and no progress bar.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.metadata import METADATA_FILE
from humanoid_teleop.core.bag.reader import read_bag
from humanoid_teleop.core.bag.recover import PARTIAL, recover_bag

MIB = 1024 * 1024


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bag", help="inspect, check and recover recorded episodes")
    commands = parser.add_subparsers(dest="bag_command", metavar="ACTION", required=True)

    info = commands.add_parser("info", help="topics, counts, rates, episode metadata, loss")
    info.add_argument("path", type=Path, help="episode directory or folder of episodes")
    info.add_argument("--json", action="store_true", help="print one JSON document")
    info.set_defaults(func=_info)

    check = commands.add_parser("check", help="exit non-zero on any defect")
    check.add_argument("path", type=Path, help="episode directory or .mcap file")
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.add_argument(
        "--max-loss-ratio",
        type=float,
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

    recover = commands.add_parser("recover", help="repair an episode cut short, in place")
    recover.add_argument("path", type=Path, help="episode (.partial or not) or folder of them")
    recover.add_argument("--json", action="store_true", help="print one JSON document")
    recover.set_defaults(func=_recover)


def _episodes(path: Path) -> list[Path]:
    if (path / METADATA_FILE).is_file() or path.is_file():
        return [path]
    found = sorted(p.parent for p in path.glob(f"*/{METADATA_FILE}"))
    if not found:
        raise BagError(f"{path}: no {METADATA_FILE} here or in its sub-folders")
    return found


def describe(path: Path) -> dict[str, Any]:
    """Everything ``bag info`` shows about one episode, as plain data."""
    bag = read_bag(path)
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
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return {
        "path": str(path),
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
        "loss": {k: v for k, v in loss.items() if k != "topics"},
        "sync": bag.custom_json("sync") or {},
        "custom": {k[7:]: v for k, v in custom.items() if k.startswith("custom.")},
    }


def _print_info(info: dict[str, Any]) -> None:
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
    bar: Any = None
    progress = None
    if not args.json:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="msg", desc="checking", file=sys.stderr, leave=False)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    required = tuple(args.require_latched or ())
    report = check_bag(
        args.path,
        max_loss_ratio=args.max_loss_ratio,
        required_latched=required,
        progress=progress,
    )
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for defect in report.defects:
            print(f"DEFECT  {defect.kind:<18} {defect.where}: {defect.detail}")
        verdict = "ok" if report.ok else f"{len(report.defects)} defect(s)"
        print(
            f"{report.path}: {verdict} ({report.files} file(s), {report.messages} messages, "
            f"loss ratio {report.loss_ratio:.6f})"
        )
    return 0 if report.ok else 1


def _recover(args: argparse.Namespace) -> int:
    path: Path = args.path
    if path.is_dir() and not list(path.glob("*.mcap")):
        targets = sorted(p for p in path.iterdir() if p.is_dir() and p.name.endswith(PARTIAL))
        if not targets:
            raise BagError(f"{path}: no .mcap files and no .partial episodes to recover")
    else:
        targets = [path]
    results = []
    for target in targets:
        recovered = recover_bag(target)
        results.append(
            {
                "path": str(recovered.path),
                "was": str(target),
                "messages": recovered.metadata.message_count,
                "files": [
                    {
                        "file": r.path.name,
                        "was_complete": r.was_complete,
                        "messages": r.messages,
                        "chunks": r.chunks,
                        "bytes_dropped": r.bytes_dropped,
                        "problem": r.problem,
                    }
                    for r in recovered.reports
                ],
            }
        )
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return 0
    for result in results:
        for f in result["files"]:
            state = (
                "already complete"
                if f["was_complete"]
                else f"repaired ({f['problem']}; dropped {f['bytes_dropped']} bytes)"
            )
            print(f"{f['file']}: {state}, {f['messages']} messages in {f['chunks']} chunks")
        print(f"recovered: {result['path']} ({result['messages']} messages)")
    return 0
