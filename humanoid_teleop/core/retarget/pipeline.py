"""The teleop pipeline: HumanFrame -> retargeters -> safety filter -> per-group commands.

One pure object used by both the rclpy ``teleop_node`` and the offline ``retarget`` CLI::

    pipeline = TeleopPipeline.create(description, model, profile="vr")
    pipeline.engage(measured_q, t_s)
    out = pipeline.step(frame, measured_q, t_s)
    out.commands["left_arm"]    # safe positions [rad] in group order
    out.q                       # safe full vector over model.joint_names
    out.report                  # SafetyReport: hold reason, clamps, input age, flags
    out.held                    # group -> why it holds (a stale or rejected input part)
    pipeline.ee_targets()       # the arm retargeters' EE targets after this step

Joints no retargeter drives hold their position measured at engage (clamped into limits).
Each input part is judged on its own stamp (:mod:`humanoid_teleop.core.retarget.input_guard`):
a step leaves out a part that is stale, stamped ahead of the clock or not finite, and the
groups it drives (:meth:`Retargeter.group_inputs`) repeat their last command while the other
groups follow their fresh parts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame, Input, Pose
from humanoid_teleop.core.records import frozen_record
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import PluginError, RetargetConfigError
from humanoid_teleop.core.retarget.input_guard import (
    AHEAD,
    NON_FINITE,
    PartFault,
    non_finite_detail,
)
from humanoid_teleop.core.retarget.input_guard import part_faults as stamp_faults
from humanoid_teleop.core.retarget.profile import TeleopProfile, load_profile
from humanoid_teleop.core.retarget.registry import load_retargeter
from humanoid_teleop.core.robot import RobotDescription, RobotModel
from humanoid_teleop.core.safety import SafetyFilter, SafetyReport

FloatArray = NDArray[np.float64]
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOutput:
    """Result of one :meth:`TeleopPipeline.step`.

    Attributes:
        commands: Group -> safe positions [rad or m] in group order, for every driven group.
        q: Safe positions over ``model.joint_names``.
        targets: Unfiltered retargeter targets over ``model.joint_names``.
        report: What the safety filter did and why.
        active: True when the robot should be commanded (engaged, not e-stopped).
        calibrated: True once every retargeter captured its neutral pose.
        faults: Input part -> why this step left it out (stale, stamped ahead, not finite).
        held: Group -> the input parts (and why) that made it repeat its last command.
    """

    commands: Mapping[str, FloatArray]
    q: FloatArray
    targets: FloatArray
    report: SafetyReport
    active: bool
    calibrated: bool
    faults: Mapping[Input, PartFault] = field(default_factory=dict)
    held: Mapping[str, str] = field(default_factory=dict)


def _as_slice(indices: NDArray[np.intp]) -> slice | NDArray[np.intp]:
    """``indices`` as a slice when they are a contiguous ascending run (the usual group):
    indexing by a slice skips numpy's fancy-index machinery on every step."""
    if len(indices) and np.array_equal(indices, np.arange(indices[0], indices[0] + len(indices))):
        return slice(int(indices[0]), int(indices[0]) + len(indices))
    return indices


