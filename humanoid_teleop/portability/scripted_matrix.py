"""The portability matrix of scripted episodes: what ``humanoid-teleop port matrix`` runs.

For each robot and task, ``episodes`` scripted-demonstrator episodes (scene seeds 1..N) are
recorded offline (:func:`.scripted.record_scripted_episode`: MuJoCo, the teleop pipeline and
the demonstrator, no DDS) and each is ported in physics to every robot, its own included:
the self-replay the transfer ratio divides by. The reports are summed up per pair
(:func:`.matrix.summarize`) against the issue's targets.

Everything is kept in one folder, so the same run again reuses what is there (an integrator
adding a robot to an earlier run records and ports only what is new)::

    DIR/sources/scripted_<robot>_<task>_<seed>   the recorded episodes
    DIR/ported/scripted_..._to_<target>          the ported ones (cameras off)
    DIR/reports.jsonl                            one line per port (:func:`.matrix.run_line`)

Recording and porting are jobs of :mod:`humanoid_teleop.parallel` (local processes or Ray);
the ports go through :func:`.archive.port_all` like the ``port`` command's.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from humanoid_teleop.core.bag.episode import PARTIAL_SUFFIX
from humanoid_teleop.core.bag.metadata import METADATA_FILE
from humanoid_teleop.core.bag.reader import BagSummary, read_bag
from humanoid_teleop.core.robot import RobotDescription, robot_model_hash
from humanoid_teleop.core.robot.shared import shared_model, shared_robot
from humanoid_teleop.core.sim.physics_config import physics_hash
from humanoid_teleop.parallel import run_each

from .archive import PortJob, port_all
from .errors import PortError
from .matrix import PairSummary, RunKey, clamps_cell, run_line, summarize
from .port import TOOL_VERSION, PortOptions
from .report import PortReport
from .resume import check_kept_robot, hold_output
from .scripted import record_scripted_episode, scripted_episode_name

#: The scenes a matrix runs by default (config/sim/scenes/<task>.yaml).
TASKS = ("pick_and_place", "push")
SOURCES_DIR = "sources"
PORTED_DIR = "ported"
REPORTS_FILE = "reports.jsonl"
#: How often [s] a stage's progress is said (a full matrix ports for 5-15 minutes).
PROGRESS_EVERY_S = 30.0
#: The ports of a matrix: in physics, without cameras (they do not change the task).
MATRIX_PORT = PortOptions(sim=True, cameras=False)


def source_path(folder: Path, robot: str, task: str, seed: int) -> Path:
    """Where :func:`record_source` keeps a scripted episode (its recorder's own name)."""
    return folder / scripted_episode_name(robot, task, seed)


@dataclass(frozen=True)
class SourceJob:
    """One scripted episode to record: ``robot`` (a name or robot.yaml path, as
    ``load_robot`` takes it) doing ``task`` with the scene laid out by ``seed``, commands at
    ``rate_hz`` [Hz], into ``folder``."""

    robot: str
    task: str
    seed: int
    folder: Path
    rate_hz: float = 250.0


@dataclass(frozen=True)
class MatrixSource:
    """A recorded source episode and its outcome in its own recording; ``kept``: an earlier
    run recorded it."""

    robot: str
    task: str
    seed: int
    path: Path
    outcome: str
    kept: bool
    #: Its recorded length [s] (metadata.yaml's duration).
    duration_s: float = 0.0


def record_source(job: SourceJob) -> MatrixSource:
    """Record ``job``'s episode, or keep the one an earlier run finished there (one it left
    half-written, ``<name>.partial``, is removed and recorded again). One recorded before the
    robot's robot.yaml changed, or at another command rate than ``job.rate_hz``, raises
    :class:`PortError` naming it (its ports would be of another robot or rate)."""
    model = shared_model(job.robot)
    name = model.description.name
    path = source_path(job.folder, name, job.task, job.seed)
    kept = (path / METADATA_FILE).is_file()
    if not kept:
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(path.with_name(path.name + PARTIAL_SUFFIX), ignore_errors=True)
        path = record_scripted_episode(model, job.task, job.seed, job.folder, rate_hz=job.rate_hz)
    summary = read_bag(path)
    metadata = summary.metadata
    if kept:
        _check_kept_source(path, summary, model.description, job.rate_hz)
    outcome = metadata.custom_data.get("outcome", "")
    return MatrixSource(name, job.task, job.seed, path, outcome, kept, metadata.duration_ns / 1e9)


#: How far [fraction] a kept source's joint-state rate may lie from the rate asked.
RATE_TOLERANCE = 0.05


def _check_kept_source(
    path: Path, summary: BagSummary, description: RobotDescription, rate_hz: float
) -> None:
    """Refuse (:class:`PortError`, one line naming the file) a source an earlier run recorded
    of the robot as it was before its robot.yaml or physics.yaml changed, or at another
    command rate (its joint states per second of its metadata: one a step)."""
    where = path / METADATA_FILE
    check_kept_robot(
        summary.metadata.custom_data,
        str(where),
        description.name,
        model_hash=robot_model_hash(description),
        physics_hash=physics_hash(description.source_file),
        made="recorded",
        advice="run the matrix into another folder",
    )
    steps = summary.counts.get(description.sensors.joint_state_topic, 0)
    duration_s = summary.metadata.duration_ns / 1e9
    recorded_hz = steps / duration_s if duration_s > 0 else 0.0
    if abs(recorded_hz - rate_hz) > RATE_TOLERANCE * rate_hz:
        raise PortError(
            f"{where}: recorded at {recorded_hz:.0f} Hz ({steps} joint states in "
            f"{duration_s:.2f} s), not the {rate_hz:g} Hz asked; run the matrix into another "
            "folder, or again at its rate"
        )


@dataclass(frozen=True)
class MatrixRun:
    """A matrix: its robots (names) and tasks, the sources, every port's report and the
    pairs summed up (``summaries``, task by task, rows by source), and the episodes that
    could not be ported (one line each: what the ``port`` command would print)."""

    robots: tuple[str, ...]
    tasks: tuple[str, ...]
    episodes: int
    sources: tuple[MatrixSource, ...]
    reports: dict[RunKey, PortReport]
    summaries: tuple[PairSummary, ...]
    errors: tuple[str, ...] = ()
    kept_ports: int = 0
    #: Each port's wall time in its worker [s] (none for a port kept from an earlier run).
    port_wall_s: dict[RunKey, float] = field(default_factory=dict)

    def text(self) -> str:
        """The matrices and the pair table, as ``bench/portability.py`` prints them."""
        return "\n".join(matrix_lines(self.tasks, self.robots, self.sources, self.summaries))

    def to_dict(self) -> dict[str, Any]:
        """JSON: the sources, and per pair its numbers, transfer ratio and the reasons it
        misses the targets (empty: it meets them)."""
        return {
            "robots": list(self.robots),
            "tasks": list(self.tasks),
            "episodes": self.episodes,
            "sources": [
                {
                    "robot": s.robot,
                    "task": s.task,
                    "seed": s.seed,
                    "path": str(s.path),
                    "outcome": s.outcome,
                    "kept": s.kept,
                }
                for s in self.sources
            ],
            "pairs": [
                {
                    **asdict(s),
                    "transfer_ratio": s.transfer_ratio,
                    "below_target": s.below_target(),
                }
                for s in self.summaries
            ],
            "not_ported": list(self.errors),
            "kept_ports": self.kept_ports,
        }


def run_matrix(
    robots: Sequence[str],
    tasks: Sequence[str],
    episodes: int,
    folder: Path,
    *,
    workers: int = 1,
    ray: str | None = None,
    rate_hz: float = 250.0,
    progress: Callable[[str], None] | None = None,
) -> MatrixRun:
    """Record ``episodes`` scripted episodes per robot and task into ``folder`` and port
    each to every robot in physics (see the module's text); ``progress`` gets a line per
    stage. Robots are named as ``load_robot`` takes them."""
    say = progress or (lambda line: None)
    files = [t for t in tasks if "/" in t or t.endswith((".yaml", ".yml"))]
    if files:  # a port finds its episode's scene by name (config/sim/scenes/<name>.yaml)
        raise PortError(
            f"the matrix takes scene names (config/sim/scenes/<name>.yaml), not files: "
            f"{', '.join(files)}"
        )
    names = tuple(shared_robot(robot).name for robot in robots)
    for kind, values in (("robot", names), ("task", tuple(tasks))):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:  # their episodes would be recorded and ported twice, into the same names
            raise PortError(f"the matrix names the {kind} {', '.join(twice)} twice")
    sources_dir, ported_dir = folder / SOURCES_DIR, folder / PORTED_DIR
    with hold_output(folder):  # one run at a time writes a matrix folder
        sources = record_sources(robots, tasks, episodes, sources_dir, workers, ray, rate_hz, say)
        kept = sum(s.kept for s in sources)
        say(f"{len(sources)} source episodes in {sources_dir} ({kept} kept from an earlier run)")
        port_jobs = [
            PortJob(s.path, target, ported_dir, MATRIX_PORT) for s in sources for target in robots
        ]
        reports: dict[RunKey, PortReport] = {}
        errors: list[str] = []
        kept_ports = 0
        wall_s: dict[RunKey, float] = {}
        older: list[str] = []  # kept ports another version made: their tool_version
        start = said = time.perf_counter()
        with hold_output(ported_dir):
            for done, (i, ported) in enumerate(port_all(port_jobs, workers, ray), start=1):
                if time.perf_counter() - said >= PROGRESS_EVERY_S:
                    said = time.perf_counter()
                    say(f"physics ports: {done}/{len(port_jobs)} in {said - start:.0f} s")
                source = sources[i // len(names)]
                if ported.note:  # a port an earlier run left half-written, removed
                    say(ported.note)
                if ported.report is None:
                    errors.append(ported.error)
                    continue
                kept_ports += ported.ported_before
                if ported.ported_before and ported.tool_version != TOOL_VERSION:
                    older.append(ported.tool_version)
                key = (source.task, source.robot, source.seed, names[i % len(names)])
                reports[key] = ported.report
                if not ported.ported_before:
                    wall_s[key] = ported.wall_s
        say(f"{len(reports)} physics ports in {ported_dir} ({kept_ports} kept from an earlier run)")
        if older:
            versions = ", ".join(sorted(set(older)))
            say(
                f"{len(older)} of the kept ports were made by {versions or 'an unnamed version'}, "
                f"not {TOOL_VERSION}: their numbers are that version's; run the matrix into "
                "another folder to measure this one"
            )
        ordered = {key: reports[key] for key in sorted(reports, key=_run_order(tasks, names))}
        (folder / REPORTS_FILE).write_text(
            "".join(f"{run_line(k, r)}\n" for k, r in ordered.items())
        )
        return MatrixRun(
            robots=names,
            tasks=tuple(tasks),
            episodes=episodes,
            sources=sources,
            reports=ordered,
            summaries=tuple(summarize_pairs(ordered, tasks, names)),
            errors=tuple(errors),
            kept_ports=kept_ports,
            port_wall_s=wall_s,
        )


def record_sources(
    robots: Sequence[str],
    tasks: Sequence[str],
    episodes: int,
    folder: Path,
    workers: int = 1,
    ray: str | None = None,
    rate_hz: float = 250.0,
    say: Callable[[str], None] = lambda line: None,
) -> tuple[MatrixSource, ...]:
    """:func:`record_source` of ``episodes`` scripted episodes (seeds 1..N) per robot and
    task into ``folder``, task by task, robot by robot; every :data:`PROGRESS_EVERY_S`
    ``say`` gets how many are done."""
    jobs = [
        SourceJob(robot, task, seed, folder, rate_hz)
        for task in tasks
        for robot in robots
        for seed in range(1, episodes + 1)
    ]
    recorded: dict[int, MatrixSource] = {}
    start = said = time.perf_counter()
    for i, source in run_each(record_source, jobs, workers, ray):
        recorded[i] = source
        if time.perf_counter() - said >= PROGRESS_EVERY_S:
            said = time.perf_counter()
            say(f"source episodes: {len(recorded)}/{len(jobs)} in {said - start:.0f} s")
    return tuple(recorded[i] for i in range(len(jobs)))


def _run_order(tasks: Sequence[str], robots: Sequence[str]) -> Callable[[RunKey], tuple[int, ...]]:
    def order(key: RunKey) -> tuple[int, ...]:
        task, source, seed, target = key
        return (tasks.index(task), robots.index(source), seed, robots.index(target))

    return order


def summarize_pairs(
    reports: dict[RunKey, PortReport], tasks: Sequence[str], robots: Sequence[str]
) -> list[PairSummary]:
    """Every (task, source, target) pair of ``reports`` summed up, rows by source."""
    summaries = []
    for task in tasks:
        for source in robots:
            self_reports = _pair(reports, task, source, source)
            for target in robots:
                pair = _pair(reports, task, source, target)
                summaries.append(summarize(task, source, target, pair, self_reports))
    return summaries


def _pair(
    reports: dict[RunKey, PortReport], task: str, source: str, target: str
) -> list[PortReport]:
    return [r for (t, s, _, g), r in reports.items() if (t, s, g) == (task, source, target)]


def ratio_cell(value: float | None) -> str:
    """A transfer ratio as the matrix prints it ("-": the source's own replay never
    succeeded, so there is nothing to transfer)."""
    return "-" if value is None else f"{value:.2f}"


def matrix_lines(
    tasks: Sequence[str],
    robots: Sequence[str],
    sources: Sequence[MatrixSource],
    summaries: Sequence[PairSummary],
    made: dict[str, str] | None = None,
) -> list[str]:
    """Per task, how many sources succeeded and the transfer-ratio matrix (rows: source,
    columns: target; ``*``: below target); then one table row per pair with its numbers
    and why it misses the targets. ``made`` labels a task's sources (default: scripted,
    recorded offline)."""
    lines: list[str] = []
    by_pair = {(s.task, s.source, s.target): s for s in summaries}
    for task in tasks:
        ran = [s for s in sources if s.task == task]
        label = (made or {}).get(task) or "scripted, recorded offline"
        lines += [f"\n## {task}: source demonstrations that succeeded ({label})"]
        counts = []
        for robot in robots:
            mine = [s for s in ran if s.robot == robot]
            counts.append(f"{robot} {sum(s.outcome == 'success' for s in mine)}/{len(mine)}")
        lines += ["  " + ", ".join(counts)]
        lines += [f"\n## {task}: transfer ratio (rows: source, columns: target)\n"]
        lines += ["| source \\ target | " + " | ".join(robots) + " |"]
        lines += ["|---|" + "---|" * len(robots)]
        for source in robots:
            row = []
            for target in robots:
                pair = by_pair[(task, source, target)]
                row.append(ratio_cell(pair.transfer_ratio) + ("*" if pair.below_target() else ""))
            lines += [f"| {source} | " + " | ".join(row) + " |"]
    lines += ["\n(* = below target; reasons below)\n"]
    lines += [
        "| task | source | target | self ok | target ok | transfer | contact p95 cm | "
        "free p95 cm | orient p95 deg | grasp max ms | missed | spurious | reach % | "
        "clamped % (pos/vel/acc) | below target because |",
        "|---" * 15 + "|",
    ]
    for s in summaries:
        reasons = "; ".join(s.below_target()) or "meets targets"
        lines += [
            f"| {s.task} | {s.source} | {s.target} | {s.self_successes}/{s.episodes} | "
            f"{s.successes}/{s.episodes} | {ratio_cell(s.transfer_ratio)} | "
            f"{100 * s.contact_p95_m:.1f} | {100 * s.free_p95_m:.1f} | "
            f"{np.degrees(s.orientation_p95_rad):.0f} | {1000 * s.max_event_offset_s:.0f} | "
            f"{s.missed_events} | {s.spurious_events} | {s.reachability_pct:.0f} | "
            f"{clamps_cell(s)} | {reasons} |"
        ]
    return lines
