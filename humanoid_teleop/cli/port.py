"""``humanoid-teleop port EPISODE... --to ROBOT -o DIR``: recorded episodes -> another robot.

Each episode's operator intent (``/teleop/intent/*``, else ``/operator/*``; joint-only
episodes: derived from the source robot's model) is re-calibrated for the target robot, run
through its teleop pipeline (retargeting + safety) and, when the episode has a scene, replayed
in the target's MuJoCo scene from the recorded object poses. Each ported episode is written
under DIR with provenance, and a portability report is printed (``--json``: one JSON object).

Each episode is read where it is ported (a worker, a Ray task). One that cannot be ported is
one line on stderr and the run goes on with the others (exit 2 at the end); run again, the
command keeps what an earlier run into DIR ported and finishes the rest
(:mod:`humanoid_teleop.portability.resume`). See docs/portability.md.

``humanoid-teleop port matrix -o DIR``: the portability matrix of scripted episodes
(:mod:`humanoid_teleop.portability.scripted_matrix`): each robot's scripted demonstrations
ported to every robot in physics, summed up per pair against the portability targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from humanoid_teleop.cli.options import add_scale_out, positive_float, positive_int


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "port",
        help="port recorded episodes to another robot, with a portability report",
        description="Port recorded episodes to another robot, with a portability report per "
        "episode (docs/portability.md). An episode that cannot be ported is one line and the "
        "others go on (exit 2 at the end). Run the same command again to finish a stopped "
        "run: episodes already ported into DIR from the same sources are kept, half-written "
        "ones are ported again. `humanoid-teleop port matrix --help`: the portability matrix "
        "of scripted episodes (an episode folder named matrix: ./matrix).",
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
    _register_matrix(subparsers)


def _register_matrix(subparsers: Any) -> None:
    """``port matrix`` (registered as ``port-matrix``: :data:`..main.TWO_WORD_COMMANDS`; no
    help line of its own: ``port``'s names it)."""
    parser = subparsers.add_parser(
        "port-matrix",
        prog="humanoid-teleop port matrix",
        description="The portability matrix (docs/portability.md): records N scripted "
        "episodes per robot and task (seeds 1..N, offline), ports each to every robot in "
        "physics (its own included: the self-replay the transfer ratio divides by) and "
        "prints per task the transfer-ratio matrix and per pair its numbers and why it "
        "misses the targets. DIR keeps the sources, the ported episodes and reports.jsonl; "
        "run again, it reuses them and records and ports only what is new.",
    )
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="DIR",
        help="folder for the sources, the ported episodes and reports.jsonl",
    )  # fmt: skip
    parser.add_argument(
        "--robots", nargs="+", default=None, metavar="ROBOT",
        help="robots (names or robot.yaml paths; default: every robot `robots list` shows)",
    )  # fmt: skip
    parser.add_argument(
        "--tasks", nargs="+", default=None, metavar="TASK",
        help="scenes the scripted demonstrator performs (config/sim/scenes/<TASK>.yaml; "
        "default: pick_and_place push)",
    )  # fmt: skip
    parser.add_argument(
        "--episodes", type=positive_int, default=3, metavar="N",
        help="scripted episodes per robot and task (default 3)",
    )  # fmt: skip
    parser.add_argument(
        "--rate-hz", type=positive_float, default=250.0, metavar="HZ",
        help="command rate of the scripted episodes [Hz] (default 250, a session's)",
    )  # fmt: skip
    parser.add_argument(
        "--compare", type=Path, default=None, metavar="REPORTS_JSONL",
        help="an earlier matrix's DIR/reports.jsonl: after the matrix, per task the "
        "cross-robot successes before and now, and per pair and seed what changed",
    )  # fmt: skip
    add_scale_out(parser, "episodes recorded and ported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_matrix)


def run_matrix(args: argparse.Namespace) -> int:
    from humanoid_teleop.core.robot import list_robots, load_robot
    from humanoid_teleop.core.sim.scene import load_scene
    from humanoid_teleop.portability.matrix import compare_runs, read_run
    from humanoid_teleop.portability.scripted_matrix import TASKS
    from humanoid_teleop.portability.scripted_matrix import run_matrix as run

    robots = args.robots or [r.name for r in list_robots()]
    tasks = args.tasks or list(TASKS)
    for robot in robots:  # an unknown robot or scene stops the run before anything is recorded
        load_robot(robot)
    for task in tasks:
        load_scene(task)
    before = read_run(args.compare) if args.compare is not None else None
    matrix = run(
        robots, tasks, args.episodes, args.output, workers=args.workers, ray=args.ray,
        rate_hz=args.rate_hz, progress=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    for error in matrix.errors:
        print(f"not ported: {error}", file=sys.stderr, flush=True)
    compared = compare_runs(before, matrix.reports) if before is not None else None
    if args.json:
        out = matrix.to_dict()
        if compared is not None:
            out["compare"] = compared
        print(json.dumps(out, indent=2))
    else:
        print(
            f"# Portability matrix: {args.episodes} scripted "
            f"episode{'' if args.episodes == 1 else 's'} per robot and task, "
            f"ported in physics ({args.output})"
        )
        print(matrix.text())
        if compared is not None:
            print(f"\n## Against {args.compare}\n")
            print("\n".join(compared))
    return 2 if matrix.errors else 0


def run(args: argparse.Namespace) -> int:
    from humanoid_teleop.core.bag.reader import find_episodes
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.portability.archive import PortedEpisode, PortJob, port_all
    from humanoid_teleop.portability.errors import PortInputError
    from humanoid_teleop.portability.matrix import summarize_archive
    from humanoid_teleop.portability.port import PortOptions
    from humanoid_teleop.portability.resume import hold_output, ported_name

    target = load_robot(args.to).name  # an unknown robot stops the run before any reading
    if args.source_robot:
        load_robot(args.source_robot)
    episodes = find_episodes(args.episodes)
    names: dict[str, Path] = {}
    for episode in episodes:
        name = ported_name(episode.name, target)
        if name in names:
            raise PortInputError(
                f"{names[name]} and {episode}: both would be ported as {name}; port them "
                "into separate folders"
            )
        names[name] = episode
    options = PortOptions(sim=False if args.no_sim else None)
    jobs = [PortJob(e, args.to, args.output, options, args.source_robot) for e in episodes]
    done: dict[int, PortedEpisode] = {}
    with hold_output(args.output):
        for i, ported in port_all(jobs, args.workers, args.ray):
            done[i] = ported
            if ported.note:
                print(ported.note, file=sys.stderr, flush=True)
            if ported.error:  # one line; the run goes on with the other episodes
                print(f"not ported: {ported.error}", file=sys.stderr, flush=True)
            elif not args.json and ported.report is not None:
                print(ported.report.text())
                if ported.ported_before:
                    version = ported.tool_version or "an unnamed version"
                    print(f"  kept: {ported.path} (ported earlier by {version})", flush=True)
                else:
                    print(f"  written: {ported.path} ({ported.wall_s:.1f} s)", flush=True)
    outcomes = [done[i] for i in sorted(done)]
    failed = [o for o in outcomes if o.error]
    reports = [o.report for o in outcomes if o.report is not None]
    summaries = summarize_archive(reports) if len(reports) > 1 else []
    if args.json:
        print(
            json.dumps(
                {
                    "target": target,
                    "episodes": [
                        {"path": str(o.path), "wall_s": round(o.wall_s, 3),
                         "ported_before": o.ported_before, **o.report.to_dict()}
                        for o in outcomes if o.report is not None
                    ],
                    "not_ported": [{"source": str(o.source), "error": o.error} for o in failed],
                    "summary": [summary.to_dict() for summary in summaries],
                },
                indent=2,
            )
        )  # fmt: skip
    elif len(outcomes) > 1:
        for summary in summaries:
            print(summary.text())
        kept = sum(o.ported_before for o in outcomes)
        print(
            f"{len(outcomes) - len(failed)} of {len(outcomes)} episodes ported to {target} "
            f"({kept} kept from an earlier run)"
            + (f"; {len(failed)} could not be (the lines above)" if failed else "")
        )
    return 2 if failed else 0
