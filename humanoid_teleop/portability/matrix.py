"""The portability matrix: per (task, source robot, target robot), the reports of N ported
episodes summed up against the issue's targets.

``transfer ratio`` = target successes / source self-replay successes (the same episodes
ported to their own robot, in physics). The targets: for every pair with reachability
>= 95%, transfer ratio >= 0.8, contact-phase EE p95 <= 2 cm, free-space p95 <= 5 cm, grasp
and release events within +-150 ms and none spurious.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .report import (
    CONTACT_P95_M,
    FREE_P95_M,
    REACH_PCT,
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
    )
