"""``humanoid-teleop port EPISODE... --to ROBOT -o DIR``: recorded episodes -> another robot.

Each episode's operator intent (``/teleop/intent/*``, else ``/operator/*``; joint-only
episodes: derived from the source robot's model) is re-calibrated for the target robot, run
through its teleop pipeline (retargeting + safety) and, when the episode has a scene, replayed
in the target's MuJoCo scene from the recorded object poses. Each ported episode is written
under DIR with provenance, and a portability report is printed (``--json``: one JSON object).
See docs/portability.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from humanoid_teleop.cli.options import add_scale_out


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "port", help="port recorded episodes to another robot, with a portability report"
    )
    parser.add_argument(
        "episodes", nargs="+", type=Path, metavar="EPISODE", help="episode or folder of episodes"
    )
    parser.add_argument("--to", required=True, metavar="ROBOT", help="target robot (robots/<name>)")
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="DIR", help="folder for the episodes"
    )
    parser.add_argument(
        "--from",
        dest="source_robot",
        default="",
        metavar="ROBOT",
        help="source robot when the episode's metadata does not name one",
    )
    parser.add_argument(
        "--no-sim", action="store_true", help="no physics replay (kinematic port, faster)"
    )
    add_scale_out(parser, "episodes ported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from humanoid_teleop.core.bag.reader import bag_content_hash, find_episodes
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.portability.archive import PortJob, port_all
    from humanoid_teleop.portability.errors import PortInputError
    from humanoid_teleop.portability.port import PortOptions, with_physics
    from humanoid_teleop.portability.resume import earlier_port, hold_output, ported_name
    from humanoid_teleop.portability.source import read_source

    target = load_robot(args.to).name  # an unknown target stops the run before any reading
    source_description = load_robot(args.source_robot) if args.source_robot else None
    # every episode is read before anything is built or written: bad input stops the run
    # with one line and leaves nothing behind
    sources = [read_source(e, source_description) for e in find_episodes(args.episodes)]
    names: dict[str, Path] = {}
    for source in sources:
        name = ported_name(source.name, target)
        if name in names:
            raise PortInputError(
                f"{names[name]} and {source.path}: both would be ported as {name}; port "
                "them into separate folders"
            )
        names[name] = source.path
    options = PortOptions(sim=False if args.no_sim else None)
    entries: list[dict[str, Any]] = []  # per source, in order: the JSON's episodes
    with hold_output(args.output):
        jobs, job_slots = [], []
        for source in sources:
            source_hash = bag_content_hash(source.path, list(source.files) or None)
            name = ported_name(source.name, target)
            earlier, note = earlier_port(
                args.output, name, source_hash, with_physics(source, options)
            )
            if note:
                print(note, file=sys.stderr, flush=True)
            if earlier is not None:
                entries.append({"path": str(earlier.path), "wall_s": 0.0, "ported_before": True,
                                **earlier.report.to_dict()})  # fmt: skip
                if not args.json:
                    print(earlier.report.text())
                    print(
                        f"  kept: {earlier.path} (ported earlier by {earlier.tool_version})",
                        flush=True,
                    )
                continue
            job_slots.append(len(entries))
            entries.append({})
            jobs.append(PortJob(source, args.to, args.output, options, args.source_robot))
        for i, result in port_all(jobs, args.workers, args.ray):
            entries[job_slots[i]] = {"path": str(result.path), "wall_s": round(result.wall_s, 3),
                                     "ported_before": False, **result.report.to_dict()}  # fmt: skip
            if not args.json:
                print(result.report.text())
                print(f"  written: {result.path} ({result.wall_s:.1f} s)", flush=True)
    if args.json:
        print(json.dumps({"target": target, "episodes": entries}, indent=2))
    return 0
