"""Leader-arm calibration: the automatic π/2 offset search.

A servo horn can be mounted in any of four quarter-turn positions, so the offset between a
servo's reading and the joint angle is (up to the operator's small pose error) a multiple of
π/2. Holding the leader in a known pose, the offset for each joint is the multiple of π/2 that
brings ``sign * raw + offset`` closest to the target. The per-joint search is the joint_map
retargeter's own (:func:`humanoid_teleop.core.retarget.joint_map.search_offset`, offsets in
[-2π, 2π]), so calibrating the leader here and ``auto_offset`` at engage agree.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.retarget.joint_map import search_offset

FloatArray = npt.NDArray[np.float64]
QUARTER_TURN_RAD = math.pi / 2.0


class CalibrationError(TeleopError):
    """The leader's pose is too far from any quarter-turn offset of the target."""


def quarter_turn_offsets(
    raw_rad: FloatArray,
    target_rad: FloatArray,
    signs: FloatArray,
    names: list[str] | None = None,
    tolerance_rad: float = math.pi / 4.0,
) -> FloatArray:
    """Offsets ``k * π/2`` [rad], ``|k| <= 4``, minimizing ``|sign * raw + offset - target|``.

    Args:
        raw_rad: Servo readings [rad] while the operator holds the calibration pose.
        target_rad: The joint angles of that pose [rad].
        signs: +1 or -1 per joint (direction of the servo relative to the joint).
        names: Joint names for error messages.
        tolerance_rad: Largest accepted residual [rad]; the default π/4 always accepts (each
            residual is at most π/4), a smaller value rejects a sloppy calibration pose.

    Raises:
        CalibrationError: naming the joints whose residual exceeds ``tolerance_rad``.
    """
    raw = np.asarray(raw_rad, dtype=np.float64)
    target = np.asarray(target_rad, dtype=np.float64)
    sign = np.asarray(signs, dtype=np.float64)
    if not (raw.shape == target.shape == sign.shape):
        raise ValueError(f"shapes differ: raw {raw.shape}, target {target.shape}, {sign.shape}")
    if not np.all(np.isfinite(raw)) or not np.all(np.isfinite(target)):
        raise CalibrationError("calibration readings or target contain NaN / inf")
    offsets = np.array(
        [
            search_offset(float(r), float(t), float(g), 1.0)
            for r, t, g in zip(raw, target, sign, strict=True)
        ],
        dtype=np.float64,
    )
    residual = np.abs(sign * raw + offsets - target)
    bad = np.flatnonzero(residual > tolerance_rad + 1e-12)
    if bad.size:
        labels = names or [f"joint {i}" for i in range(raw.size)]
        detail = ", ".join(f"{labels[i]} off by {residual[i]:.3f} rad" for i in bad)
        raise CalibrationError(
            f"leader pose is not close enough to the calibration pose: {detail} "
            f"(tolerance {tolerance_rad:.3f} rad); hold the pose and retry"
        )
    return offsets
