"""The dataset schema: which features a frame has, and their values for one episode.

Two layouts (documented with units and frames in ``docs/dataset-export.md``):

- ``robot``: one dataset per robot model; joint vectors over the driven joints in
  :data:`GROUP_ORDER` with URDF joint names; cameras at their recorded size;
  end-effector poses in the robot's ``base_frame``.
- ``canonical``: one dataset across robots; end-effector poses in the canonical torso frame
  (REP-103, origin between the shoulders, see :func:`torso_frames`), joint vectors padded to
  :data:`CANONICAL_SLOTS` with a mask and an ``embodiment`` column, cameras resized to
  :data:`CANONICAL_IMAGE_HW`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from humanoid_teleop.annotation.dataset import subtask_spans
from humanoid_teleop.core.motion.rotation import quats_from_matrices
from humanoid_teleop.core.robot import RobotModel

from .errors import ExportInputError
from .resample import frame_grid, hold, interpolate, nearest
from .source import HAND_INPUTS, JOY_AXES, JOY_BUTTONS, LEADER_JOINTS, POSE_INPUTS, EpisodeData

Layout = Literal["robot", "canonical"]
LAYOUTS: tuple[Layout, ...] = ("robot", "canonical")
FloatArray = npt.NDArray[np.float64]

GROUP_ORDER = ("waist", "head", "left_arm", "right_arm", "left_hand", "right_hand")
"""Driven joint groups, in the order joint vectors list them (groups a robot lacks skipped)."""
CANONICAL_SLOTS = {
    "waist": 3,
    "head": 4,
    "left_arm": 7,
    "right_arm": 7,
    "left_hand": 12,
    "right_hand": 12,
}
"""Width of each group's slot in the canonical layout's padded joint vectors."""
CANONICAL_IMAGE_HW = (240, 320)
"""Height, width [px] of every camera in the canonical layout."""
CANONICAL_CAMERAS = ("head", "left_wrist", "right_wrist")
"""Canonical camera names; a robot.yaml camera maps to one by its name (see camera_key)."""
SIDES = ("left", "right")
POSE_NAMES = ("x", "y", "z", "qx", "qy", "qz", "qw")
WRENCH_NAMES = ("fx", "fy", "fz", "tx", "ty", "tz")
TELEOP_PARTS = ("head", "left_wrist", "right_wrist", "left_hand", "right_hand", "joy", "leader")


@dataclass(frozen=True)
class Feature:
    """One LeRobot feature: ``dtype``, ``shape`` and per-dimension ``names``."""

    dtype: str
    shape: tuple[int, ...]
    names: tuple[str, ...] | None

    def info(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": list(self.shape),
            "names": list(self.names) if self.names else None,
        }


def camera_key(name: str) -> str | None:
    """Canonical camera of a robot.yaml camera name (``head``, ``left_wrist``, ...) or None."""
    lowered = name.lower()
    if lowered in CANONICAL_CAMERAS:
        return lowered
    for side in SIDES:
        if side in lowered and ("wrist" in lowered or "hand" in lowered):
            return f"{side}_wrist"
    if "head" in lowered:
        return "head"
    return None


def driven_groups(model: RobotModel) -> tuple[str, ...]:
    """The robot's groups among :data:`GROUP_ORDER`, in that order."""
    groups = model.description.groups
    return tuple(g for g in GROUP_ORDER if g in groups)


def driven_joints(model: RobotModel) -> tuple[str, ...]:
    """URDF names of the driven joints, group by group in :data:`GROUP_ORDER`."""
    return tuple(j for g in driven_groups(model) for j in model.description.groups[g])


def unrecorded_commands(model: RobotModel, data: EpisodeData) -> dict[str, str]:
    """Driven group -> robot.yaml command topic, for the groups whose command topic is not in
    the episode at all: their ``action`` is the measured state on every frame.

    A topic the episode recorded without a message (nobody commanded the group: it held) is
    not listed; that is the documented fallback. A missing one means the commands, if any,
    were not recorded (e.g. TALOS episodes ported or scripted before its trajectory
    interfaces were written)."""
    recorded = data.summary.counts
    interfaces = model.description.interfaces
    return {
        group: interfaces[group].topic
        for group in driven_groups(model)
        if group in interfaces and interfaces[group].topic not in recorded
    }


