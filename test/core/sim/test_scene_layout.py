"""Scene layouts: the adult robots keep the scene files' layout bit for bit, iCub's own layout
(physics.yaml ``scene_layout``) puts its push within its arm's reach and clear of its arm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.arm_ik import arm_geometry
from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.mjcf_build import import_mujoco
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.physics_config import PHYSICS_FILE, load_physics
from humanoid_teleop.core.sim.scene import Scene, load_scene
from humanoid_teleop.core.sim.scene_layout import SceneLayout, SceneLayoutSettings
from humanoid_teleop.devices.scripted.episode import robot_demonstrator_config

FloatArray = NDArray[np.float64]
SEEDS = range(20)

#: The adult robots' layouts [m], the same as before robots could set their own (822d653);
#: Alex's within 0.03 mm of it since its home wrist left the singularity (the same hand pose,
#: home angles to 4 decimals).
ADULT_LAYOUTS = {
    "g1": SceneLayout(
        0.014291899485838533,
        0.09741315243206214,
        -0.1648131266183092,
        (0.24741315243206213, -0.1648131266183092),
    ),
    "alex": SceneLayout(
        0.11053806257018117,
        0.21532639900260744,
        -0.2820348074595298,
        (0.36532639900260744, -0.2820348074595298),
    ),
    "talos": SceneLayout(
        -0.05221760853834938,
        0.18786864062718414,
        -0.31399016832127663,
        (0.33786864062718414, -0.31399016832127663),
    ),
    "romeo": SceneLayout(
        -0.07838685159643874,
        0.0787853528787752,
        -0.19996046343849316,
        (0.2287853528787752, -0.19996046343849316),
    ),
}


@pytest.fixture(scope="module")
def icub() -> RobotModel:
    return RobotModel(load_robot("icub"))


def _write(tmp_path: Path, block: str) -> Path:
    (tmp_path / PHYSICS_FILE).write_text("schema_version: 1\n" + block, encoding="utf-8")
    return tmp_path / "robot.yaml"


@pytest.mark.parametrize("scene", ["pick_and_place", "push"])
@pytest.mark.parametrize("robot", sorted(ADULT_LAYOUTS))
def test_adult_layouts_are_the_scene_files(robot: str, scene: str) -> None:
    """G1, Alex, TALOS and Romeo set no layout: the table and anchor are where they were."""
    model = RobotModel(load_robot(robot))
    assert load_physics(model.description.source_file).scene_layout == SceneLayoutSettings()
    assert Scene(load_scene(scene), model).layout == ADULT_LAYOUTS[robot]


def test_layout_settings_move_table_and_objects(tmp_path: Path, icub: RobotModel) -> None:
    """Each setting moves what it names, from the wrist at home, and nothing else."""
    path = _write(tmp_path, "scene_layout: {table_below_hand_m: 0.2, shift_m: [-0.1, 0.05]}\n")
    settings = load_physics(path).scene_layout
    config = load_scene("push")
    plain = Scene(config, icub, SceneLayoutSettings())
    moved = Scene(config, icub, settings)
    assert moved.table_top_m == pytest.approx(plain.table_top_m + 0.12 - 0.2)
    np.testing.assert_allclose(moved.anchor - plain.anchor, [-0.1, 0.05])
    assert moved.layout.table_near_x_m == plain.layout.table_near_x_m
    assert moved.layout.table_middle_y_m == plain.layout.table_middle_y_m


def test_unknown_layout_key_is_rejected_with_its_line(tmp_path: Path) -> None:
    """An unknown scene_layout key names the file, its line and the allowed keys."""
    path = _write(tmp_path, "scene_layout:\n  table_height_m: 0.1\n")
    with pytest.raises(
        SimConfigError, match=r"physics.yaml:3: scene_layout.table_height_m: unknown key"
    ):
        load_physics(path)


def test_layout_value_out_of_range_is_rejected(tmp_path: Path) -> None:
    """A shift beyond 0.3 m is an error naming the key and the allowed range."""
    path = _write(tmp_path, "scene_layout: {shift_m: [0.5, 0.0]}\n")
    with pytest.raises(
        SimConfigError, match=r"scene_layout.shift_m\[0\]: expected a number in \[-0.3, 0.3\] m"
    ):
        load_physics(path)


def test_layout_does_not_change_the_model_digest(tmp_path: Path) -> None:
    """Where the scenes go is not part of the robot's model: its cache is kept."""
    plain = load_physics(_write(tmp_path, ""))
    moved = load_physics(_write(tmp_path, "scene_layout: {table_near_m: -0.2}\n"))
    assert moved.scene_layout.table_near_m == -0.2
    assert moved.digest() == plain.digest()