class TeleopPipeline:
    """Retargeters of a teleop profile plus the safety filter, for one robot."""

    def __init__(self, model: RobotModel, profile: TeleopProfile) -> None:
        self.model = model
        self.profile = profile
        description = model.description
        self.retargeters: list[Retargeter] = []
        self.inactive: dict[str, str] = {}
        for entry in profile.retargeters:
            try:
                cls = load_retargeter(entry.plugin)
            except PluginError as err:  # name the profile's file, line and entry
                raise PluginError(f"{entry.source}: {err}") from None
            present = tuple(g for g in entry.groups if g in description.groups)
            missing = [g for g in entry.groups if g not in description.groups]
            if missing:
                LOG.info("%s: %s has no group(s) %s", entry.source, description.name, missing)
            if not present:
                self.inactive[entry.plugin] = f"{description.name} has none of {list(entry.groups)}"
                continue
            try:
                context = RetargetContext(
                    model, present, entry.params, entry.source, entry.params_node, profile.safety
                )
                instance = cls(context)
            except (KeyError, ValueError) as err:
                raise RetargetConfigError(f"{entry.source}: {err}") from err
            if instance.groups:
                self.retargeters.append(instance)
            else:
                self.inactive[entry.plugin] = f"{description.name} offers it nothing to drive"
        self.groups: tuple[str, ...] = tuple(g for r in self.retargeters for g in r.groups)
        self.inputs: frozenset[Input] = frozenset(i for r in self.retargeters for i in r.inputs)
        # per step: each input part (in the order of ``inputs``) with its HumanFrame field,
        # and the retargeters with a deadman of their own (the base class's answers None)
        self._parts = tuple((which, which.value) for which in self.inputs)
        self._deadmen = tuple(
            r for r in self.retargeters if type(r).deadman is not Retargeter.deadman
        )
        self._group_idx = {g: _as_slice(model.group_indices(g)) for g in self.groups}
        groups_of: dict[Input, list[str]] = {}
        for retargeter in self.retargeters:
            for group, parts in retargeter.group_inputs().items():
                for part in parts:
                    groups_of.setdefault(part, []).append(group)
        #: Input part -> the groups that hold while it is stale or rejected.
        self.groups_of_input: dict[Input, tuple[str, ...]] = {
            part: tuple(groups) for part, groups in groups_of.items()
        }
        self._held_masks: dict[frozenset[str], NDArray[np.bool_]] = {}
        self.limits = model.motion_limits
        self.safety = SafetyFilter(profile.safety, self.limits)
        self._targets = model.home_positions()
        self._calibrated: set[int] = set()
        self._calibrations = 0
        self._operator_arm_length_m: float | None = None

    @classmethod
    def create(
        cls,
        description: RobotDescription,
        model: RobotModel | None = None,
        profile: str | TeleopProfile = "",
        device: str = "vr",
    ) -> TeleopPipeline:
        """Build from a profile name or path (empty: the device's default profile)."""
        model = model or RobotModel(description)
        if isinstance(profile, TeleopProfile):
            return cls(model, profile)
        return cls(model, load_profile(profile or device))

    # -- state --------------------------------------------------------------------------------

    @property
    def engaged(self) -> bool:
        """True while commands follow the operator."""
        return self.safety.state.engaged

    @property
    def calibrations(self) -> int:
        """How many times every retargeter has captured the operator's neutral pose since
        this pipeline was built (each engage's first usable frame, each re-centre): a node
        records each one (``/teleop/intent/calibrated``) so a replay of the episode knows
        where the mapping from operator input to EE targets changed."""
        return self._calibrations

    @property
    def estopped(self) -> bool:
        """True while the e-stop latch is set."""
        return self.safety.state.estopped

    def engage(self, measured_q: FloatArray, t_s: float) -> str:
        """Start following the operator from the measured joint positions [rad] at ``t_s`` [s].

        Retargeters capture the operator's neutral pose at the next frame with valid inputs;
        the safety filter ramps from ``measured_q`` to the first targets.
        """
        measured = np.asarray(measured_q, dtype=np.float64)
        self.safety.engage(measured, t_s)
        assert self.safety.state.command is not None
        self._targets = self.safety.state.command.copy()
        self._calibrated.clear()
        return "engaged"

    def disengage(self) -> str:
        """Stop following the operator; the last command is held."""
        self.safety.disengage()
        return "disengaged"

    def estop(self) -> str:
        """Latch the e-stop: hold until :meth:`reset_estop` and :meth:`engage`."""
        self.safety.estop()
        return "e-stop latched"

    def reset_estop(self) -> str:
        """Clear the e-stop latch (the pipeline stays disengaged)."""
        self.safety.reset_estop()
        return "e-stop reset; engage to resume"

    def recalibrate(self, frame: HumanFrame | None = None) -> str:
        """Capture the operator's neutral pose again (now if ``frame`` is given, else next step).

        The robot keeps its current pose: retargeters calibrate against the last command.
        """
        self._calibrated.clear()
        command = self.safety.state.command
        if frame is not None and command is not None:
            self._calibrate(frame, command)
        return "recalibrating"

    def set_operator_arm_length(self, length_m: float) -> None:
        """Tell arm retargeters the operator's arm length [m] (e.g. measured from mocap)."""
        for retargeter in self.retargeters:
            setter = getattr(retargeter, "set_operator_arm_length", None)
            if setter is not None:
                setter(length_m)

    # -- the loop -----------------------------------------------------------------------------

    def _calibrate(self, frame: HumanFrame, q: FloatArray) -> None:
        complete = len(self._calibrated) == len(self.retargeters)
        for i, retargeter in enumerate(self.retargeters):
            if i not in self._calibrated and retargeter.calibrate(frame, q):
                self._calibrated.add(i)
        if not complete and len(self._calibrated) == len(self.retargeters):
            self._calibrations += 1

    def _deadman(self, frame: HumanFrame) -> bool:
        """Held unless a retargeter with a deadman (e.g. the joystick's pad preset
        ``buttons.deadman``) says it is released; retargeters without one answer None."""
        return all(r.deadman(frame) is not False for r in self._deadmen)

    def _faults(
        self, frame: HumanFrame, t_s: float, stamps: Mapping[Input, float]
    ) -> dict[Input, PartFault]:
        """Input parts of ``frame`` a step at ``t_s`` [s] must leave out (see module doc)."""
        faults = stamp_faults(stamps, t_s, self.profile.safety)
        for which, name in self._parts:
            part = getattr(frame, name)
            if part is not None and which not in faults:
                detail = non_finite_detail(part)
                if detail is not None:
                    faults[which] = PartFault(NON_FINITE, t_s - stamps.get(which, t_s), detail)
        return faults

    def _held_mask(self, groups: frozenset[str]) -> NDArray[np.bool_]:
        mask = self._held_masks.get(groups)
        if mask is None:
            mask = np.zeros(len(self.model.joint_names), dtype=bool)
            for group in groups:
                mask[self._group_idx[group]] = True
            self._held_masks[groups] = mask
        return mask

    def step(
        self,
        frame: HumanFrame,
        measured_q: FloatArray,
        t_s: float,
        stamps: Mapping[Input, float] | None = None,
    ) -> PipelineOutput:
        """Retarget ``frame`` and filter the result at time ``t_s`` [s].

        ``stamps``: each part's own capture time [s] (a node keeps the newest message per
        topic); None: every part of the frame was captured at ``frame.t_s``. Parts that are
        stale, stamped ahead or not finite are left out and the groups they drive hold.
        """
        if stamps is None:
            t_frame = frame.t_s
            stamps = {w: t_frame for w, name in self._parts if getattr(frame, name) is not None}
        faults = self._faults(frame, t_s, stamps)
        # The input time the safety filter judges: the newest stamp not ahead of the clock
        # (stale only when every part is; per-part stamps only move forward).
        held: dict[str, str] = {}
        if not faults:  # every part usable: the newest of all stamps
            newest = max(stamps.values()) if stamps else frame.t_s
            if newest != frame.t_s:
                frame = replace(frame, t_s=newest)
        else:
            behind = [s for w, s in stamps.items() if w not in faults or faults[w].kind != AHEAD]
            newest = max(behind) if behind else (math.nan if stamps else frame.t_s)
            for which, fault in faults.items():
                for group in self.groups_of_input.get(which, ()):
                    reason = f"{which.value} {fault.kind}"
                    held[group] = f"{held[group]}, {reason}" if group in held else reason
            left_out: dict[str, Any] = {w.value: None for w in faults}
            frame = replace(frame, t_s=newest, **left_out)
        command = self.safety.state.command
        engaged = self.engaged
        if engaged and command is not None:
            if len(self._calibrated) < len(self.retargeters):
                self._calibrate(frame, command)
            for i, retargeter in enumerate(self.retargeters):
                if i in self._calibrated:
                    for group, values in retargeter.step(frame, command).items():
                        self._targets[self._group_idx[group]] = values
        input_t_s = frame.t_s if math.isfinite(frame.t_s) else math.nan
        mask = self._held_mask(frozenset(held)) if held else None
        safe, report = self.safety.step(
            self._targets, t_s, input_t_s, self._deadman(frame), held=mask
        )
        if safe is None:
            measured = np.asarray(measured_q, dtype=np.float64)
            fallback = np.where(np.isfinite(measured), measured, self.model.home_positions())
            safe = np.clip(fallback, self.limits.lower, self.limits.upper)
        own = safe.copy()  # the commands are views of one copy, not a copy per group
        return frozen_record(  # every field given; test_pipeline checks it
            PipelineOutput,
            commands={g: own[idx] for g, idx in self._group_idx.items()},
            q=safe,
            targets=self._targets.copy(),
            report=report,
            active=self.engaged and not self.estopped,
            calibrated=len(self._calibrated) == len(self.retargeters),
            faults=faults,
            held=held,
        )

    def ee_targets(self) -> dict[str, Pose]:
        """End-effector targets by side in the base frame (arm retargeters), as of the last
        step. Not part of :class:`PipelineOutput`: building them is not free, and the
        commands should not wait for it."""
        ee: dict[str, Pose] = {}
        for retargeter in self.retargeters:
            ee.update(retargeter.ee_targets())
        return ee
