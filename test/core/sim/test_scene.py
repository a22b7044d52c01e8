"""Scenes: shipped files load, bad files name file:line, seeded layouts, task detectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.mjcf_build import import_mujoco
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.scene import FAILURE, RUNNING, SUCCESS, Scene, load_scene

SCENES = ("pick_and_place", "push")


@pytest.fixture(scope="module")
def g1() -> RobotModel:
    return RobotModel(load_robot("g1"))


def _teleport(sim: MujocoSim, name: str, position: np.ndarray) -> None:
    """Put an object at ``position`` (base frame) at rest and recompute contacts."""
    mujoco = import_mujoco()
    m, d = sim.model, sim.data
    joint = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, f"object_{name}")
    adr, dof = m.jnt_qposadr[joint], m.jnt_dofadr[joint]
    d.qpos[adr : adr + 3] = sim.world_from_base(position)
    d.qpos[adr + 3 : adr + 7] = [1.0, 0.0, 0.0, 0.0]
    d.qvel[dof : dof + 6] = 0.0
    mujoco.mj_forward(m, d)


@pytest.mark.parametrize("name", SCENES)
@pytest.mark.parametrize("robot", [e.name for e in list_robots()])
def test_every_scene_builds_for_every_robot(name: str, robot: str) -> None:
    """Each shipped scene builds with each robot; its object settles on the table."""
    model = RobotModel(load_robot(robot))
    scene = Scene(load_scene(name), model)
    sim = MujocoSim(model, scene=scene, seed=1)
    sim.step(250)
    _, position = scene.object_poses(sim)[0]
    expected_z = scene.table_top_m + scene.config.objects[0].half_height_m
    assert position[2] == pytest.approx(expected_z, abs=2e-3)
    assert scene.outcome == RUNNING


def test_seed_draws_reproducible_start_poses(g1: RobotModel) -> None:
    """The same seed gives the same start positions, another seed different ones."""
    scene = Scene(load_scene("pick_and_place"), g1)
    a, b, c = (scene.start_positions(s)[0] for s in (4, 4, 5))
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a - c) > 1e-4
    spread = np.array(scene.config.objects[0].randomize_m)
    assert np.all(np.abs(a[:2] - scene.anchor - scene.config.objects[0].position_m) <= spread)


def test_pick_and_place_succeeds_after_lift_and_release_in_target(g1: RobotModel) -> None:
    """Lifted >= lift_m and then resting inside the target disc is a success."""
    scene = Scene(load_scene("pick_and_place"), g1)
    sim = MujocoSim(g1, scene=scene, seed=0)
    start = scene.start_positions(0)[0]
    _teleport(sim, "cube", start + np.array([0.0, 0.0, 0.08]))
    assert scene.observe(sim) == RUNNING
    target = scene.target_position()
    _teleport(sim, "cube", np.array([target[0], target[1], start[2]]))
    assert scene.observe(sim) == SUCCESS


def test_pick_and_place_without_lift_is_not_a_success(g1: RobotModel) -> None:
    """Sliding the cube into the target without lifting it is no success."""
    scene = Scene(load_scene("pick_and_place"), g1)
    sim = MujocoSim(g1, scene=scene, seed=0)
    target = scene.target_position()
    _teleport(sim, "cube", np.array([target[0], target[1], scene.start_positions(0)[0][2]]))
    assert scene.observe(sim) == RUNNING


def test_push_fails_when_the_object_is_lifted(g1: RobotModel) -> None:
    """A push task whose object is lifted above lift_m ends as a failure."""
    scene = Scene(load_scene("push"), g1)
    sim = MujocoSim(g1, scene=scene, seed=0)
    _teleport(sim, "puck", scene.start_positions(0)[0] + np.array([0.0, 0.0, 0.1]))
    assert scene.observe(sim) == FAILURE


def test_object_off_the_table_is_a_failure(g1: RobotModel) -> None:
    """An object dropped below the table top is a failure."""
    scene = Scene(load_scene("pick_and_place"), g1)
    sim = MujocoSim(g1, scene=scene, seed=0)
    _teleport(sim, "cube", scene.start_positions(0)[0] - np.array([0.0, 0.0, 0.3]))
    assert scene.observe(sim) == FAILURE


def test_unknown_scene_lists_the_shipped_ones() -> None:
    """A scene name that does not exist names the ones that do."""
    with pytest.raises(SimConfigError, match="no scene 'kitchen'; scenes: pick_and_place, push"):
        load_scene("kitchen")


def test_unknown_object_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    """A typo in an object names the file, line and key."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\ntask: none\nobjects:\n"
        "  - {name: a, shape: box, size_m: [0.02, 0.02, 0.02], mass_kg: 0.1, colour: red}\n",
        encoding="utf-8",
    )
    with pytest.raises(SimConfigError, match=r"s.yaml:4: objects\[0\].colour: unknown key"):
        load_scene(str(path))


def test_task_with_a_target_needs_one(tmp_path: Path) -> None:
    """pick_and_place without a target is rejected."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\ntask: pick_and_place\nobjects:\n"
        "  - {name: a, shape: sphere, size_m: [0.02], mass_kg: 0.1}\n",
        encoding="utf-8",
    )
    with pytest.raises(SimConfigError, match="needs a 'target'"):
        load_scene(str(path))


def test_edited_scene_file_is_read_anew(tmp_path: Path) -> None:
    """A scene file whose text changed is parsed again, not taken from the last parse."""
    path = tmp_path / "s.yaml"
    objects = "objects:\n  - {name: a, shape: sphere, size_m: [0.02], mass_kg: 0.1}\n"
    path.write_text(f"schema_version: 1\ntask: none\nhand: left\n{objects}", encoding="utf-8")
    assert load_scene(str(path)).hand == "left"
    assert load_scene(str(path)).hand == "left"
    path.write_text(f"schema_version: 1\ntask: none\nhand: right\n{objects}", encoding="utf-8")
    assert load_scene(str(path)).hand == "right"
