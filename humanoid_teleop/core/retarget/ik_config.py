"""Settings of the differential IK (:mod:`humanoid_teleop.core.retarget.ik`)."""

from __future__ import annotations

from dataclasses import dataclass

from humanoid_teleop.core.config import Field


@dataclass(frozen=True)
class IkConfig:
    """Solver settings.

    Attributes:
        max_iterations: Solver iterations per call (warm-started from the last solution).
        position_weight: Weight of position error [1/m].
        orientation_weight: Weight of orientation error [1/rad].
        damping: Base damping (same units as the weighted error).
        damping_gain: Extra damping per squared weighted error.
        posture_gain: Null-space pull toward the home posture per iteration, [0, 1].
        limit_avoidance_gain: Null-space push away from a limit once a joint is within the
            outer 15 % of its range, per iteration.
        limit_margin_rad: Solutions stay this far inside position limits [rad].
        tolerance_m: Stop iterating below this position error [m] ...
        tolerance_rad: ... and this orientation error [rad].
        refine_below_m: A second iteration in the same call runs only below this position
            error [m] ...
        refine_below_rad: ... and this orientation error [rad] (far targets: one step per call).
        max_position_error_m: Position error per iteration is clipped to this [m] ...
        max_orientation_error_rad: ... and orientation error to this [rad].
        active_set_passes: How many times joints that would cross a limit are pinned there
            and the step re-solved without them.
        orientation_damping: Base damping of the orientation task, which runs in the null
            space of the position task [rad]; larger gives up orientation sooner.
        max_step_rad: Largest joint change per iteration [rad] (the step is scaled, not
            clipped, so its direction is kept).
    """

    max_iterations: int = 2
    position_weight: float = 1.0
    orientation_weight: float = 0.5
    damping: float = 1e-3
    damping_gain: float = 0.05
    posture_gain: float = 0.01
    limit_avoidance_gain: float = 0.05
    limit_margin_rad: float = 0.03
    tolerance_m: float = 2e-4
    tolerance_rad: float = 2e-3
    active_set_passes: int = 3
    max_position_error_m: float = 0.2
    refine_below_m: float = 0.01
    refine_below_rad: float = 0.1
    max_orientation_error_rad: float = 1.0
    orientation_damping: float = 0.3
    max_step_rad: float = 0.5

    @classmethod
    def from_params(cls, params: Field) -> IkConfig:
        """Build from the ``ik`` block of a retargeter's ``params`` (defaults without one);
        unknown keys and bad values raise :class:`RetargetConfigError` naming the file, line
        and ``params.ik.<key>``."""
        block = params.optional("ik")
        if block is None:
            return cls()
        values = block.as_fields_of(cls)
        for key, value in values.items():
            if value < 0:
                raise block.child(key).error(f"{value!r}: need a number >= 0")
        if values.get("max_iterations", 1) < 1:
            raise block.child("max_iterations").error("need an integer >= 1")
        return cls(**values)
