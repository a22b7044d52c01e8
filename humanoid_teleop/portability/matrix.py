"""The portability matrix: per (task, source robot, target robot), the reports of N ported
episodes summed up against the issue's targets.

``transfer ratio`` = target successes / source self-replay successes (the same episodes
ported to their own robot, in physics). The targets: for every pair with reachability
>= 95%, transfer ratio >= 0.8, contact-phase EE p95 <= 2 cm, free-space p95 <= 5 cm, grasp
and release events within +-150 ms and none spurious. :func:`summarize_archive` sums up a
``port`` run over an archive the same way, per source robot, against the episodes'
recorded outcomes (an archive has no self-replays).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from humanoid_teleop.core.safety.filter import CLAMP_KINDS

from .errors import PortInputError
from .report import (
    CONTACT_P95_M,
    FREE_P95_M,
    REACH_PCT,
    TARGETS,
    ContactSplit,
    PortReport,
    contact_origin,
)

TRANSFER_RATIO = 0.8


@dataclass(frozen=True)
class PairSummary:
    """N episodes of one task ported from ``source`` to ``target`` (distances [m])."""

    task: str
    source: str
    target: str
    episodes: int
    self_successes: int
    successes: int
    contact_p95_m: float  # worst episode
    free_p95_m: float  # worst episode
    orientation_p95_rad: float  # worst episode
    max_event_offset_s: float
    missed_events: int
    spurious_events: int
    reachability_pct: float  # mean
    clamped_pct: float  # mean share of steps with a safety clamp
    notes: tuple[str, ...]
    #: Mean share of steps [%] each kind of limit clamped (:data:`CLAMP_KINDS`;
    #: empty when a report predates the split).
    clamped_pct_by_kind: dict[str, float] = field(default_factory=dict)
    #: Where the worst episode's contact error comes from (:func:`~.report.contact_split`).
    contact_split: ContactSplit = field(default_factory=ContactSplit)

    @property
    def transfer_ratio(self) -> float | None:
        """Target successes / source self-replay successes (None when the source's own
        replay never succeeds: nothing to transfer)."""
        if not self.self_successes:
            return None
        return self.successes / self.self_successes

    def below_target(self) -> list[str]:
        """Why the pair misses the targets (empty: it meets them)."""
        if not self.episodes:  # every port of the pair failed: its own lines say why
            return ["no episode ported (see the not-ported lines)"]
        if self.reachability_pct < REACH_PCT:
            return [f"reachability {self.reachability_pct:.1f}% < {REACH_PCT:.0f}%", *self.notes]
        reasons = []
        ratio = self.transfer_ratio
        if ratio is None:
            reasons.append("source self-replay never succeeds")
        elif ratio < TRANSFER_RATIO:
            reasons.append(f"transfer ratio {ratio:.2f} < {TRANSFER_RATIO}")
        if self.contact_p95_m > CONTACT_P95_M:
            origin = contact_origin(self.contact_split)
            reasons.append(f"contact p95 {100 * self.contact_p95_m:.1f} cm > 2 cm{origin}")
        if self.free_p95_m > FREE_P95_M:
            reasons.append(f"free p95 {100 * self.free_p95_m:.1f} cm > 5 cm")
        if self.missed_events:
            reasons.append(f"{self.missed_events} grasp/release events off by > 150 ms")
        if self.spurious_events:
            reasons.append(f"{self.spurious_events} spurious grasp/release events")
        return [*reasons, *self.notes] if reasons else []


def summarize(
    task: str, source: str, target: str, reports: Sequence[PortReport],
    self_reports: Sequence[PortReport],
) -> PairSummary:  # fmt: skip
    """Sum up the ``reports`` of one pair; ``self_reports`` are the same source episodes
    ported to ``source`` itself."""
    notes = tuple(sorted({n for r in reports for n in r.notes}))
    touched = [r for r in reports if r.contact_steps]
    worst = max(touched, key=lambda r: r.contact_p95_m) if touched else None
    return PairSummary(
        task=task,
        source=source,
        target=target,
        episodes=len(reports),
        self_successes=sum(r.outcome == "success" for r in self_reports),
        successes=sum(r.outcome == "success" for r in reports),
        contact_p95_m=max((r.contact_p95_m for r in reports if r.contact_steps), default=0.0),
        free_p95_m=max((r.free_p95_m for r in reports), default=0.0),
        orientation_p95_rad=max((r.orientation_p95_rad for r in reports), default=0.0),
        max_event_offset_s=max((r.max_event_offset_s for r in reports), default=0.0),
        missed_events=sum(r.missed_events for r in reports),
        spurious_events=sum(r.spurious_events for r in reports),
        reachability_pct=float(np.mean([r.reachability_pct for r in reports])) if reports else 0.0,
        clamped_pct=float(np.mean([100.0 * r.clamped_steps / max(r.steps, 1) for r in reports]))
        if reports
        else 0.0,
        notes=notes,
        contact_split=worst.split if worst is not None else ContactSplit(),
        clamped_pct_by_kind=_clamped_pct_by_kind(reports),
    )


def _clamped_pct_by_kind(reports: Sequence[PortReport]) -> dict[str, float]:
    """The mean share of steps [%] each kind of limit clamped over ``reports`` (empty when
    any of them predates the split)."""
    if not reports or not all(r.clamped_steps_by_kind for r in reports):
        return {}
    return {
        kind: float(
            np.mean(
                [100.0 * r.clamped_steps_by_kind.get(kind, 0) / max(r.steps, 1) for r in reports]
            )
        )
        for kind in CLAMP_KINDS
    }


def clamps_cell(summary: PairSummary) -> str:
    """The matrix table's clamps cell: any kind %, then position / velocity / acceleration
    % in parentheses when the reports split them."""
    split = summary.clamped_pct_by_kind
    if not split:
        return f"{summary.clamped_pct:.0f}"
    return f"{summary.clamped_pct:.0f} ({'/'.join(f'{split[k]:.0f}' for k in CLAMP_KINDS)})"


@dataclass(frozen=True)
class ArchiveSummary:
    """The episodes of one port run from one source robot (``port`` over an archive),
    summed up against the issue's targets. ``successes``: the target's task successes among
    the ``source_successes`` episodes whose recorded outcome was a success (the transfer
    ratio's stand-in for the matrix's self-replays); ``reachable``: episodes with
    reachability >= 95%; ``meeting``: episodes that meet every per-episode target;
    ``misses``: target (:data:`~.report.TARGETS`) -> episodes that miss it; the EE p95s
    [m] as (median, worst) over the episodes (contact: those with contact steps)."""

    source_robot: str
    target_robot: str
    sim: bool
    episodes: int
    source_successes: int
    successes: int
    reachable: int
    meeting: int
    misses: dict[str, int]
    contact_p95_m: tuple[float, float]
    free_p95_m: tuple[float, float]

    @property
    def transfer_ratio(self) -> float | None:
        """Target successes / source successes (None without physics or source successes)."""
        if not self.sim or not self.source_successes:
            return None
        return self.successes / self.source_successes

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "transfer_ratio": self.transfer_ratio}

    def text(self) -> str:
        """A few lines for a terminal, after the episodes' reports."""
        cm = 100.0
        ratio = self.transfer_ratio
        task = "not simulated (--no-sim)"
        if self.sim and ratio is None:
            task = "no source episode succeeded (no transfer ratio)"
        elif ratio is not None:
            task = (
                f"{self.successes} of the {self.source_successes} whose source succeeded "
                f"(transfer ratio {ratio:.2f}; target >= {TRANSFER_RATIO})"
            )
        missed = ", ".join(f"{target} {self.misses.get(target, 0)}" for target in TARGETS)
        return "\n".join([
            f"summary: {self.episodes} episode{'s' * (self.episodes != 1)} "
            f"{self.source_robot} -> {self.target_robot} "
            f"({'physics' if self.sim else 'no physics'})",
            f"  task success: {task}",
            f"  reachable (>= {REACH_PCT:.0f}% of steps): {self.reachable} of {self.episodes}; "
            f"meeting every per-episode target: {self.meeting} of {self.episodes}",
            f"  episodes below target by: {missed}",
            f"  EE p95 (median / worst episode): contact {cm * self.contact_p95_m[0]:.1f} / "
            f"{cm * self.contact_p95_m[1]:.1f} cm, free space {cm * self.free_p95_m[0]:.1f} / "
            f"{cm * self.free_p95_m[1]:.1f} cm",
        ])  # fmt: skip


