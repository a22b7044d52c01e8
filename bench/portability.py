"""The portability matrix: scripted episodes of every shipped robot ported to every robot.

    .venv/bin/python bench/portability.py [--episodes 3] [--tasks pick_and_place push]
        [--robots g1 talos ...] [--workers 2] [--out DIR] [--speed-only | --no-speed]
        [--before TREE] [--live N]

1. Records ``--episodes`` scripted-demonstrator episodes (seeds 1..N) per robot and task,
   offline (MuJoCo + the teleop pipeline + the demonstrator, no DDS; commands at
   ``--rate-hz``, 250 Hz like a session), in
   the episode format (humanoid_teleop/portability/scripted.py).
2. Ports each to every robot, itself included (the source's self-replay), in the target's
   MuJoCo scene from the recorded object poses (cameras off: they do not change the task).
3. Prints, per task, the 5 x 5 matrix of transfer ratios (target successes / source
   self-replay successes) and a table per pair: successes, contact-phase and free-space EE
   p95 (worst episode), orientation p95, grasp timing, reachability, safety clamps and the
   reasons the pair misses the targets (issue 19: for pairs with reachability >= 95%,
   transfer ratio >= 0.8, contact p95 <= 2 cm, free p95 <= 5 cm, events within +-150 ms and
   none spurious).
4. Speed rows: every source ported without physics (kinematic) to the next robot, at the
   recorded command rate (``--rate-hz``) and at 100 Hz: real-time factor per core = episode
   duration / CPU time of reading + porting + writing (target >= 20x at the recorded rate),
   with the load average. ``--speed-only`` prints just these (no physics, no matrix);
   ``--no-speed`` leaves them out (the matrix alone, ~3 minutes shorter).
   ``--before TREE`` (a copy of the project at an earlier commit, e.g. ``git archive BASE |
   tar -x -C TREE``) ports the same sources with that tree's code too, in a second process,
   alternating with this tree port by port, one port at a time (so both see the same load
   over the run; the other core stays idle), and prints the rows side by side.
5. With ``--out DIR`` every physics port's report is kept in ``DIR/reports.jsonl`` (one
   line per port: task, source robot, seed, target robot, report). ``--compare OLD.jsonl``
   prints, after the matrix, what changed per pair and seed against an earlier run's file;
   ``--compare OLD.jsonl NEW.jsonl`` compares two kept runs without porting anything.
6. ``--live N`` also records N live picks per robot (``humanoid-teleop demo --device
   scripted --seed 1..N``: the simulated robot, teleop node, recorder and demonstrator over
   DDS, so their messages reach the recorder late and in bursts as a session's do), ports
   each to every robot in physics and prints their matrix and table as the task
   ``pick_and_place (live)`` (not in the speed rows), after a table of when the teleop
   node used each input: per robot, the operator's right wrist and hand as the device sent
   them (``/operator/*``: publish time - stamp) beside the same messages as the teleop node
   republished them when a step used them (``/teleop/intent/*``: what the port times the
   intent by), p50 / p95 [ms]. Run the script inside ``humanoid-teleop isolated --``;
   ``--episodes 0 --live N`` ports only those.

Worker processes each use one core; CPU times are per process (``time.process_time``).
Models (with the porter's per-model arm tools, where the tree keeps them) and pipelines are
built once per process outside the timed part and then frozen out of the garbage collector's
full passes, as the port command's workers do (``archive.port_job``).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")
# the project tree whose code this process runs: this checkout, or ``--tree`` (the process
# ``--before`` starts runs the earlier tree's code on the same jobs)
sys.path.insert(
    0,
    str(sys.argv[sys.argv.index("--tree") + 1])
    if "--tree" in sys.argv[1:-1]
    else str(Path(__file__).resolve().parents[1]),
)

import numpy as np

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.portability import port as port_module
from humanoid_teleop.portability.port import PortOptions, port_episode, target_pipeline
from humanoid_teleop.portability.report import PortReport
from humanoid_teleop.portability.source import read_source

TASKS = ("pick_and_place", "push")


#: Models and pipelines built when the process last froze the garbage collector's objects.
_BUILT = [0]


@functools.cache
def _model(name: str) -> RobotModel:
    model = RobotModel(load_robot(name))
    # a tree whose porter keeps each model's arm tools (track.arm_tool, port._arm_tool in
    # older trees) builds them with the model, as the pipeline is built, outside the timed
    # ports
    arm_tool = getattr(port_module, "arm_tool", None) or getattr(port_module, "_arm_tool", None)
    if arm_tool is not None:
        for side in model.description.arms:
            arm_tool(model, side)
    return model


@functools.cache
def _pipeline(name: str) -> Any:
    return target_pipeline(_model(name))


LIVE_TASK = "pick_and_place (live)"
"""The task label of the live sources' rows (and of their lines in ``reports.jsonl``)."""
LIVE_DURATION_S = 20.0
"""A live scripted pick on any shipped robot picks, places and backs off within ~10 s."""


