"""``joystick``: gamepad -> Cartesian jog of the arm IK targets, or direct joint jog.

Sticks give an end-effector twist in the base frame (x forward, y left, z up [m/s]; roll,
pitch, yaw [rad/s]) integrated into the selected arm's IK target; in joint mode one stick
moves the selected joint. Buttons (rising edge) switch arm, switch mode and select the next
joint; gripper buttons open or close the selected arm's hand group. Nothing moves unless the
deadman button is held: the pad preset's ``buttons.deadman`` (required) is the one place that
says which button it is; the device publishes every axis and button as the operator moves
them, and the pipeline holds the robot while :meth:`JoystickRetargeter.deadman` is False.
The pad mapping is a preset: ``config/teleop/pads/<name>.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field, read_yaml
from humanoid_teleop.core.motion.frame import HumanFrame, Input, JoyState, Pose
from humanoid_teleop.core.motion.rotation import exp3
from humanoid_teleop.core.resources import PADS
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik import DifferentialIk, IkTask
from humanoid_teleop.core.retarget.ik_config import IkConfig

FloatArray = NDArray[np.float64]
TWIST_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")
BUTTON_KEYS = (
    "deadman",
    "switch_arm",
    "switch_mode",
    "next_joint",
    "gripper_open",
    "gripper_close",
)
_PARAMS = {"preset", "linear_speed_m_s", "angular_speed_rad_s", "joint_speed_rad_s", "mode", "ik"}


@dataclass(frozen=True)
class PadMapping:
    """Axis index per twist component (``invert`` flips sign), button index per action.

    Axes arrive with the dead zone already applied by the device (``gamepad_node``: per axis
    in its evdev preset, or its ``deadzone`` parameter when relaying the ROS ``joy`` node,
    which has its own); the retargeter does not apply another. ``buttons.deadman`` (required)
    is the only dead man of a gamepad: the device does not gate its axes, the pipeline asks
    :meth:`JoystickRetargeter.deadman` and holds while it is released.
    """

    name: str
    axes: Mapping[str, int]
    buttons: Mapping[str, int]
    invert: frozenset[str] = field(default_factory=frozenset)
    joint_axis: int = 1

    @classmethod
    def from_field(cls, root: Field) -> PadMapping:
        """Validate a pad preset; errors name ``file:line: key.path``, value and choices."""
        root.as_mapping(allowed=("name", "axes", "buttons", "invert", "joint_axis"))
        axes = _indices(root.optional("axes"), TWIST_KEYS)
        buttons = _indices(root.optional("buttons"), BUTTON_KEYS)
        if "deadman" not in buttons:
            raise root.error(
                "buttons.deadman: missing: the index of the button that must be held for any"
                " motion (the device does not gate the pad; 4 is LB / L1 on the shipped pads)"
            )
        invert_field = root.optional("invert")
        invert: tuple[str, ...] = ()
        if invert_field is not None:
            invert = tuple(item.as_choice(TWIST_KEYS) for item in invert_field.elements())
        joint_axis_field = root.optional("joint_axis")
        joint_axis = 1 if joint_axis_field is None else joint_axis_field.as_int(minimum=0)
        name_field = root.optional("name")
        return cls(
            Path(root.file).stem if name_field is None else name_field.as_str(),
            axes,
            buttons,
            frozenset(invert),
            joint_axis,
        )


def _indices(block: Field | None, keys: tuple[str, ...]) -> dict[str, int]:
    if block is None:
        return {}
    block.as_mapping(allowed=keys)
    return {key: item.as_int(minimum=0) for key, item in block.items()}


def load_pad_preset(name_or_path: str) -> PadMapping:
    """A pad preset by name (``config/teleop/pads/<name>.yaml``) or path."""
    return PadMapping.from_field(read_yaml(PADS.find(name_or_path), RetargetConfigError))


class JoystickRetargeter(Retargeter):
    """Gamepad jog of the arms (and their grippers/hands). See the module docstring.

    Params: ``preset`` (name, path or inline mapping), ``linear_speed_m_s``,
    ``angular_speed_rad_s``, ``joint_speed_rad_s``, ``mode`` (cartesian | joint), ``ik``.
    """

    name = "joystick"
    inputs = frozenset({Input.JOY})

    def __init__(self, context: RetargetContext) -> None:
        super().__init__(context)
        context.check_params(_PARAMS)
        preset = context.params_field().optional("preset")
        if preset is None:
            self.pad = load_pad_preset("xbox")
        elif isinstance(preset.value, Mapping):  # inline: its errors name the profile's lines
            self.pad = PadMapping.from_field(preset)
        else:
            self.pad = load_pad_preset(preset.as_str())
        self.linear_speed = float(context.param("linear_speed_m_s", 0.1))
        self.angular_speed = float(context.param("angular_speed_rad_s", 0.5))
        self.joint_speed = float(context.param("joint_speed_rad_s", 0.5))
        mode = context.params_field().optional("mode")
        self.mode = mode.as_choice(("cartesian", "joint")) if mode is not None else "cartesian"
        description = self.model.description
        self.sides = [s for s, a in description.arms.items() if a.group in context.groups]
        if not self.sides:
            raise RetargetConfigError(f"{context.source}: joystick needs at least one arm group")
        self.hand_groups = {
            s: h.group
            for s, h in description.hands.items()
            if h.group is not None and h.group in context.groups and h.kind != "none"
        }
        self.ik = DifferentialIk(
            self.model,
            [
                IkTask(
                    description.arms[s].ee_frame,
                    self.model.group_indices(description.arms[s].group),
                )
                for s in self.sides
            ],
            IkConfig.from_params(context.params_field()),
            bounds=context.commandable_bounds(),
        )
        self.selected = "right" if "right" in self.sides else self.sides[0]
        self.joint = 0
        self._targets: dict[str, Pose] = {}
        self._q: FloatArray | None = None
        self._closure = dict.fromkeys(self.hand_groups, 0.0)
        self._last_t: float | None = None
        self._last_buttons: tuple[int, ...] = ()

    def _pressed(self, joy: JoyState, action: str) -> bool:
        index = self.pad.buttons.get(action)
        return index is not None and joy.button(index)

    def _edge(self, joy: JoyState, action: str) -> bool:
        index = self.pad.buttons.get(action)
        if index is None or not joy.button(index):
            return False
        return not (index < len(self._last_buttons) and self._last_buttons[index])

    def _axis(self, joy: JoyState, index: int) -> float:
        """Axis ``index`` in [-1, 1] (the device applied the dead zone)."""
        return max(-1.0, min(1.0, joy.axis(index)))

    def calibrate(self, frame: HumanFrame, q: FloatArray) -> bool:
        self._q = np.clip(q, self.ik.lower, self.ik.upper)
        self._targets = dict(zip(self.sides, self.ik.forward(self._q), strict=True))
        self._last_t = frame.t_s if math.isfinite(frame.t_s) else None
        self._last_buttons = frame.joy.buttons if frame.joy is not None else ()
        return True

    def deadman(self, frame: HumanFrame) -> bool | None:
        """Whether the pad preset's ``buttons.deadman`` is held in a finite Joy."""
        joy = frame.joy
        return joy is not None and joy.is_finite() and self._pressed(joy, "deadman")

    def step(self, frame: HumanFrame, q: FloatArray) -> dict[str, FloatArray]:
        joy = frame.joy
        if joy is None or not joy.is_finite() or not math.isfinite(frame.t_s):
            return {}
        dt = 0.0 if self._last_t is None else min(max(frame.t_s - self._last_t, 0.0), 0.1)
        self._last_t = frame.t_s
        if self._edge(joy, "switch_arm"):
            self.selected = self.sides[(self.sides.index(self.selected) + 1) % len(self.sides)]
        if self._edge(joy, "switch_mode"):
            self.mode = "joint" if self.mode == "cartesian" else "cartesian"
        arm_group = self.model.description.arms[self.selected].group
        arm_idx = self.model.group_indices(arm_group)
        if self._edge(joy, "next_joint"):
            self.joint = (self.joint + 1) % len(arm_idx)
        self._last_buttons = joy.buttons
        if self._q is None:
            self._q = q.copy()
        live = self._pressed(joy, "deadman")
        out: dict[str, FloatArray] = {}
        if live and self.mode == "cartesian":
            twist = np.zeros(6)
            for k, key in enumerate(TWIST_KEYS):
                if key in self.pad.axes:
                    sign = -1.0 if key in self.pad.invert else 1.0
                    twist[k] = sign * self._axis(joy, self.pad.axes[key])
            target = self._targets[self.selected]
            self._targets[self.selected] = Pose(
                target.position_m + twist[:3] * self.linear_speed * dt,
                exp3(twist[3:] * self.angular_speed * dt) @ target.rotation,
            )
        elif live:
            j = arm_idx[self.joint]
            step = self._axis(joy, self.pad.joint_axis) * self.joint_speed * dt
            self._q[j] = np.clip(self._q[j] + step, self.ik.lower[j], self.ik.upper[j])
            self._targets = dict(zip(self.sides, self.ik.forward(self._q), strict=True))
        self._q = self.ik.solve(self._q, [self._targets[s] for s in self.sides])
        for side in self.sides:
            group = self.model.description.arms[side].group
            out[group] = self._q[self.model.group_indices(group)]
        hand_group = self.hand_groups.get(self.selected)
        if hand_group is not None and live:
            if self._pressed(joy, "gripper_close"):
                self._closure[self.selected] = 1.0
            elif self._pressed(joy, "gripper_open"):
                self._closure[self.selected] = 0.0
        for side, group in self.hand_groups.items():
            spec = self.model.description.hands[side]
            out[group] = np.array(spec.grasp_positions(self._closure[side]))
        return out

    def ee_targets(self) -> Mapping[str, Pose]:
        return dict(self._targets)
