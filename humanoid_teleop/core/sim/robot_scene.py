"""What the simulator derives from a robot's kinematics: its TF tree, capsules and contacts.

All poses come from one :meth:`RobotModel.fk_all` pass and are in the description's base frame.
The TF tree follows the model's links: an edge per link to its parent link, *static* when the
link hangs on a fixed joint, plus every extra frame robot.yaml adds (fingertips, cameras, F/T
sensors) as a static edge. The robot is drawn as one capsule per link, from the parent link's
origin to the link's origin, coloured by the group of the joint that moves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pinocchio as pin
from numba import njit
from numpy.typing import NDArray

from humanoid_teleop.core.motion.rotation import matrix_to_quat, quats_from_matrices
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.sim.camera import Capsule
from humanoid_teleop.core.sim.contact import TableConfig

FloatArray = NDArray[np.float64]
Poses = Mapping[str, tuple[FloatArray, FloatArray]]

#: Capsule radius [m] by the kind of group a link belongs to.
_RADIUS_M = {"hand": 0.011, "arm": 0.03, "head": 0.05, "waist": 0.06, "legs": 0.045}
_DEFAULT_RADIUS_M = 0.03
_COLOURS = {
    ("left", "arm"): (52, 101, 164),
    ("left", "hand"): (114, 159, 207),
    ("right", "arm"): (206, 92, 0),
    ("right", "hand"): (252, 175, 62),
}
_BODY_RGB = (136, 138, 133)
_BOTTLE_RGB = (204, 0, 0)

#: How far below the lower hand at home the automatic table top sits [m].
AUTO_TABLE_DROP_M = 0.05


def object_frame(name: str) -> str:
    """The /tf child frame of scene object ``name`` (its parent: the robot's base frame)."""
    return f"sim/{name}"


@dataclass(frozen=True)
class TfEdge:
    """A parent → child transform of the TF tree; ``static`` ones never change with ``q``."""

    parent: str
    child: str
    static: bool


@dataclass(frozen=True)
class _LinkSegment:
    parent: str
    child: str
    radius_m: float
    color_rgb: tuple[int, int, int]


def _group_kind(group: str | None) -> tuple[str | None, str | None]:
    """(side, kind) of a group name such as ``left_arm`` → ('left', 'arm')."""
    if group is None:
        return None, None
    for side in ("left", "right"):
        if group.startswith(side + "_"):
            return side, group[len(side) + 1 :]
    return None, group


class RobotScene:
    """TF edges, drawable capsules and table-contact points of one robot."""

    def __init__(self, model: RobotModel) -> None:
        self.model = model
        description = model.description
        frames = model.pin_model.frames
        edges: list[TfEdge] = []
        segments: list[_LinkSegment] = []
        link_group: dict[str, str | None] = {}
        tips = {
            tip for hand in description.hands.values() for tip in hand.fingertip_frames.values()
        }
        for index, frame in enumerate(frames):
            if index == 0:
                continue  # pinocchio's "universe"
            if frame.type == pin.FrameType.BODY:
                connector = frames[frame.parentFrame]
                parent = _nearest_link(frames, connector.parentFrame)
                if parent is None:
                    continue  # the model's root link: the TF root
                moving = connector.type == pin.FrameType.JOINT
                # a link moved by a joint in no group (fixed, passive, mimic) is coloured
                # like its parent: a gripper's passive fingers look like its hand
                group = description.group_of(connector.name) if moving else None
                if group is None:
                    group = link_group.get(parent.name)
                link_group[frame.name] = group
                edges.append(TfEdge(parent.name, frame.name, static=not moving))
                segments.append(_segment(parent.name, frame.name, group))
            elif frame.type == pin.FrameType.OP_FRAME:
                parent = _nearest_link(frames, frame.parentFrame)
                if parent is None:
                    continue
                edges.append(TfEdge(parent.name, frame.name, static=True))
                if frame.name in tips:
                    group = link_group.get(parent.name)
                    segments.append(_segment(parent.name, frame.name, group))
        base_id = model.pin_model.getFrameId(description.base_frame)
        pin.framesForwardKinematics(
            model.pin_model, model.pin_data, model.to_pinocchio(model.home_positions())
        )
        self._base_inverse = model.pin_data.oMf[base_id].inverse()  # base is fixed to the root
        self.edges: tuple[TfEdge, ...] = tuple(edges)
        self._frame_ids = {
            name: int(model.pin_model.getFrameId(name))
            for edge in edges
            for name in (edge.parent, edge.child)
        }
        self._segments = tuple(segments)
        self._static_edges = tuple(e for e in edges if e.static)
        self._moving_edges = tuple(e for e in edges if not e.static)
        self._one_joint: dict[tuple[TfEdge, ...], _OneJointEdges | None] = {}
        self._moving_plan = _OneJointEdges.build(model, self._moving_edges)
        self.contact_frames: Mapping[str, tuple[str, ...]] = {
            side: (
                arm.ee_frame,
                *(
                    description.hands[side].fingertip_frames.values()
                    if side in description.hands
                    else ()
                ),
            )
            for side, arm in description.arms.items()
        }

    @property
    def static_edges(self) -> tuple[TfEdge, ...]:
        """Edges to publish once on ``/tf_static``."""
        return self._static_edges

    @property
    def moving_edges(self) -> tuple[TfEdge, ...]:
        """Edges that change with ``q`` (``/tf``)."""
        return self._moving_edges

    def transforms(
        self, poses: Poses, edges: Sequence[TfEdge]
    ) -> list[tuple[TfEdge, FloatArray, FloatArray]]:
        """(edge, rotation 3×3, translation [m]) of each child in its parent frame."""
        out = []
        for edge in edges:
            rp, pp = poses[edge.parent]
            rc, pc = poses[edge.child]
            out.append((edge, rp.T @ rc, rp.T @ (pc - pp)))
        return out

    def frame_poses(
        self, q: FloatArray, frames: Sequence[str]
    ) -> dict[str, tuple[FloatArray, FloatArray]]:
        """Poses of only ``frames`` in the base frame at ``q`` (cheaper than ``fk_all``)."""
        model = self.model
        data = model.pin_data
        pin.framesForwardKinematics(model.pin_model, data, model.to_pinocchio(q))
        base_inv = self._base_inverse
        out = {}
        for name in frames:
            pose = base_inv * data.oMf[model.pin_model.getFrameId(name)]
            out[name] = (np.array(pose.rotation), np.array(pose.translation))
        return out

    def edge_transforms(
        self, q: FloatArray, edges: Sequence[TfEdge]
    ) -> tuple[FloatArray, FloatArray]:
        """Child-in-parent quaternions (n×4, x y z w) and translations (n×3 [m]) of ``edges``.

        Edges that each cross one revolute joint (every moving edge of the shipped robots)
        are computed from that joint alone (:class:`_OneJointEdges`); other edge
        lists take one kinematics pass and array maths.
        """
        if edges is self._moving_edges:  # by identity: hashing ~40 edges costs more than this
            one_joint = self._moving_plan
        else:
            key = tuple(edges)
            if key not in self._one_joint:
                self._one_joint[key] = _OneJointEdges.build(self.model, key)
            one_joint = self._one_joint[key]
        if one_joint is not None:
            return one_joint.transforms(q)
        model = self.model
        data = model.pin_data
        pin.framesForwardKinematics(model.pin_model, data, model.to_pinocchio(q))
        ids = self._frame_ids
        parents = [data.oMf[ids[e.parent]] for e in edges]
        children = [data.oMf[ids[e.child]] for e in edges]
        rp = np.array([f.rotation for f in parents])
        pp = np.array([f.translation for f in parents])
        rc = np.array([f.rotation for f in children])
        pc = np.array([f.translation for f in children])
        rotations = np.einsum("nji,njk->nik", rp, rc)  # Rp^T Rc
        translations = np.einsum("nji,nj->ni", rp, pc - pp)  # Rp^T (pc - pp)
        return quats_from_matrices(rotations), translations

    def capsules(self, poses: Poses) -> list[Capsule]:
        """The robot as capsules in the base frame."""
        return [
            Capsule(poses[s.parent][1], poses[s.child][1], s.radius_m, s.color_rgb)
            for s in self._segments
        ]

    def contact_points(self, poses: Poses, side: str) -> list[FloatArray]:
        """Positions [m] of the wrist and fingertips of ``side`` that can touch the table."""
        return [poses[name][1] for name in self.contact_frames.get(side, ())]

    def side_of_frame(self, frame: str) -> str | None:
        """The arm side (``left``/``right``) whose end effector is nearest ``frame`` at home."""
        poses = self.model.fk_all(self.model.home_positions())
        if frame not in poses or not self.contact_frames:
            return None
        here = poses[frame][1]
        return min(
            self.contact_frames,
            key=lambda side: float(np.linalg.norm(poses[self.contact_frames[side][0]][1] - here)),
        )

    def default_table(self) -> TableConfig:
        """A table in front of the robot, its top 5 cm below the lower hand at home."""
        poses = self.model.fk_all(self.model.home_positions())
        ees = [poses[frames[0]][1] for frames in self.contact_frames.values()]
        if not ees:
            return TableConfig(height_m=0.0)
        near_x = min(float(p[0]) for p in ees) - 0.1
        return TableConfig(
            height_m=min(float(p[2]) for p in ees) - AUTO_TABLE_DROP_M,
            x_min_m=near_x,
            x_max_m=near_x + 0.6,
            y_min_m=-0.6,
            y_max_m=0.6,
        )


def bottle_on(table: TableConfig) -> Capsule:
    """A red bottle (20 cm tall) standing on the middle of the table, a prop for the cameras."""
    x = table.x_min_m + 0.25
    y = 0.5 * (table.y_min_m + table.y_max_m)
    return Capsule(
        np.array([x, y, table.height_m + 0.03]),
        np.array([x, y, table.height_m + 0.2]),
        0.03,
        _BOTTLE_RGB,
    )


_AXES = {
    "JointModelRX": (1.0, 0.0, 0.0),
    "JointModelRY": (0.0, 1.0, 0.0),
    "JointModelRZ": (0.0, 0.0, 1.0),
}


class _OneJointEdges:
    """Child-in-parent transforms of TF edges that each cross one revolute joint, without a
    kinematics pass: the child link sits at ``A · Rot(axis, q_j) · B`` in its parent link,
    with ``A`` (parent link -> joint at zero) and ``B`` (joint -> child link) fixed.

    Both parts are linear in the joint's sines, so they are precomputed per edge: the
    quaternion ``q_A ⊗ (sin(q/2) axis, cos(q/2)) ⊗ q_B`` and the translation
    ``a + A (I + sin(q) K + (1 - cos(q)) K²) b`` (K: the axis' cross-product matrix). All
    edges at once in arrays: ~10 µs where reading ~40 placements out of pinocchio's data
    costs ~1 ms (the offline episode writer publishes /tf of every port at 50 Hz)."""

    def __init__(self, index: NDArray[np.intp], quat: FloatArray, translation: FloatArray) -> None:
        self._index = index  # each edge's joint in q
        # n×4 each: the quaternion (x y z w) parts times cos(q/2), sin(q/2); n×3 each: the
        # translation parts times 1, sin(q), 1 - cos(q). Each part its own contiguous array:
        # arithmetic on the strided slices of one n×2×4 / n×3×3 array took twice as long
        self._quat = (np.ascontiguousarray(quat[:, 0]), np.ascontiguousarray(quat[:, 1]))
        self._translation = (
            np.ascontiguousarray(translation[:, 0]),
            np.ascontiguousarray(translation[:, 1]),
            np.ascontiguousarray(translation[:, 2]),
        )
        self.transforms(np.zeros(int(index.max()) + 1))  # compiled (or loaded) now, not at a /tf

    @classmethod
    def build(cls, model: RobotModel, edges: tuple[TfEdge, ...]) -> _OneJointEdges | None:
        """The plan for ``edges``, or None when one of them is not a single revolute joint
        between two links (a static edge, a continuous or prismatic joint, ...)."""
        pm = model.pin_model
        index, quats, translations = [], [], []
        for edge in edges:
            child = pm.frames[pm.getFrameId(edge.child)]
            parent = pm.frames[pm.getFrameId(edge.parent)]
            connector = pm.frames[child.parentFrame]
            joint = child.parentJoint
            if edge.static or connector.type != pin.FrameType.JOINT:
                return None
            if parent.parentJoint != pm.parents[joint] or connector.parentJoint != joint:
                return None
            model_joint = pm.joints[joint]
            kind = model_joint.shortname()
            if kind == "JointModelRevoluteUnaligned":
                axis = np.array(model_joint.extract().axis, dtype=np.float64)
            elif kind in _AXES:
                axis = np.array(_AXES[kind])
            else:
                return None
            if model_joint.nq != 1:
                return None
            axis = axis / np.linalg.norm(axis)
            a = parent.placement.inverse() * pm.jointPlacements[joint]
            b = child.placement
            q_a, q_b = matrix_to_quat(a.rotation), matrix_to_quat(b.rotation)
            cos_part = _quat_product(q_a, q_b)
            sin_part = _quat_product(_quat_product(q_a, np.append(axis, 0.0)), q_b)
            k = pin.skew(axis)
            a_r, b_p = np.asarray(a.rotation), np.asarray(b.translation)
            index.append(joint - 1)  # q follows the model's joints (RobotModel.joint_names)
            quats.append([cos_part, sin_part])
            translations.append(
                [np.asarray(a.translation) + a_r @ b_p, a_r @ k @ b_p, a_r @ k @ k @ b_p]
            )
        if not edges:
            return None
        return cls(
            np.array(index, dtype=np.intp),
            np.array(quats, dtype=np.float64),
            np.array(translations, dtype=np.float64),
        )

    def transforms(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Quaternions (n×4, x y z w, w >= 0) and translations (n×3 [m]) of the child links
        at ``q`` [rad]."""
        angles = np.asarray(q, dtype=np.float64)[self._index]
        quats = np.empty((len(angles), 4))
        translations = np.empty((len(angles), 3))
        _one_joint_transforms(angles, *self._quat, *self._translation, quats, translations)
        return quats, translations


@njit(cache=True)
def _one_joint_transforms(
    angles: Any, quat_cos: Any, quat_sin: Any, fixed: Any, by_sin: Any, by_versine: Any,
    quats: Any, translations: Any,
) -> None:  # fmt: skip
    """:meth:`_OneJointEdges.transforms` of each edge ``e`` (its joint at ``angles[e]``
    [rad], its parts ``quat_cos[e]`` ... ``by_versine[e]``) into ``quats[e]`` and
    ``translations[e]``: the numbers of the array expressions it replaced, each product
    rounded and the terms summed in their order (``cos_part cos + sin_part sin``, ``fixed +
    by_sin sin + by_versine (1 - cos)``, the squared norm over x y z w), each part divided
    by the norm. One compiled pass: ~15 numpy calls took ~20 us a /tf (~40 in a port)."""
    for e in range(angles.shape[0]):
        angle = angles[e]
        cos_half, sin_half = math.cos(0.5 * angle), math.sin(0.5 * angle)
        total = 0.0
        for i in range(4):
            part = quat_cos[e, i] * cos_half + quat_sin[e, i] * sin_half
            quats[e, i] = part
            total += part * part
        norm = math.sqrt(total)
        for i in range(4):
            quats[e, i] /= norm
        if quats[e, 3] < 0.0:
            for i in range(4):
                quats[e, i] = -quats[e, i]
        sin_angle, versine = math.sin(angle), 1.0 - math.cos(angle)
        for i in range(3):
            translations[e, i] = fixed[e, i] + by_sin[e, i] * sin_angle + by_versine[e, i] * versine


def _quat_product(p: FloatArray, q: FloatArray) -> FloatArray:
    """Hamilton product ``p ⊗ q`` of quaternions (x, y, z, w)."""
    px, py, pz, pw = p
    qx, qy, qz, qw = q
    return np.array(
        [
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
            pw * qw - px * qx - py * qy - pz * qz,
        ]
    )


def _nearest_link(frames: object, index: int) -> pin.Frame | None:
    """The first BODY frame at or above ``index`` in the frame tree (None at the root)."""
    while index > 0:
        frame = frames[index]  # type: ignore[index]
        if frame.type == pin.FrameType.BODY:
            return frame
        index = frame.parentFrame
    return None


def _segment(parent: str, child: str, group: str | None) -> _LinkSegment:
    side, kind = _group_kind(group)
    radius = _RADIUS_M.get(kind or "", _DEFAULT_RADIUS_M)
    colour = _COLOURS.get((side or "", kind or ""), _BODY_RGB)
    return _LinkSegment(parent, child, radius, colour)
