"""Operator-to-robot calibration of wrist poses, captured at engage.

Two modes, both in the robot base frame (REP-103 like the operator frame):

* ``relative`` (default): the robot EE keeps its pose at engage and then moves by the
  operator's wrist displacement since engage, scaled by ``scale``; orientation follows the
  operator's wrist rotation since engage: ``R* = R_wrist(t) R_wrist(0)^T R_ee(0)``.
* ``absolute``: position is the operator's wrist relative to their shoulder centre
  (``shoulder_below_head_m`` under the head at engage), scaled, placed at the robot's
  shoulder centre; orientation is the wrist's, mapped through the arm's ``hand_frame_rpy``:
  ``R* = R_wrist(t) R_ee_hand^T``.

``scale`` is robot arm length / operator arm length (``operator_arm_length_m``), or a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.motion.frame import Pose

FloatArray = NDArray[np.float64]
MODES = ("relative", "absolute")


@dataclass(frozen=True)
class CalibrationConfig:
    """How wrist poses map to EE targets (see the module docstring).

    Attributes:
        mode: ``relative`` or ``absolute``.
        scale: Position scale, or None for robot arm length / ``operator_arm_length_m``.
        operator_arm_length_m: Operator's shoulder-to-wrist length [m].
        shoulder_below_head_m: Operator's shoulder centre below the head [m] (absolute mode).
    """

    mode: str = "relative"
    scale: float | None = None
    operator_arm_length_m: float = 0.6
    shoulder_below_head_m: float = 0.25

    @classmethod
    def from_field(cls, params: Field) -> CalibrationConfig:
        """Read ``mode``, ``scale`` (null: from the arm lengths), ``operator_arm_length_m``
        and ``shoulder_below_head_m`` (numbers > 0) from a retargeter's ``params``."""
        mode = params.optional("mode")
        scale = params.optional("scale")
        values = {
            key: item.as_positive_float()
            for key in ("operator_arm_length_m", "shoulder_below_head_m")
            if (item := params.optional(key)) is not None
        }
        return cls(
            mode=mode.as_choice(MODES) if mode is not None else cls.mode,
            scale=scale.as_positive_float() if scale is not None else None,
            **values,
        )

    def scale_for(self, robot_arm_length_m: float) -> float:
        """The position scale for a robot arm of ``robot_arm_length_m`` [m]: ``scale``, else
        that length / ``operator_arm_length_m``."""
        return self.scale or robot_arm_length_m / self.operator_arm_length_m


@dataclass(frozen=True)
class ArmCalibration:
    """The captured neutral of one arm; :meth:`target` maps a wrist pose to an EE target."""

    mode: str
    scale: float
    wrist0: Pose
    ee0: Pose
    human_anchor_m: FloatArray
    robot_anchor_m: FloatArray
    ee_r_hand: FloatArray

    def affine(self) -> tuple[FloatArray, FloatArray, float, FloatArray]:
        """``(a, b, scale, c)``: the target of wrist pose ``(p, R)`` is position
        ``a + scale (p - b)`` [m] and rotation ``R @ c`` (see :meth:`target`)."""
        if self.mode == "relative":
            c = self.wrist0.rotation.T @ self.ee0.rotation
            return self.ee0.position_m, self.wrist0.position_m, self.scale, c
        return self.robot_anchor_m, self.human_anchor_m, self.scale, self.ee_r_hand.T

    def target(self, wrist: Pose) -> Pose:
        """EE target pose in the base frame for an operator wrist pose.

        Relative mode moves the EE from its pose at calibration as the wrist moved from its
        own; absolute mode places it at the robot's shoulder centre plus the wrist's offset
        from the operator's, scaled, and turns it as the wrist is turned.
        """
        a, b, scale, c = self.affine()
        return Pose(a + scale * (wrist.position_m - b), wrist.rotation @ c)


