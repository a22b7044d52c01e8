"""Per-robot physics settings: ``robots/<name>/physics.yaml`` beside ``robot.yaml``.

Read with the project's YAML reader (errors name ``file:line: key.path``; unknown keys are
rejected). A robot without the file gets :meth:`PhysicsConfig.defaults`. Example::

    schema_version: 1
    timestep_s: 0.002            # physics step [s]
    cone: elliptic               # friction cone: elliptic | pyramidal
    impratio: 10.0               # frictional-to-normal impedance ratio (grasps hold with ~10)
    gravity_compensation: true   # joint-space gravity feed-forward, like a real arm driver
    armature: 0.01               # reflected rotor inertia per joint [kg m^2]
    mesh_max_faces: 3000         # collision meshes are simplified to at most this many triangles
    visual_max_faces: 3000       # the meshes cameras draw (render time; default mesh_max_faces)
    exclude_within_joints: 2     # no collision between links at most this many joints apart
    exclude_within_groups: []    # no collision between links only these groups' joints move
    collide_visual_links: []     # links the URDF gives only visual geometry that must touch
                                 # objects (a rigid hand): their visual meshes collide too
    actuators:                   # position servos: kp [N m/rad], kv [N m s/rad]
      default: {kp: 300.0, kv: 10.0}
      groups:                    # per robot.yaml group; force_limit [N m or N] (optional)
        left_hand: {kp: 20.0, kv: 0.5, force_limit: 5.0}  # in place of the URDF effort
    joint_dynamics:              # per group: replaces the URDF's <dynamics> of its joints
      groups:
        left_hand: {friction: 0.1, damping: 0.1}
    demonstrator:                # how the scripted demonstrator handles this robot's hand
      tilt_down_rad: 1.5708      # (DemonstratorSettings; the rest keep their defaults)
      push:                      # this task's own values over the robot-wide ones
        tilt_down_rad: 1.0
    scene_layout:                # where scenes put the table and objects for this robot
      shift_m: [-0.171, 0.039]   # (SceneLayoutSettings, humanoid_teleop.core.sim.scene_layout)

The ``demonstrator`` and ``scene_layout`` blocks do not change the built model (they are not
in :meth:`digest`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from humanoid_teleop.core.config import Field, read_yaml
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.scene_layout import SceneLayoutSettings

PHYSICS_FILE = "physics.yaml"
SCHEMA_VERSION = 1
_TOP_KEYS = (
    "schema_version",
    "timestep_s",
    "cone",
    "impratio",
    "gravity_compensation",
    "armature",
    "mesh_max_faces",
    "visual_max_faces",
    "exclude_within_joints",
    "exclude_within_groups",
    "collide_visual_links",
    "actuators",
    "joint_dynamics",
    "demonstrator",
    "scene_layout",
)


@dataclass(frozen=True)
class ServoGains:
    """A position servo: ``kp`` [N m/rad or N/m], velocity damping ``kv`` [N m s/rad] and
    ``force_limit`` [N m or N], the most its drive gives (None: the URDF ``effort``)."""

    kp: float
    kv: float
    force_limit: float | None = None

    @classmethod
    def from_field(cls, item: Field) -> ServoGains:
        """Read ``{kp: .., kv: .., force_limit: ..}``; > 0, >= 0 and > 0 (optional)."""
        item.as_mapping(allowed=("kp", "kv", "force_limit"), required=("kp", "kv"))
        kp = item.child("kp").as_positive_float()
        limit = _opt(item, "force_limit")
        force_limit = limit.as_positive_float() if limit is not None else None
        return cls(kp, item.child("kv").as_float(minimum=0), force_limit)


@dataclass(frozen=True)
class JointDynamics:
    """A joint's Coulomb ``friction`` [N m] and viscous ``damping`` [N m s/rad], in place of
    its URDF ``<dynamics>`` (MuJoCo ``frictionloss`` and ``damping``)."""

    friction: float
    damping: float

    @classmethod
    def from_field(cls, item: Field) -> JointDynamics:
        """Read ``{friction: .., damping: ..}``; both >= 0."""
        item.as_mapping(allowed=("friction", "damping"), required=("friction", "damping"))
        friction = item.child("friction").as_float(minimum=0)
        return cls(friction, item.child("damping").as_float(minimum=0))


#: Tasks the scripted demonstrator performs: each may have its own ``demonstrator`` sub-block.
DEMONSTRATED_TASKS = ("pick_and_place", "push")
#: Allowed range of each setting (inclusive).
_SETTING_RANGES = {
    "approach_height_m": (0.0, 0.3),
    "grasp_height_m": (-0.1, 0.1),
    "lift_height_m": (0.05, 0.3),
    "tilt_down_rad": (-math.pi, math.pi),
    "roll_rad": (-math.pi, math.pi),
    "preshape": (0.0, 1.0),
    "preshape_thumb": (0.0, 1.0),
    "settle_s": (0.0, 10.0),
    "close_s": (0.1, 10.0),
    "push_behind_m": (0.0, 0.2),
    "grip_closure": (0.5, 1.0),
    "open_rate_per_s": (0.5, 10.0),
    "lower_press_m": (0.0, 0.05),
}
#: Settings that are true or false.
_SETTING_FLAGS = ("still_wrist_grasping",)


@dataclass(frozen=True)
class DemonstratorSettings:
    """Per-robot overrides of the scripted demonstrator's ``DemonstratorConfig`` (same names
    and units; None keeps its default): how this robot's hand approaches and grasps.

    ``tilt_down_rad`` pitches the fingers down and ``roll_rad`` rolls the hand about the
    forward axis (right hand; the left mirrors it), both relative to the hand's pose at home;
    heights [m] are the grasp point's above the object's centre, times [s];
    ``push_behind_m`` [m] is how far behind the object the hand goes down before a push;
    ``grip_closure``, ``open_rate_per_s`` [1/s], ``still_wrist_grasping`` and
    ``lower_press_m`` [m] set how the hand holds the object and lets go of it.
    ``tasks`` holds a task's own settings (a ``push:`` or ``pick_and_place:`` sub-block),
    which override the robot-wide ones for that task only."""

    approach_height_m: float | None = None
    grasp_height_m: float | None = None
    lift_height_m: float | None = None
    tilt_down_rad: float | None = None
    roll_rad: float | None = None
    preshape: float | None = None
    preshape_thumb: float | None = None
    settle_s: float | None = None
    close_s: float | None = None
    push_behind_m: float | None = None
    grip_closure: float | None = None
    open_rate_per_s: float | None = None
    lower_press_m: float | None = None
    still_wrist_grasping: bool | None = None
    tasks: Mapping[str, DemonstratorSettings] = field(default_factory=dict)

    @classmethod
    def from_field(cls, block: Field, *, nested: bool = True) -> DemonstratorSettings:
        """Read the ``demonstrator`` block (``nested``: it may hold per-task sub-blocks):
        unknown keys and out-of-range values are errors."""
        allowed = (*_SETTING_RANGES, *_SETTING_FLAGS, *(DEMONSTRATED_TASKS if nested else ()))
        values: dict[str, float | bool] = {}
        tasks: dict[str, DemonstratorSettings] = {}
        for key in block.as_mapping(allowed=allowed):
            item = block.child(key)
            if key in DEMONSTRATED_TASKS:
                tasks[key] = cls.from_field(item, nested=False)
                continue
            if item.value is None:
                continue
            if key in _SETTING_FLAGS:
                values[key] = item.as_bool()
                continue
            values[key] = item.as_float_in(*_SETTING_RANGES[key])
        return cls(**values, tasks=tasks)  # type: ignore[arg-type]

    def overrides(self, task: str | None = None) -> dict[str, float | bool]:
        """The settings given (not None), by ``DemonstratorConfig`` field name; with ``task``,
        that task's sub-block over the robot-wide values."""
        names = (*_SETTING_RANGES, *_SETTING_FLAGS)
        given = {k: getattr(self, k) for k in names if getattr(self, k) is not None}
        if task is not None and task in self.tasks:
            given.update(self.tasks[task].overrides())
        return given


