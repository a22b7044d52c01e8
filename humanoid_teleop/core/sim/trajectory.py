"""Executing a received joint trajectory: the commanded positions at each instant.

Like a ros2_control joint trajectory controller (without its PID): the trajectory starts at
``start_s`` from the joints' positions at that time, and the command moves linearly from point
to point, reaching each point at ``start_s + time_from_start``. After the last point it holds the
last point. A newer trajectory for the same joints replaces the older one (the caller's job).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.sim.errors import InvalidCommand

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrajectoryPlayback:
    """A trajectory in progress: ``joint_names``, their positions when it started, the points.

    ``times_s`` are the points' ``time_from_start`` [s] (non-decreasing, >= 0) and
    ``positions`` a (points × joints) array [rad]; ``start_s`` is when it started [s].
    """

    joint_names: tuple[str, ...]
    start_positions: FloatArray
    times_s: FloatArray
    positions: FloatArray
    start_s: float

    @classmethod
    def build(
        cls,
        joint_names: Sequence[str],
        start_positions: Sequence[float],
        times_s: Sequence[float],
        positions: Sequence[Sequence[float]],
        start_s: float,
        source: str,
    ) -> TrajectoryPlayback:
        """Validate and build; ``source`` (e.g. the topic) prefixes every error message."""
        names = tuple(joint_names)
        n = len(names)
        if not times_s:
            raise InvalidCommand(f"{source}: trajectory has no points")
        times = np.asarray(times_s, dtype=np.float64)
        if not np.all(np.isfinite(times)) or np.any(times < 0.0) or np.any(np.diff(times) < 0):
            raise InvalidCommand(
                f"{source}: time_from_start must be finite, >= 0 and non-decreasing; got "
                f"{[round(float(t), 4) for t in times]}"
            )
        rows = []
        for k, point in enumerate(positions):
            row = np.asarray(point, dtype=np.float64)
            if row.shape != (n,):
                raise InvalidCommand(
                    f"{source}: point {k} has {row.size} positions for {n} joints {list(names)}"
                )
            if not np.all(np.isfinite(row)):
                raise InvalidCommand(f"{source}: point {k} has a non-finite position")
            rows.append(row)
        if len(rows) != len(times):
            raise InvalidCommand(f"{source}: {len(rows)} points but {len(times)} times")
        start = np.asarray(start_positions, dtype=np.float64)
        if start.shape != (n,):
            raise InvalidCommand(f"{source}: {start.size} start positions for {n} joints")
        if not math.isfinite(start_s):
            raise InvalidCommand(f"{source}: start time {start_s} is not finite")
        return cls(names, start, times, np.stack(rows), float(start_s))

    @property
    def end_s(self) -> float:
        """When the last point is reached [s]."""
        return self.start_s + float(self.times_s[-1])

    def sample(self, t_s: float) -> FloatArray:
        """Commanded positions [rad] at time ``t_s`` [s]."""
        elapsed = t_s - self.start_s
        times: FloatArray = np.concatenate([[0.0], self.times_s])
        points: FloatArray = np.vstack([self.start_positions, self.positions])
        if elapsed >= times[-1]:
            return np.array(points[-1])
        if elapsed <= 0.0:
            return np.array(points[0])
        k = int(np.searchsorted(times, elapsed, side="right"))
        t0, t1 = times[k - 1], times[k]
        w = 0.0 if t1 <= t0 else (elapsed - t0) / (t1 - t0)
        return np.asarray(points[k - 1] + w * (points[k] - points[k - 1]))
