"""When to play which frame of a recorded clip, so playback keeps to wall-clock time.

A clip of ``frame_count`` frames sampled every ``frame_time_s`` is played ``rate_scale`` times
faster than recorded (0.5: half speed). Frame ``i`` belongs to the wall-clock time
``i·frame_time_s / rate_scale`` after the start and is due from half a period before it, so a
timer ticking at the frame period with some jitter still plays every frame once. A late caller
gets the newest due frame (older ones are counted as skipped), never a burst of stale ones.
With ``loop`` the clip restarts after its last frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from humanoid_teleop.core.sim.errors import SimConfigError


@dataclass
class ReplaySchedule:
    """Frame due at a time since the start of playback; counts skipped frames."""

    frame_count: int
    frame_time_s: float
    rate_scale: float = 1.0
    loop: bool = True
    skipped: int = field(default=0, init=False)
    _last: int = field(default=-1, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.frame_count < 1:
            raise SimConfigError(f"replay: a clip needs at least 1 frame, got {self.frame_count}")
        if not (math.isfinite(self.frame_time_s) and self.frame_time_s > 0.0):
            raise SimConfigError(f"replay: frame time {self.frame_time_s} s must be > 0")
        if not (math.isfinite(self.rate_scale) and self.rate_scale > 0.0):
            raise SimConfigError(
                f"replay: rate_scale={self.rate_scale} must be a finite number > 0 "
                "(1.0 plays at the recorded speed)"
            )

    @property
    def period_s(self) -> float:
        """Wall-clock time between frames [s]."""
        return self.frame_time_s / self.rate_scale

    @property
    def duration_s(self) -> float:
        """Wall-clock time of one pass through the clip [s]."""
        return self.frame_count * self.period_s

    def finished(self, elapsed_s: float) -> bool:
        """True once a non-looping clip has played its last frame."""
        return not self.loop and self._absolute(elapsed_s) >= self.frame_count - 1

    def due(self, elapsed_s: float) -> int | None:
        """Index of the frame to publish now, or None if it was already published."""
        absolute = self._absolute(elapsed_s)
        if not self.loop:
            absolute = min(absolute, self.frame_count - 1)
        if absolute <= self._last:
            return None
        if self._last >= 0:
            self.skipped += absolute - self._last - 1
        self._last = absolute
        return absolute % self.frame_count

    def passes(self, elapsed_s: float) -> int:
        """How many times the clip has restarted by ``elapsed_s`` (0 during the first pass)."""
        return self._absolute(elapsed_s) // self.frame_count

    def _absolute(self, elapsed_s: float) -> int:
        # nearest frame: a timer firing a little early or late still gets its own frame
        return max(0, math.floor(elapsed_s / self.period_s + 0.5))


@dataclass
class TimelineSchedule:
    """Which messages of a recording are due, for messages at arbitrary times.

    ``times_s`` are the messages' offsets from the first one [s], non-decreasing. Played
    ``rate_scale`` times faster than recorded; with ``loop`` the timeline restarts one
    ``gap_s`` after its last message. :meth:`due` returns every message not yet returned whose
    time has come (a late caller gets all of them, in order, so no message is lost).
    """

    times_s: tuple[float, ...]
    rate_scale: float = 1.0
    loop: bool = True
    gap_s: float = 0.1
    passes_done: int = field(default=0, init=False)
    _next: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.times_s:
            raise SimConfigError("replay: the recording has no messages to play")
        if any(b < a for a, b in zip(self.times_s, self.times_s[1:], strict=False)):
            raise SimConfigError("replay: message times must be non-decreasing")
        if not (math.isfinite(self.rate_scale) and self.rate_scale > 0.0):
            raise SimConfigError(
                f"replay: rate_scale={self.rate_scale} must be a finite number > 0 "
                "(1.0 plays at the recorded speed)"
            )

    @property
    def pass_s(self) -> float:
        """Recorded time of one pass including the gap before restarting [s]."""
        return self.times_s[-1] - self.times_s[0] + self.gap_s

    def finished(self) -> bool:
        """True once a non-looping timeline has returned its last message."""
        return not self.loop and self.passes_done > 0

    def due(self, elapsed_s: float) -> list[int]:
        """Indices (into ``times_s``) of the messages to publish now, in order."""
        recorded = elapsed_s * self.rate_scale
        out: list[int] = []
        n = len(self.times_s)
        while not self.finished():
            offset = self.passes_done * self.pass_s
            if self._next < n:
                if self.times_s[self._next] - self.times_s[0] + offset > recorded:
                    break
                out.append(self._next)
                self._next += 1
                continue
            if not self.loop:
                self.passes_done += 1
                break
            if (self.passes_done + 1) * self.pass_s > recorded:
                break
            self.passes_done += 1
            self._next = 0
        return out
