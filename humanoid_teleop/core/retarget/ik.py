"""Differential inverse kinematics: task-priority damped least squares with joint limits.

One :class:`DifferentialIk` solves for several end-effector frames at once, each moved by its
own joint subset (e.g. both arms), sharing one pinocchio kinematics pass per iteration.

Per iteration and frame, with position error ``e_p = w_p (p* - p)`` and orientation error
``e_o = w_o log(R* R^T)`` in the base frame's axes and the matching Jacobian rows ``J_p``,
``J_o`` (weighted alike), in strict priority:

1. position: ``dq1 = J_p^+ e_p`` with ``J_p^+ = J_p^T (J_p J_p^T + lambda_p^2 I)^-1`` and
   ``lambda_p^2 = damping^2 + damping_gain |e_p|^2`` (bounded near singularities and for
   unreachable targets);
2. orientation in the null space ``N = I - J_p^+ J_p`` of the position task, damped by
   ``lambda_o^2 = orientation_damping^2 + damping_gain |e_o|^2`` and with joints deep in a
   limit band weighted down, so an infeasible wrist orientation never costs wrist position;
3. posture (pull toward home, push out of the outer 15 % of each joint's range) in the null
   space of both.

The step is scaled so no joint moves more than ``max_step_rad`` per iteration. Joints that
would cross a limit are pinned there and the step is solved again without them (active set).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.safety.limits import clip_fast

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED


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
    def from_dict(cls, data: Mapping[str, Any], source: str) -> IkConfig:
        """Build from the ``ik`` params block; unknown keys and bad values name ``source``."""
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise RetargetConfigError(
                f"{source}: unknown ik key(s) {unknown}; allowed: {sorted(allowed)}"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RetargetConfigError(f"{source}: ik.{key} = {value!r}: need a number")
            if not (math.isfinite(value) and value >= 0):
                raise RetargetConfigError(f"{source}: ik.{key} = {value!r}: need a number >= 0")
            values[key] = (
                int(value) if key in ("max_iterations", "active_set_passes") else float(value)
            )
        if values.get("max_iterations", 1) < 1:
            raise RetargetConfigError(f"{source}: ik.max_iterations must be >= 1")
        return cls(**values)


@dataclass(frozen=True)
class IkTask:
    """One end-effector ``frame`` moved by the joints at ``joints`` (indices into q)."""

    frame: str
    joints: IntArray


class DifferentialIk:
    """Damped least-squares IK over a :class:`RobotModel` (own pinocchio data, one thread)."""

    def __init__(
        self,
        model: RobotModel,
        tasks: Sequence[IkTask],
        config: IkConfig,
        home: FloatArray | None = None,
    ) -> None:
        self.model = model
        self.config = config
        self.tasks = tuple(tasks)
        self._pm = model.pin_model
        self._data = self._pm.createData()
        self._frame_ids = [self._pm.getFrameId(t.frame) for t in self.tasks]
        for task, fid in zip(self.tasks, self._frame_ids, strict=True):
            if fid >= len(self._pm.frames):
                raise RetargetConfigError(
                    f"IK frame {task.frame!r} is not in {model.description.name}"
                )
        self._direct_q = self._pm.nq == model.nq
        lower, upper = model.limits.lower, model.limits.upper
        margin = np.minimum(config.limit_margin_rad, (upper - lower) / 2.0)
        self.lower = np.where(np.isfinite(lower), lower + margin, -np.inf)
        self.upper = np.where(np.isfinite(upper), upper - margin, np.inf)
        bounded = np.isfinite(self.upper - self.lower)
        band = np.where(bounded, 0.15 * (self.upper - self.lower), 1.0)
        self._band = np.maximum(band, 1e-6)
        self._avoid_lo = np.where(bounded, self.lower + band, -np.inf)
        self._avoid_hi = np.where(bounded, self.upper - band, np.inf)
        self.home = np.clip(
            model.home_positions() if home is None else home, self.lower, self.upper
        )
        # The posture pull aims at home moved out of the limit-avoidance bands, so the two
        # null-space terms never pull against each other (homes often sit at a limit).
        self._posture = np.clip(self.home, self._avoid_lo, self._avoid_hi)
        base_id = model.pin_model.getFrameId(model.description.base_frame)
        pin.framesForwardKinematics(self._pm, self._data, pin.neutral(self._pm))
        base = self._data.oMf[base_id].copy()
        self._world_r_base = np.asarray(base.rotation).copy()
        self._world_p_base = np.asarray(base.translation).copy()
        self._weights = np.array([config.position_weight] * 3 + [config.orientation_weight] * 3)

    def _pin_q(self, q: FloatArray) -> FloatArray:
        return q if self._direct_q else self.model.to_pinocchio(q)

    def forward(self, q: FloatArray) -> list[Pose]:
        """Poses of the task frames at ``q`` in the base frame."""
        pin.framesForwardKinematics(self._pm, self._data, self._pin_q(q))
        return [self._base_pose(fid) for fid in self._frame_ids]

    def _base_pose(self, fid: int) -> Pose:
        placement = self._data.oMf[fid]
        rb = self._world_r_base.T
        return Pose(
            rb @ (np.asarray(placement.translation) - self._world_p_base),
            rb @ np.asarray(placement.rotation),
        )

    def solve(self, q: FloatArray, targets: Sequence[Pose | None]) -> FloatArray:
        """Joint positions moving each task frame toward its target (None: leave it).

        ``q`` [rad] over ``joint_names`` is the warm start; only the tasks' joints change.
        Targets are poses in the base frame.
        """
        cfg = self.config
        q = clip_fast(q, self.lower, self.upper)
        start = q.copy()
        world = [
            None
            if t is None or not t.is_finite()
            else (
                self._world_r_base @ t.rotation,
                self._world_r_base @ t.position_m + self._world_p_base,
            )
            for t in targets
        ]
        done = [t is None for t in world]
        for _ in range(cfg.max_iterations):
            pin.computeJointJacobians(self._pm, self._data, self._pin_q(q))
            for k, (task, fid, target) in enumerate(
                zip(self.tasks, self._frame_ids, world, strict=True)
            ):
                if done[k] or target is None:
                    continue
                pin.updateFramePlacement(self._pm, self._data, fid)
                placement = self._data.oMf[fid]
                e_p = target[1] - placement.translation
                e_o = pin.log3(target[0] @ placement.rotation.T)
                dist2, angle2 = float(e_p @ e_p), float(e_o @ e_o)
                if dist2 < cfg.tolerance_m**2 and angle2 < cfg.tolerance_rad**2:
                    done[k] = True
                    continue
                # Refining only pays near the target; far ones get one step per call.
                done[k] = dist2 > cfg.refine_below_m**2 or angle2 > cfg.refine_below_rad**2
                # Far targets pull with a bounded error: smooth, and finite for absurd inputs.
                if dist2 > cfg.max_position_error_m**2:
                    e_p = e_p * (cfg.max_position_error_m / math.sqrt(dist2))
                if angle2 > cfg.max_orientation_error_rad**2:
                    e_o = e_o * (cfg.max_orientation_error_rad / math.sqrt(angle2))
                jac = pin.getFrameJacobian(self._pm, self._data, fid, _LWA)[:, task.joints]
                error = np.concatenate((e_p, e_o)) * self._weights
                jac = jac * self._weights[:, None]
                q[task.joints] = self._step(q[task.joints], jac, error, task.joints)
            if all(done):
                break
        if not np.isfinite(q).all():
            return start
        return q

    def _step(
        self, qj: FloatArray, jac: FloatArray, error: FloatArray, idx: IntArray
    ) -> FloatArray:
        cfg = self.config
        e_p, e_o = error[:3], error[3:]
        lam_p2 = cfg.damping**2 + cfg.damping_gain * float(e_p @ e_p)
        lam_o2 = cfg.orientation_damping**2 + cfg.damping_gain * float(e_o @ e_o)
        lower, upper = self.lower[idx], self.upper[idx]
        posture = cfg.posture_gain * (self._posture[idx] - qj)
        band = self._band[idx]
        depth_lo = clip_fast((self._avoid_lo[idx] - qj) / band, 0.0, 1.0)
        depth_hi = clip_fast((qj - self._avoid_hi[idx]) / band, 0.0, 1.0)
        if cfg.limit_avoidance_gain > 0.0:
            posture = posture + cfg.limit_avoidance_gain * (depth_lo - depth_hi) * band
        # Secondary tasks move joints deep in a limit band less (either direction: cheap).
        weight = 1.0 - 0.9 * np.maximum(depth_lo, depth_hi)
        # Active set in two stages: a joint the step would push past a limit first leaves the
        # secondary tasks (orientation, posture), which must not drive it further; only if
        # the position step alone still does is it pinned at the limit.
        secondary = np.ones(len(qj), dtype=bool)
        pinned = np.zeros(len(qj), dtype=bool)
        new = qj + _bounded(
            _prioritized(jac, error, lam_p2, lam_o2, posture, weight, secondary),
            cfg.max_step_rad,
        )
        for _ in range(2 * cfg.active_set_passes):
            out = ~pinned & ((new < lower) | (new > upper))
            if not out.any():
                break
            pinned |= out & ~secondary
            secondary &= ~out
            dq_pinned = np.where(pinned, clip_fast(new, lower, upper) - qj, 0.0)
            free = ~pinned
            new = qj + dq_pinned
            if not free.any():
                break
            residual = error - jac @ dq_pinned
            new[free] += _bounded(
                _prioritized(
                    jac[:, free],
                    residual,
                    lam_p2,
                    lam_o2,
                    posture[free],
                    weight[free],
                    secondary[free],
                ),
                cfg.max_step_rad,
            )
        result: FloatArray = clip_fast(new, lower, upper)
        return result


_EYE3 = np.eye(3)


def _inv3(m: FloatArray) -> FloatArray:
    """Inverse of a damped (positive definite) 3x3 matrix by cofactors (no LAPACK call)."""
    (a, b, c), (d, e, f), (g, h, i) = m.tolist()
    c00, c10, c20 = e * i - f * h, f * g - d * i, d * h - e * g
    det = a * c00 + b * c10 + c * c20
    inverse: FloatArray = (
        np.array(
            [
                [c00, c * h - b * i, b * f - c * e],
                [c10, a * i - c * g, c * d - a * f],
                [c20, b * g - a * h, a * e - b * d],
            ]
        )
        / det
    )
    return inverse


def _bounded(dq: FloatArray, max_step_rad: float) -> FloatArray:
    """``dq`` scaled down (direction kept) so no entry exceeds ``max_step_rad``."""
    peak = float(np.max(np.abs(dq))) if len(dq) else 0.0
    if peak <= max_step_rad:
        return dq
    scaled: FloatArray = dq * (max_step_rad / peak)
    return scaled


def _prioritized(
    jac: FloatArray,
    error: FloatArray,
    lam_p2: float,
    lam_o2: float,
    posture: FloatArray,
    weight: FloatArray,
    secondary: NDArray[np.bool_],
) -> FloatArray:
    """Position step over all joints; orientation, then posture, over the ``secondary`` joints.

    The secondary step lies in the null space of the position task restricted to the
    secondary joints, so it does not disturb the position (up to damping).
    """
    jp, jo = jac[:3], jac[3:]
    jp_pinv = (_inv3(jp @ jp.T + lam_p2 * _EYE3) @ jp).T
    dq: FloatArray = jp_pinv @ error[:3]
    if not secondary.any():
        return dq
    if not secondary.all():
        jp, jo = jp[:, secondary], jo[:, secondary]
        jp_pinv = (_inv3(jp @ jp.T + lam_p2 * _EYE3) @ jp).T
        posture, weight = posture[secondary], weight[secondary]
    n1 = np.eye(jp.shape[1]) - jp_pinv @ jp
    jon = jo @ n1
    jw = jon * weight
    rhs = np.empty((3, 2))
    rhs[:, 0] = error[3:] - jac[3:] @ dq
    rhs[:, 1] = jon @ posture
    sol = _inv3(jw @ jon.T + lam_o2 * _EYE3) @ rhs
    step = n1 @ (jw.T @ (sol[:, 0] - sol[:, 1]) + posture)
    if secondary.all():
        dq += step
    else:
        dq[secondary] += step
    return dq


def arm_tasks(model: RobotModel, sides: Iterable[str] | None = None) -> list[IkTask]:
    """One task per arm: its EE frame driven by its group's joints (default: every arm)."""
    arms = model.description.arms
    return [
        IkTask(arms[side].ee_frame, model.group_indices(arms[side].group))
        for side in (arms if sides is None else sides)
    ]