@dataclass(frozen=True)
class PhysicsConfig:
    """MuJoCo settings of one robot (see the module docstring for the file format)."""

    timestep_s: float = 0.002
    cone: str = "elliptic"
    impratio: float = 10.0
    gravity_compensation: bool = True
    armature: float = 0.01
    mesh_max_faces: int = 3000
    visual_max_faces: int = 3000
    exclude_within_joints: int = 2
    exclude_within_groups: tuple[str, ...] = ()
    #: Links whose URDF ``<visual>`` meshes also collide (their URDF has no ``<collision>``).
    collide_visual_links: tuple[str, ...] = ()
    #: Where ``collide_visual_links`` was set (``file:line: key``), for the build's errors.
    collide_visual_at: str = ""
    default_gains: ServoGains = ServoGains(300.0, 10.0)
    group_gains: Mapping[str, ServoGains] = field(default_factory=dict)
    group_dynamics: Mapping[str, JointDynamics] = field(default_factory=dict)
    demonstrator: DemonstratorSettings = DemonstratorSettings()
    scene_layout: SceneLayoutSettings = field(default_factory=SceneLayoutSettings)
    source: str = "<defaults>"

    @classmethod
    def defaults(cls) -> PhysicsConfig:
        """Settings for a robot without physics.yaml."""
        return cls()

    @classmethod
    def from_field(cls, root: Field, groups: tuple[str, ...] = ()) -> PhysicsConfig:
        """Build from a parsed physics.yaml; ``groups`` are robot.yaml's group names."""
        root.as_mapping(allowed=_TOP_KEYS, required=("schema_version",))
        version = root.child("schema_version")
        if version.as_int() != SCHEMA_VERSION:
            raise version.error(f"unsupported schema_version; this version reads {SCHEMA_VERSION}")
        base = cls()
        timestep = _opt(root, "timestep_s")
        timestep_s = timestep.as_positive_float() if timestep else base.timestep_s
        if timestep is not None and timestep_s > 0.01:
            raise timestep.error(f"{timestep_s} s is too coarse for contacts; use <= 0.01")
        cone_field = _opt(root, "cone")
        cone = cone_field.as_choice(("elliptic", "pyramidal")) if cone_field else base.cone
        impratio_field = _opt(root, "impratio")
        impratio = impratio_field.as_positive_float() if impratio_field else base.impratio
        grav = _opt(root, "gravity_compensation")
        gravity = grav.as_bool() if grav is not None else base.gravity_compensation
        arm_field = _opt(root, "armature")
        armature = arm_field.as_positive_float() if arm_field else base.armature
        faces_field = _opt(root, "mesh_max_faces")
        faces = faces_field.as_int(minimum=100) if faces_field else base.mesh_max_faces
        visual_field = _opt(root, "visual_max_faces")
        visual = visual_field.as_int(minimum=100) if visual_field else faces
        within_field = _opt(root, "exclude_within_joints")
        within = within_field.as_int(minimum=0) if within_field else base.exclude_within_joints
        within_groups = base.exclude_within_groups
        groups_field = _opt(root, "exclude_within_groups")
        if groups_field is not None:
            within_groups = groups_field.as_str_list(allow_empty=True)
            for name in within_groups:
                _require_group(groups_field, name, groups)
        collide_field = _opt(root, "collide_visual_links")
        collide_visual = base.collide_visual_links
        collide_at = ""
        if collide_field is not None:
            collide_visual = collide_field.as_str_list(allow_empty=True)
            collide_at = f"{collide_field.file}:{collide_field.line}: collide_visual_links"
        default_gains, group_gains = base.default_gains, {}
        actuators = _opt(root, "actuators")
        if actuators is not None:
            actuators.as_mapping(allowed=("default", "groups"))
            if actuators.has("default"):
                default_gains = ServoGains.from_field(actuators.child("default"))
            group_field = _opt(actuators, "groups")
            if group_field is not None:
                for name, item in group_field.items():
                    _require_group(item, name, groups)
                    group_gains[name] = ServoGains.from_field(item)
        group_dynamics: dict[str, JointDynamics] = {}
        dynamics = _opt(root, "joint_dynamics")
        if dynamics is not None:
            dynamics.as_mapping(allowed=("groups",), required=("groups",))
            for name, item in dynamics.child("groups").items():
                _require_group(item, name, groups)
                group_dynamics[name] = JointDynamics.from_field(item)
        demo_field = _opt(root, "demonstrator")
        demonstrator = (
            DemonstratorSettings.from_field(demo_field) if demo_field else base.demonstrator
        )
        layout_field = _opt(root, "scene_layout")
        layout = SceneLayoutSettings.from_field(layout_field) if layout_field else base.scene_layout
        return cls(
            timestep_s=timestep_s,
            cone=cone,
            impratio=impratio,
            gravity_compensation=gravity,
            armature=armature,
            mesh_max_faces=faces,
            visual_max_faces=visual,
            exclude_within_joints=within,
            exclude_within_groups=within_groups,
            collide_visual_links=collide_visual,
            collide_visual_at=collide_at,
            default_gains=default_gains,
            group_gains=group_gains,
            group_dynamics=group_dynamics,
            demonstrator=demonstrator,
            scene_layout=layout,
            source=str(root.file),
        )

    def gains_for(self, group: str | None) -> ServoGains:
        """Servo gains of a joint in ``group`` (None: in no group)."""
        if group is None:
            return self.default_gains
        return self.group_gains.get(group, self.default_gains)

    def dynamics_for(self, group: str | None) -> JointDynamics | None:
        """Friction and damping of a joint in ``group``; None: the URDF's ``<dynamics>``."""
        return None if group is None else self.group_dynamics.get(group)

    def digest(self) -> str:
        """A hash of every setting that changes the built model (for the model cache)."""
        data = asdict(self)
        data.pop("source")
        data.pop("collide_visual_at")
        data.pop("demonstrator")  # the script's settings, not the model's
        data.pop("scene_layout")  # where the scenes go, not the robot's model
        for key in ("group_dynamics", "exclude_within_groups", "collide_visual_links"):
            if not data[key]:
                data.pop(key)  # not set: the cache keys from before these settings existed
        for gains in (data["default_gains"], *data["group_gains"].values()):
            if gains["force_limit"] is None:
                gains.pop("force_limit")  # likewise
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


