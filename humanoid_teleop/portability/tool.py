"""The tool frame of a robot's hand: what the porter moves and the report compares.

The tool point is the mean of the hand's fingertip frames (robot.yaml ``fingertip_frames``;
the EE frame for a hand without them);
its orientation is the human hand frame convention (+x toward the fingertips, +z the back of
the hand), ``R_base_hand = R_base_ee @ arm.hand_frame_rotation()``, so tool poses of two
robots compare directly. Hand closure in [0, 1] is the hand's joints projected on its
open -> closed line (robot.yaml ``open_positions`` / ``closed_positions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.arm_ik import arm_geometry
from humanoid_teleop.core.retarget.ik_kernel import chain_poses, compile_now
from humanoid_teleop.core.retarget.task_chains import TaskChains, task_chains
from humanoid_teleop.core.robot import RobotModel

FloatArray = NDArray[np.float64]


@njit(cache=True)
def _poses_point(
    q: Any, links: Any, link_index: Any, ends: Any, shared: Any, rotations: Any, positions: Any
) -> None:
    """:func:`~humanoid_teleop.core.retarget.ik_kernel.chain_poses` of the T task frames
    into ``rotations[:T]`` and ``positions[:T]``, and into ``positions[T]`` the mean of
    frames 1..T-1 (the fingertips), summed in order as numpy sums rows."""
    count = links.shape[0]
    chain_poses(q, links, link_index, ends, shared, rotations, positions[:count])
    for i in range(3):
        total = positions[1, i]
        for t in range(2, count):
            total += positions[t, i]
        positions[count, i] = total / (count - 1)


@njit(cache=True)
def _poses_grasp(
    q: Any, links: Any, link_index: Any, ends: Any, shared: Any, grasp_rows: Any,
    rotations: Any, positions: Any, grasp: Any,
) -> None:  # fmt: skip
    """:func:`_poses_point`, and into ``grasp`` the mean of the ``grasp_rows`` of
    ``positions`` minus the tool point (its last row), as numpy's mean takes it: the rows
    summed in order, divided by their count."""
    _poses_point(q, links, link_index, ends, shared, rotations, positions)
    point = positions.shape[0] - 1
    for i in range(3):
        total = positions[grasp_rows[0], i]
        for r in range(1, grasp_rows.shape[0]):
            total += positions[grasp_rows[r], i]
        grasp[i] = total / grasp_rows.shape[0] - positions[point, i]


@njit(cache=True)
def _poses_rows(
    q: Any, links: Any, link_index: Any, ends: Any, shared: Any, rotations: Any, positions: Any
) -> None:
    """:func:`_poses_point` at each row of ``q`` (n x joints) into ``rotations``
    (n x T x 3 x 3) and ``positions`` (n x T+1 x 3): one call for a whole recorded path."""
    for i in range(q.shape[0]):
        _poses_point(q[i], links, link_index, ends, shared, rotations[i], positions[i])


def _shared_links(chains: TaskChains) -> NDArray[np.int64]:
    """Per task, how many of its leading links are task 0's whole chain (the same start,
    joints and link placements: a fingertip's chain through the arm to the EE), else 0."""
    shared = np.zeros(chains.links.shape[0], dtype=np.int64)
    count = int((chains.link_index[0, :, 0] >= 0).sum())
    for t in range(1, len(shared)):
        if count and (
            np.array_equal(chains.ends[t, :12], chains.ends[0, :12])
            and np.array_equal(chains.link_index[t, :count], chains.link_index[0, :count])
            and np.array_equal(chains.links[t, :count], chains.links[0, :count])
        ):
            shared[t] = count
    return shared


@dataclass(frozen=True)
class ToolPose:
    """Tool point [m] and hand-frame rotation in the base frame."""

    position_m: FloatArray
    rotation: FloatArray