def _push_wrist_points(scene: Scene, model: RobotModel, seed: int) -> list[FloatArray]:
    """Where the demonstrator puts iCub's wrist (its grasp point) in a push: above and at the
    spot behind the puck, and along the push to the spot before the target [m], base frame."""
    config = robot_demonstrator_config(model.description, "push")
    puck = scene.config.objects[0]
    start = scene.start_positions(seed)[0]
    target = scene.target_position()
    direction = (target[:2] - start[:2]) / np.linalg.norm(target[:2] - start[:2])
    behind = start[:2] - direction * (config.push_behind_m + puck.size_m[0])
    goal = target[:2] - direction * puck.size_m[0]
    push_z = start[2] + config.grasp_height_m
    above_z = max(push_z, start[2] + puck.half_height_m) + config.approach_height_m
    points = [np.array([*behind, above_z])]
    points += [np.array([*(behind + f * (goal - behind)), push_z]) for f in np.linspace(0, 1, 9)]
    return points


def test_icub_push_lies_within_its_reach(icub: RobotModel) -> None:
    """Every wrist point of every seed's push lies 0.68-0.91 of iCub's arm length from its
    shoulder: inside the IK's reach (0.95) and, the push itself from 0.77, outside the fully
    bent elbow's (~0.69, where the wrist got stuck). The scene files' layout: 1.09-1.30."""
    scene = Scene(load_scene("push"), icub)
    length_m, shoulder = arm_geometry(icub, "right", icub.home_positions())
    ratios = [
        float(np.linalg.norm(point - shoulder)) / length_m
        for seed in SEEDS
        for point in _push_wrist_points(scene, icub, seed)
    ]
    assert min(ratios) >= 0.68 and max(ratios) <= 0.91, (min(ratios), max(ratios))


def _arm_collision_points(sim: MujocoSim, side: str) -> FloatArray:
    """Vertices [m] (base frame) of the collision geometry of ``side``'s arm at the sim's
    state: every group-3 geom of the bodies its first joint moves."""
    mujoco = import_mujoco()
    m, d = sim.model, sim.data
    description = sim.description
    first = description.groups[description.arms[side].group][0]
    root = m.jnt_bodyid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, first)]

    def moved(body: int) -> bool:
        while body > 0:
            if body == root:
                return True
            body = m.body_parentid[body]
        return False

    points = []
    for g in range(m.ngeom):
        if m.geom_group[g] != 3 or not moved(m.geom_bodyid[g]):
            continue
        if m.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
            mesh = m.geom_dataid[g]
            start = m.mesh_vertadr[mesh]
            local = m.mesh_vert[start : start + m.mesh_vertnum[mesh]]
        else:
            centre, half = m.geom_aabb[g][:3], m.geom_aabb[g][3:]
            local = centre + half * (np.array(list(np.ndindex(2, 2, 2))) * 2.0 - 1.0)
        world = local @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g]
        points.append((world - sim.base_position) @ sim.base_rotation)
    return np.vstack(points)


def test_icub_arm_at_home_clears_the_table_and_the_puck(icub: RobotModel) -> None:
    """iCub's forearm hangs low at home: the table top is >= 5 cm under its arm, and the puck's
    top >= 1 cm under the arm above every seed's puck (the puck starts under the forearm)."""
    scene = Scene(load_scene("push"), icub)
    arm = _arm_collision_points(MujocoSim(icub, scene=scene), "right")
    assert float(arm[:, 2].min()) - scene.table_top_m >= 0.05
    puck = scene.config.objects[0]
    for seed in SEEDS:
        start = scene.start_positions(seed)[0]
        over = np.linalg.norm(arm[:, :2] - start[:2], axis=1) <= puck.size_m[0]
        top = start[2] + puck.half_height_m
        assert not over.any() or float(arm[over, 2].min()) - top >= 0.01, seed


@pytest.mark.parametrize("scene_name", ["pick_and_place", "push"])
@pytest.mark.parametrize("robot", [e.name for e in list_robots()])
def test_robot_at_home_touches_neither_table_nor_objects(robot: str, scene_name: str) -> None:
    """At home, before anything moves, no part of the robot touches the table or an object."""
    mujoco = import_mujoco()
    model = RobotModel(load_robot(robot))
    scene = Scene(load_scene(scene_name), model)
    sim = MujocoSim(model, scene=scene, seed=0)
    m, d = sim.model, sim.data
    scenery = {
        mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)
        for name in ("scene_table", *(f"object_{n}" for n in scene.object_names))
    }
    for contact in d.contact[: d.ncon]:
        bodies = {int(m.geom_bodyid[contact.geom1]), int(m.geom_bodyid[contact.geom2])}
        touching = bodies & scenery
        assert not touching or bodies <= scenery | {0}, [
            mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b) for b in bodies
        ]
