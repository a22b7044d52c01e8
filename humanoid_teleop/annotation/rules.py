"""Automatic pre-annotations: grasp/release events, idle spans, approach/transport phases and
the operator's live labels, all ``prediction: true`` records for a person to confirm.

- **grasp** (event, per arm): with the hand closed (closure above ``close_above``) the wrist
  force takes on a load (``contact_force_n`` above its free level) that holds for
  ``contact_window_s``; the load must rise after the hand closed, so a push or a brush against
  the table with a half-closed hand, and a transient from accelerating the arm, are no grasp
  (an arm without a wrist F/T sensor: the closure alone).
- **release** (event): after a grasp, the closure falls through ``open_below``, or the load
  stays off for ``contact_window_s`` (or to the episode end): the object was put down.
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
    contact_force_n: float = 0.5
    """Rise of the wrist force magnitude over its free level that counts as a held load [N]:
    about half the weight of the lightest object to see (a 0.1 kg cube adds ~1 N)."""
    load_median_s: float = 0.3
    """Width of the centred median the wrist force is read through [s] (impacts and
    finger chatter last less)."""
    contact_window_s: float = 0.5
    """How long a load must hold to be a grasp, and be off to be a release [s]."""
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

    The wrist force is read through a centred median of ``load_median_s``; its free level is
    its median while the hand is open (closure below ``open_below``; the first 0.5 s if the
    hand is never open). A grasp is where the force rises ``contact_force_n`` above that
    level while the hand is closed and stays up, the hand closed, for ``contact_window_s``;
    it is released where the closure falls below ``open_below`` or where the force falls
    back below half the rise and stays there for ``contact_window_s`` or to the last sample.
    Without a force sensor the closure alone decides."""
    times = closure.t_ns
    if not len(times):
        return []
    closed = closure.values >= settings.close_above
    if force is not None and len(force.t_ns):
        smooth = _centred_median(force, int(settings.load_median_s * NS))
        opened = np.interp(force.t_ns, times, closure.values) < settings.open_below
        free = smooth[opened] if opened.any() else smooth[force.t_ns <= force.t_ns[0] + NS // 2]
        level = float(np.median(free))
        at = np.interp(times, force.t_ns, smooth)
        loaded = at >= level + settings.contact_force_n
        loose = at < level + settings.contact_force_n / 2
        held = closed & loaded
        # the load must rise with the hand closed: a load already there is a push, not a hold
        rises = held & ~np.concatenate(([False], loaded[:-1]))
    else:
        loose = np.zeros(len(times), dtype=bool)
        held = closed
        rises = held & ~np.concatenate(([False], held[:-1]))
    window = int(settings.contact_window_s * NS)
    last = len(times) - 1
    out: list[tuple[int, int | None]] = []
    i = 0
    while i <= last:
        if not rises[i]:
            i += 1
            continue
        j = _run_end(held, i)
        if times[j] - times[i] < window:
            i = j + 1
            continue  # a transient, not a held load
        release: int | None = None
        loose_since: int | None = None
        k = i
        for k in range(i, last + 1):
            if closure.values[k] <= settings.open_below:
                release = int(times[k])
                break
            if not loose[k]:
                loose_since = None
                continue
            loose_since = k if loose_since is None else loose_since
            if times[k] - times[loose_since] >= window or k == last:
                release = int(times[loose_since])
                break
        out.append((int(times[i]), release))
        if release is None:
            break
        i = k + 1
    return out


def _run_end(flags: np.ndarray, start: int) -> int:
    """The last index of the run of True in ``flags`` that starts at ``start``."""
    off = np.flatnonzero(~flags[start:])
    return start + int(off[0]) - 1 if len(off) else len(flags) - 1


def _centred_median(series: Series, width_ns: int) -> np.ndarray:
    """The median of the samples within ``width_ns`` / 2 either side of each sample."""
    values = series.values
    t = series.t_ns
    starts = np.searchsorted(t, t - width_ns // 2, side="left")
    ends = np.searchsorted(t, t + width_ns // 2, side="right")
    pairs = zip(starts.tolist(), ends.tolist(), strict=True)
    return np.asarray([np.median(values[a:b]) for a, b in pairs])


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
