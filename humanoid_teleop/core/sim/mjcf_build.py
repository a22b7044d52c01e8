"""URDF → MuJoCo model of a robot, built once and cached on disk by a hash of its inputs.

The build is what makes the ``example-robot-data`` URDFs simulate well in MuJoCo:

- meshes (STL, OBJ with several groups, COLLADA ``.dae`` including Y-up files) are read with
  trimesh, merged into one triangle mesh per file, simplified to ``mesh_max_faces`` triangles
  (fast-simplification) and written as binary STL next to the model;
- ``package://`` paths resolve like ROS's (``locate.find_package_share``);
- visual meshes are kept (``discardvisual=false``, rendered, group 1, never collide);
  collision geometry is group 3 (not drawn); the links of physics.yaml's
  ``collide_visual_links`` (a rigid hand the URDF gives only a visual mesh) collide through
  copies of their visual meshes;
- links with zero or missing inertia get a small one (``boundmass``/``boundinertia``);
- URDF ``<mimic>`` joints become joint equality constraints (only the relations pinocchio's
  model accepts: Alex's finger mimics name joints the model does not have and stay free);
- every actuated 1-DoF joint gets a position servo (gains from physics.yaml, the URDF effort as
  its force limit unless physics.yaml gives a ``force_limit``, its position range as the
  control range) and some armature; the URDF's
  joint friction and damping stay unless physics.yaml's ``joint_dynamics`` replaces them;
- body pairs touching at the home pose are excluded from collision (the rest of
  self-collision stays on): without it several models kick joints at start.

The result is ``<cache>/<robot>-<hash>/robot.xml`` + ``meshes/``; the hash covers the URDF,
its mesh files (path, size, mtime), physics.yaml's settings and :data:`BUILD_VERSION`, so a
changed input builds a new folder and an unchanged one is reused. The cache lives outside the
source tree: ``$HUMANOID_TELEOP_CACHE`` or ``${XDG_CACHE_HOME:-~/.cache}/humanoid_teleop``.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from humanoid_teleop.core.robot import RobotDescription, RobotModel
from humanoid_teleop.core.robot.locate import find_package_share
from humanoid_teleop.core.sim.errors import SimConfigError, SimError
from humanoid_teleop.core.sim.physics_config import PhysicsConfig

_log = logging.getLogger(__name__)

#: Bumped whenever the build changes what it writes, so old cache folders are not reused.
BUILD_VERSION = 4
CACHE_ENV = "HUMANOID_TELEOP_CACHE"
ROBOT_XML = "robot.xml"
#: Geom groups: robot visual meshes, scene props, collision-only geometry (not rendered).
GROUP_VISUAL = 1
GROUP_SCENE = 2
GROUP_COLLISION = 3
#: Smallest mass [kg] and principal inertia [kg m^2] a moving body gets.
MIN_MASS_KG = 1e-3
MIN_INERTIA = 1e-6
#: Force limit [N m] for a joint whose URDF gives no effort.
DEFAULT_EFFORT = 100.0


class ModelBuildError(SimError):
    """The MuJoCo model of a robot cannot be built (bad mesh, MuJoCo compile error)."""


def import_mujoco() -> Any:
    """``mujoco``, set up for this package: offscreen rendering through EGL unless
    ``MUJOCO_GL`` says otherwise (set before the first import), and MuJoCo's warnings sent to
    :mod:`logging` instead of a ``MUJOCO_LOG.TXT`` in the working directory."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(lambda text: _log.warning("MuJoCo: %s", text))
    return mujoco


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding built models (outside the source tree)."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]) / "mujoco"
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "humanoid_teleop" / "mujoco"


def resolve_mesh_uri(uri: str, urdf: Path) -> Path:
    """A URDF mesh ``filename`` as a file path (``package://``, ``file://`` or relative)."""
    if uri.startswith("package://"):
        rest = uri[len("package://") :].lstrip("/")
        package, _, inner = rest.partition("/")
        share = find_package_share(package)
        if share is None:
            raise ModelBuildError(f"{urdf}: mesh {uri}: package {package!r} not found")
        return share / inner
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    path = Path(uri)
    return path if path.is_absolute() else urdf.parent / path


def _mesh_inputs(root: ET.Element, urdf: Path) -> list[Path]:
    return sorted({resolve_mesh_uri(m.get("filename", ""), urdf) for m in root.iter("mesh")})


