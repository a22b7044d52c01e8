"""What a dataset export takes from an episode's annotations (``humanoid_teleop.export``
calls these; nothing here knows the dataset format).

Only records in force that a person confirmed count (``prediction: false``: annotators and
imports); predictions wait for confirmation. Times returned are on the episode's log-time
clock [ns since the epoch], the clock of the export's frame grid and of the live labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import AnnotationError
from .sidecar import current, read_sidecar
from .signals import read_summary


@dataclass(frozen=True, order=True)
class SubtaskSpan:
    """A confirmed sub-task span: [start_ns, end_ns] log time [ns], text, skill, arm."""

    start_ns: int
    end_ns: int
    text: str
    skill: str
    arm: str


def subtask_spans(episode: Path) -> list[SubtaskSpan]:
    """The confirmed spans of ``episode`` in force, by start time ([] without a sidecar)."""
    records = [r for r in current(read_sidecar(episode)) if r.kind == "span" and not r.prediction]
    if not records:
        return []
    start = read_summary(episode).metadata.starting_time_ns
    return sorted(
        SubtaskSpan(start + r.start_ns, start + r.end_ns, r.text, r.skill or r.text, r.arm)
        for r in records
    )


def episode_labels(episode: Path) -> dict[str, str]:
    """Confirmed episode-level labels in force, the latest per key (``task``, ``outcome``,
    ``quality``, ...): the dataset's extra episode columns."""
    labels: dict[str, str] = {}
    for record in current(read_sidecar(episode)):
        if record.kind == "label" and not record.prediction:
            labels[record.key] = record.value
    return labels


def action_config(
    episode: Path, fps: int, first_frame_ns: int | None = None
) -> list[dict[str, object]]:
    """AgiBot World-style ``action_config`` of the confirmed spans: ``start_frame``,
    ``end_frame`` (inclusive, frames at ``fps`` [Hz] from ``first_frame_ns``, log time [ns];
    default the episode start), ``action_text`` and ``skill``."""
    if fps <= 0:
        raise AnnotationError(f"{episode}: action_config at {fps} fps: the rate must be > 0")
    if first_frame_ns is None:
        first_frame_ns = read_summary(episode).metadata.starting_time_ns
    period = 1e9 / fps
    out: list[dict[str, object]] = []
    for span in subtask_spans(episode):
        out.append(
            {
                "start_frame": max(0, round((span.start_ns - first_frame_ns) / period)),
                "end_frame": max(0, round((span.end_ns - first_frame_ns) / period)),
                "action_text": span.text,
                "skill": span.skill,
            }
        )
    return out
