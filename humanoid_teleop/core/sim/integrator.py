"""Kinematic joint integrator: commanded positions → smooth motion within joint limits.

Each joint follows its commanded position like a first-order lag (time constant ``lag_s``)
whose velocity is capped by the joint's velocity limit and whose velocity changes are capped by
its acceleration limit; it also brakes early enough to stop at the target without overshoot.
Positions never leave ``[lower, upper]``: targets are clamped into the limits before use.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.robot.limits import JointLimits
from humanoid_teleop.core.sim.errors import InvalidCommand, SimConfigError

LOG = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


class JointIntegrator:
    """Integrates commanded joint positions into positions and velocities.

    ``lag_s`` is the first-order lag time constant in [s] (0: follow as fast as the limits
    allow). ``limits`` must be fit for motion (a model's ``motion_limits``; see
    :meth:`JointLimits.for_motion`). Starts at rest at ``initial_positions`` (clamped into the
    limits), which is also the first target, so the joints hold until commanded.
    """

    def __init__(
        self, limits: JointLimits, initial_positions: Sequence[float] | FloatArray, lag_s: float
    ) -> None:
        limits.require_for_motion("the joint integrator")
        if not (math.isfinite(lag_s) and lag_s >= 0.0):
            raise SimConfigError(f"lag time constant lag_s={lag_s} s must be finite and >= 0")
        self.limits = limits
        self.lag_s = float(lag_s)
        self._index = {name: i for i, name in enumerate(limits.names)}
        start = self._checked(limits.names, initial_positions, "initial positions")
        self._q = np.clip(start, limits.lower, limits.upper)
        self._v = np.zeros_like(self._q)
        self._target = self._q.copy()

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names, in the order of every array this integrator takes and returns."""
        return self.limits.names

    @property
    def positions(self) -> FloatArray:
        """Current joint positions in [rad] (a copy)."""
        return self._q.copy()

    @property
    def velocities(self) -> FloatArray:
        """Current joint velocities in [rad/s] (a copy)."""
        return self._v.copy()

    @property
    def targets(self) -> FloatArray:
        """Current (limit-clamped) target positions in [rad] (a copy)."""
        return self._target.copy()

    def set_targets(self, names: Sequence[str], positions: Sequence[float] | FloatArray) -> None:
        """Command ``positions`` [rad] for the joints ``names``; other joints keep their target.

        Raises :class:`InvalidCommand` (and changes nothing) on an unknown joint, a length
        mismatch or a non-finite value.
        """
        values = self._checked(names, positions, "command")
        unknown = [name for name in names if name not in self._index]
        if unknown:
            raise InvalidCommand(
                f"command names unknown joints {unknown}; known: {list(self.joint_names)}"
            )
        idx = np.array([self._index[name] for name in names], dtype=np.intp)
        self._target[idx] = np.clip(values, self.limits.lower[idx], self.limits.upper[idx])

    def step(self, dt_s: float) -> FloatArray:
        """Advance by ``dt_s`` [s] and return the new positions [rad] (a copy)."""
        if not (math.isfinite(dt_s) and dt_s > 0.0):
            raise InvalidCommand(f"integration step dt_s={dt_s} s must be finite and > 0")
        lim = self.limits
        error = self._target - self._q
        distance = np.abs(error)
        direction = np.sign(error)
        lag_speed = distance / max(self.lag_s, dt_s)
        # Fastest speed that still stops on the target: the largest v with
        # v·dt + v²/(2a) <= distance. Keeping to it this step leaves a distance from which
        # decelerating by a·dt per step is again within the bound, so no step overshoots.
        a_dt = lim.acceleration * dt_s
        with np.errstate(invalid="ignore"):
            brake_speed = np.where(
                np.isinf(lim.acceleration),
                np.inf,
                -a_dt + np.sqrt(a_dt * a_dt + 2.0 * lim.acceleration * distance),
            )
        wanted = direction * np.minimum(np.minimum(lag_speed, brake_speed), lim.velocity)
        v = self._v + np.clip(wanted - self._v, -a_dt, a_dt)
        q = self._q + v * dt_s
        clamped = np.clip(q, lim.lower, lim.upper)
        v = np.where(clamped != q, 0.0, v)
        self._q, self._v = clamped, v
        return self._q.copy()

    def _checked(
        self, names: Sequence[str], positions: Sequence[float] | FloatArray, what: str
    ) -> FloatArray:
        values = np.asarray(positions, dtype=np.float64)
        if values.shape != (len(names),):
            raise InvalidCommand(
                f"{what}: {values.size} values for {len(names)} joints {list(names)}"
            )
        bad = [name for name, value in zip(names, values, strict=True) if not math.isfinite(value)]
        if bad:
            raise InvalidCommand(f"{what}: non-finite position for joints {bad}")
        return values