def summarize_archive(reports: Sequence[PortReport]) -> list[ArchiveSummary]:
    """One :class:`ArchiveSummary` per source robot (and physics setting) of ``reports``,
    in the order each first appears."""
    groups: dict[tuple[str, bool], list[PortReport]] = {}
    for report in reports:
        groups.setdefault((report.source_robot, report.sim), []).append(report)
    out = []
    for (source_robot, sim), group in groups.items():
        succeeded = [r for r in group if r.source_outcome == "success"]
        missed = [dict(report.misses()) for report in group]  # target -> reason, each
        misses: dict[str, int] = {}
        for targets in missed:
            for target in targets:
                misses[target] = misses.get(target, 0) + 1
        touched = [r.contact_p95_m for r in group if r.contact_steps]
        free = [r.free_p95_m for r in group]
        out.append(
            ArchiveSummary(
                source_robot=source_robot,
                target_robot=group[0].target_robot,
                sim=sim,
                episodes=len(group),
                source_successes=len(succeeded),
                successes=sum(r.outcome == "success" for r in succeeded),
                reachable=sum(r.reachability_pct >= REACH_PCT for r in group),
                meeting=sum(not targets for targets in missed),
                misses=misses,
                contact_p95_m=_median_worst(touched),
                free_p95_m=_median_worst(free),
            )
        )
    return out


def _median_worst(values: Sequence[float]) -> tuple[float, float]:
    """(median, max) of ``values`` ((0, 0) for none)."""
    if not values:
        return (0.0, 0.0)
    return (float(np.median(values)), float(max(values)))