class ArmTool:
    """Tool-frame kinematics of one arm (+ hand) of a robot."""

    def __init__(self, model: RobotModel, side: str) -> None:
        description = model.description
        if side not in description.arms:
            raise ValueError(f"{description.name} has no {side} arm")
        self.model = model
        self.side = side
        self.arm = description.arms[side]
        self.hand_rotation = self.arm.hand_frame_rotation()
        hand = description.hands.get(side)
        self.has_hand = hand is not None and hand.kind != "none" and bool(hand.open_positions)
        #: The closure at which the hand holds an object (robot.yaml ``grip_closure``).
        self.grip_closure = hand.grip_closure if hand is not None else 1.0
        if self.has_hand:
            assert hand is not None and hand.group is not None
            self._hand_idx = model.group_indices(hand.group)
            self._closure_of = hand.closure_of
        pm = model.pin_model
        self._ee_id = pm.getFrameId(self.arm.ee_frame)
        tips = hand.fingertip_frames.values() if hand is not None else ()
        #: The tool point is the EE frame: the hand names no fingertip frames.
        self.tool_is_ee = not tips
        self._tip_ids = [pm.getFrameId(f) for f in tips] or [self._ee_id]
        # the grasp point's rows in the work arrays (1 + fingertip index): the hand's pinch
        # fingers (HandSpec.pinch_fingers), else the EE frame's row (a rigid hand's grasp
        # point is its EE frame, as the scripted demonstrator's is)
        names = list(hand.fingertip_frames) if hand is not None else []
        pinch = hand.pinch_fingers if hand is not None else ()
        self._grasp_rows = [1 + names.index(f) for f in pinch] or [0]
        self._grasp_row_array = np.array(self._grasp_rows, dtype=np.int64)
        self._grasp = np.empty(3)  # frames_grasp's work array
        # The EE's and the fingertips' kinematic chains in the base frame, evaluated by the
        # compiled chain kinematics in one call (a pinocchio pass + frame placements through
        # Python was ~11 us, run once per source sample and twice per ported step).
        base_id = pm.getFrameId(description.base_frame)
        chains = self._chains = task_chains(pm, base_id, [self._ee_id, *self._tip_ids])
        self._rotations = np.empty((len(self._tip_ids) + 1, 3, 3))
        self._positions = np.empty((len(self._tip_ids) + 2, 3))  # + the fingertips' mean
        shared = _shared_links(chains)
        self._chain = (chains.links, chains.link_index, chains.ends, shared)
        # the EE's chain alone (row 0 of each array), for ee_position
        self._ee_chain = (chains.links[:1], chains.link_index[:1], chains.ends[:1], shared[:1])
        self._ee_out = (self._rotations[:1], self._positions[:1])
        compile_now()
        self.frames_rows(model.home_positions()[None])  # compiled (or loaded) now, not later
        self.frames_grasp(model.home_positions())
        self._place(model.home_positions())
        length, shoulder = arm_geometry(model, side, model.home_positions())
        #: Arm length [m] (shoulder -> elbow -> EE at home) and shoulder position [m], base.
        self.arm_length_m = length
        self.shoulder_m = shoulder

    def _place(self, q: FloatArray) -> None:
        """The EE (row 0) and fingertip poses at ``q`` into the work arrays."""
        _poses_point(np.ascontiguousarray(q, dtype=np.float64), *self._chain, self._rotations,
                     self._positions)  # fmt: skip

    def frames(self, q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(EE rotation, EE position [m], tool point [m]) at ``q``, base frame, from one
        kinematics pass."""
        self._place(q)
        positions = self._positions
        return self._rotations[0].copy(), positions[0].copy(), positions[-1].copy()

    def frames_grasp(self, q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """:meth:`frames` and the grasp point minus the tool point [m] (base frame, as
        :meth:`grasp_offsets`) at ``q``, from one kinematics pass (the offset in the same
        compiled call: ~1.5 us of numpy indexing and arithmetic less, at each port step)."""
        q = np.ascontiguousarray(q, dtype=np.float64)
        rows = self._grasp_row_array
        _poses_grasp(q, *self._chain, rows, self._rotations, self._positions, self._grasp)
        positions = self._positions
        return (
            self._rotations[0].copy(),
            positions[0].copy(),
            positions[-1].copy(),
            self._grasp.copy(),
        )

    def frames_grasp_tip(
        self, q: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
        """:meth:`frames_grasp` and :meth:`lowest_tip_z` at ``q``, from one kinematics pass."""
        rotation, position, point, grasp = self.frames_grasp(q)
        return rotation, position, point, grasp, self._placed_lowest_tip_z()

    def frames_rows(self, q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """:meth:`frames` at each row of ``q`` (n x joints), the same numbers: EE rotations
        (n, 3, 3), EE positions (n, 3) and tool points (n, 3) [m], base frame, in one
        compiled call (a recorded path: ~1 us a row instead of ~6)."""
        rotations, positions = self._poses_of_rows(q)
        return rotations[:, 0].copy(), positions[:, 0].copy(), positions[:, -1].copy()

    def grasp_offsets(self, q: FloatArray) -> FloatArray:
        """The grasp point minus the tool point [m], base frame, at each row of ``q`` (n x
        joints). The grasp point is where the hand pinches, as the scripted demonstrator
        places it on an object: the mean of its pinch fingers' tip frames
        (:attr:`~humanoid_teleop.core.robot.HandSpec.pinch_fingers`)."""
        return self._grasp_offsets_of(self._poses_of_rows(q)[1])

    def frames_grasp_rows(
        self, q: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """:meth:`frames_rows` and :meth:`grasp_offsets` at each row of ``q`` (n x joints),
        the same numbers, from one compiled pass (a recorded path's)."""
        rotations, positions = self._poses_of_rows(q)
        return (
            rotations[:, 0].copy(),
            positions[:, 0].copy(),
            positions[:, -1].copy(),
            self._grasp_offsets_of(positions),
        )

    def _poses_of_rows(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The EE and fingertip rotations (n x T x 3 x 3) and positions, with the fingertips'
        mean last (n x T+1 x 3) [m], at each row of ``q`` (n x joints)."""
        rows = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float64)
        count = len(self._tip_ids) + 1
        rotations = np.empty((len(rows), count, 3, 3))
        positions = np.empty((len(rows), count + 1, 3))  # + the fingertips' mean
        _poses_rows(rows, *self._chain, rotations, positions)
        return rotations, positions

    def _grasp_offsets_of(self, positions: FloatArray) -> FloatArray:
        """The grasp point minus the tool point per row of :meth:`_poses_of_rows`' positions."""
        out: FloatArray = positions[:, self._grasp_rows].mean(axis=1) - positions[:, -1]
        return out

    def lowest_tip_z(self, q: FloatArray) -> float:
        """The height [m] (base frame) of the lowest fingertip frame at ``q`` (the EE frame
        without fingertip frames): the point the scripted demonstrator keeps off the table."""
        self._place(q)
        return self._placed_lowest_tip_z()

    def _placed_lowest_tip_z(self) -> float:
        """:meth:`lowest_tip_z` at the configuration last placed (the rows between the EE's
        and the tool point's are the fingertip frames)."""
        return float(self._positions[1:-1, 2].min())

    def ee_position(self, q: FloatArray) -> FloatArray:
        """The EE frame's position [m] at ``q`` (``frames(q)[1]`` without the tool point:
        the EE's chain alone)."""
        chain_poses(np.ascontiguousarray(q, dtype=np.float64), *self._ee_chain, *self._ee_out)
        position: FloatArray = self._positions[0].copy()
        return position

    def ee(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(rotation, position [m]) of the EE frame at ``q``."""
        rotation, position, _ = self.frames(q)
        return rotation, position

    def tool(self, q: FloatArray) -> ToolPose:
        """The tool pose at joint positions ``q`` [rad]."""
        rotation, _, point = self.frames(q)
        return ToolPose(point, rotation @ self.hand_rotation)

    def tool_offset(self, q: FloatArray) -> FloatArray:
        """The tool point in the EE frame [m] at ``q`` (it moves as the fingers close)."""
        rotation, position, point = self.frames(q)
        offset: FloatArray = rotation.T @ (point - position)
        return offset

    def closure(self, q: FloatArray) -> float:
        """Hand closure in [0, 1] from the hand joints of ``q`` (0 without a hand)."""
        if not self.has_hand:
            return 0.0
        return self._closure_of(np.asarray(q)[self._hand_idx])

    def closures(self, q: FloatArray) -> FloatArray:
        """:meth:`closure` of each row of ``q`` (n x joints), the same numbers (each row's
        own dot product, as :meth:`closure` takes it), the hand's columns taken once."""
        rows = np.asarray(q)
        if not self.has_hand:
            return np.zeros(len(rows))
        closure_of = self._closure_of
        return np.array([closure_of(hand) for hand in rows[:, self._hand_idx]], dtype=np.float64)
