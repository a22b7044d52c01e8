"""The loader turns robot.yaml into a validated description, or says exactly what is wrong."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.robot import (
    ROBOTS_PATH_ENV,
    HandSpec,
    RobotConfigError,
    RobotModel,
    RobotModelError,
    RobotNotFoundError,
    list_robots,
    load_robot,
    robot_search_path,
)

from .toy import toy_config, toy_urdf, write_toy


def _fails_at(path: Path, pattern: str) -> pytest.RaisesContext[RobotConfigError]:
    """Expect a RobotConfigError whose message starts with ``path:line:`` then ``pattern``."""
    return pytest.raises(RobotConfigError, match=rf"^{re.escape(str(path))}:\d+(:\d+)?: {pattern}")


def test_toy_robot_loads_with_resolved_model_path(tmp_path: Path) -> None:
    """A valid robot.yaml loads; its model path resolves relative to the YAML file."""
    path = write_toy(tmp_path)
    description = load_robot(path)
    assert description.model.path == path.parent / "urdf" / "toy.urdf"
    assert description.groups["left_arm"] == ("l_shoulder", "l_elbow", "l_wrist")


def test_robot_found_by_name_on_the_search_path(tmp_path: Path) -> None:
    """load_robot(name, search_path) finds <dir>/<name>/robot.yaml."""
    write_toy(tmp_path, name="toy2")
    assert load_robot("toy2", [tmp_path]).name == "toy2"


def test_environment_folders_come_before_shipped_robots(tmp_path: Path) -> None:
    """HUMANOID_TELEOP_ROBOTS_PATH folders are searched first, in order."""
    other = tmp_path / "b"
    path = robot_search_path({ROBOTS_PATH_ENV: f"{tmp_path / 'a'}:{other}"})
    assert path[:2] == [tmp_path / "a", other]


def test_first_folder_wins_for_a_name_found_twice(tmp_path: Path) -> None:
    """A robot name in two folders resolves to the first folder on the path."""
    first = write_toy(tmp_path / "first")
    write_toy(tmp_path / "second")
    entries = list_robots([tmp_path / "first", tmp_path / "second"])
    assert [(e.name, e.file) for e in entries] == [("toy", first)]


def test_unknown_robot_lists_nearest_names(tmp_path: Path) -> None:
    """An unknown name raises RobotNotFoundError naming close robot names."""
    write_toy(tmp_path, name="toy_arm")
    with pytest.raises(RobotNotFoundError, match=r"no robot 'toy_ram'.*nearest: toy_arm"):
        load_robot("toy_ram", [tmp_path])


def test_missing_robot_file_names_the_path(tmp_path: Path) -> None:
    """A path to a missing robot.yaml names that path."""
    missing = tmp_path / "nothing" / "robot.yaml"
    with pytest.raises(RobotNotFoundError, match=r"nothing/robot\.yaml: robot file not found"):
        load_robot(missing)


def test_errors_are_config_errors(tmp_path: Path) -> None:
    """Every loader error is a ConfigError (so nodes and the CLI catch one type)."""
    assert issubclass(RobotConfigError, ConfigError)
    assert issubclass(RobotModelError, RobotConfigError)
    assert issubclass(RobotNotFoundError, RobotConfigError)


def test_bad_yaml_syntax_reports_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error names file:line:column."""
    path = write_toy(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = "maker: [unclosed"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with _fails_at(path, r"invalid YAML"):
        load_robot(path)


def test_binary_robot_yaml_is_named_as_not_text(tmp_path: Path) -> None:
    """A robot.yaml that is not UTF-8 (a binary file) names the file and the first bad byte."""
    path = write_toy(tmp_path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + bytes(range(256)))
    with pytest.raises(RobotConfigError, match=rf"^{re.escape(str(path))}: not a UTF-8 text"):
        load_robot(path)


def test_robot_yaml_with_control_characters_is_named(tmp_path: Path) -> None:
    """UTF-8 text holding characters YAML forbids (a NUL) names the file and the offset."""
    path = write_toy(tmp_path)
    path.write_bytes(b"name: toy\x00\x01\n")
    with pytest.raises(
        RobotConfigError, match=rf"^{re.escape(str(path))}: not a YAML text file: .*offset 9"
    ):
        load_robot(path)


def test_unreadable_robot_entry_is_listed(tmp_path: Path) -> None:
    """A robot folder whose robot.yaml is a dangling link is still listed (loading says why)."""
    (tmp_path / "ghost").mkdir()
    (tmp_path / "ghost" / "robot.yaml").symlink_to(tmp_path / "nowhere.yaml")
    assert [entry.name for entry in list_robots([tmp_path])] == ["ghost"]
    with pytest.raises(RobotConfigError, match="robot file not found"):
        load_robot(list_robots([tmp_path])[0].file)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    """A key written twice in one mapping names both lines."""
    path = write_toy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "maker: Again\n", encoding="utf-8")
    with _fails_at(path, r"duplicate key 'maker' \(first on line 4\)"):
        load_robot(path)


