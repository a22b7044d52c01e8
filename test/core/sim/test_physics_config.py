"""physics.yaml: every shipped robot's file loads; bad files fail with file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.robot import list_robots, load_robot
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.physics_config import PHYSICS_FILE, PhysicsConfig, load_physics

ROBOTS = [entry.name for entry in list_robots()]
GOOD = """\
schema_version: 1
timestep_s: 0.002
actuators:
  default: {kp: 100.0, kv: 2.0}
  groups:
    left_hand: {kp: 5.0, kv: 0.1}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / PHYSICS_FILE).write_text(text, encoding="utf-8")
    return tmp_path / "robot.yaml"


@pytest.mark.parametrize("robot", ROBOTS)
def test_every_shipped_robot_has_valid_physics(robot: str) -> None:
    """Each shipped robot has a physics.yaml beside robot.yaml and it loads."""
    description = load_robot(robot)
    assert (description.source_file.parent / PHYSICS_FILE).is_file()
    physics = load_physics(description.source_file, tuple(description.groups))
    assert physics.source.endswith(PHYSICS_FILE)


def test_group_gains_override_the_default(tmp_path: Path) -> None:
    """A group's servo gains apply to its joints; others get the default."""
    physics = load_physics(_write(tmp_path, GOOD), ("left_hand", "left_arm"))
    assert physics.gains_for("left_hand").kp == 5.0
    assert physics.gains_for("left_arm").kp == 100.0
    assert physics.gains_for(None).kv == 2.0


def test_group_force_limit_replaces_the_urdf_effort(tmp_path: Path) -> None:
    """A group's force_limit is read (others: None, the URDF effort); it changes the model
    digest, and a zero one is rejected at its line."""
    text = GOOD.replace("{kp: 5.0, kv: 0.1}", "{kp: 5.0, kv: 0.1, force_limit: 5.0}")
    physics = load_physics(_write(tmp_path, text), ("left_hand", "left_arm"))
    assert physics.gains_for("left_hand").force_limit == 5.0
    assert physics.gains_for("left_arm").force_limit is None
    without = load_physics(_write(tmp_path, GOOD), ("left_hand", "left_arm"))
    assert physics.digest() != without.digest()
    with pytest.raises(SimConfigError, match=r"physics.yaml:6: .*force_limit"):
        load_physics(_write(tmp_path, text.replace("force_limit: 5.0", "force_limit: 0")))


def test_joint_dynamics_replace_the_urdf_ones_of_a_group(tmp_path: Path) -> None:
    """A group's friction and damping are read; other groups keep the URDF's (None); they
    change the model digest."""
    text = GOOD + "joint_dynamics:\n  groups:\n    left_hand: {friction: 0.1, damping: 0.2}\n"
    physics = load_physics(_write(tmp_path, text), ("left_hand", "left_arm"))
    dynamics = physics.dynamics_for("left_hand")
    assert dynamics is not None and (dynamics.friction, dynamics.damping) == (0.1, 0.2)
    assert physics.dynamics_for("left_arm") is None and physics.dynamics_for(None) is None
    without = load_physics(_write(tmp_path, GOOD), ("left_hand", "left_arm"))
    assert physics.digest() != without.digest()


def test_joint_dynamics_of_an_unknown_group_is_rejected(tmp_path: Path) -> None:
    """Friction for a group robot.yaml does not have names the group and its line."""
    text = GOOD + "joint_dynamics:\n  groups:\n    head: {friction: 0.1, damping: 0.1}\n"
    with pytest.raises(SimConfigError, match=r"physics.yaml:9: .*no group 'head'"):
        load_physics(_write(tmp_path, text), ("left_hand",))


