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
A step that leaves the frame farther from its target position (beyond ``tolerance_m``) is
halved, up to four times (toward an unreachable target the linear step overshoots).
A whole solve runs compiled (:mod:`humanoid_teleop.core.retarget.ik_kernel`), with each
task frame's kinematics evaluated along its own joint chain
(:mod:`humanoid_teleop.core.retarget.task_chains`, read from the pinocchio model once);
this module prepares its arrays. ``forward`` uses pinocchio directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.retarget.ik_kernel import compile_now, kernel_settings, solve_tasks
from humanoid_teleop.core.retarget.task_chains import task_chains
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


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
        bounds: tuple[FloatArray, FloatArray] | None = None,
    ) -> None:
        """Solutions stay ``config.limit_margin_rad`` inside the model's position limits and
        within ``bounds`` (lower, upper over ``model.joint_names``, e.g. a retargeter's
        ``context.commandable_bounds()``; None: the margin only)."""
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
        if bounds is not None:  # never outside what may be commanded
            self.lower = np.minimum(np.maximum(self.lower, bounds[0]), bounds[1])
            self.upper = np.maximum(np.minimum(self.upper, bounds[1]), self.lower)
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
        self._limits = np.vstack((self.lower, self.upper))
        self._chains = task_chains(self._pm, base_id, self._frame_ids)
        widest = max((len(task.joints) for task in self.tasks), default=1)
        # Per task, its joints (index into q, position in the task's chain), -1 padded ...
        self._task_joints = np.full((len(self.tasks), widest, 2), -1, dtype=np.int64)
        # ... and the kernel's bounds over them (rows: ik_kernel.BOUND_ROWS).
        self._bounds = np.zeros((len(self.tasks), 6, widest))
        rows = (self.lower, self.upper, self._posture, self._band, self._avoid_lo, self._avoid_hi)
        for t, task in enumerate(self.tasks):
            for c, joint in enumerate(task.joints):
                self._task_joints[t, c] = (joint, self._chains.chain_position(t, int(joint)))
            self._bounds[t, :, : len(task.joints)] = np.vstack([r[task.joints] for r in rows])
        #: Per task, its target in the base frame: rotation row-major (9), position [m] (3);
        #: NaN: none. :meth:`solve` writes it; callers may write it and call :meth:`solve_set`.
        self.targets = np.full((len(self.tasks), 12), np.nan)
        self._settings = kernel_settings(config)
        compile_now()

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

        ``q`` [rad] over ``joint_names`` is the warm start (not changed); only the tasks'
        joints move, and every joint is clipped into the solver's limits. Targets are poses
        in the base frame.
        """
        for t, target in enumerate(targets):
            if target is None:
                self.targets[t] = np.nan
            else:
                self.targets[t, :9] = target.rotation.reshape(9)
                self.targets[t, 9:] = target.position_m
        return self.solve_set(q)

    def solve_set(self, q: FloatArray) -> FloatArray:
        """As :meth:`solve`, toward the targets already written into :attr:`targets`."""
        out = np.array(q, dtype=np.float64)
        solve_tasks(
            out,
            self._limits,
            self._chains,
            self._task_joints,
            self.targets,
            self._weights,
            self._bounds,
            self._settings,
        )
        return out

    def target_pose(self, task: int) -> Pose | None:
        """The target set for ``task`` (a copy), or None if it has none."""
        row = self.targets[task]
        if not np.isfinite(row[0]):
            return None
        return Pose(row[9:].copy(), row[:9].reshape(3, 3).copy())


def arm_tasks(model: RobotModel, sides: Iterable[str] | None = None) -> list[IkTask]:
    """One task per arm: its EE frame driven by its group's joints (default: every arm)."""
    arms = model.description.arms
    return [
        IkTask(arms[side].ee_frame, model.group_indices(arms[side].group))
        for side in (arms if sides is None else sides)
    ]