def test_unknown_top_level_key_lists_allowed_keys(tmp_path: Path) -> None:
    """An unknown key names the file, line, key and the allowed keys."""
    config = toy_config()
    config["colour"] = "red"
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"colour: unknown key 'colour'; allowed keys: ",
    ):
        load_robot(path)


def test_unknown_nested_key_names_its_key_path(tmp_path: Path) -> None:
    """An unknown key inside arms.left is reported with its full key path."""
    config = toy_config()
    config["arms"]["left"]["ee_fram"] = "l_hand"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"arms\.left\.ee_fram: unknown key 'ee_fram'"):
        load_robot(path)


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    """A missing required key names its parent path and the key."""
    config = toy_config()
    del config["base_frame"]
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"<top level>: missing required key 'base_frame'"):
        load_robot(path)


def test_missing_model_file_names_key_and_path(tmp_path: Path) -> None:
    """A model file that does not exist names model.file and the resolved path."""
    config = toy_config()
    config["model"]["file"] = "urdf/absent.urdf"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"model\.file: model file not found: .*absent"):
        load_robot(path)


def test_missing_model_package_says_how_to_fix(tmp_path: Path) -> None:
    """A model package that is not installed is named with what was searched."""
    config = toy_config()
    config["model"] = {"package": "no-such-robot-data", "file": "robots/x.urdf"}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"model\.package: package 'no-such-robot-data'"):
        load_robot(path)


def test_unparsable_urdf_carries_pinocchio_message(tmp_path: Path) -> None:
    """A URDF pinocchio cannot parse raises RobotModelError with the parser's reason."""
    broken = toy_urdf().replace('<child link="l_upper"/>', '<child link="nowhere"/>')
    path = write_toy(tmp_path, urdf=broken)
    with pytest.raises(
        RobotModelError,
        match=r"toy\.urdf: pinocchio cannot parse the urdf: .*child link \[nowhere\]",
    ):
        load_robot(path)


def test_joint_not_in_urdf_lists_nearest_joints(tmp_path: Path) -> None:
    """A group joint missing from the URDF names the key path and the nearest real joints."""
    config = toy_config()
    config["groups"]["left_arm"][2] = "l_wrst"
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"groups\.left_arm\[2\]: joint 'l_wrst' is not in toy\.urdf; "
        r"nearest: l_wrist",
    ):
        load_robot(path)


def test_group_overlap_is_an_error(tmp_path: Path) -> None:
    """A joint in two groups names the second place and the first group."""
    config = toy_config()
    config["groups"]["right_hand"] = ["r_gripper", "l_gripper"]
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"groups\.right_hand\[1\]: joint 'l_gripper' is already in group 'left_hand'",
    ):
        load_robot(path)


def test_limit_override_wider_than_urdf_is_an_error(tmp_path: Path) -> None:
    """An override looser than the URDF names the key, the value and the URDF's limit."""
    config = toy_config()
    config["limits"] = {"joints": {"l_elbow": {"upper": 2.0}}}
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"limits\.joints\.l_elbow\.upper: 2\.0 is wider than toy\.urdf's upper limit 1\.5",
    ):
        load_robot(path)


def test_velocity_override_wider_than_urdf_is_an_error(tmp_path: Path) -> None:
    """A group velocity override above the URDF's names the joint it breaks."""
    config = toy_config()
    config["limits"] = {"joints": {"right_arm": {"velocity": 5.0}}}
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"limits\.joints\.right_arm\.velocity: 5\.0 is wider than toy\.urdf's velocity "
        r"limit 2 of joint 'r_shoulder'",
    ):
        load_robot(path)