#: :func:`physics_hash` of a robot without physics.yaml (it simulates with the defaults).
NO_PHYSICS_FILE = "none"


def physics_hash(robot_file: Path) -> str:
    """``sha256:<16 hex>`` of the physics.yaml beside ``robot_file`` (robot.yaml), or
    :data:`NO_PHYSICS_FILE`: what a simulated episode records as ``custom.physics_hash``
    (its robot's physics and demonstrator settings), so a run again tells an episode of
    another physics.yaml apart."""
    path = robot_file.parent / PHYSICS_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return NO_PHYSICS_FILE
    except OSError:  # load_physics names the file and why
        content = b""
    return "sha256:" + hashlib.sha256(content).hexdigest()[:16]


def load_physics(robot_file: Path, groups: tuple[str, ...] = ()) -> PhysicsConfig:
    """The physics.yaml beside ``robot_file`` (robot.yaml), or the defaults without one.

    Parsed once per content and ``groups``: a port or a scripted episode asks for it from
    several places (~3 ms a parse; reading the bytes to compare is ~20 us)."""
    path = robot_file.parent / PHYSICS_FILE
    if not path.exists():
        return PhysicsConfig.defaults()
    if not path.is_file():  # a folder in its place is no "no physics.yaml"
        raise SimConfigError(f"{path}: not a file (a physics.yaml is a YAML file)")
    try:
        content = path.read_bytes()
    except OSError:  # read_yaml names the file and the reason
        content = b""
    return _read_physics(path, content, groups)


@functools.lru_cache(maxsize=64)
def _read_physics(path: Path, content: bytes, groups: tuple[str, ...]) -> PhysicsConfig:
    """:func:`load_physics`' parse of ``path`` (``content``, its bytes, keys the cache)."""
    return PhysicsConfig.from_field(read_yaml(path, SimConfigError), groups)


def _require_group(where: Field, name: str, groups: tuple[str, ...]) -> None:
    """Raise at ``where`` unless ``name`` is one of robot.yaml's ``groups`` (none given: no
    check)."""
    if groups and name not in groups:
        raise where.error(f"no group {name!r} in robot.yaml; groups: {', '.join(groups)}")


def _opt(parent: Field, key: str) -> Field | None:
    return parent.optional(key)