def cameras(model: RobotModel) -> dict[str, str]:
    """Canonical camera key -> robot.yaml camera name (cameras with no canonical name left out)."""
    result: dict[str, str] = {}
    for camera in model.description.sensors.cameras:
        key = camera_key(camera.name)
        if key is not None and key not in result:
            result[key] = camera.name
    return result


def _pose_names(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{n}" for n in POSE_NAMES)


def _teleop_features() -> dict[str, Feature]:
    hand_names = tuple(f"{i}.{c}" for i in range(25) for c in "xyz")
    joy_names = tuple(f"axis.{i}" for i in range(JOY_AXES)) + tuple(
        f"button.{i}" for i in range(JOY_BUTTONS)
    )
    return {
        "teleop.head_pose": Feature("float32", (7,), _pose_names("head")),
        "teleop.left_wrist_pose": Feature("float32", (7,), _pose_names("left_wrist")),
        "teleop.right_wrist_pose": Feature("float32", (7,), _pose_names("right_wrist")),
        "teleop.left_hand_keypoints": Feature("float32", (75,), hand_names),
        "teleop.right_hand_keypoints": Feature("float32", (75,), hand_names),
        "teleop.joy": Feature("float32", (JOY_AXES + JOY_BUTTONS,), joy_names),
        "teleop.leader_joints": Feature(
            "float32", (LEADER_JOINTS,), tuple(f"leader.{i}" for i in range(LEADER_JOINTS))
        ),
        "teleop.present": Feature("float32", (len(TELEOP_PARTS),), TELEOP_PARTS),
        "teleop.engaged": Feature("float32", (1,), ("engaged",)),
        "teleop.calibration": Feature("float32", (1,), ("calibration",)),
    }


def canonical_slot_names() -> tuple[str, ...]:
    return tuple(f"{g}.{i}" for g, width in CANONICAL_SLOTS.items() for i in range(width))


def features(
    model: RobotModel,
    layout: Layout,
    camera_keys: tuple[str, ...],
    with_velocity: bool,
    with_effort: bool,
) -> dict[str, Feature]:
    """The non-default features of one episode of ``model`` in ``layout`` (cameras not included)."""
    eef_names = _pose_names("left") + _pose_names("right")
    out: dict[str, Feature] = {}
    if layout == "robot":
        joints = driven_joints(model)
        out["observation.state"] = Feature("float32", (len(joints),), joints)
        if with_velocity:
            out["observation.velocity"] = Feature("float32", (len(joints),), joints)
        if with_effort:
            out["observation.effort"] = Feature("float32", (len(joints),), joints)
        out["action"] = Feature("float32", (len(joints),), joints)
    else:
        slots = canonical_slot_names()
        out["observation.state"] = Feature("float32", (len(slots),), slots)
        out["action"] = Feature("float32", (len(slots),), slots)
        out["observation.joint_mask"] = Feature("float32", (len(slots),), slots)
        out["embodiment"] = Feature("string", (1,), None)
    out["observation.eef_pose"] = Feature("float32", (14,), eef_names)
    out["observation.hand_closure"] = Feature("float32", (2,), SIDES)
    out["observation.wrench"] = Feature(
        "float32", (12,), tuple(f"{s}.{n}" for s in SIDES for n in WRENCH_NAMES)
    )
    out.update(_teleop_features())
    out["annotation.human.subtask"] = Feature("int64", (1,), None)
    out["quality.camera_gap"] = (
        Feature("float32", (len(camera_keys),), camera_keys)
        if camera_keys
        else Feature("float32", (1,), ("none",))
    )
    out["next.done"] = Feature("bool", (1,), None)
    out["next.success"] = Feature("bool", (1,), None)
    return out


@dataclass
class EpisodeFrames:
    """One episode on the frame grid: feature -> (n, k) array; camera key -> frames."""

    columns: dict[str, np.ndarray]
    images: dict[str, list[npt.NDArray[np.uint8]]]
    image_missing: dict[str, npt.NDArray[np.bool_]]
    grid_ns: npt.NDArray[np.int64]
    subtasks: list[str]


def _q_full(model: RobotModel, data: EpisodeData, positions: FloatArray) -> FloatArray:
    """Positions over ``model.joint_names`` per frame; joints not in the bag at home."""
    index = {name: i for i, name in enumerate(data.joint_names)}
    q = np.tile(model.home_positions(), (len(positions), 1))
    for j, name in enumerate(model.joint_names):
        if name in index:
            q[:, j] = positions[:, index[name]]
    return q


def _pose7(rotations: FloatArray, positions: FloatArray) -> FloatArray:
    return np.concatenate([positions, quats_from_matrices(rotations)], axis=1)


def torso_frames(model: RobotModel, q: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Canonical torso frame per frame in the base frame: rotations (n,3,3), origins (n,3).

    Origin: midpoint of the two shoulders (the first joint of each arm group). Axes: the
    base frame's (REP-103: x forward, y left, z up) at the home posture, carried along by the
    link the shoulders hang from, so waist motion turns the torso frame with the torso."""
    description = model.description
    arms = description.arms
    if set(arms) != set(SIDES):
        raise ExportInputError(
            f"{description.name}: the canonical layout needs a left and a right arm"
        )
    shoulders = [description.groups[arms[s].group][0] for s in SIDES]
    pin_model = model.pin_model
    parent_frame = pin_model.frames[pin_model.getFrameId(shoulders[0])].parentFrame
    parent_name = pin_model.frames[parent_frame].name
    home = model.home_positions()
    r_home, _ = model.fk(home, parent_name)
    rotations = np.empty((len(q), 3, 3))
    origins = np.empty((len(q), 3))
    for i, qi in enumerate(q):
        r_parent, _ = model.fk(qi, parent_name)
        rotations[i] = r_parent @ r_home.T
        origins[i] = 0.5 * (model.fk(qi, shoulders[0])[1] + model.fk(qi, shoulders[1])[1])
    return rotations, origins


def hand_closure(model: RobotModel, side: str, q: FloatArray) -> FloatArray:
    """0 (open) .. 1 (closed) per frame (:meth:`HandSpec.closures_of`); 0 without a hand."""
    hand = model.description.hands.get(side)
    if hand is None or hand.group is None or not hand.closed_positions:
        return np.zeros(len(q))
    return hand.closures_of(q[:, model.group_indices(hand.group)])


def check_positions_finite(model: RobotModel, data: EpisodeData) -> None:
    """An ExportInputError naming the episode, the joint-state topic and the joints when a
    joint state read holds a NaN or an infinity on a joint of ``model`` (the frames would be
    NaN, or their forward kinematics would fail); joints the model lacks are not read. The
    messages counted are those :func:`~.source.read_episode` decoded (with its ``fps``: the
    ones the frames use)."""
    index = {name: i for i, name in enumerate(data.joint_names)}
    names = [name for name in model.joint_names if name in index]
    values = data.position.values[:, [index[name] for name in names]]
    finite = np.isfinite(values)
    bad_rows = int((~finite.all(axis=1)).sum())
    if bad_rows:
        joints = [name for j, name in enumerate(names) if not finite[:, j].all()]
        shown = ", ".join(joints[:4]) + (f" and {len(joints) - 4} more" if len(joints) > 4 else "")
        raise ExportInputError(
            f"{data.path}: {model.description.sensors.joint_state_topic}: {bad_rows} of the "
            f"{len(values)} messages read hold a NaN or an infinity (joints {shown})"
        )


def build_frames(
    model: RobotModel,
    data: EpisodeData,
    layout: Layout,
    fps: int,
    camera_keys: tuple[str, ...],
    task: str,
) -> EpisodeFrames:
    """Resample ``data`` onto the ``fps`` grid spanning its joint states, in ``layout``."""
    check_positions_finite(model, data)
    pos = data.position
    grid = frame_grid(int(pos.t_ns[0]), int(pos.t_ns[-1]), fps)
    n = len(grid)
    measured = interpolate(pos.t_ns, pos.values, grid)
    q = _q_full(model, data, measured)
    description = model.description
    columns: dict[str, np.ndarray] = {}

    # joint vectors over the driven joints
    joints = driven_joints(model)
    bag_index = {name: i for i, name in enumerate(data.joint_names)}
    missing = [j for j in joints if j not in bag_index]
    if missing:
        raise ExportInputError(
            f"{data.path}: {description.sensors.joint_state_topic} lacks joints {missing}"
        )
    cols = [bag_index[j] for j in joints]
    state = measured[:, cols]
    action = state.copy()
    offset = 0
    for group in driven_groups(model):
        width = len(description.groups[group])
        stream = data.commands.get(group)
        if stream is not None and len(stream.t_ns):
            held, present = hold(stream.t_ns, stream.values, grid)
            block = np.where(present[:, None], held, state[:, offset : offset + width])
            action[:, offset : offset + width] = np.where(
                np.isnan(block), state[:, offset : offset + width], block
            )
        offset += width
    velocity = interpolate(pos.t_ns, data.velocity.values, grid)[:, cols] if data.velocity else None
    effort = interpolate(pos.t_ns, data.effort.values, grid)[:, cols] if data.effort else None

    # end-effector poses (base frame, or canonical torso frame)
    eef: list[FloatArray | tuple[FloatArray, FloatArray]] = []
    for side in SIDES:
        arm = description.arms.get(side)
        if arm is None:
            eef.append(np.tile([0, 0, 0, 0, 0, 0, 1.0], (n, 1)))
            continue
        rs = np.empty((n, 3, 3))
        ps = np.empty((n, 3))
        for i in range(n):
            rs[i], ps[i] = model.fk(q[i], arm.ee_frame)
        eef.append((rs, ps))
    if layout == "canonical":
        r_torso, p_torso = torso_frames(model, q)
        converted = []
        for item in eef:
            if isinstance(item, tuple):
                rs, ps = item
                r_local = np.einsum("nji,njk->nik", r_torso, rs)
                p_local = np.einsum("nji,nj->ni", r_torso, ps - p_torso)
                converted.append(_pose7(r_local, p_local))
            else:
                converted.append(item)
        eef_values = np.concatenate(converted, axis=1)
    else:
        eef_values = np.concatenate(
            [_pose7(*i) if isinstance(i, tuple) else i for i in eef], axis=1
        )

    if layout == "robot":
        columns["observation.state"] = state
        if velocity is not None:
            columns["observation.velocity"] = velocity
        if effort is not None:
            columns["observation.effort"] = effort
        columns["action"] = action
    else:
        width = sum(CANONICAL_SLOTS.values())
        padded_state = np.zeros((n, width))
        padded_action = np.zeros((n, width))
        mask = np.zeros((n, width))
        slot = 0
        offset = 0
        for group, slot_width in CANONICAL_SLOTS.items():
            if group in description.groups and group in driven_groups(model):
                count = len(description.groups[group])
                if count > slot_width:
                    raise ExportInputError(
                        f"{description.name}: group {group} has {count} joints; the canonical "
                        f"layout's slot holds {slot_width}"
                    )
                padded_state[:, slot : slot + count] = state[:, offset : offset + count]
                padded_action[:, slot : slot + count] = action[:, offset : offset + count]
                mask[:, slot : slot + count] = 1.0
                offset += count
            slot += slot_width
        columns["observation.state"] = padded_state
        columns["action"] = padded_action
        columns["observation.joint_mask"] = mask
        columns["embodiment"] = np.array([description.name] * n, dtype=object)
    columns["observation.eef_pose"] = eef_values
    columns["observation.hand_closure"] = np.stack(
        [hand_closure(model, s, q) for s in SIDES], axis=1
    )
    wrench_cols = []
    for side in SIDES:
        name = next((w.name for w in description.sensors.wrenches if side in w.name), None)
        stream = data.wrenches.get(name) if name else None
        wrench_cols.append(
            interpolate(stream.t_ns, stream.values, grid)
            if stream is not None and len(stream.t_ns)
            else np.zeros((n, 6))
        )
    columns["observation.wrench"] = np.concatenate(wrench_cols, axis=1)

    # operator intent, held
    intent_present = np.zeros((n, len(TELEOP_PARTS)))
    for k, part in enumerate(POSE_INPUTS):
        stream = data.intent_poses.get(part)
        values = np.tile([0, 0, 0, 0, 0, 0, 1.0], (n, 1))
        if stream is not None:
            held, ok = hold(stream.t_ns, stream.values, grid)
            values = np.where(ok[:, None], held, values)
            intent_present[:, k] = ok
        columns[f"teleop.{part}_pose"] = values
    for k, part in enumerate(HAND_INPUTS, start=len(POSE_INPUTS)):
        stream = data.intent_hands.get(part)
        values = np.zeros((n, 75))
        if stream is not None:
            held, ok = hold(stream.t_ns, stream.values, grid)
            values = np.where(ok[:, None], held, values)
            intent_present[:, k] = ok
        columns[f"teleop.{part}_keypoints"] = values
    for k, (key, stream, width) in enumerate(
        (
            ("teleop.joy", data.joy, JOY_AXES + JOY_BUTTONS),
            ("teleop.leader_joints", data.leader, LEADER_JOINTS),
        ),
        start=len(POSE_INPUTS) + len(HAND_INPUTS),
    ):
        values = np.zeros((n, width))
        if stream is not None:
            held, ok = hold(stream.t_ns, stream.values, grid)
            values = np.where(ok[:, None], held, values)
            intent_present[:, k] = ok
        columns[key] = values
    columns["teleop.present"] = intent_present
    engaged = np.zeros((n, 1))
    if data.engaged is not None:
        held, ok = hold(data.engaged.t_ns, data.engaged.values, grid)
        engaged = np.where(ok[:, None], held, 0.0)
    columns["teleop.engaged"] = engaged
    # which calibration maps the operator input onto the robot: 0 the episode's first, +1 at
    # each re-centre or engage after a pause (the input jumps there, the robot does not)
    calibration = np.searchsorted(np.asarray(data.recalibrations_ns, dtype=np.int64), grid,
                                  side="right")  # fmt: skip
    columns["teleop.calibration"] = calibration.astype(np.float64)[:, None]

    # sub-task spans: the confirmed spans of the episode's annotations.jsonl when it has any
    # (frames outside every span: the episode's task), else from the operator's timed live
    # labels (before the first: the episode's task)
    confirmed = subtask_spans(data.path)
    span = np.zeros(n, dtype=np.int64)
    if confirmed:
        subtasks = [task] + [s.text for s in confirmed]
        for k, sub in enumerate(confirmed, start=1):
            span[(grid >= sub.start_ns) & (grid <= sub.end_ns)] = k
    else:
        subtasks = [task] + [text for _, text in data.annotations]
        for k, (t_ns, _text) in enumerate(data.annotations, start=1):
            span[grid >= t_ns] = k
    columns["annotation.human.subtask"] = span  # local index into ``subtasks``

    # images, nearest within half a period
    images: dict[str, list[npt.NDArray[np.uint8]]] = {}
    image_missing: dict[str, npt.NDArray[np.bool_]] = {}
    mapping = cameras(model)
    for key in camera_keys:
        camera = data.images.get(mapping.get(key, ""))
        if camera is None or not len(camera.t_ns):
            raise ExportInputError(
                f"{data.path}: no images of camera {mapping.get(key, key)!r} (to export "
                f"without it: --cameras with the others, or --cameras none)"
            )
        pick, flagged = nearest(camera.t_ns, grid, fps)
        frames = [camera.frames[i] for i in pick]
        if layout == "canonical":
            h, w = CANONICAL_IMAGE_HW
            frames = [
                f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
                for f in frames
            ]
        images[key] = frames
        image_missing[key] = flagged
    if camera_keys:
        columns["quality.camera_gap"] = np.stack(
            [image_missing[k] for k in camera_keys], axis=1
        ).astype(np.float64)
    else:
        columns["quality.camera_gap"] = np.zeros((n, 1))
    done = np.zeros(n, dtype=bool)
    done[-1] = True
    columns["next.done"] = done
    columns["next.success"] = done & (data.custom.get("outcome") == "success")
    return EpisodeFrames(columns, images, image_missing, grid, subtasks)