def test_zero_urdf_velocity_may_be_set_by_override(tmp_path: Path) -> None:
    """A URDF velocity of 0 (unspecified) may be given any positive value."""
    config = toy_config()
    config["limits"] = {"joints": {"l_elbow": {"velocity": 3.0}}}
    path = write_toy(tmp_path, config, urdf=toy_urdf(arm_velocity=0.0))
    model = RobotModel(load_robot(path))
    assert model.limits.velocity[model.index_of(["l_elbow"])][0] == 3.0


def test_limit_override_for_unknown_joint_lists_nearest(tmp_path: Path) -> None:
    """A limits key that is neither joint nor group lists the nearest names."""
    config = toy_config()
    config["limits"] = {"joints": {"l_shoulderr": {"velocity": 1.0}}}
    path = write_toy(tmp_path, config)
    with _fails_at(
        path, r"limits\.joints\.l_shoulderr: 'l_shoulderr' is neither a joint.*l_shoulder"
    ):
        load_robot(path)


def test_home_outside_limits_is_an_error(tmp_path: Path) -> None:
    """A home position outside the joint's limits names home.<joint> and the limits."""
    config = toy_config()
    config["home"]["l_elbow"] = 2.5
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"home\.l_elbow: home position 2\.5 .*outside"):
        load_robot(path)


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    """A string where a number belongs names the key path and the value."""
    config = toy_config()
    config["home"]["l_elbow"] = "bent"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"home\.l_elbow: expected a number, got 'bent'"):
        load_robot(path)


def test_bad_hand_kind_lists_allowed_kinds(tmp_path: Path) -> None:
    """An unknown hand kind lists dexterous, gripper and none."""
    config = toy_config()
    config["hands"]["left"]["kind"] = "claw"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.kind: got 'claw'; allowed: dext"):
        load_robot(path)


def test_gripper_positions_must_match_group_length(tmp_path: Path) -> None:
    """open/closed lists must have one value per joint of the hand group."""
    config = toy_config()
    config["hands"]["left"]["open"] = [0.0, 0.1]
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.open: expected 1 positions"):
        load_robot(path)


def test_hand_grip_closure_defaults_to_a_closed_hand(tmp_path: Path) -> None:
    """A hand's grip closure is robot.yaml's ``grip_closure``, 1.0 (closed) without it."""
    config = toy_config()
    assert load_robot(write_toy(tmp_path, config)).hands["left"].grip_closure == 1.0
    config["hands"]["left"]["grip_closure"] = 0.3
    assert load_robot(write_toy(tmp_path, config)).hands["left"].grip_closure == 0.3


def test_hand_grip_closure_outside_the_closure_range_is_an_error(tmp_path: Path) -> None:
    """A grip closure must lie in (0, 1]: the error names the key and the value."""
    config = toy_config()
    config["hands"]["left"]["grip_closure"] = 0.0
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.grip_closure: grip_closure 0\.0: need a closure in"):
        load_robot(path)


def test_interface_for_unknown_group_lists_groups(tmp_path: Path) -> None:
    """An interface for a group that does not exist lists the groups."""
    config = toy_config()
    config["interfaces"]["torso"] = {"kind": "forward", "topic": "/torso/commands"}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"interfaces\.torso: no group 'torso'; groups: "):
        load_robot(path)


def test_bad_topic_name_is_rejected(tmp_path: Path) -> None:
    """A relative or malformed topic name is an error naming the key."""
    config = toy_config()
    config["interfaces"]["left_arm"]["topic"] = "left arm/commands"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"interfaces\.left_arm\.topic: got 'left arm"):
        load_robot(path)


def test_unknown_ee_frame_lists_nearest_frames(tmp_path: Path) -> None:
    """An EE frame that exists nowhere names arms.<side>.ee_frame and close frames."""
    config = toy_config()
    config["arms"]["right"]["ee_frame"] = "r_hnd"
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"arms\.right\.ee_frame: frame 'r_hnd'.*r_hand"):
        load_robot(path)


def test_sensor_frame_with_unknown_parent_is_an_error(tmp_path: Path) -> None:
    """A camera frame fixed to a link that does not exist names the camera entry."""
    config = toy_config()
    config["sensors"]["cameras"][0]["parent"] = "hed_link"
    path = write_toy(tmp_path, config)
    with _fails_at(
        path,
        r"sensors\.cameras\[0\]: parent 'hed_link'.*head_link",
    ):
        load_robot(path)


