"""The ``robot.yaml`` schema: frozen, typed records built by :meth:`RobotDescription.from_dict`.

``from_dict`` checks everything that can be checked without the kinematic model (types,
unknown keys, group overlap, references between sections). The loader then checks names and
limits against the model; see :mod:`humanoid_teleop.core.robot.loader`. The schema is
documented for integrators in ``robots/README.md``.

Units: angles in [rad] (``*_deg`` keys in the YAML are degrees), lengths in [m], velocities in
[rad/s] or [m/s], accelerations in [rad/s²] or [m/s²], efforts in [N·m] or [N].
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from humanoid_teleop.core.config import Field, nearest

SCHEMA_VERSION = 1
SIDES: tuple[str, ...] = ("left", "right")
HAND_KINDS: tuple[str, ...] = ("dexterous", "gripper", "none")
#: Finger names of a dexterous hand, as the hand retargeters know them (human hand order).
FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
INTERFACE_KINDS: tuple[str, ...] = ("forward", "trajectory", "joint_state")
MODEL_FORMATS: tuple[str, ...] = ("urdf", "mjcf")
STANDARD_GROUPS: tuple[str, ...] = (
    "left_arm",
    "right_arm",
    "left_hand",
    "right_hand",
    "head",
    "waist",
    "legs",
)

_TOP_KEYS: tuple[str, ...] = (
    "schema_version",
    "name",
    "display_name",
    "maker",
    "description",
    "model",
    "base_frame",
    "groups",
    "arms",
    "hands",
    "head",
    "interfaces",
    "sensors",
    "limits",
    "frames",
    "home",
)
_REQUIRED_TOP_KEYS: tuple[str, ...] = (
    "schema_version",
    "name",
    "display_name",
    "maker",
    "model",
    "base_frame",
    "groups",
    "arms",
    "hands",
    "interfaces",
    "home",
)

Side = Literal["left", "right"]
HandKind = Literal["dexterous", "gripper", "none"]
InterfaceKind = Literal["forward", "trajectory", "joint_state"]

_K = TypeVar("_K")
_V = TypeVar("_V")


def _frozen(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping))


def rpy_to_matrix(rpy: tuple[float, float, float]) -> npt.NDArray[np.float64]:
    """Rotation matrix of URDF roll-pitch-yaw angles [rad]: ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``."""
    roll, pitch, yaw = rpy
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


@dataclass(frozen=True)
class FixedTransform:
    """A fixed transform: translation ``xyz`` [m] and URDF ``rpy`` [rad] of a child in a parent."""

    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def rotation(self) -> npt.NDArray[np.float64]:
        """3×3 rotation of the child frame expressed in the parent frame."""
        return rpy_to_matrix(self.rpy)

    def translation(self) -> npt.NDArray[np.float64]:
        return np.array(self.xyz, dtype=float)


@dataclass(frozen=True)
class FrameSpec:
    """A fixed frame that robot.yaml adds to the model: ``name`` at ``pose`` in link ``parent``."""

    name: str
    parent: str
    pose: FixedTransform


@dataclass(frozen=True)
class ModelSource:
    """Where the kinematic model comes from.

    ``path`` is the absolute model file. ``package`` is set when robot.yaml referenced an
    installed package (e.g. ``example-robot-data``) and ``file`` is then relative to its share
    directory; otherwise ``file`` is relative to robot.yaml.
    """

    path: Path
    file: str
    package: str | None
    format: Literal["urdf", "mjcf"]

    def describe(self) -> str:
        """Short human text, e.g. ``example-robot-data:robots/g1_description/urdf/g1.urdf``."""
        return f"{self.package}:{self.file}" if self.package else self.file


@dataclass(frozen=True)
class ArmSpec:
    """One arm: its joint group, end-effector frame, elbow joint and the hand-frame rotation.

    ``hand_frame_rpy`` [rad] is the fixed rotation from the robot's EE frame to the human hand
    frame convention (origin at the wrist, +x toward the middle-finger knuckle, +z out of the
    back of the hand, +y = z × x): ``R_base_hand = R_base_ee @ hand_frame_rotation()``.
    """

    side: Side
    group: str
    ee_frame: str
    elbow_joint: str
    hand_frame_rpy: tuple[float, float, float]

    def hand_frame_rotation(self) -> npt.NDArray[np.float64]:
        """3×3 rotation of the human hand frame expressed in the robot EE frame."""
        return rpy_to_matrix(self.hand_frame_rpy)


@dataclass(frozen=True)
class HandSpec:
    """One hand. ``kind`` is ``dexterous``, ``gripper`` or ``none`` (then the rest is empty).

    ``fingers`` maps finger names (``thumb``, ``index``, ``middle``, ``ring``, ``pinky``, ...)
    to joint names ordered from palm to tip (dexterous hands only); ``fingertip_frames`` maps
    finger names to frames (a gripper's: its jaw tips, e.g. ``thumb`` and ``index``; a rigid
    hand's, kind ``none``: where it meets an object, which it does not pinch). The mean
    of the fingertip frames is the hand's tool point (the EE frame for a hand without them);
    the mean of the :attr:`pinch_fingers`' tips is where it pinches (its grasp point).
    ``open_positions`` / ``closed_positions`` are joint positions [rad or m] in ``group`` order,
    so every hand can follow a single grasp value in [0, 1]. ``grip_closure`` is the closure
    (:meth:`closure_of`) at which the hand holds an object in a pinch, where the object stops
    its fingers (robot.yaml ``grip_closure``, measured on the scenes' 4 cm cube; 1.0, a
    fully closed hand, when not given): the portability report's grasp events are taken
    relative to it.
    """

    side: Side
    kind: HandKind
    group: str | None = None
    fingers: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _frozen({}))
    fingertip_frames: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    open_positions: tuple[float, ...] = ()
    closed_positions: tuple[float, ...] = ()
    grip_closure: float = 1.0

    @property
    def pinch_fingers(self) -> tuple[str, ...]:
        """The fingers whose tips' midpoint is the hand's grasp point, where it pinches an
        object: ``thumb`` and ``index`` when ``fingertip_frames`` names both (the pair the
        scripted demonstrator's hand pinches with), else every finger with a tip frame (then
        the grasp point is the tool point); empty for a hand without fingertip frames and
        for a rigid one (kind ``none``: it does not pinch; its EE frame stands in)."""
        names = tuple(self.fingertip_frames)
        if self.kind == "none":  # a rigid hand does not pinch: its EE frame stands in
            return ()
        if "thumb" in names and "index" in names:
            return ("thumb", "index")
        return names

    def grasp_positions(self, closure: float) -> tuple[float, ...]:
        """Positions in group order for ``closure`` in [0, 1] (0 open, 1 closed), clipped.

        Raises ValueError for a NaN closure (which has no safe meaning).
        """
        if math.isnan(closure):
            raise ValueError(f"{self.side} hand closure is NaN")
        c = min(1.0, max(0.0, closure))
        # a list, then the tuple: ~0.4 us less than a generator's (a gripper asks every step)
        pairs = zip(self.open_positions, self.closed_positions, strict=True)
        return tuple([o + c * (k - o) for o, k in pairs])

    def closure_of(self, positions: npt.ArrayLike) -> float:
        """The inverse of :meth:`grasp_positions`: the closure in [0, 1] of hand joint
        positions in ``group`` order, their projection on the open -> closed line, clipped;
        0 for a hand without that line.

        The exported ``observation.hand_closure`` and the portability report's grasp events
        use it (:meth:`closures_of` for many postures); the annotation rules average each
        joint's own fraction instead (``annotation/signals.py`` says why)."""
        opened, span, span_sq = self._closure_line
        if span_sq <= 0.0:
            return 0.0
        # ndarray.dot: the same BLAS dot as ``@`` for two vectors, without the matmul
        # ufunc's overhead (a port asks once per step)
        value = float(np.subtract(positions, opened, dtype=np.float64).dot(span)) / span_sq
        return min(1.0, max(0.0, value))

    def closures_of(self, rows: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """:meth:`closure_of` of each row of ``rows`` (frames x group joints)."""
        q = np.asarray(rows, dtype=np.float64)
        opened, span, span_sq = self._closure_line
        if span_sq <= 0.0:
            return np.zeros(len(q))
        return np.clip((q - opened) @ span / span_sq, 0.0, 1.0)

    @functools.cached_property
    def _closure_line(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
        """(open positions, open -> closed span, its squared length) as arrays."""
        opened = np.asarray(self.open_positions, dtype=np.float64)
        if not self.closed_positions:
            return opened, opened, 0.0
        span = np.asarray(self.closed_positions, dtype=np.float64) - opened
        return opened, span, float(span @ span)


@dataclass(frozen=True)
class HeadSpec:
    """The head: its joint group and the frame whose orientation follows the operator's head."""

    group: str
    frame: str


@dataclass(frozen=True)
class InterfaceSpec:
    """How a group is commanded (ros2_control conventions).

    ``forward``: std_msgs/Float64MultiArray in group order; ``trajectory``:
    trajectory_msgs/JointTrajectory; ``joint_state``: sensor_msgs/JointState.
    """

    group: str
    kind: InterfaceKind
    topic: str


@dataclass(frozen=True)
class CameraSpec:
    """A camera. ``frame_id`` is its optical frame (z forward, x right, y down).

    ``parent`` and ``pose`` place ``frame_id`` in the model: when the model already has the
    frame, ``parent == frame_id`` and ``pose`` is the identity. ``fov_rad`` is horizontal.
    """

    name: str
    topic: str
    info_topic: str
    frame_id: str
    parent: str
    pose: FixedTransform
    width: int
    height: int
    fov_rad: float
    encoding: str


@dataclass(frozen=True)
class WrenchSpec:
    """A force/torque sensor publishing geometry_msgs/WrenchStamped in frame ``frame_id``."""

    name: str
    topic: str
    frame_id: str
    parent: str
    pose: FixedTransform


@dataclass(frozen=True)
class SensorsSpec:
    """Sensors of the robot and the topics they publish on."""

    joint_state_topic: str = "/joint_states"
    cameras: tuple[CameraSpec, ...] = ()
    wrenches: tuple[WrenchSpec, ...] = ()


@dataclass(frozen=True)
class JointLimitOverride:
    """Limits that replace the model's for one joint; None keeps the model's value.

    Overrides may only tighten: the loader rejects a wider one (a model velocity or effort of
    0, which URDF files use for "unspecified", may be set to any positive value).
    """

    lower: float | None = None
    upper: float | None = None
    velocity: float | None = None
    acceleration: float | None = None
    effort: float | None = None


@dataclass(frozen=True)
class LimitsSpec:
    """Limit settings: a default acceleration limit [rad/s²] (URDF has none) and overrides."""

    default_acceleration: float
    joints: Mapping[str, JointLimitOverride]


@dataclass(frozen=True)
class RobotDescription:
    """Everything humanoid_teleop knows about one robot, from ``robots/<name>/robot.yaml``."""

    name: str
    display_name: str
    maker: str
    source_file: Path
    model: ModelSource
    base_frame: str
    groups: Mapping[str, tuple[str, ...]]
    arms: Mapping[str, ArmSpec]
    hands: Mapping[str, HandSpec]
    head: HeadSpec | None
    interfaces: Mapping[str, InterfaceSpec]
    sensors: SensorsSpec
    limits: LimitsSpec
    frames: tuple[FrameSpec, ...]
    home: Mapping[str, float]
    description: str = ""

    @property
    def group_joints(self) -> tuple[str, ...]:
        """Every joint of every group, groups in file order."""
        return tuple(joint for joints in self.groups.values() for joint in joints)

    def dof(self) -> dict[str, int]:
        """Number of joints per group."""
        return {group: len(joints) for group, joints in self.groups.items()}

    def group_of(self, joint: str) -> str | None:
        """The group containing ``joint``, or None."""
        for group, joints in self.groups.items():
            if joint in joints:
                return group
        return None

    @classmethod
    def from_dict(
        cls,
        root: Field,
        resolve_model: Callable[[Field], ModelSource],
    ) -> RobotDescription:
        """Build from the parsed YAML document ``root``.

        ``resolve_model`` turns the ``model`` field into a :class:`ModelSource` (the loader
        resolves paths relative to the file and installed packages there).
        """
        root.as_mapping(allowed=_TOP_KEYS, required=_REQUIRED_TOP_KEYS)
        version = root.child("schema_version")
        if version.value != SCHEMA_VERSION:
            raise version.error(f"got {version.value!r}; allowed: {SCHEMA_VERSION}")
        groups = _parse_groups(root.child("groups"))
        group_names = tuple(groups)
        frames = (
            [_parse_frame(f) for f in root.child("frames").elements()]
            if root.optional("frames")
            else []
        )
        arms = _parse_arms(root.child("arms"), groups)
        hands = _parse_hands(root.child("hands"), groups)
        head_field = root.optional("head")
        head = None
        if head_field is not None:
            head_field.as_mapping(allowed=("group", "frame"), required=("group", "frame"))
            head = HeadSpec(
                group=_group_ref(head_field.child("group"), group_names),
                frame=head_field.child("frame").as_str(),
            )
        interfaces = _parse_interfaces(root.child("interfaces"), group_names)
        sensors, sensor_frames = _parse_sensors(root.optional("sensors"))
        all_frames = (*frames, *sensor_frames)
        seen: dict[str, FrameSpec] = {}
        for frame in all_frames:
            if frame.name in seen:
                raise root.error(f"frame {frame.name!r} is defined twice (frames / sensors)")
            seen[frame.name] = frame
        name = root.child("name")
        name_text = name.as_str()
        if not name_text.replace("_", "").replace("-", "").isalnum():
            raise name.error(f"got {name_text!r}; allowed: letters, digits, '_' and '-'")
        folder = root.file.parent.name
        if root.file.name == "robot.yaml" and name_text != folder:
            raise name.error(
                f"got {name_text!r} but the folder is {folder!r}; the name must equal the "
                "folder name (robots are looked up by folder)"
            )
        return cls(
            name=name_text,
            display_name=root.child("display_name").as_str(),
            maker=root.child("maker").as_str(),
            description=(d.as_str() if (d := root.optional("description")) else ""),
            source_file=root.file,
            model=resolve_model(root.child("model")),
            base_frame=root.child("base_frame").as_str(),
            groups=_frozen(groups),
            arms=_frozen(arms),
            hands=_frozen(hands),
            head=head,
            interfaces=_frozen(interfaces),
            sensors=sensors,
            limits=_parse_limits(root.optional("limits"), groups),
            frames=tuple(all_frames),
            home=_frozen(_parse_home(root.child("home"), groups)),
        )


# -- sections ---------------------------------------------------------------------------------


def _group_ref(f: Field, groups: tuple[str, ...]) -> str:
    name = f.as_str()
    if name not in groups:
        raise f.error(f"no group {name!r}; groups: {', '.join(groups)}")
    return name


def _parse_groups(f: Field) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for group, joints_field in f.items():
        if not group.replace("_", "").isalnum():
            raise joints_field.error(f"group name {group!r}: allowed: letters, digits and '_'")
        joints = joints_field.as_str_list()
        for joint, item in zip(joints, joints_field.elements(), strict=True):
            if joint in owner:
                raise item.error(
                    f"joint {joint!r} is already in group {owner[joint]!r}; groups must not overlap"
                )
            owner[joint] = group
        groups[group] = joints
    if not groups:
        raise f.error("expected at least one group")
    return groups


def _parse_frame(f: Field) -> FrameSpec:
    f.as_mapping(allowed=("name", "parent", "xyz", "rpy"), required=("name", "parent"))
    return FrameSpec(
        name=f.child("name").as_str(),
        parent=f.child("parent").as_str(),
        pose=_parse_pose(f),
    )


def _parse_pose(f: Field) -> FixedTransform:
    xyz = f.optional("xyz")
    rpy = f.optional("rpy")
    return FixedTransform(
        xyz=_vec3(xyz) if xyz else (0.0, 0.0, 0.0),
        rpy=_vec3(rpy) if rpy else (0.0, 0.0, 0.0),
    )


def _vec3(f: Field) -> tuple[float, float, float]:
    x, y, z = f.as_vector(3)
    return (x, y, z)


def _sides(f: Field) -> list[tuple[Side, Field]]:
    f.as_mapping(allowed=SIDES)
    result: list[tuple[Side, Field]] = []
    for side in SIDES:
        if f.has(side):
            result.append(("left" if side == "left" else "right", f.child(side)))
    return result


def _parse_arms(f: Field, groups: Mapping[str, tuple[str, ...]]) -> dict[str, ArmSpec]:
    arms: dict[str, ArmSpec] = {}
    for side, arm in _sides(f):
        arm.as_mapping(
            allowed=("group", "ee_frame", "elbow_joint", "hand_frame_rpy"),
            required=("group", "ee_frame", "elbow_joint", "hand_frame_rpy"),
        )
        group = _group_ref(arm.child("group"), tuple(groups))
        elbow = arm.child("elbow_joint")
        if elbow.as_str() not in groups[group]:
            raise elbow.error(
                f"{elbow.value!r} is not in group {group!r}; "
                + nearest(elbow.as_str(), groups[group])
            )
        arms[side] = ArmSpec(
            side=side,
            group=group,
            ee_frame=arm.child("ee_frame").as_str(),
            elbow_joint=elbow.as_str(),
            hand_frame_rpy=_vec3(arm.child("hand_frame_rpy")),
        )
    return arms


def _fingertip_frames(hand: Field, named: tuple[str, ...]) -> dict[str, str]:
    """A hand's ``fingertip_frames`` (finger -> frame; none without the key), each finger one
    of ``named``."""
    tips: dict[str, str] = {}
    tip_field = hand.optional("fingertip_frames")
    for finger, frame in tip_field.items() if tip_field is not None else ():
        if finger not in named:
            raise frame.error(f"no finger {finger!r}; fingers: {', '.join(named)}")
        tips[finger] = frame.as_str()
    return tips


def _parse_hands(f: Field, groups: Mapping[str, tuple[str, ...]]) -> dict[str, HandSpec]:
    hands: dict[str, HandSpec] = {}
    for side, hand in _sides(f):
        hand.as_mapping(
            allowed=(
                "kind",
                "group",
                "fingers",
                "fingertip_frames",
                "open",
                "closed",
                "grip_closure",
            ),
            required=("kind",),
        )
        kind_text = hand.child("kind").as_choice(HAND_KINDS)
        if kind_text == "none":
            # no joints; a rigid hand may name where it meets an object (its tool point)
            extra = [k for k in hand.as_mapping() if k not in ("kind", "fingertip_frames")]
            if extra:
                raise hand.child(extra[0]).error(
                    "a hand of kind 'none' takes only fingertip_frames"
                )
            rigid = _fingertip_frames(hand, FINGERS)
            hands[side] = HandSpec(side=side, kind="none", fingertip_frames=_frozen(rigid))
            continue
        kind: HandKind = "dexterous" if kind_text == "dexterous" else "gripper"
        hand.as_mapping(required=("group", "open", "closed"))
        group = _group_ref(hand.child("group"), tuple(groups))
        joints = groups[group]
        fingers: dict[str, tuple[str, ...]] = {}
        if kind == "dexterous":
            hand.as_mapping(required=("fingers",))
            for finger, finger_joints in hand.child("fingers").items():
                if finger not in FINGERS:
                    raise finger_joints.error(
                        f"unknown finger {finger!r}; allowed: {', '.join(FINGERS)}"
                    )
                names = finger_joints.as_str_list()
                for joint, item in zip(names, finger_joints.elements(), strict=True):
                    if joint not in joints:
                        raise item.error(
                            f"{joint!r} is not in group {group!r}; " + nearest(joint, joints)
                        )
                fingers[finger] = names
        elif hand.has("fingers"):
            raise hand.child("fingers").error("only a 'dexterous' hand has finger joints")
        # a gripper's jaws have no joints of their own: its tips take finger names only
        tips = _fingertip_frames(hand, tuple(fingers) if kind == "dexterous" else FINGERS)
        positions = []
        for key in ("open", "closed"):
            values_field = hand.child(key)
            values = tuple(item.as_float() for item in values_field.elements())
            if len(values) != len(joints):
                raise values_field.error(
                    f"expected {len(joints)} positions (one per joint of group {group!r}: "
                    f"{', '.join(joints)}), got {len(values)}"
                )
            positions.append(values)
        grip = 1.0
        grip_field = hand.optional("grip_closure")
        if grip_field is not None:
            grip = grip_field.as_float()
            if not 0.0 < grip <= 1.0:
                raise grip_field.error(f"grip_closure {grip}: need a closure in (0, 1]")
        hands[side] = HandSpec(
            side=side,
            kind=kind,
            group=group,
            fingers=_frozen(fingers),
            fingertip_frames=_frozen(tips),
            open_positions=positions[0],
            closed_positions=positions[1],
            grip_closure=grip,
        )
    return hands


def _parse_interfaces(f: Field, groups: tuple[str, ...]) -> dict[str, InterfaceSpec]:
    interfaces: dict[str, InterfaceSpec] = {}
    for group, spec in f.items():
        if group not in groups:
            raise spec.error(f"no group {group!r}; groups: {', '.join(groups)}")
        spec.as_mapping(allowed=("kind", "topic"), required=("kind", "topic"))
        kind_text = spec.child("kind").as_choice(INTERFACE_KINDS)
        kind: InterfaceKind = (
            "forward"
            if kind_text == "forward"
            else "trajectory"
            if kind_text == "trajectory"
            else "joint_state"
        )
        interfaces[group] = InterfaceSpec(group=group, kind=kind, topic=_topic(spec.child("topic")))
    return interfaces


def _topic(f: Field) -> str:
    topic = f.as_str()
    parts = topic.split("/")
    if (
        not topic.startswith("/")
        or topic.endswith("/")
        or not all(
            p and (p[0].isalpha() or p[0] == "_") and p.replace("_", "").isalnum()
            for p in parts[1:]
        )
    ):
        raise f.error(
            f"got {topic!r}; allowed: an absolute ROS topic name like '/left_arm/commands' "
            "(letters, digits, '_'; each part starts with a letter or '_')"
        )
    return topic


def _placed_frame(f: Field) -> tuple[str, str, FixedTransform, FrameSpec | None]:
    """``frame_id`` of a sensor, its parent and pose, and the frame to add (when ``parent``)."""
    frame_id = f.child("frame_id").as_str()
    if f.optional("parent") is None:
        for key in ("xyz", "rpy"):
            if f.has(key):
                raise f.child(key).error("a pose needs 'parent' (the link the frame is fixed to)")
        return frame_id, frame_id, FixedTransform(), None
    parent = f.child("parent").as_str()
    pose = _parse_pose(f)
    return frame_id, parent, pose, FrameSpec(frame_id, parent, pose)


def _parse_sensors(f: Field | None) -> tuple[SensorsSpec, list[FrameSpec]]:
    if f is None:
        return SensorsSpec(), []
    f.as_mapping(allowed=("joint_state_topic", "cameras", "wrenches"))
    frames: list[FrameSpec] = []
    cameras: list[CameraSpec] = []
    names: set[str] = set()
    cam_list = f.optional("cameras")
    for cam in cam_list.elements() if cam_list else []:
        cam.as_mapping(
            allowed=(
                "name",
                "topic",
                "info_topic",
                "frame_id",
                "parent",
                "xyz",
                "rpy",
                "width",
                "height",
                "fov_deg",
                "encoding",
            ),
            required=("name", "topic", "frame_id", "width", "height", "fov_deg"),
        )
        frame_id, parent, pose, frame = _placed_frame(cam)
        if frame:
            frames.append(frame)
        topic = _topic(cam.child("topic"))
        info = cam.optional("info_topic")
        fov = cam.child("fov_deg")
        fov_deg = fov.as_positive_float()
        if fov_deg >= 180.0:
            raise fov.error(f"got {fov_deg}; allowed: 0 < fov_deg < 180 (horizontal)")
        name = _unique_name(cam.child("name"), names)
        cameras.append(
            CameraSpec(
                name=name,
                topic=topic,
                info_topic=_topic(info) if info else topic.rsplit("/", 1)[0] + "/camera_info",
                frame_id=frame_id,
                parent=parent,
                pose=pose,
                width=cam.child("width").as_int(),
                height=cam.child("height").as_int(),
                fov_rad=math.radians(fov_deg),
                encoding=(
                    e.as_choice(("rgb8", "bgr8", "mono8", "16UC1", "32FC1"))
                    if (e := cam.optional("encoding"))
                    else "rgb8"
                ),
            )
        )
    wrenches: list[WrenchSpec] = []
    wrench_list = f.optional("wrenches")
    for wrench in wrench_list.elements() if wrench_list else []:
        wrench.as_mapping(
            allowed=("name", "topic", "frame_id", "parent", "xyz", "rpy"),
            required=("name", "topic", "frame_id"),
        )
        frame_id, parent, pose, frame = _placed_frame(wrench)
        if frame:
            frames.append(frame)
        wrenches.append(
            WrenchSpec(
                name=_unique_name(wrench.child("name"), names),
                topic=_topic(wrench.child("topic")),
                frame_id=frame_id,
                parent=parent,
                pose=pose,
            )
        )
    js = f.optional("joint_state_topic")
    return (
        SensorsSpec(
            joint_state_topic=_topic(js) if js else "/joint_states",
            cameras=tuple(cameras),
            wrenches=tuple(wrenches),
        ),
        frames,
    )


def _unique_name(f: Field, names: set[str]) -> str:
    name = f.as_str()
    if name in names:
        raise f.error(f"sensor name {name!r} is used twice")
    names.add(name)
    return name


def _parse_limits(f: Field | None, groups: Mapping[str, tuple[str, ...]]) -> LimitsSpec:
    if f is None:
        return LimitsSpec(default_acceleration=10.0, joints=_frozen({}))
    f.as_mapping(allowed=("default_acceleration", "joints"))
    acc = f.optional("default_acceleration")
    overrides: dict[str, JointLimitOverride] = {}
    joints_field = f.optional("joints")
    for key, spec in joints_field.items() if joints_field else []:
        spec.as_mapping(allowed=("lower", "upper", "velocity", "acceleration", "effort"))
        values: dict[str, float | None] = {}
        for name in ("lower", "upper", "velocity", "acceleration", "effort"):
            value = spec.optional(name)
            if value is None:
                values[name] = None
            elif name in ("lower", "upper"):
                values[name] = value.as_float()
            else:
                values[name] = value.as_positive_float()
        lower, upper = values["lower"], values["upper"]
        if lower is not None and upper is not None and lower > upper:
            raise spec.error(f"lower {lower} is above upper {upper}")
        # A key may be a group name: the override applies to each of its joints. A joint
        # named both alone and through its group merges both, but no field may be set twice.
        targets = groups.get(key, (key,))
        for joint in targets:
            merged = dict(values)
            if joint in overrides:
                earlier = overrides[joint]
                for name, number in values.items():
                    if number is not None and getattr(earlier, name) is not None:
                        raise spec.child(name).error(
                            f"the {name} limit of joint {joint!r} is already set (by joint "
                            "name or by its group); set each limit once"
                        )
                    if number is None:
                        merged[name] = getattr(earlier, name)
            overrides[joint] = JointLimitOverride(**merged)
    return LimitsSpec(
        default_acceleration=acc.as_positive_float() if acc else 10.0,
        joints=_frozen(overrides),
    )


def _parse_home(f: Field, groups: Mapping[str, tuple[str, ...]]) -> dict[str, float]:
    home: dict[str, float] = {}
    known = {j for joints in groups.values() for j in joints}
    for joint, value in f.items():
        if joint not in known:
            raise value.error(f"joint {joint!r} is in no group; " + nearest(joint, known))
        home[joint] = value.as_float()
    return home