def test_exclude_within_groups_names_groups_of_the_robot(tmp_path: Path) -> None:
    """exclude_within_groups is a list of robot.yaml groups; another name is an error."""
    text = GOOD + "exclude_within_groups: [left_hand]\n"
    physics = load_physics(_write(tmp_path, text), ("left_hand",))
    assert physics.exclude_within_groups == ("left_hand",)
    assert physics.digest() != load_physics(_write(tmp_path, GOOD)).digest()
    with pytest.raises(SimConfigError, match=r"physics.yaml:7: .*no group 'left_hand'"):
        load_physics(_write(tmp_path, text), ("right_hand",))


def test_a_rewritten_file_is_read_again(tmp_path: Path) -> None:
    """load_physics parses a file once, but a file rewritten in place (even to the same size,
    within the file system's clock tick) gives its new values, and a removed one the
    defaults."""
    robot = _write(tmp_path, GOOD)
    assert load_physics(robot).timestep_s == 0.002
    assert load_physics(robot) is load_physics(robot)  # parsed once
    _write(tmp_path, GOOD.replace("0.002", "0.001"))
    assert load_physics(robot).timestep_s == 0.001
    (tmp_path / PHYSICS_FILE).unlink()
    assert load_physics(robot) == PhysicsConfig.defaults()


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    """A robot without physics.yaml simulates with the documented defaults."""
    assert load_physics(tmp_path / "robot.yaml") == PhysicsConfig.defaults()


def test_a_folder_in_place_of_physics_yaml_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    """A physics.yaml that is a folder was taken for no file (`robots check` said ok and the
    robot simulated with the defaults); now one error naming it."""
    (tmp_path / "physics.yaml").mkdir()
    with pytest.raises(SimConfigError) as err:
        load_physics(tmp_path / "robot.yaml")
    assert (
        str(err.value) == f"{tmp_path / 'physics.yaml'}: not a file (a physics.yaml is a YAML file)"
    )


def test_unknown_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    """An unknown top-level key names the file, its line and the allowed keys."""
    path = _write(tmp_path, GOOD + "gravity: 9.81\n")
    with pytest.raises(SimConfigError, match=r"physics.yaml:7: gravity: unknown key"):
        load_physics(path)


def test_unknown_group_is_rejected(tmp_path: Path) -> None:
    """Gains for a group robot.yaml does not have are an error naming the group."""
    with pytest.raises(SimConfigError, match=r"physics.yaml:6: .*no group 'left_hand'"):
        load_physics(_write(tmp_path, GOOD), ("right_hand",))


def test_bad_cone_lists_the_choices(tmp_path: Path) -> None:
    """A friction cone other than elliptic/pyramidal is rejected with the allowed values."""
    path = _write(tmp_path, "schema_version: 1\ncone: round\n")
    with pytest.raises(SimConfigError, match=r":2: cone: got 'round'; allowed: elliptic"):
        load_physics(path)


def test_coarse_timestep_is_rejected(tmp_path: Path) -> None:
    """A physics step above 10 ms is refused (contacts would explode)."""
    path = _write(tmp_path, "schema_version: 1\ntimestep_s: 0.05\n")
    with pytest.raises(SimConfigError, match=r"timestep_s: 0.05 s is too coarse"):
        load_physics(path)


def test_digest_changes_with_a_setting() -> None:
    """The model-cache hash changes when a physics setting changes."""
    assert PhysicsConfig().digest() != PhysicsConfig(armature=0.02).digest()


def test_visual_mesh_limit_defaults_to_the_collision_limit(tmp_path: Path) -> None:
    """Without visual_max_faces the drawn meshes get mesh_max_faces triangles."""
    path = _write(tmp_path, "schema_version: 1\nmesh_max_faces: 1200\n")
    physics = load_physics(path)
    assert (physics.mesh_max_faces, physics.visual_max_faces) == (1200, 1200)


def test_demonstrator_block_overrides_only_its_keys(tmp_path: Path) -> None:
    """A ``demonstrator`` block gives the settings it names; the others stay None."""
    path = _write(tmp_path, GOOD + "demonstrator: {tilt_down_rad: 1.5, grasp_height_m: -0.01}\n")
    settings = load_physics(path).demonstrator
    assert settings.overrides() == {"tilt_down_rad": 1.5, "grasp_height_m": -0.01}