def model_key(description: RobotDescription, physics: PhysicsConfig) -> str:
    """Hash of everything the built model depends on."""
    urdf = description.model.path
    digest = hashlib.sha256()
    digest.update(f"build {BUILD_VERSION}\n".encode())
    digest.update(urdf.read_bytes())
    digest.update(physics.digest().encode())
    digest.update(repr(sorted(description.home.items())).encode())
    # robot.yaml's joint limits overrides set the servos' control and force ranges
    digest.update(repr(description.limits).encode())
    # the meshes by content (~20-60 ms a robot), not by path and mtime: a new clone or venv
    # holds the same meshes elsewhere and reuses the built model
    for mesh in _mesh_inputs(ET.parse(urdf).getroot(), urdf):
        content = hashlib.sha256(mesh.read_bytes()).hexdigest() if mesh.is_file() else "none"
        digest.update(f"{mesh.name}:{content}\n".encode())
    return digest.hexdigest()[:16]


def robot_model_path(
    description: RobotDescription, physics: PhysicsConfig, root: Path | None = None
) -> Path:
    """``robot.xml`` of the robot's built model, building it first if it is not cached."""
    if description.model.format != "urdf":
        raise SimConfigError(
            f"{description.source_file}: model {description.model.describe()}: the MuJoCo "
            "backend builds from URDF models only"
        )
    folder = (root or cache_root()) / f"{description.name}-{model_key(description, physics)}"
    target = folder / ROBOT_XML
    if target.is_file():
        return target
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{description.name}-", dir=folder.parent))
    try:
        _build(description, physics, work)
        try:
            work.rename(folder)
        except OSError:
            if not target.is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _log.info("built the MuJoCo model of %s in %s", description.name, folder)
    return target


# -- the build ------------------------------------------------------------------------------


def _build(description: RobotDescription, physics: PhysicsConfig, work: Path) -> None:
    mujoco = import_mujoco()

    urdf = description.model.path
    tree = ET.parse(urdf)
    root = tree.getroot()
    _collide_visual(root, physics, urdf)
    meshes = work / "meshes"
    meshes.mkdir()
    converted: dict[tuple[Path, int], str] = {}
    for role in ("visual", "collision"):
        limit = physics.visual_max_faces if role == "visual" else physics.mesh_max_faces
        for part in root.iter(role):
            for element in part.iter("mesh"):
                source = resolve_mesh_uri(element.get("filename", ""), urdf)
                key = (source, limit)  # a file used both ways at one limit is converted once
                if key not in converted:
                    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", source.stem)
                    name = f"{len(converted):03d}_{stem}.stl"
                    convert_mesh(source, meshes / name, limit)
                    converted[key] = name
                element.set("filename", converted[key])
    for joint in root.iter("joint"):
        for mimic in joint.findall("mimic"):
            joint.remove(mimic)  # replaced by the equalities of RobotModel.mimics below
    for old in root.findall("mujoco"):
        root.remove(old)
    extension = ET.SubElement(root, "mujoco")
    ET.SubElement(
        extension,
        "compiler",
        meshdir=str(meshes),
        discardvisual="false",
        fusestatic="false",
        balanceinertia="true",
        strippath="false",
    )
    try:
        spec = mujoco.MjSpec.from_string(ET.tostring(root, encoding="unicode"))
        spec.compiler.boundmass = MIN_MASS_KG
        spec.compiler.boundinertia = MIN_INERTIA
        model = RobotModel(description)
        _configure(spec, description, model, physics)
        compiled = spec.compile()
        _exclude_home_contacts(spec, compiled, model, physics)
        spec.compile()
        xml = spec.to_xml().replace(f'meshdir="{meshes}/"', 'meshdir="meshes/"')
        xml = xml.replace(f'meshdir="{meshes}"', 'meshdir="meshes"')
        (work / ROBOT_XML).write_text(xml, encoding="utf-8")
        mujoco.MjModel.from_xml_path(str(work / ROBOT_XML))
    except (ValueError, mujoco.FatalError) as err:
        raise ModelBuildError(f"{urdf}: MuJoCo cannot build the model: {err}") from err


def _collide_visual(root: ET.Element, physics: PhysicsConfig, urdf: Path) -> None:
    """Give each link of physics.yaml's ``collide_visual_links`` a ``<collision>`` copy of
    each of its ``<visual>`` elements (a rigid hand whose URDF has only a visual mesh would
    pass through what it pushes). A link the URDF does not have, or one without visual
    geometry, is an error naming the physics.yaml line."""
    links = {link.get("name", ""): link for link in root.iter("link")}
    for name in physics.collide_visual_links:
        link = links.get(name)
        if link is None:
            nearest = difflib.get_close_matches(name, list(links), n=3)
            hint = f"; nearest: {', '.join(nearest)}" if nearest else ""
            raise SimConfigError(
                f"{physics.collide_visual_at}: link {name!r} is not in {urdf.name}{hint}"
            )
        visuals = link.findall("visual")
        if not visuals:
            raise SimConfigError(
                f"{physics.collide_visual_at}: link {name!r} has no visual geometry in "
                f"{urdf.name} to collide with"
            )
        for visual in visuals:
            collision = ET.SubElement(link, "collision")
            for child in visual:
                if child.tag in ("origin", "geometry"):
                    collision.append(copy.deepcopy(child))


