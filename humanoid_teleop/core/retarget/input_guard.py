"""Which operator input a teleop step may use, and an account of what was refused.

The stamp rules (README "Retargeting and safety"), with ``stale_timeout_s`` and
``future_tolerance_s`` from the profile's ``safety`` block:

* **Per message** (:func:`check_message`, :class:`InputGuard`): a message is rejected when
  its stamp is not finite, lies more than ``future_tolerance_s`` ahead of the controller
  clock, or is older than the last accepted message of the same input part; or when the part
  holds a NaN/inf number (a zero or non-finite quaternion becomes one). A rejected message
  changes nothing: not the part, not any stamp kept, so fresh input right after it is
  followed as if it never came.
* **Per step** (:func:`part_faults`): an input part (one wrist, the head, a hand, the pad,
  the leader) is used only while its own stamp is within ``stale_timeout_s`` of the
  controller clock (and not ahead of it by more than ``future_tolerance_s``: the clock may
  have been set back since). The joint groups a stale part drives hold their last command;
  the others keep following their own fresh parts. A part that never delivered a message
  is named too, once ``stale_timeout_s`` has passed since the engage
  (:func:`missing_parts`): its groups have nothing to follow.

:class:`RejectionLog` counts rejections by source and reason and says when to write a log
line: at most one per source and reason per period, carrying the count since the last line,
so a flood of bad messages costs a few lines, not one per message. The teleop, gamepad and
leader-arm nodes and the VR bridge all use it.

Every check is O(1) per message and O(parts) per step: it runs on the 250 Hz command path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from humanoid_teleop.core.motion.frame import (
    WEBXR_HAND_JOINTS,
    HandSkeleton,
    HumanFrame,
    Input,
    JoyState,
    LeaderJoints,
    Pose,
)
from humanoid_teleop.core.safety.config import SafetyConfig

#: Rejection reasons of operator input messages (the ``reason`` of a :class:`Rejection`).
MALFORMED = "malformed"
NON_FINITE = "non-finite"
FUTURE_STAMP = "future stamp"
STAMP_BACKWARDS = "stamp went backwards"
BAD_STAMP = "bad stamp"

#: Why a step does not use an input part (the ``kind`` of a :class:`PartFault`).
STALE = "stale"
AHEAD = "ahead"
MISSING = "missing"

#: Shortest time [s] between two log lines of one source and reason.
LOG_PERIOD_S = 1.0

Part = Pose | HandSkeleton | JoyState | LeaderJoints


@dataclass(frozen=True)
class Rejection:
    """Why one message was refused: ``reason`` (one of the constants above, the key that
    counts and rate-limits) and ``detail`` (what exactly, for the log and the state)."""

    reason: str
    detail: str


@dataclass(frozen=True)
class PartFault:
    """Why a step leaves an input part out: ``kind`` (:data:`STALE`, :data:`AHEAD`,
    :data:`NON_FINITE`, :data:`MISSING`), ``age_s`` (controller time minus the part's stamp
    [s]; negative when stamped ahead; for a missing part the time since the engage) and a
    readable ``detail``."""

    kind: str
    age_s: float
    detail: str


def non_finite_detail(part: Part) -> str | None:
    """What in ``part`` is NaN or infinite, or None when every number is finite."""
    if part.is_finite():
        return None
    if isinstance(part, Pose):
        if not np.isfinite(part.position_m).all():
            return f"position {tuple(float(v) for v in part.position_m)} [m] is not finite"
        return "orientation quaternion is zero or not finite"
    if isinstance(part, HandSkeleton):
        bad = int(np.flatnonzero(~np.isfinite(part.positions_m).all(axis=1))[0])
        return f"hand joint {WEBXR_HAND_JOINTS[bad]!r} position is not finite"
    if isinstance(part, JoyState):
        bad = next(i for i, a in enumerate(part.axes) if not math.isfinite(a))
        return f"axis {bad} is {part.axes[bad]}"
    bad = int(np.flatnonzero(~np.isfinite(part.positions_rad))[0])
    return f"joint {part.names[bad]!r} is {part.positions_rad[bad]} rad"


def check_message(
    stamp_s: float,
    previous_s: float | None,
    now_s: float,
    part: Part,
    future_tolerance_s: float,
) -> Rejection | None:
    """The rejection of one message, or None to accept it.

    ``stamp_s``: its header stamp [s]; ``previous_s``: the stamp of the last accepted
    message of the same part (None before the first); ``now_s``: the controller clock [s];
    ``future_tolerance_s``: how far [s] a stamp may lie ahead of ``now_s``.
    """
    if not math.isfinite(stamp_s):
        return Rejection(BAD_STAMP, f"stamp {stamp_s} is not finite")
    ahead_s = stamp_s - now_s
    if ahead_s > future_tolerance_s:
        return Rejection(
            FUTURE_STAMP,
            f"stamped {ahead_s:.3f} s ahead of the clock (tolerance {future_tolerance_s} s)",
        )
    if previous_s is not None and stamp_s < previous_s:
        return Rejection(
            STAMP_BACKWARDS,
            f"stamped {previous_s - stamp_s:.3f} s before the previous message",
        )
    detail = non_finite_detail(part)
    if detail is not None:
        return Rejection(NON_FINITE, detail)
    return None


def part_faults(
    stamps: Mapping[Input, float], now_s: float, config: SafetyConfig
) -> dict[Input, PartFault]:
    """Input part -> why a step at controller time ``now_s`` [s] must not use it (stale or
    stamped ahead), for the parts stamped ``stamps`` [s]; parts not listed are usable."""
    faults: dict[Input, PartFault] = {}
    timeout, tolerance = config.stale_timeout_s, config.future_tolerance_s
    for which, stamp in stamps.items():
        age = now_s - stamp
        if age > timeout or not math.isfinite(age):
            faults[which] = PartFault(STALE, age, f"age {age:.3f} s > timeout {timeout} s")
        elif -age > tolerance:
            faults[which] = PartFault(
                AHEAD, age, f"stamped {-age:.3f} s ahead of the clock (tolerance {tolerance} s)"
            )
    return faults


def missing_parts(
    stamps: Mapping[Input, float],
    inputs: Iterable[Input],
    engaged_at_s: float,
    now_s: float,
    config: SafetyConfig,
) -> dict[Input, PartFault]:
    """Input part -> :data:`MISSING` for each of ``inputs`` (what the pipeline's retargeters
    read) that has no accepted message (no entry in ``stamps``) once ``stale_timeout_s`` has
    passed since the engage at ``engaged_at_s`` [s]; ``age_s`` is the time since that
    engage. A topic that never delivered (a device side that is not plugged in, a DDS match
    that never happened) gives nothing :func:`part_faults` could call stale, yet the groups
    it drives do not move: this names it."""
    since_s = now_s - engaged_at_s
    timeout = config.stale_timeout_s
    missing = [which for which in inputs if which not in stamps] if since_s > timeout else []
    if not missing:  # every step of a session with its inputs: no text formatted
        return {}
    detail = f"no accepted message since the engage {since_s:.3f} s ago (timeout {timeout} s)"
    return {which: PartFault(MISSING, since_s, detail) for which in missing}


class InputGuard:
    """The newest accepted part of each input and its stamp, behind the per-message rules
    (one per teleop node; not thread-safe: the node calls it under its lock).

    ``stamps`` holds the stamp [s] of the last accepted message of each part: the only input
    clock the node keeps, and only accepted messages move it.
    """

    def __init__(self, config: SafetyConfig) -> None:
        self.config = config
        self.stamps: dict[Input, float] = {}
        # HumanFrame field -> newest accepted part (Any: the fields differ in type).
        self._parts: dict[str, Any] = {}

    def admit(self, which: Input, stamp_s: float, part: Part, now_s: float) -> Rejection | None:
        """Check one message of part ``which`` at controller time ``now_s`` [s]; keep it and
        its stamp when accepted (returns None), else change nothing."""
        previous_s = self.stamps.get(which)
        tolerance_s = self.config.future_tolerance_s
        rejection = check_message(stamp_s, previous_s, now_s, part, tolerance_s)
        if rejection is None:
            self.stamps[which] = stamp_s
            self._parts[which.value] = part
        return rejection

    def frame(self) -> tuple[HumanFrame, dict[Input, float]]:
        """The newest accepted parts as one frame (stamped with the newest of them) and a
        copy of each part's stamp, for :meth:`TeleopPipeline.step`."""
        stamps = dict(self.stamps)
        t_s = max(stamps.values()) if stamps else math.nan
        return HumanFrame(t_s=t_s, **self._parts), stamps


