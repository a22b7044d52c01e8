"""The retargeter plugin API (version :data:`API_VERSION`).

A retargeter turns parts of a :class:`~humanoid_teleop.core.motion.HumanFrame` into joint
targets for one or more joint groups of a robot. Plugins are classes registered in the
entry-point group ``humanoid_teleop.retargeters``; the teleop profile picks them by name and
assigns groups and parameters. Lifecycle, driven by :class:`TeleopPipeline`:

1. ``__init__(context)``: validate ``context.params`` (raise :class:`RetargetConfigError`
   naming ``context.source`` and the key), precompute.
2. ``calibrate(frame, q)``: at engage and on recalibrate, with the operator's current frame
   and the robot's current joint positions ``q`` [rad] over ``RobotModel.joint_names``;
   capture the neutral pose. Called again until it returns True (valid inputs arrived).
3. ``step(frame, q)``: return targets {group: positions in group order}; omit a group to
   keep its previous target (e.g. when the input is invalid). ``q`` is the last safe command.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.motion.frame import HumanFrame, Input, Pose
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.safety.config import SafetyConfig

FloatArray = NDArray[np.float64]

#: Version of this API. A plugin declares the version it was written for in ``api_version``;
#: the registry refuses plugins written for another major version.
API_VERSION = 1


@dataclass(frozen=True)
class RetargetContext:
    """What a retargeter is built from.

    ``groups`` are the robot joint groups the profile assigns to it (only those the robot
    has); ``params`` its parameters from the profile; ``source`` names the profile file and
    entry for error messages; ``params_node`` is the profile's ``params`` value as read (its
    file, line and key path), None for a context built in code; ``safety`` the profile's
    safety settings, whose filter clips every target into :meth:`commandable_bounds`.
    """

    model: RobotModel
    groups: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<profile>"
    params_node: Field | None = field(default=None, compare=False, repr=False)
    safety: SafetyConfig = field(default_factory=SafetyConfig)

    def commandable_bounds(self) -> tuple[FloatArray, FloatArray]:
        """(lower, upper) position bounds [rad or m] over ``model.joint_names`` a target may
        reach without the safety filter clipping it: the model's limits shrunk by the safety
        margin (``position_margin_rad``; an infinite bound stays infinite). A retargeter
        aims inside them, so a position clamp means it asked for what it should not."""
        return self.model.limits.inner_bounds(self.safety.position_margin_rad)

    def params_field(self) -> Field:
        """``params`` as a :class:`~humanoid_teleop.core.config.Field` of the one config
        layer: its checks (``as_float``, ``as_mapping(allowed=...)``, ``as_fields_of``, ...)
        raise :class:`RetargetConfigError` naming the profile file, line and key path
        (``source`` and ``params.<key>`` for a context built in code)."""
        if self.params_node is not None:
            return self.params_node
        return Field.of(dict(self.params), self.source, ("params",), RetargetConfigError)

    def param(self, key: str, default: Any, kind: type | tuple[type, ...] = (int, float)) -> Any:
        """Parameter ``key`` (``default`` when absent or null), checked as ``kind``: ``bool``,
        ``str`` (non-empty), ``int``, or a number (``float`` or ``(int, float)``: finite,
        returned as float), with the config layer's errors (see :meth:`params_field`)."""
        item = self.params_field().optional(key)
        if item is None:
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool in kinds:
            return item.as_bool()
        if str in kinds:
            return item.as_str()
        if float in kinds:
            return item.as_float()
        if int in kinds:
            return item.as_int(minimum=None)
        raise TypeError(f"param {key!r}: kind {kinds} is none of bool, str, int, float")

    def check_params(self, allowed: set[str]) -> None:
        """Raise when ``params`` is no mapping or holds keys outside ``allowed`` (naming the
        nearest allowed key)."""
        self.params_field().as_mapping(allowed=sorted(allowed))


class Retargeter(abc.ABC):
    """Base class of every retargeter plugin.

    Class attributes a plugin sets:
        name: Entry-point name (e.g. ``"arm_ik"``).
        api_version: The :data:`API_VERSION` the plugin was written for.
        inputs: The HumanFrame parts it reads.
        group_kinds: Which group names it can drive (``None``: any group).
    """

    name: ClassVar[str] = ""
    api_version: ClassVar[int] = API_VERSION
    inputs: ClassVar[frozenset[Input]] = frozenset()
    group_kinds: ClassVar[frozenset[str] | None] = None

    def __init__(self, context: RetargetContext) -> None:
        self.context = context
        self.model = context.model
        if self.group_kinds is not None:
            bad = [g for g in context.groups if g not in self.group_kinds]
            if bad:
                raise RetargetConfigError(
                    f"{context.source}: {self.name} cannot drive group(s) {bad}; "
                    f"it drives: {sorted(self.group_kinds)}"
                )

    @property
    def groups(self) -> tuple[str, ...]:
        """The joint groups this retargeter drives."""
        return self.context.groups

    def group_inputs(self) -> Mapping[str, frozenset[Input]]:
        """Group -> the input parts its targets come from (default: every one of ``inputs``).

        The pipeline holds a group while any of these parts is stale or rejected, so a
        retargeter driving each group from its own part (one wrist per arm) overrides this
        to let the other groups go on."""
        return {group: self.inputs for group in self.groups}

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        """Capture the operator's neutral pose; True once calibrated (default: nothing to do)."""
        del frame, q
        return True

    @abc.abstractmethod
    def step(self, frame: HumanFrame, q: FloatArray) -> Mapping[str, FloatArray]:
        """Targets {group: positions [rad or m] in group order} for this frame."""

    def ee_targets(self) -> Mapping[str, Pose]:
        """End-effector targets of the last step in the base frame, by side (for reports)."""
        return {}

    def deadman(self, frame: HumanFrame) -> bool | None:
        """Whether this retargeter's deadman is held, or None when it has none.

        The pipeline calls it every step: any retargeter answering False makes the safety
        filter hold every group (``deadman released``) until it is held again.
        """
        del frame
        return None
