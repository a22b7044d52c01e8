"""Automatic pre-annotations: grasp/release events, idle spans, approach/transport phases and
the operator's live labels, all ``prediction: true`` records for a person to confirm.

- **grasp** (event, per arm): the hand's closure is above ``close_above`` while the wrist
  force is ``contact_force_n`` above its free level (an arm without a wrist F/T sensor: the
  closure alone).
- **release** (event): after a grasp, the closure falls through ``open_below``, or the wrist
  force stays back near its free level for ``contact_window_s`` (the object was put down).
- **approach** (span): from the arm's previous release (or the episode start) to a grasp;
  **transport** (span): from a grasp to its release (or the episode end).
- **idle** (span): the non-hand joints move slower than ``idle_speed_rad_s`` for at least
  ``idle_min_s``.
- the operator's ``/recorder/annotation`` labels become events with source ``operator-live``.

Record ids are made from the rule and the times, so running the rules again appends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .schema import TOOL, Annotation, Provenance, utc_now
from .signals import EpisodeSignals, Series, read_signals

NS = 1_000_000_000


@dataclass(frozen=True)
class RuleSettings:
    """Thresholds of the pre-annotation rules."""

    close_above: float = 0.5
    """Closure [0..1] above which a hand counts as closed."""
    open_below: float = 0.3
    """Closure [0..1] below which a closed hand counts as open again."""
    contact_force_n: float = 2.0
    """Rise of the wrist force magnitude over its pre-grasp level that confirms contact [N]."""
    contact_window_s: float = 0.5
    """How long the force must stay back near its free level to count as a release [s]."""
    idle_speed_rad_s: float = 0.05
    """Joint speed norm below which the arms count as still [rad/s]."""
    idle_min_s: float = 1.0
    """Shortest idle span reported [s]."""


def pre_annotations(
    path: Path, settings: RuleSettings | None = None, signals: EpisodeSignals | None = None
) -> list[Annotation]:
    """The prediction records of the episode at ``path`` (not yet written)."""
    settings = settings or RuleSettings()
    signals = signals or read_signals(path)
    made = utc_now()
    rule = Provenance("rule", "pre-annotate", TOOL, made)
    records: list[Annotation] = []
    for side, closure in sorted(signals.closure.items()):
        force = signals.force_n.get(side)
        grasps = _grasps(closure, force, settings)
        previous_end = 0
        for grasp_ns, release_ns in grasps:
            records.append(_event(f"rule:grasp:{side}:{grasp_ns}", grasp_ns, "grasp", side, rule))
            records.append(
                _span(f"rule:approach:{side}:{previous_end}", previous_end, grasp_ns,
                      "approach", side, rule)
            )  # fmt: skip
            end = release_ns if release_ns is not None else signals.duration_ns
            records.append(
                _span(f"rule:transport:{side}:{grasp_ns}", grasp_ns, end, "transport", side, rule)
            )
            if release_ns is not None:
                records.append(
                    _event(f"rule:release:{side}:{release_ns}", release_ns, "release", side, rule)
                )
                previous_end = release_ns
            else:
                previous_end = signals.duration_ns
    if signals.arm_speed is not None:
        for start, end in _idle(signals.arm_speed, settings):
            records.append(_span(f"rule:idle:{start}", start, end, "idle", "", rule))
    operator = signals.custom.get("operator", "")
    live = Provenance("operator-live", operator, "/recorder/annotation", made)
    for k, (t_ns, text) in enumerate(signals.live_labels):
        records.append(
            Annotation(f"live:{t_ns}:{k}", "event", live, prediction=True, text=text, time_ns=t_ns)
        )
    return sorted(records, key=lambda r: (r.start_ns or r.time_ns, r.id))


def _event(id_: str, t_ns: int, text: str, arm: str, prov: Provenance) -> Annotation:
    return Annotation(id_, "event", prov, prediction=True, text=text, skill=text, arm=arm,
                      time_ns=t_ns)  # fmt: skip


def _span(id_: str, start: int, end: int, text: str, arm: str, prov: Provenance) -> Annotation:
    return Annotation(id_, "span", prov, prediction=True, text=text, skill=text, arm=arm,
                      start_ns=start, end_ns=end)  # fmt: skip


def _grasps(
    closure: Series, force: Series | None, settings: RuleSettings
) -> list[tuple[int, int | None]]:
    """(grasp time, release time or None) pairs of one hand [ns].

    With a wrist force sensor, a grasp needs the closure above ``close_above`` while the
    force (median over 0.1 s) is ``contact_force_n`` above its level in the episode's first
    0.5 s; it is released when the closure falls below ``open_below`` or the force stays back
    near that level (below half the rise) for ``contact_window_s``."""
    times = closure.t_ns
    if not len(times):
        return []
    contact = np.ones(len(times), dtype=bool)
    loose = np.zeros(len(times), dtype=bool)
    if force is not None and len(force.t_ns):
        smooth = _rolling_median(force, 100_000_000)
        first = smooth[force.t_ns <= force.t_ns[0] + NS // 2]
        level = float(np.median(first))
        at = np.interp(times, force.t_ns, smooth)
        contact = at >= level + settings.contact_force_n
        loose = at < level + settings.contact_force_n / 2
    out: list[tuple[int, int | None]] = []
    closed = False
    grasp_at = 0
    loose_since: int | None = None
    window = int(settings.contact_window_s * NS)
    for i, (t, value) in enumerate(zip(times.tolist(), closure.values.tolist(), strict=True)):
        if not closed:
            if value >= settings.close_above and contact[i]:
                closed, grasp_at, loose_since = True, t, None
            continue
        if not loose[i]:
            loose_since = None
        elif loose_since is None:
            loose_since = t
        if value <= settings.open_below:
            out.append((grasp_at, t))
            closed = False
        elif loose_since is not None and t - loose_since >= window:
            out.append((grasp_at, loose_since))
            closed = False
    if closed:
        out.append((grasp_at, None))
    return out


def _rolling_median(series: Series, width_ns: int) -> np.ndarray:
    """The median of the samples in the ``width_ns`` before each sample."""
    values = series.values
    starts = np.searchsorted(series.t_ns, series.t_ns - width_ns, side="left")
    return np.asarray([np.median(values[a : i + 1]) for i, a in enumerate(starts.tolist())])


def _idle(speed: Series, settings: RuleSettings) -> list[tuple[int, int]]:
    """(start, end) [ns] of the runs where the arms are still for at least idle_min_s."""
    still = speed.values < settings.idle_speed_rad_s
    out = []
    start = None
    times = speed.t_ns.tolist()
    for t, is_still in zip(times, still.tolist(), strict=True):
        if is_still and start is None:
            start = t
        elif not is_still and start is not None:
            if t - start >= settings.idle_min_s * NS:
                out.append((start, t))
            start = None
    if start is not None and times and times[-1] - start >= settings.idle_min_s * NS:
        out.append((start, times[-1]))
    return out