def test_sensor_frames_are_added_to_the_model(tmp_path: Path) -> None:
    """A camera frame defined in robot.yaml exists in the RobotModel at its pose."""
    model = RobotModel(load_robot(write_toy(tmp_path)))
    rotation, position = model.fk(model.home_positions(), "head_camera_optical_frame")
    assert position.tolist() == pytest.approx([0.0, 0.0, 0.6])
    assert rotation[:, 2].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-6)


def test_joint_and_group_overrides_merge(tmp_path: Path) -> None:
    """A joint override adds to its group's override when they set different limits."""
    config = toy_config()
    config["limits"] = {"joints": {"left_arm": {"velocity": 1.0}, "l_elbow": {"upper": 1.0}}}
    model = RobotModel(load_robot(write_toy(tmp_path, config)))
    i = model.index_of(["l_elbow"])[0]
    assert (model.limits.velocity[i], model.limits.upper[i]) == (1.0, 1.0)


def test_same_limit_set_twice_is_an_error(tmp_path: Path) -> None:
    """Setting one joint's velocity by group and by name is an error."""
    config = toy_config()
    config["limits"] = {"joints": {"left_arm": {"velocity": 1.0}, "l_elbow": {"velocity": 0.5}}}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"limits\.joints\.l_elbow\.velocity: the velocity limit of joint "):
        load_robot(path)


_MJCF = """<mujoco model="one_arm">
  <compiler angle="radian"/>
  <worldbody>
    <body name="base_link">
      <body name="upper" pos="0 0.2 0.4">
        <joint name="shoulder" type="hinge" axis="0 1 0" range="-1.5 1.5"/>
        <geom type="capsule" size="0.03" fromto="0 0 0 0 0 -0.3" mass="1"/>
        <body name="fore" pos="0 0 -0.3">
          <joint name="elbow" type="hinge" axis="0 1 0" range="-1.5 1.5"/>
          <geom type="capsule" size="0.03" fromto="0 0 0 0.25 0 0" mass="1"/>
          <body name="hand" pos="0.25 0 0">
            <joint name="wrist" type="hinge" axis="1 0 0" range="-1.5 1.5"/>
            <geom type="sphere" size="0.03" mass="0.3"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def test_mjcf_model_loads(tmp_path: Path) -> None:
    """A MuJoCo MJCF model (.xml) is accepted; its joint ranges become position limits."""
    folder = tmp_path / "one_arm"
    folder.mkdir()
    (folder / "one_arm.xml").write_text(_MJCF, encoding="utf-8")
    config = {
        "schema_version": 1,
        "name": "one_arm",
        "display_name": "One arm (MJCF)",
        "maker": "Test Lab",
        "model": {"file": "one_arm.xml"},
        "base_frame": "base_link",
        "groups": {"left_arm": ["shoulder", "elbow", "wrist"]},
        "arms": {
            "left": {
                "group": "left_arm",
                "ee_frame": "hand",
                "elbow_joint": "elbow",
                "hand_frame_rpy": [0.0, 0.0, 0.0],
            }
        },
        "hands": {"left": {"kind": "none"}},
        "interfaces": {"left_arm": {"kind": "forward", "topic": "/left_arm/commands"}},
        "limits": {"joints": {"left_arm": {"velocity": 2.0}}},
        "home": {},
    }
    path = folder / "robot.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    model = RobotModel(load_robot(path))
    assert model.description.model.format == "mjcf"
    assert model.joint_names == ("shoulder", "elbow", "wrist")
    assert model.limits.upper.tolist() == [1.5, 1.5, 1.5]
    assert model.limits.velocity.tolist() == [2.0, 2.0, 2.0]


def test_apply_mimic_uses_multiplier_and_offset(tmp_path: Path) -> None:
    """apply_mimic sets a URDF mimic joint to multiplier * source + offset."""
    urdf = toy_urdf().replace(
        '<child link="r_finger"/>',
        '<child link="r_finger"/><mimic joint="l_gripper" multiplier="-0.5" offset="0.1"/>',
    )
    model = RobotModel(load_robot(write_toy(tmp_path, urdf=urdf)))
    q = model.home_positions()
    q[model.index_of(["l_gripper"])] = 0.8
    mimicked = model.apply_mimic(q)[model.index_of(["r_gripper"])][0]
    assert mimicked == pytest.approx(-0.3)


def test_apply_mimic_follows_a_chain_of_mimics_and_clips_each(tmp_path: Path) -> None:
    """A mimic of a mimic (r_wrist follows r_gripper, which follows l_gripper; the path for
    chains) is set from its source's new value, each clipped to its own limits."""
    urdf = (
        toy_urdf()
        .replace(
            '<child link="r_finger"/>',
            '<child link="r_finger"/><mimic joint="l_gripper" multiplier="-0.5" offset="0.1"/>',
        )
        .replace(
            '<child link="r_hand"/>',
            '<child link="r_hand"/><mimic joint="r_gripper" multiplier="6.0" offset="0.0"/>',
        )
    )
    model = RobotModel(load_robot(write_toy(tmp_path, urdf=urdf)))
    assert {(m.joint, m.source) for m in model.mimics} == {
        ("r_wrist", "r_gripper"),
        ("r_gripper", "l_gripper"),
    }
    q = model.home_positions()
    q[model.index_of(["l_gripper"])] = 0.8
    gripper, wrist = model.apply_mimic(q)[model.index_of(["r_gripper", "r_wrist"])]
    assert gripper == pytest.approx(-0.3)
    assert wrist == pytest.approx(-1.5)  # 6 x -0.3 = -1.8, clipped to its lower limit


