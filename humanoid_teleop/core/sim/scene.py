"""Scenes for the MuJoCo simulator: ``config/sim/scenes/<name>.yaml``.

A scene is a table in front of the robot, rigid objects on it (mass, friction, seeded random
start poses) and a task whose detector decides the episode's outcome. Positions are laid out
for any robot from its home pose: the table top sits ``table.below_hand_m`` under the scene's
``hand`` wrist at home, and object / target ``position_m`` are [x, y] offsets [m] in the base
frame from the point on the table straight under that wrist. Example::

    schema_version: 1
    task: pick_and_place          # pick_and_place | push | none
    hand: right                   # arm the layout (and the demonstrator) uses
    table: {below_hand_m: 0.12, size_m: [0.6, 1.2], friction: 1.0}
    objects:
      - {name: cube, shape: box, size_m: [0.02, 0.02, 0.02], mass_kg: 0.1, friction: 1.0,
         rgba: [0.8, 0.1, 0.1, 1.0], position_m: [0.05, 0.0], randomize_m: [0.02, 0.02]}
    target: {position_m: [0.05, 0.15], radius_m: 0.05}
    lift_m: 0.05                  # pick_and_place: lift at least this much before placing

``size_m`` is the half-extents for a box, [radius, half-height] for a cylinder, [radius] for a
sphere. The first object is the task's object. A robot whose arm that layout does not fit
gives its own (``scene_layout:`` in its physics.yaml, :mod:`.scene_layout`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.config import Field, read_yaml
from humanoid_teleop.core.robot import RobotDescription, RobotModel
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.mjcf_build import GROUP_SCENE, import_mujoco
from humanoid_teleop.core.sim.physics_config import load_physics
from humanoid_teleop.core.sim.scene_layout import SceneLayout, SceneLayoutSettings

FloatArray = NDArray[np.float64]
SCHEMA_VERSION = 1
TASKS = ("pick_and_place", "push", "none")
#: Shapes an object can have -> MuJoCo geom type name.
SHAPES = {"box": "mjGEOM_BOX", "cylinder": "mjGEOM_CYLINDER", "sphere": "mjGEOM_SPHERE"}
_TOP_KEYS = ("schema_version", "task", "hand", "table", "objects", "target", "lift_m")
_OBJECT_KEYS = (
    "name",
    "shape",
    "size_m",
    "mass_kg",
    "friction",
    "rgba",
    "position_m",
    "randomize_m",
)
#: Outcomes a task detector reports.
RUNNING, SUCCESS, FAILURE = "running", "success", "failure"


@dataclass(frozen=True)
class TableSpec:
    """The table: top ``below_hand_m`` [m] under the wrist; ``size_m`` = (depth x, width y)."""

    below_hand_m: float = 0.12
    size_m: tuple[float, float] = (0.6, 1.2)
    friction: float = 1.0


@dataclass(frozen=True)
class ObjectSpec:
    """A rigid object resting on the table."""

    name: str
    shape: str
    size_m: tuple[float, ...]
    mass_kg: float
    friction: float
    rgba: tuple[float, float, float, float]
    position_m: tuple[float, float]
    randomize_m: tuple[float, float]

    @property
    def half_height_m(self) -> float:
        """Half its height [m] when standing on the table."""
        return self.size_m[2] if self.shape == "box" else self.size_m[-1]

    @property
    def footprint_radius_m(self) -> float:
        """Radius [m] of the circle around its footprint on the table (a box's half-diagonal)."""
        if self.shape == "box":
            return math.hypot(self.size_m[0], self.size_m[1])
        return float(self.size_m[0])


@dataclass(frozen=True)
class TargetSpec:
    """Where the object must end up: a disc of ``radius_m`` on the table."""

    position_m: tuple[float, float]
    radius_m: float


@dataclass(frozen=True)
class SceneConfig:
    """A parsed scene file."""

    name: str
    task: str
    hand: str
    table: TableSpec
    objects: tuple[ObjectSpec, ...]
    target: TargetSpec | None
    lift_m: float
    source: str

    @classmethod
    def from_field(cls, root: Field, name: str) -> SceneConfig:
        """Build from a parsed scene file; errors name file:line and key."""
        root.as_mapping(allowed=_TOP_KEYS, required=("schema_version", "task", "objects"))
        version = root.child("schema_version")
        if version.as_int() != SCHEMA_VERSION:
            raise version.error(f"unsupported schema_version; this version reads {SCHEMA_VERSION}")
        task = root.child("task").as_choice(TASKS)
        hand_field = root.optional("hand")
        hand = hand_field.as_choice(("left", "right")) if hand_field else "right"
        table = TableSpec()
        table_field = root.optional("table")
        if table_field is not None:
            table_field.as_mapping(allowed=("below_hand_m", "size_m", "friction"))
            below = table_field.optional("below_hand_m")
            size = table_field.optional("size_m")
            friction = table_field.optional("friction")
            table = TableSpec(
                below.as_positive_float() if below else table.below_hand_m,
                _positive_vector(size, 2) if size else table.size_m,  # type: ignore[arg-type]
                friction.as_positive_float() if friction else table.friction,
            )
        objects = tuple(_object(item) for item in root.child("objects").elements())
        if not objects:
            raise root.child("objects").error("a scene needs at least one object")
        names = [o.name for o in objects]
        for i, item in enumerate(root.child("objects").elements()):
            if names[i] in names[:i]:
                raise item.error(f"object name {names[i]!r} is used twice")
        target = None
        target_field = root.optional("target")
        if target_field is not None:
            target_field.as_mapping(allowed=("position_m", "radius_m"), required=("position_m",))
            radius = target_field.optional("radius_m")
            target = TargetSpec(
                target_field.child("position_m").as_vector(2),  # type: ignore[arg-type]
                radius.as_positive_float() if radius else 0.05,
            )
        if task in ("pick_and_place", "push") and target is None:
            raise root.error(f"task {task!r} needs a 'target'")
        lift = root.optional("lift_m")
        return cls(
            name=name,
            task=task,
            hand=hand,
            table=table,
            objects=objects,
            target=target,
            lift_m=lift.as_positive_float() if lift else 0.05,
            source=str(root.file),
        )


class Scene:
    """A scene laid out for one robot: builds into a MuJoCo spec, resets with a seed, and
    runs the task's detector on every physics update (:attr:`outcome`)."""

    def __init__(
        self,
        config: SceneConfig,
        model: RobotModel,
        layout: SceneLayoutSettings | None = None,
    ) -> None:
        """``layout``: the robot's own layout settings (None: its physics.yaml's)."""
        self.config = config
        description = model.description
        #: The robot the scene is laid out for.
        self.robot: RobotDescription = description
        if layout is None:
            layout = load_physics(description.source_file, tuple(description.groups)).scene_layout
        #: Where the table, objects and target are for this robot.
        self.layout = SceneLayout.for_robot(
            model, config.hand, config.table.below_hand_m, layout, config.source
        )
        #: Table-top height [m] and the layout's anchor (x, y) [m], base frame.
        self.table_top_m = self.layout.table_top_m
        self.anchor = np.array(self.layout.anchor_m, dtype=np.float64)
        self.outcome = RUNNING
        self._lifted = False
        self._start_z = 0.0
        self._object_body = -1
        self._table_body = -1

    @property
    def object_names(self) -> tuple[str, ...]:
        """Names of the scene's objects, in file order (the order of published poses)."""
        return tuple(o.name for o in self.config.objects)

    def add_to(self, spec: Any, model: RobotModel, seed: int, base: Any = None) -> None:
        """Add lights, table, objects (free bodies) and the target disc to ``spec``.

        ``base`` maps base-frame points to MuJoCo world points (None: the same frame)."""
        mujoco = import_mujoco()
        to_world = base or (lambda p: np.asarray(p, dtype=np.float64))
        add_lights(spec)
        table = self.config.table
        depth, width = table.size_m
        layout = self.layout
        centre = to_world([layout.table_near_x_m + 0.5 * depth, layout.table_middle_y_m, 0.0])
        body = spec.worldbody.add_body()
        body.name = "scene_table"
        body.pos = [float(centre[0]), float(centre[1]), float(centre[2]) + self.table_top_m - 0.02]
        geom = body.add_geom()
        geom.name = "scene_table_top"
        geom.type = mujoco.mjtGeom.mjGEOM_BOX
        geom.size = [0.5 * depth, 0.5 * width, 0.02]
        geom.friction = [table.friction, 0.005, 0.0001]
        geom.rgba = [0.55, 0.42, 0.3, 1.0]
        geom.group = GROUP_SCENE
        floor = spec.worldbody.add_geom()  # a table's height under the top: something to see
        floor.name = "scene_floor"
        floor.type = mujoco.mjtGeom.mjGEOM_PLANE
        floor.size = [5.0, 5.0, 0.1]
        floor.pos = [float(centre[0]), float(centre[1]), float(centre[2]) + self.table_top_m - 0.75]
        floor.rgba = [0.45, 0.47, 0.5, 1.0]
        floor.contype = 0
        floor.conaffinity = 0
        floor.group = GROUP_SCENE
        for obj in self.config.objects:
            body = spec.worldbody.add_body()
            body.name = f"object_{obj.name}"
            body.add_freejoint().name = f"object_{obj.name}"
            geom = body.add_geom()
            geom.name = f"object_{obj.name}"
            geom.type = getattr(mujoco.mjtGeom, SHAPES[obj.shape])
            geom.size = list(obj.size_m) + [0.0] * (3 - len(obj.size_m))
            geom.mass = obj.mass_kg
            geom.friction = [obj.friction, 0.005, 0.0001]
            geom.condim = 4
            geom.rgba = list(obj.rgba)
            geom.group = GROUP_SCENE
        if self.config.target is not None:
            centre = to_world(self.target_position())
            body = spec.worldbody.add_body()
            body.name = "scene_target"
            body.pos = [float(centre[0]), float(centre[1]), float(centre[2]) + 0.0005]
            geom = body.add_geom()
            geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
            geom.size = [self.config.target.radius_m, 0.0005, 0.0]
            geom.rgba = [0.1, 0.7, 0.2, 0.6]
            geom.contype = 0
            geom.conaffinity = 0
            geom.group = GROUP_SCENE

    def start_positions(self, seed: int) -> list[FloatArray]:
        """Seeded start positions [m] (base frame) of the objects' centres."""
        rng = np.random.default_rng(seed)
        out = []
        for obj in self.config.objects:
            jitter = rng.uniform(-1.0, 1.0, 2) * np.array(obj.randomize_m)
            xy = self.anchor + np.array(obj.position_m) + jitter
            out.append(np.array([xy[0], xy[1], self.table_top_m + obj.half_height_m]))
        return out

    def target_position(self) -> FloatArray:
        """Centre [m] (base frame) of the target disc on the table top."""
        if self.config.target is None:
            raise SimConfigError(f"{self.config.source}: the scene has no target")
        xy = self.anchor + np.array(self.config.target.position_m)
        return np.array([xy[0], xy[1], self.table_top_m])

    # -- at run time ------------------------------------------------------------------------

    def reset(self, sim: Any, seed: int) -> None:
        """Put the objects at their seeded start poses (upright, at rest); outcome running."""
        mujoco = import_mujoco()
        m, d = sim.model, sim.data
        for obj, position in zip(self.config.objects, self.start_positions(seed), strict=True):
            joint = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, f"object_{obj.name}")
            adr = m.jnt_qposadr[joint]
            d.qpos[adr : adr + 3] = sim.world_from_base(position)
            d.qpos[adr + 3 : adr + 7] = [1.0, 0.0, 0.0, 0.0]
            d.qvel[m.jnt_dofadr[joint] : m.jnt_dofadr[joint] + 6] = 0.0
        first = self.config.objects[0]
        self._object_body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"object_{first.name}")
        self._table_body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "scene_table")
        self._start_z = self.table_top_m + first.half_height_m
        self.outcome = RUNNING
        self._lifted = False

    def object_poses(self, sim: Any) -> list[tuple[FloatArray, FloatArray]]:
        """(rotation 3x3, position [m]) of every object in the base frame, file order."""
        return [sim.body_pose(f"object_{o.name}") for o in self.config.objects]

    def touched_by_robot(self, sim: Any) -> bool:
        """Whether the task object touches anything but the table (i.e. the robot)."""
        m, d = sim.model, sim.data
        body = self._object_body
        for contact in d.contact[: d.ncon]:
            b1, b2 = int(m.geom_bodyid[contact.geom1]), int(m.geom_bodyid[contact.geom2])
            if body in (b1, b2):
                other = b2 if b1 == body else b1
                if other not in (self._table_body, 0):
                    return True
        return False

    def observe(self, sim: Any) -> str:
        """Update and return the task outcome from the current state (sticky once decided)."""
        if self.outcome != RUNNING or self.config.task == "none":
            return self.outcome
        _, position = sim.body_pose(f"object_{self.config.objects[0].name}")
        height = float(position[2]) - self._start_z
        if float(position[2]) < self.table_top_m - 0.05:
            self.outcome = FAILURE  # off the table
            return self.outcome
        target = self.target_position()
        inside = float(np.linalg.norm(position[:2] - target[:2])) <= self.config.target.radius_m  # type: ignore[union-attr]
        resting = abs(height) < 0.005 and not self.touched_by_robot(sim)
        if self.config.task == "pick_and_place":
            self._lifted = self._lifted or height >= self.config.lift_m
            if self._lifted and inside and resting:
                self.outcome = SUCCESS
        elif self.config.task == "push":
            if height >= self.config.lift_m:
                self.outcome = FAILURE  # lifted, not pushed
            elif inside and resting:
                self.outcome = SUCCESS
        return self.outcome