def test_demonstrator_unknown_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    """An unknown demonstrator setting names the file, its line and the key."""
    path = _write(tmp_path, GOOD + "demonstrator:\n  tilt: 1.0\n")
    with pytest.raises(SimConfigError, match=r"physics.yaml:8: demonstrator.tilt: unknown key"):
        load_physics(path)


def test_demonstrator_value_out_of_range_is_rejected(tmp_path: Path) -> None:
    """A preshape outside [0, 1] is an error naming the key and the range."""
    path = _write(tmp_path, GOOD + "demonstrator: {preshape: 1.5}\n")
    with pytest.raises(SimConfigError, match=r"demonstrator.preshape: expected a number in"):
        load_physics(path)


def test_demonstrator_flag_is_read_as_true_or_false(tmp_path: Path) -> None:
    """``still_wrist_grasping`` is a flag: true gives True, a number is an error."""
    path = _write(tmp_path, GOOD + "demonstrator: {still_wrist_grasping: true}\n")
    assert load_physics(path).demonstrator.overrides() == {"still_wrist_grasping": True}
    path = _write(tmp_path, GOOD + "demonstrator: {still_wrist_grasping: 1}\n")
    with pytest.raises(SimConfigError, match=r"still_wrist_grasping: expected true or false"):
        load_physics(path)


def test_demonstrator_settings_do_not_change_the_model_digest(tmp_path: Path) -> None:
    """The demonstrator block is the script's, so it never rebuilds the cached model."""
    plain = load_physics(_write(tmp_path, GOOD))
    tuned = load_physics(_write(tmp_path, GOOD + "demonstrator: {tilt_down_rad: 1.5}\n"))
    assert plain.digest() == tuned.digest()


def test_task_sub_block_overrides_the_robot_wide_value_for_that_task_only(
    tmp_path: Path,
) -> None:
    """A ``push:`` sub-block wins for push; pick_and_place keeps the robot-wide value."""
    text = (
        GOOD + "demonstrator:\n  tilt_down_rad: 1.5\n  close_s: 2.5\n  push: {tilt_down_rad: 1.0}\n"
    )
    settings = load_physics(_write(tmp_path, text)).demonstrator
    assert settings.overrides("push") == {"tilt_down_rad": 1.0, "close_s": 2.5}
    assert settings.overrides("pick_and_place") == {"tilt_down_rad": 1.5, "close_s": 2.5}
    assert settings.overrides() == {"tilt_down_rad": 1.5, "close_s": 2.5}


def test_task_sub_block_unknown_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    """An unknown key inside a task's sub-block names the file, its line and the key path."""
    path = _write(tmp_path, GOOD + "demonstrator:\n  push:\n    tilt: 1.0\n")
    with pytest.raises(
        SimConfigError, match=r"physics.yaml:9: demonstrator.push.tilt: unknown key"
    ):
        load_physics(path)


def test_task_sub_block_cannot_nest_another_task(tmp_path: Path) -> None:
    """Per-task settings are one level deep: a task inside a task's block is unknown."""
    path = _write(tmp_path, GOOD + "demonstrator:\n  push:\n    pick_and_place: {}\n")
    with pytest.raises(SimConfigError, match=r"demonstrator.push.pick_and_place: unknown key"):
        load_physics(path)


def test_task_sub_block_value_out_of_range_is_rejected(tmp_path: Path) -> None:
    """A task's push_behind_m outside its range is an error naming the key path."""
    path = _write(tmp_path, GOOD + "demonstrator:\n  push: {push_behind_m: 0.5}\n")
    with pytest.raises(
        SimConfigError, match=r"demonstrator.push.push_behind_m: expected a number in"
    ):
        load_physics(path)