@pytest.mark.parametrize("chain", [False, True])
def test_apply_mimic_rows_is_apply_mimic_at_each_row(tmp_path: Path, chain: bool) -> None:
    """apply_mimic_rows gives each row apply_mimic's numbers, bit for bit, in one pass and
    for a chain of mimics (row by row), clipped alike; the rows given are not changed."""
    urdf = toy_urdf().replace(
        '<child link="r_finger"/>',
        '<child link="r_finger"/><mimic joint="l_gripper" multiplier="-0.5" offset="0.1"/>',
    )
    if chain:
        urdf = urdf.replace(
            '<child link="r_hand"/>',
            '<child link="r_hand"/><mimic joint="r_gripper" multiplier="6.0" offset="0.0"/>',
        )
    model = RobotModel(load_robot(write_toy(tmp_path, urdf=urdf)))
    rng = np.random.default_rng(3)
    rows = model.home_positions() + rng.uniform(-0.3, 0.3, size=(5, model.nq))
    given = rows.copy()
    out = model.apply_mimic_rows(rows)
    np.testing.assert_array_equal(out, [model.apply_mimic(row) for row in rows])
    np.testing.assert_array_equal(rows, given)
    assert not np.array_equal(out, rows)


def test_mimic_cycle_is_an_error_naming_the_file_and_joints(tmp_path: Path) -> None:
    """Two joints mimicking each other: no order sets them; one error names the URDF."""
    urdf = (
        toy_urdf()
        .replace(
            '<child link="r_finger"/>',
            '<child link="r_finger"/><mimic joint="r_wrist" multiplier="1.0"/>',
        )
        .replace(
            '<child link="r_hand"/>',
            '<child link="r_hand"/><mimic joint="r_gripper" multiplier="1.0"/>',
        )
    )
    description = load_robot(write_toy(tmp_path, urdf=urdf))
    with pytest.raises(RobotModelError, match=r"toy\.urdf: mimic joints form a cycle: r_"):
        RobotModel(description)


def test_nan_in_yaml_is_rejected(tmp_path: Path) -> None:
    """A .nan value is an error naming the key, not a silent NaN limit or pose."""
    path = write_toy(tmp_path)
    text = path.read_text(encoding="utf-8").replace("l_shoulder: -0.2", "l_shoulder: .nan")
    path.write_text(text, encoding="utf-8")
    with _fails_at(path, r"home\.l_shoulder: expected a finite number, got nan"):
        load_robot(path)


def test_unknown_finger_name_lists_allowed_fingers(tmp_path: Path) -> None:
    """Dexterous fingers must be named thumb, index, middle, ring or pinky."""
    config = toy_config()
    config["hands"]["left"] = {
        "kind": "dexterous",
        "group": "left_hand",
        "fingers": {"pointer": ["l_gripper"]},
        "open": [0.0],
        "closed": [1.0],
    }
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.fingers\.pointer: unknown finger 'pointer'; allowed: "):
        load_robot(path)


