"""Per-joint limits the safety layer enforces."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.safety.errors import SafetyConfigError

FloatArray = NDArray[np.float64]


def clip_fast(
    values: FloatArray, lower: FloatArray | float, upper: FloatArray | float
) -> FloatArray:
    """``np.clip`` without its Python-level overhead (two ufunc calls), for hot loops."""
    out: FloatArray = np.minimum(np.maximum(values, lower), upper)
    return out


@dataclass(frozen=True)
class JointLimits:
    """Limits over ``names`` (same order as every array).

    ``lower`` / ``upper`` [rad or m], ``velocity`` [rad/s or m/s] > 0,
    ``acceleration`` [rad/s^2 or m/s^2] > 0 (``inf`` for none).
    """

    names: tuple[str, ...]
    lower: FloatArray
    upper: FloatArray
    velocity: FloatArray
    acceleration: FloatArray

    @functools.cached_property
    def name_array(self) -> NDArray[np.object_]:
        """``names`` as an object array, to pick names with a boolean mask."""
        return np.array(self.names, dtype=object)

    def __post_init__(self) -> None:
        n = len(self.names)
        for field in ("lower", "upper", "velocity", "acceleration"):
            value = getattr(self, field)
            if value.shape != (n,):
                raise SafetyConfigError(f"joint limits: {field} has shape {value.shape}, need {n}")
        for i, name in enumerate(self.names):
            lo, hi, v, a = self.lower[i], self.upper[i], self.velocity[i], self.acceleration[i]
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise SafetyConfigError(
                    f"joint limits: {name}: position limits [{lo}, {hi}] must be finite "
                    "with lower <= upper"
                )
            if not (np.isfinite(v) and v > 0.0):
                raise SafetyConfigError(
                    f"joint limits: {name}: velocity {v} must be finite and > 0"
                )
            if not a > 0.0:
                raise SafetyConfigError(f"joint limits: {name}: acceleration {a} must be > 0")

    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        lower: Sequence[float] | FloatArray,
        upper: Sequence[float] | FloatArray,
        velocity: Sequence[float] | FloatArray,
        acceleration: Sequence[float] | FloatArray | None = None,
    ) -> JointLimits:
        """Build from sequences; ``acceleration`` defaults to unlimited (``inf``)."""
        n = len(names)
        acc = np.full(n, np.inf) if acceleration is None else np.asarray(acceleration, float)
        return cls(
            tuple(names),
            np.asarray(lower, dtype=np.float64).copy(),
            np.asarray(upper, dtype=np.float64).copy(),
            np.asarray(velocity, dtype=np.float64).copy(),
            np.where(np.isfinite(acc) & (acc > 0), acc, np.inf).astype(np.float64),
        )

    def select(self, indices: NDArray[np.intp]) -> JointLimits:
        """Limits of a subset of joints, by index."""
        return JointLimits(
            tuple(self.names[i] for i in indices),
            self.lower[indices],
            self.upper[indices],
            self.velocity[indices],
            self.acceleration[indices],
        )

    def inner_bounds(self, margin: float) -> tuple[FloatArray, FloatArray]:
        """Position bounds shrunk by ``margin`` on each side (never past the range's middle)."""
        half = (self.upper - self.lower) / 2.0
        m = np.minimum(max(margin, 0.0), half)
        return self.lower + m, self.upper - m
