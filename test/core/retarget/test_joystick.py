"""Joystick retargeter: deadman gates motion, sticks jog the IK target, buttons switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HumanFrame, JoyState
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.joystick import JoystickRetargeter, load_pad_preset

from .conftest import model_of

GROUPS = ("left_arm", "right_arm", "left_hand", "right_hand")


def _joy(t: float, axes: dict[int, float], buttons: set[int]) -> HumanFrame:
    a = [0.0] * 8
    for k, v in axes.items():
        a[k] = v
    return HumanFrame(t, joy=JoyState(tuple(a), tuple(int(i in buttons) for i in range(11))))


def _stick_forward(held: set[int]) -> np.ndarray:
    model = model_of("g1")
    jog = JoystickRetargeter(RetargetContext(model, GROUPS, {"preset": "xbox"}))
    q = model.home_positions()
    jog.calibrate(_joy(0.0, {}, set()), q)
    start = jog.ee_targets()["right"].position_m.copy()
    for k in range(1, 51):
        jog.step(_joy(k * 0.01, {1: 1.0}, held), q)
    return np.asarray(jog.ee_targets()["right"].position_m - start)


def test_stick_forward_with_deadman_moves_target_forward() -> None:
    """Left stick up for 0.5 s with LB held moves the right EE target ~+x at the jog speed."""
    moved = _stick_forward({4})
    assert moved[0] == pytest.approx(0.049, abs=0.01)
    assert abs(moved[1]) < 1e-9 and abs(moved[2]) < 1e-9


def test_released_deadman_does_not_move_target() -> None:
    """Without the deadman the target stays put."""
    assert np.allclose(_stick_forward(set()), 0.0)


def test_gripper_button_closes_selected_hand() -> None:
    """Pressing A with the deadman held closes the selected (right) hand."""
    model = model_of("talos")
    jog = JoystickRetargeter(RetargetContext(model, GROUPS, {"preset": "xbox"}))
    q = model.home_positions()
    jog.calibrate(_joy(0.0, {}, set()), q)
    out = jog.step(_joy(0.01, {}, {4, 0}), q)
    assert np.allclose(out["right_hand"], model.description.hands["right"].closed_positions)
    assert np.allclose(out["left_hand"], model.description.hands["left"].open_positions)


def test_every_pad_preset_loads() -> None:
    """The shipped pad presets parse and put the deadman on button 4."""
    for name in ("xbox", "dualshock4", "generic"):
        assert load_pad_preset(name).buttons["deadman"] == 4


def test_a_pad_preset_without_a_deadman_is_refused() -> None:
    """A pad preset must say which button is the dead man (the device does not gate)."""
    preset = {"axes": {"x": 1}, "buttons": {"switch_arm": 5}}
    with pytest.raises(RetargetConfigError, match=r"preset: buttons\.deadman: missing"):
        JoystickRetargeter(RetargetContext(model_of("g1"), GROUPS, {"preset": preset}))


def test_unknown_pad_action_lists_allowed() -> None:
    """A preset with an unknown button action is refused listing the actions."""
    preset = {"axes": {"x": 1}, "buttons": {"jump": 0}}
    with pytest.raises(
        RetargetConfigError,
        match=r"preset\.buttons\.jump: unknown key 'jump'; allowed keys: deadman",
    ):
        JoystickRetargeter(RetargetContext(model_of("g1"), GROUPS, {"preset": preset}))


def test_switch_arm_button_moves_the_other_arm() -> None:
    """After RB (button 5) the stick jogs the left arm's target instead of the right one."""
    model = model_of("g1")
    jog = JoystickRetargeter(RetargetContext(model, GROUPS, {"preset": "xbox"}))
    q = model.home_positions()
    jog.calibrate(_joy(0.0, {}, set()), q)
    jog.step(_joy(0.01, {}, {4, 5}), q)
    left0 = jog.ee_targets()["left"].position_m.copy()
    right0 = jog.ee_targets()["right"].position_m.copy()
    for k in range(2, 30):
        jog.step(_joy(k * 0.01, {3: 1.0}, {4}), q)
    assert jog.ee_targets()["left"].position_m[2] - left0[2] > 0.02
    assert np.allclose(jog.ee_targets()["right"].position_m, right0)


def test_joint_mode_moves_only_the_selected_joint() -> None:
    """In joint mode the stick moves the first joint of the selected arm at the jog speed."""
    model = model_of("talos")
    params = {"preset": "xbox", "mode": "joint", "joint_speed_rad_s": 0.5}
    jog = JoystickRetargeter(RetargetContext(model, GROUPS, params))
    q = model.home_positions()
    jog.calibrate(_joy(0.0, {}, set()), q)
    out = {}
    for k in range(1, 21):
        out = jog.step(_joy(k * 0.01, {1: 1.0}, {4}), q)
    moved = out["right_arm"] - q[model.group_indices("right_arm")]
    assert moved[0] == pytest.approx(0.1, abs=0.01)
    assert np.allclose(moved[1:], 0.0, atol=1e-3)


def test_small_stick_deflection_is_not_dead_zoned_again() -> None:
    """An axis value the device already dead-zoned (0.05) jogs the target: no second dead zone."""
    model = model_of("g1")
    jog = JoystickRetargeter(RetargetContext(model, GROUPS, {"preset": "xbox"}))
    q = model.home_positions()
    jog.calibrate(_joy(0.0, {}, set()), q)
    start = jog.ee_targets()["right"].position_m.copy()
    for k in range(1, 51):
        jog.step(_joy(k * 0.01, {1: 0.05}, {4}), q)
    moved = jog.ee_targets()["right"].position_m - start
    assert moved[0] == pytest.approx(0.05 * 0.049, rel=0.2)


def test_pad_preset_file_error_names_file_line_and_key(tmp_path: Path) -> None:
    """A negative button index in a pad file names file:line and buttons.<action>."""
    path = tmp_path / "pad.yaml"
    path.write_text("axes: {x: 1}\nbuttons:\n  deadman: -4\n")
    with pytest.raises(RetargetConfigError, match=r"pad\.yaml:3: buttons\.deadman: expected an"):
        load_pad_preset(str(path))