def test_gripper_fingertip_frames_are_its_jaw_tips(tmp_path: Path) -> None:
    """A gripper may name its jaw tips as fingertip frames (finger names, no joints)."""
    config = toy_config()
    config["hands"]["left"]["fingertip_frames"] = {"thumb": "l_finger", "index": "l_hand"}
    description = load_robot(write_toy(tmp_path, config))
    assert dict(description.hands["left"].fingertip_frames) == {
        "thumb": "l_finger",
        "index": "l_hand",
    }


def test_gripper_fingertip_needs_a_finger_name(tmp_path: Path) -> None:
    """A gripper's fingertip frame under a name that is not a finger lists the names."""
    config = toy_config()
    config["hands"]["left"]["fingertip_frames"] = {"jaw": "l_finger"}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.fingertip_frames\.jaw: no finger 'jaw'; fingers: thumb"):
        load_robot(path)


def test_gripper_has_no_finger_joints(tmp_path: Path) -> None:
    """A gripper's joints are its group: a ``fingers`` map is an error."""
    config = toy_config()
    config["hands"]["left"]["fingers"] = {"thumb": ["l_gripper"]}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.fingers: only a 'dexterous' hand has finger joints"):
        load_robot(path)


def test_gripper_fingertip_frame_must_exist(tmp_path: Path) -> None:
    """A gripper's fingertip frame missing from the model is named with near matches."""
    config = toy_config()
    config["hands"]["left"]["fingertip_frames"] = {"thumb": "l_fingr"}
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.fingertip_frames\.thumb: frame 'l_fingr' is not in"):
        load_robot(path)


def test_rigid_hand_names_where_it_meets_an_object(tmp_path: Path) -> None:
    """A hand of kind 'none' (no joints) may name a fingertip frame, its tool point; any
    other key is an error."""
    config = toy_config()
    config["hands"]["left"] = {"kind": "none", "fingertip_frames": {"middle": "l_finger"}}
    hand = load_robot(write_toy(tmp_path, config)).hands["left"]
    assert (hand.kind, dict(hand.fingertip_frames)) == ("none", {"middle": "l_finger"})
    assert hand.group is None
    config["hands"]["left"]["open"] = [0.0]
    path = write_toy(tmp_path, config)
    with _fails_at(path, r"hands\.left\.open: a hand of kind 'none' takes only fingertip_frames"):
        load_robot(path)


def test_name_must_match_folder(tmp_path: Path) -> None:
    """robot.yaml's name must be its folder's name (lookup is by folder)."""
    path = write_toy(tmp_path, name="toy")
    text = path.read_text(encoding="utf-8").replace("name: toy", "name: other", 1)
    path.write_text(text, encoding="utf-8")
    with _fails_at(path, r"name: got 'other' but the folder is 'toy'"):
        load_robot(path)


def test_hand_pinch_fingers_are_thumb_and_index_else_every_fingertip() -> None:
    """A hand pinches between its thumb and index tips when it names both, else its grasp
    point is the mean of every fingertip it names (its tool point); none without tips."""
    tips = {"thumb": "t_tip", "index": "i_tip", "middle": "m_tip"}
    assert HandSpec("left", "dexterous", fingertip_frames=tips).pinch_fingers == (
        "thumb",
        "index",
    )
    jaws = {"upper": "u_tip", "lower": "l_tip"}
    assert HandSpec("left", "gripper", fingertip_frames=jaws).pinch_fingers == ("upper", "lower")
    assert HandSpec("left", "gripper").pinch_fingers == ()
    # a rigid hand does not pinch: its grasp point is its EE frame, not its tip
    rigid = HandSpec("left", "none", fingertip_frames={"middle": "m_tip"})
    assert rigid.pinch_fingers == ()


def test_a_search_path_entry_that_is_a_file_is_named_as_such(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A HUMANOID_TELEOP_ROBOTS_PATH entry that is a file was reported as missing; it is
    skipped with a warning saying it is not a folder, a missing one that it does not exist."""
    afile, missing = tmp_path / "robots.txt", tmp_path / "nowhere"
    afile.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="humanoid_teleop.core.robot.loader"):
        assert list_robots([afile, missing]) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"robot folder {afile} is not a folder (from the search path)",
        f"robot folder {missing} does not exist (from the search path)",
    ]
