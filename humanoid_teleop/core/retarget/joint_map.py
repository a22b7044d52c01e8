"""``joint_map``: leader-device joints (exoskeleton, leader arm) -> robot joints by name.

``robot = clamp(sign * scale * leader + offset_rad)`` per mapped joint. With
``auto_offset: true`` the offsets are found at engage, with the leader held in the robot's
home pose: each offset is the multiple of pi/2 (within +-2 pi) that brings the leader reading
closest to the robot's home angle (encoders are often mounted a quarter turn apart).

Params::

    auto_offset: false
    joints:                      # omit to map every joint of the groups by identical name;
                                 # `by_order`: the leader's joints, in message order, onto the
                                 # groups' joints in group order
      - {leader: j1, robot: left_shoulder_pitch_joint, sign: -1, scale: 1.0,
         offset_rad: 0.0, clamp: [-1.5, 1.5]}
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.motion.frame import HumanFrame, Input, LeaderJoints
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import RetargetConfigError

FloatArray = NDArray[np.float64]
LOG = logging.getLogger(__name__)
_JOINT_KEYS = {"leader", "robot", "sign", "scale", "offset_rad", "clamp"}


@dataclass(frozen=True)
class JointMapping:
    """One leader joint -> one robot joint (angles in [rad])."""

    leader: str
    robot: str
    sign: float = 1.0
    scale: float = 1.0
    offset_rad: float = 0.0
    clamp: tuple[float, float] = (-math.inf, math.inf)

    def apply(self, leader_rad: float, offset_rad: float | None = None) -> float:
        """Robot angle [rad] for a leader angle [rad]."""
        offset = self.offset_rad if offset_rad is None else offset_rad
        value = self.sign * self.scale * leader_rad + offset
        return min(self.clamp[1], max(self.clamp[0], value))


def search_offset(leader_rad: float, home_rad: float, sign: float, scale: float) -> float:
    """The multiple of pi/2 in [-2 pi, 2 pi] making the mapped leader angle closest to home."""
    base = sign * scale * leader_rad
    candidates = [k * math.pi / 2 for k in sorted(range(-4, 5), key=abs)]
    return min(candidates, key=lambda off: abs(base + off - home_rad))


def parse_mappings(joints: Field) -> list[JointMapping]:
    """The ``joints`` list of the params: ``leader`` and ``robot`` names, ``sign`` (1 or
    -1), ``scale``, ``offset_rad`` (finite numbers), ``clamp`` ([lower, upper] [rad])."""
    out = []
    for item in joints.elements():
        item.as_mapping(allowed=sorted(_JOINT_KEYS), required=("leader", "robot"))
        values: dict[str, Any] = {
            key: number.as_float()
            for key in ("sign", "scale", "offset_rad")
            if (number := item.optional(key)) is not None
        }
        if values.get("sign", 1.0) not in (1.0, -1.0):
            raise item.child("sign").error(f"got {values['sign']}; allowed: 1, -1")
        clamp = item.optional("clamp")
        if clamp is not None:
            bounds = clamp.elements()
            if len(bounds) != 2:
                raise clamp.error(f"expected [lower, upper], got {len(bounds)} values")
            lower, upper = (bound.as_float() for bound in bounds)
            if not lower <= upper:
                raise clamp.error(f"lower {lower} must be <= upper {upper}")
            values["clamp"] = (lower, upper)
        out.append(
            JointMapping(item.child("leader").as_str(), item.child("robot").as_str(), **values)
        )
    return out


class JointMapRetargeter(Retargeter):
    """Leader joints -> robot joints of any groups (see the module docstring)."""

    name = "joint_map"
    inputs = frozenset({Input.LEADER})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params({"joints", "auto_offset"})
        self.auto_offset = bool(context.param("auto_offset", False, bool))
        groups = self.model.description.groups
        self._group_of = {j: g for g in context.groups for j in groups[g]}
        self._group_idx = {g: self.model.group_indices(g) for g in context.groups}
        self._home = dict(zip(self.model.joint_names, self.model.home_positions(), strict=True))
        self.by_order = context.params.get("joints") == "by_order"
        self.mappings: list[JointMapping] = []
        self.offsets: list[float] = []
        self._slot: dict[str, tuple[str, int]] = {}
        if self.by_order:
            return  # mapped from the first leader message
        if "joints" in context.params:
            mappings = parse_mappings(context.params_field().child("joints"))
        else:
            mappings = [JointMapping(j, j) for g in context.groups for j in groups[g]]
        self._set_mappings(mappings)

    def _set_mappings(self, mappings: list[JointMapping]) -> None:
        groups = self.model.description.groups
        for m in mappings:
            if m.robot not in self._group_of:
                raise RetargetConfigError(
                    f"{self.context.source}: robot joint {m.robot!r} is not in the groups "
                    f"{list(self.context.groups)} of {self.model.description.name}"
                )
        self.mappings = mappings
        self._slot = {
            m.robot: (self._group_of[m.robot], groups[self._group_of[m.robot]].index(m.robot))
            for m in mappings
        }
        self.offsets = [m.offset_rad for m in mappings]

    def _map_by_order(self, leader: LeaderJoints) -> None:
        """Leader joints in message order -> the groups' joints in group order."""
        robot = list(self._group_of)
        if len(leader.names) != len(robot):
            LOG.warning(
                "joint_map: leader reports %d joints, groups %s have %d; mapping the first %d",
                len(leader.names),
                list(self.context.groups),
                len(robot),
                min(len(robot), len(leader.names)),
            )
        self._set_mappings([JointMapping(a, b) for a, b in zip(leader.names, robot, strict=False)])
        LOG.info("joint_map: %s", ", ".join(f"{m.leader} -> {m.robot}" for m in self.mappings))

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        del q
        if not self.auto_offset:
            return True
        if frame.leader is None or not frame.leader.is_finite():
            return False
        if self.by_order and not self.mappings:
            self._map_by_order(frame.leader)
        leader = frame.leader.as_dict()
        missing = [m.leader for m in self.mappings if m.leader not in leader]
        if missing:
            LOG.warning("joint_map: leader does not report %s; offsets unchanged", missing)
        for i, m in enumerate(self.mappings):
            if m.leader in leader:
                self.offsets[i] = search_offset(
                    leader[m.leader], self._home[m.robot], m.sign, m.scale
                )
                residual = abs(
                    m.sign * m.scale * leader[m.leader] + self.offsets[i] - self._home[m.robot]
                )
                if residual > math.pi / 4:
                    LOG.warning(
                        "joint_map: %s is %.2f rad from home after offset search; "
                        "is the leader in the home pose?",
                        m.robot,
                        residual,
                    )
        return True

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        if frame.leader is None or not frame.leader.is_finite():
            return {}
        if self.by_order and not self.mappings:
            self._map_by_order(frame.leader)
        leader = frame.leader.as_dict()
        out = {g: q[idx].copy() for g, idx in self._group_idx.items()}
        for m, offset in zip(self.mappings, self.offsets, strict=True):
            if m.leader in leader:
                group, slot = self._slot[m.robot]
                out[group][slot] = m.apply(leader[m.leader], offset)
        return out