def _record_live(robot: str, seed: int, out: Path) -> tuple[str, int, str, str]:
    """One live episode: ``humanoid-teleop demo --device scripted`` (the simulated robot,
    the teleop and recorder nodes and the demonstrator over DDS, in a private loopback-only
    network) picking on ``robot`` with the scene laid out by ``seed``; (robot, seed, its
    bag, its outcome). An earlier run's episode in ``out`` is kept."""
    folder = out / f"live_{robot}_{seed:04d}"
    found = sorted(p.parent for p in folder.glob("*/metadata.yaml"))
    if not found:
        command = [
            sys.executable, "-m", "humanoid_teleop.cli.main", "demo", "--robot", robot,
            "--device", "scripted", "--seed", str(seed), "--duration", str(LIVE_DURATION_S),
            "--bag-dir", str(folder),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        found = sorted(p.parent for p in folder.glob("*/metadata.yaml"))
        if result.returncode != 0 or len(found) != 1:
            tail = (result.stdout + result.stderr)[-1500:]
            raise SystemExit(f"--live: demo --robot {robot} --seed {seed} failed:\n{tail}")
    bag = found[0]
    return robot, seed, str(bag), read_source(bag, _model(robot).description).outcome


LAG_INPUTS = ("right_wrist", "right_hand")
"""The inputs a live pick drives, whose use the live sources' lag table shows."""


def _print_input_lag(live: Sequence[tuple[str, int, str, str]]) -> None:
    """Per robot, over its live episodes: publish time - stamp [ms], p50 / p95, of each of
    :data:`LAG_INPUTS` as the device sent it and as the teleop node republished it."""
    from humanoid_teleop.core.bag.reader import iter_messages
    from humanoid_teleop.core.motion.topics import INTENT_PREFIX, OPERATOR_PREFIX

    prefixes = (OPERATOR_PREFIX, INTENT_PREFIX)
    lags: dict[tuple[str, str], list[float]] = {}
    for robot, _, bag, _ in live:
        topics = [prefix + name for name in LAG_INPUTS for prefix in prefixes]
        for m in iter_messages(Path(bag), topics):
            lag_ms = (m.publish_time_ns - m.sample_time_ns) / 1e6
            lags.setdefault((robot, m.topic), []).append(lag_ms)
    print("\n## live sources: publish time - stamp of the operator's input, p50 / p95 ms\n")
    columns = [prefix + name for name in LAG_INPUTS for prefix in prefixes]
    print("| robot | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for robot in dict.fromkeys(r for r, _, _, _ in live):
        cells = []
        for topic in columns:
            values = lags.get((robot, topic))
            cells.append(
                f"{np.median(values):.1f} / {np.percentile(values, 95):.1f}" if values else "none"
            )
        print(f"| {robot} | " + " | ".join(cells) + " |")


def _port(job: tuple[str, str, str, str, bool, float | None]) -> dict[str, Any]:
    """Port one source (``rate_hz`` None: at its recorded command rate); CPU time of
    reading, porting and writing."""
    path, robot, target, out, sim, rate_hz = job
    # models and pipelines are built once per worker, outside the timed port; a physics port
    # gets a fresh pipeline (the hand retargeter's warm start outlives engage, so a reused
    # pipeline's first hand commands depend on the episode ported before)
    source_model, target_model, pipeline = _model(robot), _model(target), _pipeline(target)
    # what the port command's workers do once they built a model or pipeline
    # (archive.port_job): keep it out of the garbage collector's full passes; for both trees
    built = _model.cache_info().misses + _pipeline.cache_info().misses
    if built != _BUILT[0]:
        _BUILT[0] = built
        gc.freeze()
    if sim:
        pipeline = target_pipeline(target_model)
    start = time.process_time()
    source = read_source(Path(path))
    options = PortOptions(sim=sim, rate_hz=rate_hz, cameras=False)
    name = f"{source.name}_to_{target}_{'sim' if sim else 'kin'}_{rate_hz or 'rec'}"
    result = port_episode(
        source, source_model, target_model, Path(out), options, name, pipeline=pipeline
    )
    cpu = time.process_time() - start
    shutil.rmtree(result.path)  # the numbers are in the report; keep the disk free
    return {
        "source": path, "target": target, "sim": sim, "cpu_s": cpu,
        "duration_s": source.duration_s, "report": result.report,
        "rate_hz": rate_hz or source.command_rate_hz,
    }  # fmt: skip


def _speed_jobs(jobs_file: Path) -> int:
    """``--speed-jobs``: run the kinematic port jobs of ``jobs_file`` (JSON) with this
    process's tree, one by one, and print one JSON line per job (no report)."""
    for job in json.loads(jobs_file.read_text()):
        result = _port(tuple(job))
        del result["report"]
        print(json.dumps(result), flush=True)
    return 0


def _speed_serve() -> int:
    """``--speed-serve``: run the kinematic port jobs read from stdin (one JSON list a line)
    with this process's tree, each as it comes, answering each with one JSON line (no
    report): the earlier tree's side of ``--before``."""
    for line in sys.stdin:
        result = _port(tuple(json.loads(line)))
        del result["report"]
        print(json.dumps(result), flush=True)
    return 0


class _EarlierTree:
    """``--before``'s process: this script with an earlier tree's code (``--tree``), asked
    for one port at a time, so that its ports and this tree's alternate and see the same
    load over the run (two processes porting at once disturb each other unevenly: side by
    side, 22.1 -> 22.2x and 19.0 -> 18.7x on two runs of session 26)."""

    def __init__(self, tree: Path) -> None:
        script = [sys.executable, __file__, "--tree", str(tree), "--speed-serve"]
        self.process = subprocess.Popen(
            script, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def port(self, job: Sequence[Any]) -> dict[str, Any]:
        """``job`` ported with the earlier tree (its result, as :func:`_port` gives it)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(list(job)) + "\n")
        self.process.stdin.flush()
        while line := self.process.stdout.readline():
            if line.startswith("{"):  # its other prints (robot warnings) are no results
                result: dict[str, Any] = json.loads(line)
                return result
        code = self.process.wait()
        raise SystemExit(f"--before: the earlier tree's port of {job[0]} failed (exit {code})")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def _alternating(jobs: Sequence[Any], earlier: _EarlierTree, out: Path) -> tuple[
    list[dict[str, Any]], list[dict[str, Any]]
]:  # fmt: skip
    """Each of ``jobs`` ported with this tree, then with the earlier tree (into
    ``out``), one port at a time; (this tree's results, the earlier tree's)."""
    ours, theirs = [], []
    start = last = time.perf_counter()
    for job in jobs:
        ours.append(_port(job))
        theirs.append(earlier.port((*job[:3], str(out), *job[4:])))
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY_S or len(ours) == len(jobs):
            print(f"kinematic ports, alternating with --before: {len(ours)}/{len(jobs)} in "
                  f"{now - start:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
            last = now
    return ours, theirs


PROGRESS_EVERY_S = 30.0
"""How often [s] a long stage prints how far it got (a full matrix runs for 5-15 minutes)."""


def _run(pool: ProcessPoolExecutor | None, fn: Any, jobs: Sequence[Any], stage: str) -> list[Any]:
    """``fn`` over ``jobs`` (in order), on the pool if there is one; every
    :data:`PROGRESS_EVERY_S` and at the end it prints to stderr how many are done."""
    results: list[Any] = []
    start = last = time.perf_counter()
    for result in map(fn, jobs) if pool is None else pool.map(fn, jobs):
        results.append(result)
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY_S or len(results) == len(jobs):
            print(f"{stage}: {len(results)}/{len(jobs)} in {now - start:.0f} s", file=sys.stderr,
                  flush=True)  # fmt: skip
            last = now
    return results


def _per_target(kinematic: list[dict[str, Any]]) -> dict[int, dict[str, list[float]]]:
    """Command rate [Hz] -> target robot -> real-time factors (duration / CPU time)."""
    per_target: dict[int, dict[str, list[float]]] = {}
    for k in kinematic:
        rates = per_target.setdefault(round(k["rate_hz"]), {})
        rates.setdefault(k["target"], []).append(k["duration_s"] / k["cpu_s"])
    return per_target


def _speed_cells(by_target: dict[str, list[float]]) -> str:
    """``median | min | slowest target`` of one tree at one rate."""
    rtf = [v for values in by_target.values() for v in values]
    slowest = min(by_target, key=lambda t: float(np.median(by_target[t])))
    return (
        f"{np.median(rtf):.1f}x | {np.min(rtf):.1f}x | "
        f"{slowest} {np.median(by_target[slowest]):.1f}x"
    )


def _print_speed(
    kinematic: list[dict[str, Any]],
    physics_rtf: list[float],
    rate_hz: float,
    before: list[dict[str, Any]] | None = None,
) -> None:
    """The real-time factors per core (episode duration / CPU time) per command rate, the
    slowest target robot, and the median per target; with ``before`` (the same ports by
    an earlier tree) its columns first."""
    print("\n## Speed (real-time factor per core: episode duration / CPU time)\n")
    print(f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    per_target = _per_target(kinematic)
    earlier = _per_target(before) if before is not None else None
    columns = "median | min | slowest target"
    if earlier is not None:
        columns = f"before: {columns.replace(' | ', ' | before: ')} | after: " + columns.replace(
            " | ", " | after: "
        )
    print(f"| port | command rate | episodes | {columns} | target |")
    print("|---|---|---|" + "---|" * (columns.count("|") + 2))
    for rate, by_target in sorted(per_target.items(), reverse=True):
        cells = _speed_cells(by_target)
        if earlier is not None:
            cells = f"{_speed_cells(earlier[rate])} | {cells}"
        episodes = sum(len(v) for v in by_target.values())
        print(
            f"| kinematic (--no-sim) | {rate} Hz | {episodes} | {cells} | "
            f"{'>= 20x' if rate == round(rate_hz) else '-'} |"
        )
    if physics_rtf:  # wall time in a worker, not CPU time: not the speed target's number
        print(
            f"| physics (no cameras, wall) | {round(rate_hz)} Hz | {len(physics_rtf)} | "
            f"{np.median(physics_rtf):.1f}x | {np.min(physics_rtf):.1f}x | - | - |"
        )
    rows = (
        [("", per_target)] if earlier is None else [("before: ", earlier), ("after: ", per_target)]
    )
    for rate in sorted(per_target, reverse=True):
        for label, trees in rows:
            medians = ", ".join(f"{t} {np.median(v):.1f}x" for t, v in sorted(trees[rate].items()))
            print(f"\n{label}kinematic at {rate} Hz, median per target: {medians}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=3, help="episodes per robot and task")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--robots", nargs="+", default=None, help="default: every shipped robot")
    parser.add_argument(
        "--rate-hz", type=float, default=250.0, help="command rate of the sources (a session's)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (one core each)")
    parser.add_argument(
        "--out", type=Path, default=None,
        help="keep the source episodes here (and reuse those an earlier run recorded)",
    )  # fmt: skip
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument(
        "--speed-only", action="store_true",
        help="only the kinematic speed rows (no physics ports, no matrix)",
    )  # fmt: skip
    speed.add_argument(
        "--no-speed", action="store_true",
        help="no kinematic speed rows (the physics matrix alone)",
    )  # fmt: skip
    parser.add_argument(
        "--before", type=Path, default=None,
        help="an earlier copy of the project: its kinematic ports of the same sources beside",
    )  # fmt: skip
    parser.add_argument(
        "--compare", type=Path, nargs="+", default=None, metavar="REPORTS_JSONL",
        help="an earlier run's reports.jsonl: per pair and seed, what changed (with a second "
        "file: compare the two, port nothing)",
    )  # fmt: skip
    parser.add_argument(
        "--live", type=int, default=0, metavar="N",
        help="also N live picks per robot (humanoid-teleop demo over DDS, seeds 1..N), "
        "ported to every robot in physics; with --episodes 0 only those",
    )  # fmt: skip
    parser.add_argument("--tree", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--speed-jobs", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--speed-serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed_jobs is not None:
        return _speed_jobs(args.speed_jobs)
    if args.speed_serve:
        return _speed_serve()
    # not at the top: --before runs this script with an earlier tree's code, which may not
    # keep runs (--speed-jobs needs none of it)
    from humanoid_teleop.portability.matrix import compare_runs, read_run, run_line

    if args.compare is not None and len(args.compare) > 2:
        parser.error("--compare takes an earlier run's reports.jsonl, or two runs' files")
    if args.compare is not None and len(args.compare) == 2:
        print("\n".join(compare_runs(read_run(args.compare[0]), read_run(args.compare[1]))))
        return 0
    if args.episodes < 0 or args.live < 0 or not (args.episodes or args.live):
        parser.error("--episodes and --live take a count >= 0, and one of them > 0")
    if args.live and not args.speed_only:
        from humanoid_teleop.isolation.netns import is_isolated

        if not is_isolated():
            parser.error("--live records over DDS: run the script inside `humanoid-teleop "
                         "isolated --` (the README's network rule)")  # fmt: skip
    # the package's matrix (what `humanoid-teleop port matrix` runs); not at the top: --before
    # runs this script's module level with earlier trees' code
    from humanoid_teleop.portability.scripted_matrix import (
        MatrixSource,
        matrix_lines,
        record_sources,
        run_matrix,
        summarize_pairs,
    )

    robots = args.robots or [r.name for r in list_robots()]
    out = args.out or Path(tempfile.mkdtemp(prefix="portability_"))
    ported_dir = out / "ported_kinematic"
    wall = time.perf_counter()
    run: dict[tuple[str, str, int, str], PortReport] = {}
    sources: list[MatrixSource] = []
    matrix = None
    if args.episodes and not args.speed_only:
        matrix = run_matrix(
            robots, args.tasks, args.episodes, out, workers=args.workers, rate_hz=args.rate_hz,
            progress=lambda line: print(line, flush=True),
        )  # fmt: skip
        if matrix.errors:
            raise SystemExit("\n".join(f"not ported: {e}" for e in matrix.errors))
        sources, run = list(matrix.sources), dict(matrix.reports)
    elif args.episodes:  # the speed rows alone: the sources, no physics ports
        sources = list(record_sources(robots, args.tasks, args.episodes, out / "sources",
                                      args.workers, rate_hz=args.rate_hz))  # fmt: skip
    pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        live_sources: list[MatrixSource] = []
        if args.live and not args.speed_only:  # one session at a time: each uses both cores
            live = [_record_live(r, seed, out / "live") for r in robots
                    for seed in range(1, args.live + 1)]  # fmt: skip
            live_sources = [MatrixSource(r, LIVE_TASK, seed, Path(path), outcome, False)
                            for r, seed, path, outcome in live]  # fmt: skip
            print(f"{len(live)} live episodes in {out / 'live'}")
            _print_input_lag(live)
            port_jobs = [(str(s.path), s.robot, target, str(ported_dir), True, None)
                         for s in live_sources for target in robots]  # fmt: skip
            ported = _run(pool, _port, port_jobs, "physics ports of the live sources")
            for (path, robot, target, *_), item in zip(port_jobs, ported, strict=True):
                seed = next(s.seed for s in live_sources if str(s.path) == path)
                run[(LIVE_TASK, robot, seed, target)] = item["report"]
        # kinematic ports to the next robot, at the recorded command rate and at 100 Hz
        kin_jobs = [
            (str(s.path), s.robot, robots[(robots.index(s.robot) + 1) % len(robots)],
             str(ported_dir), False, rate)
            for rate in (None, 100.0)
            for s in sources
            if not args.no_speed
        ]  # fmt: skip
        before = None
        if args.before is not None and kin_jobs:  # the same ports with the earlier tree's code
            before_dir = out / "ported_before"
            before_dir.mkdir(parents=True, exist_ok=True)
            earlier = _EarlierTree(args.before)
            try:
                kinematic, before = _alternating(kin_jobs, earlier, before_dir)
            finally:
                earlier.close()
        else:
            kinematic = _run(pool, _port, kin_jobs, "kinematic ports") if kin_jobs else []
    finally:
        if pool is not None:
            pool.shutdown()
    # physics ports' real-time factors: episode duration / the port's wall time in its worker
    # (one process per core); ports kept from an earlier --out run have none
    durations = {(s.task, s.robot, s.seed): s.duration_s for s in sources}
    physics_rtf = (
        [durations[k[:3]] / w for k, w in matrix.port_wall_s.items() if w > 0]
        if matrix is not None
        else []
    )
    if args.speed_only:
        _print_speed(kinematic, physics_rtf, args.rate_hz, before)
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
        return 0
    if args.out is not None:
        (out / "reports.jsonl").write_text("".join(f"{run_line(k, r)}\n" for k, r in run.items()))
    live_note = f" and {args.live} live picks per robot" if args.live else ""
    print(
        f"\n# Portability matrix: {args.episodes} scripted episodes per robot and task"
        f"{live_note}, ported in physics ({time.perf_counter() - wall:.0f} s wall, "
        f"{args.workers} workers)"
    )
    tasks = [*(args.tasks if args.episodes else []), *([LIVE_TASK] if args.live else [])]
    summaries = summarize_pairs(run, tasks, robots)
    print("\n".join(matrix_lines(tasks, robots, [*sources, *live_sources], summaries,
                                 {LIVE_TASK: "live, over DDS"})))  # fmt: skip
    if not args.no_speed:
        _print_speed(kinematic, physics_rtf, args.rate_hz, before)
    if args.compare is not None:
        print(f"\n## Against {args.compare[0]}\n")
        print("\n".join(compare_runs(read_run(args.compare[0]), run)))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
