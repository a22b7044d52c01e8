"""Gamepad presets and the pad state: dead zones, raw operator input, dropped events."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.retarget.joystick import load_pad_preset
from humanoid_teleop.devices.errors import DeviceDisconnected
from humanoid_teleop.devices.gamepad.evdev import AbsInfo, parse_events
from humanoid_teleop.devices.gamepad.mapping import (
    GamepadPreset,
    PadState,
    find_gamepad,
    load_preset,
    normalize,
    preset_for,
    shipped_presets,
)
from test.devices.gamepad import recording

STICK = AbsInfo(-32768, 32767)


@pytest.mark.parametrize("name", sorted(shipped_presets()))
def test_every_shipped_preset_loads(name: str) -> None:
    """Each preset beside the gamepad code is valid: axes and buttons."""
    preset = load_preset(name)
    assert preset.axes and preset.buttons


@pytest.mark.parametrize("name", sorted(shipped_presets()))
def test_teleop_pad_preset_dead_man_is_the_left_shoulder(name: str) -> None:
    """The teleop pad preset of the same name (the one home of the dead man) points at this
    device preset's left shoulder button (LB / L1), the button the operator is told to hold."""
    pad = load_pad_preset(name)
    assert load_preset(name).button_names[pad.buttons["deadman"]] == "BTN_TL"


def test_a_dead_man_in_a_device_preset_is_one_line_pointing_to_its_home() -> None:
    """A device preset that still names a dead man is refused, saying where it lives now."""
    with pytest.raises(ConfigError, match=r"p\.yaml: deadman: .*buttons\.deadman"):
        GamepadPreset.from_dict(
            {"axes": [{"code": "ABS_X"}], "buttons": ["BTN_TL"], "deadman": "BTN_TL"},
            source="p.yaml",
        )


def test_xbox_pad_name_selects_the_xbox_preset() -> None:
    """The kernel name of an Xbox pad picks the xbox preset; an unknown pad picks generic."""
    assert preset_for("Microsoft X-Box One S pad").name == "xbox"
    assert preset_for("ACME Joystick 3000").name == "generic"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(-32768, 1.0), (32767, -1.0), (0, 0.0), (-1000, 0.0), (-16384, 0.4565)],
)
def test_normalize_uses_joy_signs_and_dead_zone(raw: int, expected: float) -> None:
    """Minimum → +1, maximum → -1, small deflections inside the 8 % dead zone → 0, rescaled."""
    assert normalize(raw, STICK, 0.08, False) == pytest.approx(expected, abs=1e-3)


def test_invert_flips_the_sign() -> None:
    """invert: true turns a full minimum deflection into -1."""
    assert normalize(-32768, STICK, 0.0, True) == pytest.approx(-1.0)


def _samples() -> list[tuple[tuple[float, ...], tuple[int, ...]]]:
    preset = load_preset("xbox")
    events, _ = parse_events(recording.SESSION)
    state = PadState(preset, {code: STICK for code in (0, 1, 3, 4)})
    return [(s.axes, s.buttons) for s in state.apply(events)]


def test_recorded_session_gives_one_sample_per_report_minus_dropped() -> None:
    """Six SYN_REPORTs, one of which ends a SYN_DROPPED burst, give five samples."""
    assert len(_samples()) == 5


def test_stick_reads_whether_or_not_the_dead_man_is_held() -> None:
    """The stick reads +1 with LB held and still after LB is released (the pad reports the
    operator; the pipeline holds on the released dead man)."""
    samples = _samples()
    assert samples[1][0][0] == pytest.approx(1.0) and samples[1][1][4] == 1
    assert samples[-1][1][4] == 0
    assert samples[-1][0][1] == pytest.approx(1.0)


def test_events_before_syn_dropped_are_discarded() -> None:
    """The ABS_Y values in the dropped burst never show; stick-up (+1) stays."""
    axes_y = [s[0][1] for s in _samples()[:-1]]
    assert axes_y[2:] == pytest.approx([1.0, 1.0])


def test_trigger_and_button_show_in_joy_order() -> None:
    """Right trigger pulled reads -1 on axis 5; A is button 0 and LB (dead man) button 4."""
    axes, buttons = _samples()[3]
    assert axes[5] == pytest.approx(-1.0)
    assert buttons[0] == 1 and buttons[4] == 1


def test_unknown_code_lists_allowed_names(tmp_path: Path) -> None:
    """A typo in a code name is an error naming the file, key and allowed names."""
    with pytest.raises(ConfigError, match=r"p\.yaml: axes\[0\]\.code: is 'ABS_XX'; allowed: ABS_X"):
        GamepadPreset.from_dict({"axes": [{"code": "ABS_XX"}]}, source="p.yaml")


def test_unknown_preset_names_the_shipped_ones() -> None:
    """Asking for a preset that does not exist lists the shipped presets."""
    with pytest.raises(ConfigError, match="available: dualshock4, generic, xbox"):
        load_preset("steam_deck")


def test_no_pad_found_lists_what_is_there(tmp_path: Path) -> None:
    """Discovery with no pad names the directory and says there are no input devices."""
    with pytest.raises(DeviceDisconnected, match=rf"no gamepad found in {tmp_path} .*none"):
        find_gamepad(None, tmp_path)


def test_nan_deadzone_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    """deadzone: .nan in a pad file is refused naming file:line and axes[0].deadzone."""
    path = tmp_path / "pad.yaml"
    path.write_text("axes:\n  - code: ABS_X\n    deadzone: .nan\n")
    with pytest.raises(
        ConfigError, match=r"pad\.yaml:3: axes\[0\]\.deadzone: expected a finite number"
    ):
        load_preset(str(path))