def recaptured_wrist(scale: float, ee: Pose, wrist: Pose, target: Pose) -> Pose:
    """The operator wrist at which a ``relative`` calibration of position scale ``scale``
    captured against the robot's EE pose ``ee`` maps ``wrist`` onto the EE ``target``: the
    calibration that mapped ``wrist`` to ``target`` when they were recorded, captured again
    where the robot is now (a replay that starts where a recording did, not where its
    operator engaged)."""
    rotation = ee.rotation @ target.rotation.T @ wrist.rotation
    position = wrist.position_m - (target.position_m - ee.position_m) / scale
    return Pose(position, rotation)


def capture(
    config: CalibrationConfig,
    wrist: Pose,
    ee: Pose,
    head: Pose | None,
    robot_arm_length_m: float,
    robot_shoulder_centre_m: FloatArray,
    ee_r_hand: FloatArray,
) -> ArmCalibration:
    """Calibrate one arm from the operator's current wrist (and head) and the robot's EE pose."""
    scale = config.scale_for(robot_arm_length_m)
    if head is not None and head.is_finite():
        anchor = head.position_m - np.array([0.0, 0.0, config.shoulder_below_head_m])
    else:
        anchor = np.zeros(3)
    return ArmCalibration(
        mode=config.mode,
        scale=scale,
        wrist0=wrist,
        ee0=ee,
        human_anchor_m=anchor,
        robot_anchor_m=np.asarray(robot_shoulder_centre_m, dtype=np.float64),
        ee_r_hand=ee_r_hand,
    )


def later_calibrations_ns(
    calibrated_ns: Sequence[int], engages_ns: Sequence[int], start_ns: int
) -> list[int]:
    """The times [ns] at which a recording's operator input began to go through a new
    calibration, after the one in effect at ``start_ns`` (where its input starts): each
    recorded calibration (``/teleop/intent/calibrated``, ``calibrated_ns``) after it, but
    the first when none lay at or before it (that one is the engage's own, captured on the
    first input); a recording made before that topic has none, and then each engage
    (``engages_ns``: the ``true`` messages of ``/teleop/intent/engaged``) after ``start_ns``
    counts (a re-centre was not recorded)."""
    if not calibrated_ns:
        return sorted(t for t in engages_ns if t > start_ns)
    later = sorted(t for t in calibrated_ns if t > start_ns)
    return later if len(later) < len(calibrated_ns) else later[1:]


def engaged_at(
    times_ns: Sequence[int] | NDArray[np.int64], engaged: Sequence[tuple[int, bool]]
) -> NDArray[np.bool_]:
    """Whether a recording's teleop node followed its operator at each of ``times_ns``
    [ns], by its engaged flags (``/teleop/intent/engaged``, (time [ns], engaged) each): no
    when a disengage came before that time with no engage since (at or after it); an input
    sampled at a disengage's own time was still followed (the step that used it came
    first), one at an engage's time is (it is the one the engage calibrates on). Before
    any flag, or without flags, yes (nothing recorded says otherwise). Raw ``/operator/*``
    input at a time it did not (a pause) moved no robot: a replay of it holds there, as one
    of the intent topics does, which the teleop node publishes only while engaged."""
    times = np.asarray(times_ns, dtype=np.int64)
    off_ns = np.array(sorted(t for t, on in engaged if not on), dtype=np.int64)
    if not len(off_ns):
        return np.ones(len(times), dtype=bool)
    on_ns = np.array(sorted(t for t, on in engaged if on), dtype=np.int64)
    last_off = np.searchsorted(off_ns, times, side="left") - 1  # before the time
    last_on = np.searchsorted(on_ns, times, side="right") - 1  # at or before it
    off_at = off_ns[np.maximum(last_off, 0)]
    on_at = on_ns[np.maximum(last_on, 0)] if len(on_ns) else np.zeros(len(times), np.int64)
    at: NDArray[np.bool_] = (last_off < 0) | ((last_on >= 0) & (on_at >= off_at))
    return at
