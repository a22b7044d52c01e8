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
    from humanoid_teleop.core.bag.reader import find_episodes
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.portability.archive import PortJob, port_all
    from humanoid_teleop.portability.port import PortOptions
    from humanoid_teleop.portability.source import read_source

    load_robot(args.to)  # an unknown target stops the run before any episode is read
    source_description = load_robot(args.source_robot) if args.source_robot else None
    # every episode is read before anything is built or written: bad input stops the run
    # with one line and leaves nothing behind
    sources = [read_source(e, source_description) for e in find_episodes(args.episodes)]
    options = PortOptions(sim=False if args.no_sim else None)
    jobs = [PortJob(s, args.to, args.output, options, args.source_robot) for s in sources]
    results = {}
    for i, result in port_all(jobs, args.workers, args.ray):
        results[i] = result
        if not args.json:
            print(result.report.text())
            print(f"  written: {result.path} ({result.wall_s:.1f} s)", flush=True)
    if args.json:
        print(
            json.dumps(
                {
                    "target": load_robot(args.to).name,
                    "episodes": [
                        {"path": str(r.path), "wall_s": round(r.wall_s, 3), **r.report.to_dict()}
                        for r in (results[i] for i in sorted(results))
                    ],
                },
                indent=2,
            )
        )
    return 0