def add_lights(spec: Any) -> None:
    """A key light over the robot and a headlight, so every camera sees the scene."""
    light = spec.worldbody.add_light()
    light.name = "scene_key_light"
    light.pos = [0.5, 0.0, 2.5]
    light.dir = [-0.2, 0.0, -1.0]
    light.diffuse = [0.7, 0.7, 0.7]
    light.castshadow = False
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.4, 0.4, 0.4]


def load_scene(name_or_path: str, search: Sequence[Path] = ()) -> SceneConfig:
    """A scene by name (``config/sim/scenes/<name>.yaml``) or by path to its file."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") or "/" in name_or_path):
        candidates = [d / f"{name_or_path}.yaml" for d in (*search, *scene_dirs())]
        found = [c for c in candidates if c.is_file()]
        if not found:
            known = sorted({p.stem for d in scene_dirs() if d.is_dir() for p in d.glob("*.yaml")})
            raise SimConfigError(f"no scene {name_or_path!r}; scenes: {', '.join(known)}")
        path = found[0]
    if not path.is_file():
        raise SimConfigError(f"{path}: scene file not found")
    try:
        content = path.read_bytes()
    except OSError:  # unreadable: read_yaml says why
        return _parse_scene(path)
    return _parsed_scene(path, content)


def _parse_scene(path: Path) -> SceneConfig:
    return SceneConfig.from_field(read_yaml(path, SimConfigError), path.stem)


@functools.lru_cache(maxsize=32)
def _parsed_scene(path: Path, content: bytes) -> SceneConfig:
    """:func:`load_scene`'s parse of ``path`` (``content``, its bytes, keys the cache: a port
    looks its source's scene up several times, ~1.6 ms a parse)."""
    return _parse_scene(path)