def convert_mesh(source: Path, target: Path, max_faces: int) -> None:
    """One triangle mesh from ``source`` (all groups/nodes), simplified, as binary STL."""
    import fast_simplification
    import trimesh

    try:
        scene: Any = trimesh.load(source, force="scene", skip_materials=True)
    except Exception as err:  # trimesh raises many kinds; the file is what matters
        raise ModelBuildError(f"{source}: cannot read mesh: {err}") from err
    vertices, faces, offset = [], [], 0
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geometry = scene.geometry[name]
        if not hasattr(geometry, "faces") or len(geometry.faces) == 0:
            continue
        vertices.append(trimesh.transform_points(np.asarray(geometry.vertices), transform))
        faces.append(np.asarray(geometry.faces) + offset)
        offset += len(geometry.vertices)
    if not faces:
        raise ModelBuildError(f"{source}: mesh has no triangles")
    points = np.vstack(vertices)
    if source.suffix.lower() == ".dae" and _collada_y_up(source):
        points = points @ np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    mesh = trimesh.Trimesh(points, np.vstack(faces), process=True)  # merges duplicate vertices
    for _ in range(4):  # the simplifier stops early on some meshes; ask again
        if len(mesh.faces) <= max_faces:
            break
        simple_points, simple_faces = fast_simplification.simplify(
            np.asarray(mesh.vertices, dtype=np.float32),
            np.asarray(mesh.faces, dtype=np.int64),
            target_reduction=1.0 - max_faces / len(mesh.faces),
            agg=9,
        )
        if len(simple_faces) < 4 or len(simple_faces) >= len(mesh.faces):
            break
        mesh = trimesh.Trimesh(simple_points, simple_faces, process=True)
    mesh.export(target, file_type="stl")


def _collada_y_up(path: Path) -> bool:
    """Whether a COLLADA file declares ``<up_axis>Y_UP</up_axis>``."""
    head = path.read_bytes()[:8192].decode("utf-8", "replace")
    return re.search(r"<up_axis>\s*Y_UP\s*</up_axis>", head) is not None


def _configure(
    spec: object, description: RobotDescription, model: RobotModel, physics: PhysicsConfig
) -> None:
    """Options, geom groups, gravity compensation, servos and mimic equalities."""
    mujoco = import_mujoco()

    s: Any = spec
    s.modelname = description.name
    s.option.timestep = physics.timestep_s
    s.option.impratio = physics.impratio
    s.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    s.option.cone = (
        mujoco.mjtCone.mjCONE_ELLIPTIC
        if physics.cone == "elliptic"
        else mujoco.mjtCone.mjCONE_PYRAMIDAL
    )
    for body in s.bodies:
        if body.name != "world" and physics.gravity_compensation:
            body.gravcomp = 1.0
    for geom in s.geoms:
        if geom.contype == 0 and geom.conaffinity == 0:
            geom.group = GROUP_VISUAL
        else:
            geom.group = GROUP_COLLISION
    mimic_joints = {m.joint for m in model.mimics}
    limits = model.limits
    index = {name: i for i, name in enumerate(model.joint_names)}
    for joint in s.joints:
        if joint.name not in index:
            continue
        joint.armature = physics.armature
        group = description.group_of(joint.name)
        dynamics = physics.dynamics_for(group)
        if dynamics is not None:
            joint.frictionloss = dynamics.friction
            damping = np.array(joint.damping)  # MuJoCo 4: [linear, higher-order terms]
            damping[0] = dynamics.damping
            joint.damping = damping
        if joint.name in mimic_joints:
            continue
        i = index[joint.name]
        gains = physics.gains_for(group)
        actuator = s.add_actuator()
        actuator.name = joint.name
        actuator.target = joint.name
        actuator.trntype = mujoco.mjtTrn.mjTRN_JOINT
        actuator.set_to_position(kp=gains.kp, kv=gains.kv)
        lower, upper = float(limits.lower[i]), float(limits.upper[i])
        if np.isfinite(lower) and np.isfinite(upper) and upper > lower:
            actuator.ctrlrange = [lower, upper]
            actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        effort = float(limits.effort[i])
        effort = effort if np.isfinite(effort) and effort > 0.0 else DEFAULT_EFFORT
        if gains.force_limit is not None:
            effort = gains.force_limit
            # MuJoCo's URDF import also caps the joint's actuator force at the URDF effort
            joint.actfrcrange = [-effort, effort]
            joint.actfrclimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = [-effort, effort]
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    for mimic in model.mimics:
        equality = s.add_equality()
        equality.type = mujoco.mjtEq.mjEQ_JOINT
        equality.objtype = mujoco.mjtObj.mjOBJ_JOINT
        equality.name1 = mimic.joint
        equality.name2 = mimic.source
        data = np.zeros(len(equality.data))
        data[0], data[1] = mimic.offset, mimic.multiplier
        equality.data = data


