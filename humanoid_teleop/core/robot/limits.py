"""Per-joint limits: the one type the robot model, the safety filter, IK and the sim share.

A :class:`RobotModel` reads them from its URDF/MJCF plus robot.yaml's overrides
(``model.limits``: position bounds may be infinite for continuous joints, a velocity of 0 means
the model does not say). Whatever moves joints over time — the safety filter, the simulated
robot — uses :meth:`JointLimits.for_motion` of them (``model.motion_limits``): finite position
bounds and a velocity for every joint, :data:`DEFAULT_VELOCITY_RAD_S` where the model has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.robot.errors import JointLimitsError

FloatArray = NDArray[np.float64]

#: Velocity limit [rad/s or m/s] of a joint whose model gives none (URDF ``velocity="0"`` or
#: no ``<limit>``), used by the safety filter and the simulated robot alike. ``robots check``
#: warns about such joints; set ``limits.joints.<name>.velocity`` in robot.yaml instead.
DEFAULT_VELOCITY_RAD_S = 1.0
#: Stand-in position bound [rad] for joints without one (continuous joints), so every motion
#: limit is finite.
UNBOUNDED_POSITION_RAD = 100.0

_FIELDS = ("lower", "upper", "velocity", "acceleration", "effort")


def _array(values: Sequence[float] | FloatArray) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class JointLimits:
    """Limits over ``names``, every array in the same order.

    ``lower`` / ``upper`` [rad or m] (``±inf``: no bound), ``velocity`` [rad/s or m/s]
    (0: the model does not say), ``acceleration`` [rad/s² or m/s²] > 0 (``inf``: none),
    ``effort`` [N·m or N] (0: the model does not say). Arrays are read-only copies.
    """

    names: tuple[str, ...]
    lower: FloatArray
    upper: FloatArray
    velocity: FloatArray
    acceleration: FloatArray
    effort: FloatArray

    def __post_init__(self) -> None:
        n = len(self.names)
        object.__setattr__(self, "names", tuple(self.names))
        for field in _FIELDS:
            value = _array(getattr(self, field))
            if value.shape != (n,):
                raise JointLimitsError(
                    f"joint limits: {field} has shape {value.shape}, need ({n},) for "
                    f"joints {list(self.names)}"
                )
            object.__setattr__(self, field, value)
        for i, name in enumerate(self.names):
            lo, hi = self.lower[i], self.upper[i]
            if np.isnan(lo) or np.isnan(hi) or lo > hi:
                raise JointLimitsError(
                    f"joint limits: {name}: position limits [{lo}, {hi}] must have "
                    "lower <= upper (no NaN)"
                )
            v, a, e = self.velocity[i], self.acceleration[i], self.effort[i]
            if not (np.isfinite(v) and v >= 0.0):
                raise JointLimitsError(
                    f"joint limits: {name}: velocity {v} must be finite and >= 0 (0: not given)"
                )
            if not a > 0.0:
                raise JointLimitsError(
                    f"joint limits: {name}: acceleration {a} must be > 0 (inf: none)"
                )
            if not e >= 0.0:
                raise JointLimitsError(f"joint limits: {name}: effort {e} must be >= 0")

    @classmethod
    def from_arrays(
        cls,
        names: Sequence[str],
        lower: Sequence[float] | FloatArray,
        upper: Sequence[float] | FloatArray,
        velocity: Sequence[float] | FloatArray,
        acceleration: Sequence[float] | FloatArray | None = None,
        effort: Sequence[float] | FloatArray | None = None,
    ) -> JointLimits:
        """Build from sequences; ``acceleration`` defaults to none (``inf``), as does any
        acceleration that is not a finite positive number; ``effort`` defaults to not given."""
        n = len(names)
        acc = np.full(n, np.inf) if acceleration is None else np.asarray(acceleration, float)
        return cls(
            tuple(names),
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
            np.asarray(velocity, dtype=np.float64),
            np.where(np.isfinite(acc) & (acc > 0), acc, np.inf),
            np.zeros(n) if effort is None else np.asarray(effort, dtype=np.float64),
        )

    @property
    def velocity_not_given(self) -> tuple[str, ...]:
        """Joints whose velocity limit is 0 (the model does not say)."""
        return tuple(n for n, v in zip(self.names, self.velocity, strict=True) if v == 0.0)

    @property
    def fit_for_motion(self) -> bool:
        """True when every position bound is finite and every velocity limit > 0."""
        return bool(
            np.isfinite(self.lower).all()
            and np.isfinite(self.upper).all()
            and (self.velocity > 0.0).all()
        )

    def for_motion(self) -> JointLimits:
        """The limits joint motion is bounded by: infinite position bounds become
        ``±UNBOUNDED_POSITION_RAD`` and a velocity of 0 becomes :data:`DEFAULT_VELOCITY_RAD_S`
        (the joints are :attr:`velocity_not_given`); the rest is unchanged."""
        if self.fit_for_motion:
            return self
        return JointLimits(
            self.names,
            np.where(np.isfinite(self.lower), self.lower, -UNBOUNDED_POSITION_RAD),
            np.where(np.isfinite(self.upper), self.upper, UNBOUNDED_POSITION_RAD),
            np.where(self.velocity > 0.0, self.velocity, DEFAULT_VELOCITY_RAD_S),
            self.acceleration,
            self.effort,
        )

    def require_for_motion(self, user: str) -> None:
        """Raise :class:`JointLimitsError` naming ``user`` and the joints unless
        :attr:`fit_for_motion` (use :meth:`for_motion` to get such limits)."""
        if self.fit_for_motion:
            return
        unbounded = ~(np.isfinite(self.lower) & np.isfinite(self.upper))
        slow = ~(self.velocity > 0.0)
        bad = [
            f"{name}: position limits [{self.lower[i]}, {self.upper[i]}] must be finite"
            if unbounded[i]
            else f"{name}: velocity {self.velocity[i]} must be > 0"
            for i, name in enumerate(self.names)
            if unbounded[i] or slow[i]
        ]
        raise JointLimitsError(
            f"joint limits for {user}: " + "; ".join(bad) + " (use JointLimits.for_motion())"
        )

    def select(self, indices: NDArray[np.intp]) -> JointLimits:
        """Limits of a subset of joints, by index."""
        return JointLimits(
            tuple(self.names[i] for i in indices),
            self.lower[indices],
            self.upper[indices],
            self.velocity[indices],
            self.acceleration[indices],
            self.effort[indices],
        )

    def inner_bounds(self, margin: float) -> tuple[FloatArray, FloatArray]:
        """Position bounds shrunk by ``margin`` on each side (never past the range's middle)."""
        half = (self.upper - self.lower) / 2.0
        m = np.minimum(max(margin, 0.0), half)
        return self.lower + m, self.upper - m