#: One port of a matrix run: (task, source robot, seed, target robot).
RunKey = tuple[str, str, int, str]
#: A per-seed error change [m] smaller than this is not listed by :func:`compare_runs`.
CHANGE_M = 0.001


def run_line(key: RunKey, report: PortReport) -> str:
    """One port of a matrix run as a line of its ``reports.jsonl`` (:func:`read_run`)."""
    task, source, seed, target = key
    record = {"task": task, "source": source, "seed": seed, "target": target}
    return json.dumps({**record, "report": report.to_dict()}, sort_keys=True)


def read_run(path: Path) -> dict[RunKey, PortReport]:
    """The ports a matrix run kept (``port matrix -o DIR`` or ``bench/portability.py --out
    DIR``: ``DIR/reports.jsonl``, one :func:`run_line` per port); a malformed line raises
    :class:`PortInputError` naming ``path:line``, a file that cannot be read one naming it."""
    run: dict[RunKey, PortReport] = {}
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise PortInputError(f"{path}: cannot read a matrix run's reports ({reason})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():  # a blank line (an editor's trailing newline)
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
            key = (str(data["task"]), str(data["source"]), int(data["seed"]), str(data["target"]))
            run[key] = PortReport.from_dict(data["report"], where)
        except (ValueError, KeyError, TypeError) as exc:
            raise PortInputError(f"{where}: not a matrix run line ({exc!r})") from None
    return run


def _pair_reports(
    run: Mapping[RunKey, PortReport], task: str, source: str, target: str, seeds: Sequence[int]
) -> list[PortReport]:
    return [run[(task, source, seed, target)] for seed in seeds]


def _seed_change(seed: int, old: PortReport, new: PortReport) -> str:
    """What changed in one port between two runs ('' when nothing did)."""
    cm = 100.0
    parts = []
    if old.outcome != new.outcome:
        parts.append(f"{old.outcome} -> {new.outcome}")
    for name, a, b in (
        ("contact", old.contact_p95_m, new.contact_p95_m),
        ("free", old.free_p95_m, new.free_p95_m),
    ):
        if abs(a - b) >= CHANGE_M:
            parts.append(f"{name} {cm * a:.1f} -> {cm * b:.1f}")
    old_events = (old.missed_events, old.spurious_events, round(1000 * old.max_event_offset_s))
    new_events = (new.missed_events, new.spurious_events, round(1000 * new.max_event_offset_s))
    if old_events != new_events:
        parts.append(
            "events (missed, spurious, max ms) "
            f"{', '.join(map(str, old_events))} -> {', '.join(map(str, new_events))}"
        )
    return f"seed {seed}: {'; '.join(parts)}" if parts else ""


def compare_runs(
    before: Mapping[RunKey, PortReport], after: Mapping[RunKey, PortReport]
) -> list[str]:
    """Two matrix runs of the same sources side by side (:func:`read_run`): per task the
    cross-robot successes and the pairs meeting every target, then a row per pair that
    changed with the seeds that did (outcome, contact / free p95 by :data:`CHANGE_M` or
    more [cm], grasp events). Only ports both runs hold are compared."""
    common = sorted(set(before) & set(after))
    pairs = sorted({(task, source, target) for task, source, _, target in common})
    seeds = {
        pair: [seed for task, source, seed, target in common if (task, source, target) == pair]
        for pair in pairs
    }
    totals: dict[str, list[int]] = {}
    rows = []
    for task, source, target in pairs:
        own = seeds.get((task, source, source), [])
        if own != seeds[(task, source, target)]:
            continue  # no self-replay of the same seeds: no transfer ratio
        old, new = (
            summarize(
                task, source, target, _pair_reports(run, task, source, target, own),
                _pair_reports(run, task, source, source, own),
            )
            for run in (before, after)
        )  # fmt: skip
        if source != target:
            total = totals.setdefault(task, [0, 0, 0, 0, 0])
            total[0] += old.successes
            total[1] += new.successes
            total[2] += old.episodes
            total[3] += not old.below_target()
            total[4] += not new.below_target()
        changes = [
            change
            for seed in own
            if (
                change := _seed_change(
                    seed, before[(task, source, seed, target)], after[(task, source, seed, target)]
                )
            )
        ]
        if changes:
            rows.append(
                f"| {task} | {source} -> {target} | {old.successes} -> {new.successes} "
                f"of {old.episodes} | {100 * old.contact_p95_m:.1f} -> "
                f"{100 * new.contact_p95_m:.1f} | {100 * old.free_p95_m:.1f} -> "
                f"{100 * new.free_p95_m:.1f} | {'<br>'.join(changes)} |"
            )
    lines = [
        f"{task}: cross-robot successes {a} -> {b} of {n}; pairs meeting every target {m} -> {k}"
        for task, (a, b, n, m, k) in sorted(totals.items())
    ]
    lines.append(
        f"ports compared: {len(common)} (only in before: "
        f"{len(set(before) - set(after))}, only in after: {len(set(after) - set(before))})"
    )
    if rows:
        lines += [
            "",
            "| task | pair | successes | worst contact p95 cm | worst free p95 cm | "
            "changed seeds |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    else:
        lines.append("no port changed")
    return lines
