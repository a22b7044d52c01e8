"""A virtual table that pushes back on hands that go into it (spring-damper + friction).

The table top is the rectangle ``x ∈ [x_min_m, x_max_m]``, ``y ∈ [y_min_m, y_max_m]`` at height
``height_m``, all in the robot's base frame (REP-103: x forward, y left, z up). A contact point
below the top and inside the rectangle feels a normal force ``k·depth − c·v_z``, never pulling
and at most ``max_force_n`` (a kinematic hand can sink arbitrarily deep; a real F/T sensor
saturates), and a regularised Coulomb friction force opposing its sliding velocity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.sim.errors import SimConfigError

FloatArray = NDArray[np.float64]

#: Sliding speed [m/s] below which friction grows linearly instead of jumping to μ·N.
FRICTION_REGULARISATION_M_S = 0.01


@dataclass(frozen=True)
class TableConfig:
    """Where the virtual table is and how stiff it is (base frame, SI units)."""

    height_m: float
    x_min_m: float = 0.15
    x_max_m: float = 0.9
    y_min_m: float = -0.6
    y_max_m: float = 0.6
    stiffness_n_m: float = 2000.0
    damping_n_s_m: float = 40.0
    friction: float = 0.5
    max_force_n: float = 100.0

    def validate(self, source: str = "table") -> None:
        """Raise :class:`SimConfigError` if the rectangle or a coefficient is impossible."""
        if not self.x_min_m < self.x_max_m:
            raise SimConfigError(
                f"{source}: x_min_m={self.x_min_m} must be < x_max_m={self.x_max_m}"
            )
        if not self.y_min_m < self.y_max_m:
            raise SimConfigError(
                f"{source}: y_min_m={self.y_min_m} must be < y_max_m={self.y_max_m}"
            )
        for key in ("stiffness_n_m", "damping_n_s_m", "friction", "max_force_n"):
            if getattr(self, key) < 0.0:
                raise SimConfigError(f"{source}.{key}: {getattr(self, key)} must be >= 0")


@dataclass(frozen=True)
class Wrench:
    """A force [N] and a torque [N·m], each a 3-vector in one named frame."""

    force_n: FloatArray
    torque_nm: FloatArray


class TableContact:
    """Contact forces of the virtual table on points of the robot."""

    def __init__(self, config: TableConfig) -> None:
        config.validate()
        self.config = config

    def force_on_point(self, point_m: FloatArray, velocity_m_s: FloatArray) -> FloatArray:
        """Force [N] the table applies to a point at ``point_m`` moving at ``velocity_m_s``.

        Both inputs and the result are in the base frame. Zero outside the table or above it.
        """
        c = self.config
        x, y, z = (float(v) for v in point_m)
        depth = c.height_m - z
        if depth <= 0.0 or not (c.x_min_m <= x <= c.x_max_m and c.y_min_m <= y <= c.y_max_m):
            return np.zeros(3)
        pushed = c.stiffness_n_m * depth - c.damping_n_s_m * float(velocity_m_s[2])
        normal = min(max(0.0, pushed), c.max_force_n)
        sliding = np.array([velocity_m_s[0], velocity_m_s[1]], dtype=np.float64)
        speed = float(np.hypot(*sliding))
        scale = c.friction * normal / max(speed, FRICTION_REGULARISATION_M_S)
        return np.array([-scale * sliding[0], -scale * sliding[1], normal])

    def wrench_at(
        self,
        sensor_rotation: FloatArray,
        sensor_position_m: FloatArray,
        points_m: Sequence[FloatArray],
        velocities_m_s: Sequence[FloatArray],
    ) -> Wrench:
        """Total table wrench on ``points_m`` about the sensor origin, in the sensor frame.

        ``sensor_rotation`` (3×3) and ``sensor_position_m`` place the sensor frame in the base
        frame; points and velocities are in the base frame.
        """
        force = np.zeros(3)
        torque = np.zeros(3)
        for point, velocity in zip(points_m, velocities_m_s, strict=True):
            f = self.force_on_point(point, velocity)
            force += f
            torque += np.cross(np.asarray(point) - sensor_position_m, f)
        rot_t = np.asarray(sensor_rotation).T
        return Wrench(force_n=rot_t @ force, torque_nm=rot_t @ torque)
