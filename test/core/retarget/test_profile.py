"""Teleop profiles: every shipped profile builds a pipeline for every shipped robot."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.resources import ResourceNotFoundError
from humanoid_teleop.core.retarget.errors import PluginError, RetargetConfigError
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.retarget.profile import (
    TeleopProfile,
    list_profiles,
    load_profile,
)
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.safety import SafetyConfigError

from .conftest import model_of

PROFILES = ["exo", "gamepad", "replay", "vr"]


def test_shipped_profiles_are_listed() -> None:
    """The four device profiles are on the search path."""
    assert set(list_profiles()) >= set(PROFILES)


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_builds_for_every_robot(name: str, shipped_model: RobotModel) -> None:
    """Each profile yields a pipeline driving at least the right arm of each robot."""
    pipeline = TeleopPipeline(shipped_model, load_profile(name))
    assert "right_arm" in pipeline.groups


def test_unknown_top_level_key_names_file_and_allowed(tmp_path: Path) -> None:
    """A misspelt key is refused with the allowed keys."""
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndevice: vr\nretargeter: []\n")
    with pytest.raises(
        RetargetConfigError,
        match=r"bad\.yaml:3: retargeter: unknown key 'retargeter'; allowed keys: description",
    ):
        load_profile(str(path))


def test_unknown_device_lists_devices() -> None:
    """A device outside vr/gamepad/exo/replay is refused listing the four."""
    data = {"name": "x", "device": "mouse", "retargeters": [{"plugin": "arm_ik", "groups": ["a"]}]}
    with pytest.raises(
        RetargetConfigError, match=r"x\.yaml: device: got 'mouse'; allowed: vr, gamepad"
    ):
        TeleopProfile.from_dict(data, "x.yaml")


def test_group_driven_twice_is_refused() -> None:
    """Two retargeters may not drive the same group."""
    data = {
        "name": "x",
        "device": "vr",
        "retargeters": [
            {"plugin": "arm_ik", "groups": ["left_arm"]},
            {"plugin": "joint_map", "groups": ["left_arm"]},
        ],
    }
    with pytest.raises(
        RetargetConfigError, match=r"'left_arm' is already driven by retargeters\[0\]"
    ):
        TeleopProfile.from_dict(data, "x.yaml")


def test_missing_profile_lists_available() -> None:
    """An unknown profile name lists the shipped ones."""
    expected = r"no teleop profile 'vr2'.*available: .*gamepad"
    with pytest.raises(ResourceNotFoundError, match=expected):
        load_profile("vr2")


def test_profile_naming_a_missing_plugin_fails_to_build_naming_file_line_and_entry(
    shipped_model: RobotModel, tmp_path: Path
) -> None:
    """Building a pipeline whose profile names an uninstalled plugin is a hard error naming
    the profile's file, the entry's line and key path (it named neither)."""
    path = tmp_path / "x.yaml"
    path.write_text(
        "name: x\ndevice: vr\nretargeters:\n  - plugin: arm_ik\n    groups: [right_arm]\n"
        "  - plugin: arm_ikk\n    groups: [left_arm]\n"
    )
    with pytest.raises(PluginError) as err:
        TeleopPipeline(shipped_model, load_profile(str(path)))
    assert str(err.value).startswith(
        f"{path}:6: retargeters[1] (arm_ikk): no retargeter plugin 'arm_ikk'; available: "
    ), err.value


def test_bad_plugin_param_names_entry_and_key(shipped_model: RobotModel) -> None:
    """An unknown arm_ik parameter names the profile entry's key path and the allowed
    params."""
    profile = TeleopProfile.from_dict(
        {
            "name": "x",
            "device": "vr",
            "retargeters": [
                {"plugin": "arm_ik", "groups": ["left_arm"], "params": {"mdoe": "relative"}}
            ],
        },
        "x.yaml",
    )
    with pytest.raises(
        RetargetConfigError,
        match=r"x\.yaml: retargeters\[0\]\.params\.mdoe: unknown key 'mdoe'; allowed keys: ik, ",
    ):
        TeleopPipeline(shipped_model, profile)


def test_bad_safety_value_names_file_line_and_key(tmp_path: Path) -> None:
    """A NaN safety value in a profile file names file:line and safety.<key>."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ndevice: vr\nretargeters:\n  - {plugin: arm_ik, groups: [left_arm]}\n"
        "safety:\n  stale_timeout_s: .nan\n"
    )
    with pytest.raises(
        SafetyConfigError, match=r"p\.yaml:6: safety\.stale_timeout_s: expected a finite number"
    ):
        load_profile(str(path))


def test_bad_ik_value_names_the_entry_line_and_key(
    tmp_path: Path, shipped_model: RobotModel
) -> None:
    """An infinite ik setting names the file, its own line and params.ik.<key>."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ndevice: vr\nretargeters:\n  - plugin: arm_ik\n    groups: [left_arm]\n"
        "    params: {ik: {damping: .inf}}\n"
    )
    with pytest.raises(
        RetargetConfigError,
        match=r"p\.yaml:6: retargeters\[0\]\.params\.ik\.damping: expected a finite number",
    ):
        TeleopPipeline(shipped_model, load_profile(str(path)))


def test_non_finite_plugin_param_names_the_entry_line_and_param(
    tmp_path: Path, shipped_model: RobotModel
) -> None:
    """A joystick speed of .inf in a profile file is refused naming file:line and the param
    (the line of the params, where the value is)."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\ndevice: gamepad\nretargeters:\n  - plugin: joystick\n    groups: [left_arm]\n"
        "    params: {linear_speed_m_s: .inf}\n"
    )
    with pytest.raises(
        RetargetConfigError,
        match=r"p\.yaml:6: retargeters\[0\]\.params\.linear_speed_m_s: expected a finite number",
    ):
        TeleopPipeline(shipped_model, load_profile(str(path)))


@pytest.mark.parametrize(
    ("plugin", "groups", "params", "expected"),
    [
        ("arm_ik", "[left_arm]", "{scale: 0}", r"params\.scale: expected a number > 0, got 0"),
        ("hand", "[left_hand]", "{damping: -1}", r"params\.damping: expected a number >= 0"),
        ("head", "[left_arm]", "{roll: 3}", r"params\.roll: expected true or false, got 3"),
        ("joystick", "[left_arm]", "{mode: flying}", r"params\.mode: got 'flying'; allowed"),
        (
            "joint_map",
            "[left_arm]",
            "{joints: [{leader: a, robot: left_elbow_joint, clamp: [1, 0]}]}",
            r"params\.joints\[0\]\.clamp: lower 1\.0 must be <= upper 0\.0",
        ),
    ],
)
def test_bad_param_of_each_shipped_plugin_names_file_line_and_key(
    tmp_path: Path,
    plugin: str,
    groups: str,
    params: str,
    expected: str,
) -> None:
    """Every shipped retargeter checks its params through the one config layer: the error
    names the profile file, the line of the params and the key path."""
    path = tmp_path / "p.yaml"
    path.write_text(
        f"name: p\ndevice: vr\nretargeters:\n  - plugin: {plugin}\n    groups: {groups}\n"
        f"    params: {params}\n"
    )
    with pytest.raises(RetargetConfigError, match=r"p\.yaml:6: retargeters\[0\]\." + expected):
        TeleopPipeline(model_of("g1"), load_profile(str(path)))  # g1 has every group named