def scene_dirs() -> list[Path]:
    """Where shipped scenes live: ``config/sim/scenes/`` on the resource search path."""
    from humanoid_teleop.core.resources import SIM_SCENES

    return SIM_SCENES.dirs()


def _positive_vector(item: Field, length: int) -> tuple[float, ...]:
    values = item.as_vector(length)
    if any(v <= 0.0 for v in values):
        raise item.error(f"expected {length} numbers > 0, got {list(values)}")
    return values


def _object(item: Field) -> ObjectSpec:
    item.as_mapping(allowed=_OBJECT_KEYS, required=("name", "shape", "size_m", "mass_kg"))
    shape = item.child("shape").as_choice(tuple(SHAPES))
    length = {"box": 3, "cylinder": 2, "sphere": 1}[shape]
    friction = item.optional("friction")
    rgba = item.optional("rgba")
    position = item.optional("position_m")
    randomize = item.optional("randomize_m")
    spread = randomize.as_vector(2) if randomize else (0.0, 0.0)
    if any(v < 0.0 or not math.isfinite(v) for v in spread):
        raise item.child("randomize_m").error(f"expected numbers >= 0, got {list(spread)}")
    return ObjectSpec(
        name=item.child("name").as_str(),
        shape=shape,
        size_m=_positive_vector(item.child("size_m"), length),
        mass_kg=item.child("mass_kg").as_positive_float(),
        friction=friction.as_positive_float() if friction else 1.0,
        rgba=rgba.as_vector(4) if rgba else (0.8, 0.1, 0.1, 1.0),  # type: ignore[arg-type]
        position_m=position.as_vector(2) if position else (0.0, 0.0),  # type: ignore[arg-type]
        randomize_m=spread,  # type: ignore[arg-type]
    )