@dataclass
class _Tally:
    total: int = 0
    since_line: int = 0
    last_line_s: float = -math.inf
    detail: str = ""


class RejectionLog:
    """Rejection counts by (source, reason), and when to write a log line about them.

    :meth:`record` returns a line for the first rejection of a source and reason and then at
    most one per ``period_s``, saying how many were rejected since the previous line;
    :meth:`flush` (call it periodically) returns the lines still owed for rejections that
    came after the last line, so no count goes unlogged. Times are a monotonic clock [s].
    """

    def __init__(self, period_s: float = LOG_PERIOD_S, verb: str = "rejected") -> None:
        self.period_s = period_s
        self.verb = verb  # the line's first word: what happened to the source
        self._tallies: dict[tuple[str, str], _Tally] = {}

    def record(self, source: str, reason: str, detail: str, now_s: float) -> str | None:
        """Count one rejection; the log line to write now, or None (rate limit)."""
        tally = self._tallies.get((source, reason))
        if tally is None:
            tally = self._tallies[(source, reason)] = _Tally()
        tally.total += 1
        tally.since_line += 1
        tally.detail = detail
        if now_s - tally.last_line_s < self.period_s:
            return None
        return self._line(self.verb, source, reason, tally, now_s)

    def flush(self, now_s: float) -> list[str]:
        """Lines owed for rejections counted since their key's last line, where the period
        has passed."""
        return [
            self._line(self.verb, source, reason, tally, now_s)
            for (source, reason), tally in self._tallies.items()
            if tally.since_line and now_s - tally.last_line_s >= self.period_s
        ]

    def counts(self) -> dict[tuple[str, str], tuple[int, str]]:
        """(source, reason) -> (messages rejected in all, detail of the last one)."""
        return {key: (t.total, t.detail) for key, t in self._tallies.items()}

    def total(self) -> int:
        """Rejections counted over every source and reason."""
        return sum(t.total for t in self._tallies.values())

    @staticmethod
    def _line(verb: str, source: str, reason: str, tally: _Tally, now_s: float) -> str:
        count = tally.since_line
        tally.since_line, tally.last_line_s = 0, now_s
        return (
            f"{verb} {source}: {reason}: {tally.detail} "
            f"({count} since the last line, {tally.total} in all)"
        )