def _exclude_home_contacts(
    spec: object, compiled: object, model: RobotModel, physics: PhysicsConfig
) -> None:
    """Exclude from collision every robot body pair in contact at the home pose, every pair
    at most ``exclude_within_joints`` joints apart along the tree (convex hulls of concave
    neighbouring links, an upper arm and its wrist, would otherwise lock the elbow) and
    every pair that only ``exclude_within_groups``' joints move relative to each other."""
    mujoco = import_mujoco()
    within_joints = physics.exclude_within_joints

    s: Any = spec
    m: Any = compiled
    data = mujoco.MjData(m)
    home = model.home_positions()
    for name, value in zip(model.joint_names, home, strict=True):
        joint_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
        if joint_id >= 0:
            data.qpos[m.jnt_qposadr[joint_id]] = value
    m.geom_margin[:] = np.maximum(m.geom_margin, 0.002)  # pairs nearly touching count too
    mujoco.mj_forward(m, data)
    pairs = set()
    for contact in data.contact[: data.ncon]:
        b1, b2 = int(m.geom_bodyid[contact.geom1]), int(m.geom_bodyid[contact.geom2])
        if b1 and b2 and b1 != b2:
            pairs.add((min(b1, b2), max(b1, b2)))
    touching = len(pairs)
    pairs |= _near_pairs(m, within_joints)
    pairs |= _group_pairs(m, model, physics.exclude_within_groups)
    for b1, b2 in sorted(pairs):
        exclude = s.add_exclude()
        exclude.bodyname1 = m.body(b1).name
        exclude.bodyname2 = m.body(b2).name
    _log.info(
        "%s: %d body pairs touch at home, %d more are within %d joints; excluded from collision",
        s.modelname,
        touching,
        len(pairs) - touching,
        within_joints,
    )


def _body_paths(m: Any) -> Iterator[tuple[int, int, list[int]]]:
    """Every pair of bodies with geoms and the bodies between them along the kinematic tree
    (those below their common ancestor: the joints of these bodies move one relative to the
    other)."""
    chains = {}
    for body in range(1, m.nbody):
        chain, b = [], body
        while b > 0:
            chain.append(b)
            b = int(m.body_parentid[b])
        chains[body] = chain
    bodies = [b for b in range(1, m.nbody) if int(m.body_geomnum[b]) > 0]
    for i, b1 in enumerate(bodies):
        for b2 in bodies[i + 1 :]:
            common = set(chains[b1]) & set(chains[b2])
            yield b1, b2, [b for b in chains[b1] + chains[b2] if b not in common]


def _near_pairs(m: Any, within_joints: int) -> set[tuple[int, int]]:
    """Body pairs with geoms at most ``within_joints`` joints apart along the kinematic tree."""
    return {
        (b1, b2)
        for b1, b2, path in _body_paths(m)
        if sum(int(m.body_jntnum[b]) for b in path) <= within_joints
    }


def _group_pairs(m: Any, model: RobotModel, groups: tuple[str, ...]) -> set[tuple[int, int]]:
    """Body pairs that only one group's joints (of ``groups``) and their mimics move relative
    to each other: the links of a one-motor gripper, whose jaws interleave where their convex
    hulls would meet (TALOS' wedged at 0.65 of their travel and stayed there)."""
    if not groups:
        return set()
    source = {mimic.joint: mimic.source for mimic in model.mimics}
    drives_of: dict[int, set[str]] = {}  # body -> the joints driving its own joints
    for body in range(1, m.nbody):
        first, count = int(m.body_jntadr[body]), int(m.body_jntnum[body])
        names = (m.joint(j).name for j in range(first, first + count))
        drives_of[body] = {source.get(name, name) for name in names}
    joint_sets = [set(model.description.groups[group]) for group in groups]
    out: set[tuple[int, int]] = set()
    for b1, b2, path in _body_paths(m):
        moving = set().union(*(drives_of[b] for b in path))
        if moving and any(moving <= joints for joints in joint_sets):
            out.add((b1, b2))
    return out


def build_shipped_models() -> list[Path]:
    """Build (or find cached) the MuJoCo model of every robot on the search path."""
    from humanoid_teleop.core.robot import list_robots, load_robot
    from humanoid_teleop.core.sim.physics_config import load_physics

    built = []
    for entry in list_robots():
        description = load_robot(entry.file)
        physics = load_physics(description.source_file, tuple(description.groups))
        built.append(robot_model_path(description, physics))
    return built


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="setup-sim: %(message)s")
    for path in build_shipped_models():
        _log.info("%s", path)
