"""URDF -> MuJoCo build: cached by input hash outside the tree, meshes converted, fix-ups."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotDescription, RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.mjcf_build import (
    GROUP_COLLISION,
    GROUP_VISUAL,
    ModelBuildError,
    cache_root,
    convert_mesh,
    import_mujoco,
    model_key,
    robot_model_path,
)
from humanoid_teleop.core.sim.physics_config import PhysicsConfig, load_physics
from test.cli.test_robots_integrator import example_robot_yaml

ROBOTS = [entry.name for entry in list_robots()]
REPO = Path(__file__).resolve().parents[3]


def _physics(robot: str) -> PhysicsConfig:
    description = load_robot(robot)
    return load_physics(description.source_file, tuple(description.groups))


def test_cache_root_follows_the_environment(tmp_path: Path) -> None:
    """HUMANOID_TELEOP_CACHE wins, then XDG_CACHE_HOME, then ~/.cache."""
    assert cache_root({"HUMANOID_TELEOP_CACHE": str(tmp_path)}) == tmp_path / "mujoco"
    assert cache_root({"XDG_CACHE_HOME": "/x"}) == Path("/x/humanoid_teleop/mujoco")


def test_default_cache_is_outside_the_source_tree() -> None:
    """Built models never land in the repository."""
    assert REPO not in cache_root().resolve().parents


def test_second_build_reuses_the_cached_model(tmp_path: Path) -> None:
    """Building twice with the same inputs returns the same file without rewriting it."""
    description = load_robot("icub")
    first = robot_model_path(description, _physics("icub"), tmp_path)
    stamp = first.stat().st_mtime_ns
    again = robot_model_path(description, _physics("icub"), tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".icub-*")), "no temporary build folder is left behind"


def test_changed_physics_builds_a_new_model(tmp_path: Path) -> None:
    """A different physics setting is a different cache entry."""
    description = load_robot("icub")
    first = robot_model_path(description, PhysicsConfig(), tmp_path)
    second = robot_model_path(description, PhysicsConfig(armature=0.02), tmp_path)
    assert first.parent != second.parent


def test_changed_joint_limit_override_builds_a_new_model() -> None:
    """robot.yaml's effort overrides set the servos' force limits: they are in the cache key."""
    description = load_robot("romeo")
    joints = dict(description.limits.joints)
    joints["RHand"] = dataclasses.replace(joints["RHand"], effort=5.0)
    changed = dataclasses.replace(
        description, limits=dataclasses.replace(description.limits, joints=joints)
    )
    physics = _physics("romeo")
    assert model_key(changed, physics) != model_key(description, physics)


def test_the_key_follows_mesh_content_not_where_the_meshes_lie(tmp_path: Path) -> None:
    """The same URDF and meshes in another folder, written at another time (a new clone or
    venv), reuse the built model; a mesh whose content changed builds a new one."""
    description = load_robot("icub")
    physics = _physics("icub")
    urdf_text = (
        '<robot name="r"><link name="base"><visual><geometry><mesh filename="meshes/a.stl"/>'
        "</geometry></visual></link></robot>"
    )

    def placed(folder: Path, mesh: bytes, mtime_ns: int) -> RobotDescription:
        (folder / "meshes").mkdir(parents=True)
        (folder / "meshes/a.stl").write_bytes(mesh)
        os.utime(folder / "meshes/a.stl", ns=(mtime_ns, mtime_ns))
        (folder / "r.urdf").write_text(urdf_text)
        return dataclasses.replace(
            description, model=dataclasses.replace(description.model, path=folder / "r.urdf")
        )

    first = placed(tmp_path / "one", b"solid a\nendsolid a\n", 1_000_000_000)
    moved = placed(tmp_path / "two", b"solid a\nendsolid a\n", 2_000_000_000)
    edited = placed(tmp_path / "three", b"solid b\nendsolid b\n", 1_000_000_000)
    assert model_key(moved, physics) == model_key(first, physics)
    assert model_key(edited, physics) != model_key(first, physics)


def test_collada_y_up_mesh_is_turned_z_up(tmp_path: Path) -> None:
    """A Y-up COLLADA mesh (iCub) comes out rotated so its Y extent becomes Z."""
    trimesh = pytest.importorskip("trimesh")
    source = load_robot("icub").model.path.parents[1] / "meshes/upmc/visual/icub_chest.dae"
    if not source.is_file():
        pytest.skip(f"{source} not in this example-robot-data version")
    target = tmp_path / "chest.stl"
    convert_mesh(source, target, 100_000)
    raw = trimesh.load(source, force="scene", skip_materials=True).bounds
    out = trimesh.load(target).bounds
    np.testing.assert_allclose(out[:, 2], raw[:, 1], atol=1e-4)


def test_unreadable_mesh_is_a_build_error(tmp_path: Path) -> None:
    """A mesh that is not a mesh fails with its path in the message."""
    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"not a mesh")
    with pytest.raises(ModelBuildError, match=r"bad\.stl"):
        convert_mesh(bad, tmp_path / "out.stl", 1000)


@pytest.mark.parametrize("robot", ROBOTS)
def test_model_loads_from_the_cache_with_servos_and_meshes(robot: str) -> None:
    """The cached model loads; every non-mimic joint has a servo; meshes are simplified;
    visual geoms never collide and collision geoms are not drawn."""
    mujoco = import_mujoco()
    description = load_robot(robot)
    physics = _physics(robot)
    path = robot_model_path(description, physics)
    model = mujoco.MjModel.from_xml_path(str(path))
    robot_model = RobotModel(description)
    mimics = {m.joint for m in robot_model.mimics}
    servos = {model.actuator(i).name for i in range(model.nu)}
    assert servos == set(robot_model.joint_names) - mimics
    assert model.neq == len(robot_model.mimics)
    # fast-simplification keeps open borders, so a rare mesh (G1's pelvis contour) stays larger
    assert (model.mesh_facenum <= physics.mesh_max_faces).mean() >= 0.9
    visual = model.geom_group == GROUP_VISUAL
    assert visual.any() and not model.geom_contype[visual].any()
    assert (model.geom_contype[model.geom_group == GROUP_COLLISION] > 0).all()
    assert model.nmesh > 0 and all(p.suffix == ".stl" for p in (path.parent / "meshes").iterdir())


def _walkthrough_robot(tmp_path: Path, physics_yaml: str) -> tuple[Path, PhysicsConfig]:
    """robots/README.md's G1 without hands (rigid rubber hands the URDF gives only visual
    meshes), with ``physics_yaml`` beside it."""
    folder = tmp_path / "robots" / "my_g1"
    folder.mkdir(parents=True)
    (folder / "robot.yaml").write_text(example_robot_yaml(), encoding="utf-8")
    (folder / "physics.yaml").write_text(physics_yaml, encoding="utf-8")
    description = load_robot(folder / "robot.yaml")
    return folder, load_physics(description.source_file, tuple(description.groups))


def test_links_with_only_visual_meshes_collide_when_physics_yaml_says(tmp_path: Path) -> None:
    """collide_visual_links gives a rigid hand with only a visual mesh in its URDF collision
    geometry (without it, it passes through what it pushes); other links are unchanged."""
    mujoco = import_mujoco()
    colliding = {}
    for name, links in (("without", "[]"), ("with", "[right_rubber_hand]")):
        folder, physics = _walkthrough_robot(
            tmp_path / name, f"schema_version: 1\ncollide_visual_links: {links}\n"
        )
        description = load_robot(folder / "robot.yaml")
        model = mujoco.MjModel.from_xml_path(str(robot_model_path(description, physics, tmp_path)))
        colliding[name] = {
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(model.geom_bodyid[g]))
            for g in range(model.ngeom)
            if model.geom_group[g] == GROUP_COLLISION and model.geom_contype[g] != 0
        }
    assert "right_rubber_hand" not in colliding["without"]
    assert colliding["with"] - colliding["without"] == {"right_rubber_hand"}


def test_an_unknown_collide_visual_link_names_its_line_and_the_nearest(tmp_path: Path) -> None:
    """A link the URDF does not have is one error naming physics.yaml's line and near names."""
    folder, physics = _walkthrough_robot(
        tmp_path, "schema_version: 1\ncollide_visual_links: [right_rubber_hnd]\n"
    )
    with pytest.raises(SimConfigError) as err:
        robot_model_path(load_robot(folder / "robot.yaml"), physics, tmp_path / "cache")
    assert str(err.value) == (
        f"{folder / 'physics.yaml'}:2: collide_visual_links: link 'right_rubber_hnd' is not in "
        "g1_29dof_rev_1_0.urdf; nearest: right_rubber_hand, left_rubber_hand"
    )
