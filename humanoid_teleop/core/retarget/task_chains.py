"""The kinematic chains of the IK's end-effector tasks, as arrays for the compiled solver.

Pinocchio builds and checks the model; :func:`task_chains` reads from it, once, the chain of
joints that moves each task frame (its support, root to frame). The solver
(:func:`humanoid_teleop.core.retarget.ik_kernel.frame_kinematics`) then evaluates a frame's
pose and Jacobian columns from ``q`` in one pass over that chain, without a call into
pinocchio per iteration: one short loop over ~10 joints instead of a whole-model pass plus
four Python-level pinocchio calls per task. The tests hold it to pinocchio
(``framesForwardKinematics`` / ``getFrameJacobian``) on every shipped robot.

Everything is expressed in the robot's *base* frame (which must be fixed to the world, as
:class:`~humanoid_teleop.core.robot.RobotModel` checks): the chain starts at the inverse of
the base placement, so targets in the base frame need no conversion. Jacobians are
``LOCAL_WORLD_ALIGNED`` in pinocchio's terms, with base axes instead of world axes (a constant
rotation, which the damped least-squares step does not see).

Array layout (``T`` tasks, ``L`` the longest chain; shorter chains are padded with ``-1``):

* ``links`` (T, L, 15) float: per chain joint, its placement in its parent joint (rotation
  row-major, 9; translation, 3) and its unit axis in its own frame (3);
* ``link_index`` (T, L, 2) int: the joint's index into ``q`` (-1: padding) and 1 when it is
  prismatic (0: revolute or continuous);
* ``ends`` (T, 24) float: where the chain starts (the inverse base placement) and the task
  frame's placement in the last joint, each as rotation (9) + translation (3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.errors import RetargetConfigError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class TaskChains:
    """The chains of several task frames, in the kernels' array layout (see module doc)."""

    links: FloatArray
    link_index: IntArray
    ends: FloatArray

    def chain_position(self, task: int, q_index: int) -> int:
        """Where joint ``q_index`` sits in task ``task``'s chain (-1: it does not move it)."""
        hits = np.nonzero(self.link_index[task, :, 0] == q_index)[0]
        return int(hits[0]) if len(hits) else -1


def _rt(placement: Any) -> FloatArray:
    return np.concatenate(
        [np.asarray(placement.rotation).reshape(9), np.asarray(placement.translation)]
    )


def task_chains(
    pm: Any, base_frame_id: int, frame_ids: Sequence[int], root_q: FloatArray | None = None
) -> TaskChains:
    """Read the chains that move ``frame_ids`` out of pinocchio model ``pm``.

    Joint ``j`` of the model is ``q[j - 1]`` (one degree of freedom each, as
    :class:`~humanoid_teleop.core.robot.RobotModel` requires). Raises RetargetConfigError for
    a joint that is neither revolute nor prismatic about a fixed axis.

    The chains express poses in frame ``base_frame_id`` as it is placed at the pinocchio
    configuration ``root_q`` (default: neutral; a base frame fixed to the model root is
    placed the same at every configuration). The hand solver uses the EE frame at the arm's
    home this way (the fingertips in the EE frame, their Jacobians in its axes).
    """
    data = pm.createData()
    pin.computeJointJacobians(pm, data, pin.neutral(pm))
    pin.framesForwardKinematics(pm, data, pin.neutral(pm))
    placed = data
    if root_q is not None:  # its own data: the joint subspaces below are read at neutral
        placed = pm.createData()
        pin.framesForwardKinematics(pm, placed, root_q)
    root = _rt(placed.oMf[base_frame_id].inverse())
    chains = [[j for j in pm.supports[pm.frames[fid].parentJoint] if j != 0] for fid in frame_ids]
    longest = max((len(c) for c in chains), default=0)
    links = np.zeros((len(frame_ids), max(longest, 1), 15))
    link_index = np.full((len(frame_ids), max(longest, 1), 2), -1, dtype=np.int64)
    ends = np.zeros((len(frame_ids), 24))
    for t, (fid, chain) in enumerate(zip(frame_ids, chains, strict=True)):
        for k, jid in enumerate(chain):
            # The joint's motion subspace in its own frame: (linear, angular) per unit velocity.
            subspace = pin.getJointJacobian(pm, data, jid, pin.ReferenceFrame.LOCAL)
            column = np.asarray(subspace[:, pm.joints[jid].idx_v])
            linear, angular = column[:3], column[3:]
            prismatic = bool(np.allclose(angular, 0.0))
            axis = linear if prismatic else angular
            fixed_axis = prismatic or np.allclose(linear, 0.0)
            one_dof = pm.joints[jid].nv == 1
            if not (one_dof and fixed_axis and np.isclose(np.linalg.norm(axis), 1.0)):
                raise RetargetConfigError(
                    f"IK chain of frame {pm.frames[fid].name!r}: joint {pm.names[jid]!r} "
                    f"({pm.joints[jid].shortname()}) is not a revolute or prismatic joint "
                    "about a fixed axis"
                )
            links[t, k, :12] = _rt(pm.jointPlacements[jid])
            links[t, k, 12:] = axis
            link_index[t, k] = (jid - 1, int(prismatic))
        ends[t, :12] = root
        ends[t, 12:] = _rt(pm.frames[fid].placement)
    return TaskChains(links, link_index, ends)
