"""BVH motion-capture reader and its conversion to :class:`HumanFrame` streams.

The reader follows the file's own hierarchy (no fixed skeleton), accepts LF / CRLF / mixed
line endings, tabs or spaces after ``Frames:`` and ``Frame Time:``, and unwrapped Euler
angles. Rotation channels are applied in the listed order (R = R_first @ R_second @ R_third,
column vectors), angles in degrees.

:func:`human_frames_from_bvh` turns a clip into head and wrist poses in the operator frame
(REP-103). The defaults fit the CMU "Daz-friendly" cgspeed clips: centimetres, Y up, the
performer facing +Z with their left side at +X in the rest pose, and joint names such as
``head``, ``lHand``, ``lMid1``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.errors import MotionFileError
from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.motion.hands import hand_frame_from_keypoints
from humanoid_teleop.core.motion.rotation import axis_rotation

FloatArray = NDArray[np.float64]
LOG = logging.getLogger(__name__)

_ROTATION_CHANNELS = {"Xrotation": "x", "Yrotation": "y", "Zrotation": "z"}
_POSITION_CHANNELS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass(frozen=True)
class BvhJoint:
    """One joint: ``parent`` index (-1 for the root), ``offset`` in file units, channels."""

    name: str
    parent: int
    offset: FloatArray
    channels: tuple[str, ...]
    channel_start: int


@dataclass(frozen=True)
class BvhClip:
    """A parsed BVH file: joints in file order and ``motion`` (frames, channels)."""

    source: str
    joints: tuple[BvhJoint, ...]
    frame_time_s: float
    motion: FloatArray
    first_frame_line: int = 0
    """Line of the first frame's values in the file (0: not from a file)."""

    def where(self, frame: int) -> str:
        """``file:line`` of frame ``frame`` (counted from 0), or ``source: frame N``."""
        if self.first_frame_line:
            return f"{self.source}:{self.first_frame_line + frame}"
        return f"{self.source}: frame {frame}"

    @property
    def frame_count(self) -> int:
        """Number of motion frames."""
        return int(self.motion.shape[0])

    def index(self, name: str) -> int:
        """Index of a joint by name; the error lists every joint of the file."""
        for i, joint in enumerate(self.joints):
            if joint.name == name:
                return i
        names = ", ".join(j.name for j in self.joints)
        raise MotionFileError(f"{self.source}: no joint {name!r}; joints are: {names}")

    def forward_kinematics(self) -> tuple[FloatArray, FloatArray]:
        """Global rotations (frames, joints, 3, 3) and positions (frames, joints, 3), file units."""
        n = self.frame_count
        rotations = np.empty((n, len(self.joints), 3, 3))
        positions = np.empty((n, len(self.joints), 3))
        for j, joint in enumerate(self.joints):
            local = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
            translation = np.broadcast_to(joint.offset, (n, 3)).copy()
            for k, channel in enumerate(joint.channels):
                values = self.motion[:, joint.channel_start + k]
                if channel in _ROTATION_CHANNELS:
                    local = local @ _axis_rotations(_ROTATION_CHANNELS[channel], values)
                else:
                    translation[:, _POSITION_CHANNELS[channel]] += values
            if joint.parent < 0:
                rotations[:, j] = local
                positions[:, j] = translation
            else:
                parent_r = rotations[:, joint.parent]
                rotations[:, j] = parent_r @ local
                positions[:, j] = positions[:, joint.parent] + np.einsum(
                    "nij,nj->ni", parent_r, translation
                )
        return rotations, positions


def _axis_rotations(axis: str, angles_deg: FloatArray) -> FloatArray:
    """Stack of rotations (n, 3, 3) about one basis axis by angles in degrees."""
    a = np.radians(angles_deg)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    if axis == "x":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


class _Tokens:
    """Whitespace tokens of the hierarchy with their line numbers, for error messages."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.items = [(tok, no + 1) for no, line in enumerate(lines) for tok in line.split()]
        self.pos = 0

    def next(self, expected: str | None = None) -> str:
        if self.pos >= len(self.items):
            raise MotionFileError(f"{self.source}: file ends inside the HIERARCHY section")
        tok, line = self.items[self.pos]
        self.pos += 1
        if expected is not None and tok != expected:
            raise MotionFileError(f"{self.source}:{line}: expected {expected!r}, found {tok!r}")
        return tok

    def number(self) -> float:
        tok = self.next()
        try:
            return float(tok)
        except ValueError:
            line = self.items[self.pos - 1][1]
            raise MotionFileError(f"{self.source}:{line}: {tok!r} is not a number") from None


def read_bvh(path: str | Path) -> BvhClip:
    """Parse a BVH file; errors name the file and line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise MotionFileError(f"{source}: cannot read: {err}") from err
    lines = text.splitlines()
    try:
        motion_line = next(i for i, line in enumerate(lines) if line.strip() == "MOTION")
    except StopIteration:
        raise MotionFileError(f"{source}: no MOTION section") from None
    tokens = _Tokens(source, lines[:motion_line])
    tokens.next("HIERARCHY")
    joints: list[BvhJoint] = []
    channel_count = _parse_joint(tokens, joints, parent=-1, channel_start=0, keyword="ROOT")
    frames, frame_time = _parse_motion_header(source, lines, motion_line)
    data_lines = [line for line in lines[motion_line + 3 :] if line.strip()]
    if len(data_lines) < frames:
        raise MotionFileError(f"{source}: header says {frames} frames, file has {len(data_lines)}")
    motion = np.empty((frames, channel_count))
    for i, line in enumerate(data_lines[:frames]):
        values = line.split()
        if len(values) != channel_count:
            raise MotionFileError(
                f"{source}:{motion_line + 4 + i}: {len(values)} values, expected {channel_count}"
            )
        try:
            motion[i] = [float(v) for v in values]
        except ValueError as err:
            raise MotionFileError(f"{source}:{motion_line + 4 + i}: {err}") from None
    if not np.isfinite(motion).all():
        bad = int(np.argwhere(~np.isfinite(motion))[0, 0])
        raise MotionFileError(f"{source}:{motion_line + 4 + bad}: NaN or inf in motion data")
    return BvhClip(source, tuple(joints), frame_time, motion, motion_line + 4)


def _parse_joint(
    tokens: _Tokens, joints: list[BvhJoint], parent: int, channel_start: int, keyword: str
) -> int:
    """Parse ``keyword name { ... }`` recursively; returns the next free channel index."""
    tokens.next(keyword)
    name = tokens.next()
    tokens.next("{")
    tokens.next("OFFSET")
    offset = np.array([tokens.number() for _ in range(3)])
    tokens.next("CHANNELS")
    count = int(tokens.number())
    channels = tuple(tokens.next() for _ in range(count))
    for channel in channels:
        if channel not in _ROTATION_CHANNELS and channel not in _POSITION_CHANNELS:
            raise MotionFileError(f"{tokens.source}: joint {name!r} has unknown channel {channel}")
    index = len(joints)
    joints.append(BvhJoint(name, parent, offset, channels, channel_start))
    channel_start += count
    while True:
        tok, line = tokens.items[tokens.pos] if tokens.pos < len(tokens.items) else ("", 0)
        if tok == "JOINT":
            channel_start = _parse_joint(tokens, joints, index, channel_start, "JOINT")
        elif tok == "End":
            tokens.next("End")
            tokens.next("Site")
            tokens.next("{")
            tokens.next("OFFSET")
            for _ in range(3):
                tokens.number()
            tokens.next("}")
        elif tok == "}":
            tokens.next("}")
            return channel_start
        else:
            raise MotionFileError(f"{tokens.source}:{line}: unexpected {tok!r} in joint {name!r}")


def _parse_motion_header(source: str, lines: list[str], motion_line: int) -> tuple[int, float]:
    try:
        frames_key, frames_text = lines[motion_line + 1].split(":", 1)
        time_key, time_text = lines[motion_line + 2].split(":", 1)
        if frames_key.strip() != "Frames" or time_key.strip() != "Frame Time":
            raise ValueError("expected 'Frames:' then 'Frame Time:'")
        frames, frame_time = int(frames_text.strip()), float(time_text.strip())
    except (IndexError, ValueError) as err:
        raise MotionFileError(f"{source}:{motion_line + 2}: bad MOTION header: {err}") from None
    if frames < 0 or not frame_time > 0.0 or not math.isfinite(frame_time):
        raise MotionFileError(f"{source}: bad frame count {frames} or frame time {frame_time}")
    return frames, frame_time


@dataclass(frozen=True)
class BvhBody:
    """Which BVH joints are the operator's head and hands, plus the file's units and axes.

    ``to_operator`` maps file axes to the operator frame (rows: operator x, y, z) and
    ``scale_m`` converts file units to metres. Defaults: CMU cgspeed Daz clips (cm, Y up,
    facing +Z, left at +X), so operator x = file z, y = file x, z = file y.
    """

    head: str = "head"
    hips: str = "hip"
    left_shoulder: str = "lShldr"
    right_shoulder: str = "rShldr"
    left_elbow: str = "lForeArm"
    right_elbow: str = "rForeArm"
    left_wrist: str = "lHand"
    right_wrist: str = "rHand"
    left_knuckles: tuple[str, str, str] = ("lIndex1", "lMid1", "lPinky1")
    right_knuckles: tuple[str, str, str] = ("rIndex1", "rMid1", "rPinky1")
    scale_m: float = 0.01
    to_operator: tuple[tuple[float, float, float], ...] = ((0, 0, 1), (1, 0, 0), (0, 1, 0))


@dataclass(frozen=True)
class BvhMotion:
    """A clip converted to operator-frame :class:`HumanFrame` samples (``t_s`` from 0)."""

    frames: tuple[HumanFrame, ...]
    frame_time_s: float
    operator_arm_length_m: float


def human_frames_from_bvh(
    clip: BvhClip,
    body: BvhBody | None = None,
    skip_frames: int = 5,
    calibration_frame: int = 0,
    follow_hips: bool = False,
) -> BvhMotion:
    """Head and wrist poses of every frame after ``skip_frames``, in the operator frame.

    The first ``skip_frames`` frames (a T-pose and its blend in CMU clips) are dropped.
    ``calibration_frame`` (counted after the skip) fixes the operator frame: origin on the
    floor below the head, x along the head's facing direction. Head orientation is
    relative to the file's rest pose (frame 0), which must face forward and stand upright.

    With ``follow_hips`` every frame is first expressed in a floor frame that moves with the
    performer's hips (their position on the floor and their heading), as if the performer
    stood in place: walking and turning the body no longer move the wrists.
    """
    body = body or BvhBody()
    if not 0 <= skip_frames < clip.frame_count:
        raise MotionFileError(f"{clip.source}: cannot skip {skip_frames} of {clip.frame_count}")
    rotations, positions = clip.forward_kinematics()
    axes = np.array(body.to_operator, dtype=np.float64)
    head_i = clip.index(body.head)
    rest = rotations[0].copy()
    rest_head = rest[head_i]
    rotations, positions = rotations[skip_frames:], positions[skip_frames:]
    pos_m = positions @ axes.T * body.scale_m

    def world_head_rotation(i: int) -> FloatArray:
        return np.asarray(axes @ rotations[i, head_i] @ rest_head.T @ axes.T)

    head_rotations = np.stack([world_head_rotation(i) for i in range(pos_m.shape[0])])
    if follow_hips:
        hip_i = clip.index(body.hips)
        hip_world = axes @ rotations[:, hip_i] @ rest[hip_i].T @ axes.T
        yaws = np.arctan2(hip_world[:, 1, 0], hip_world[:, 0, 0])
        c, s_ = np.cos(yaws), np.sin(yaws)
        heading = np.zeros((len(yaws), 3, 3))
        heading[:, 0, 0], heading[:, 0, 1], heading[:, 1, 0], heading[:, 1, 1] = c, -s_, s_, c
        heading[:, 2, 2] = 1.0
        anchor = pos_m[:, hip_i].copy()
        anchor[:, 2] = 0.0
        pos_m = np.einsum("nkj,nji->nki", pos_m - anchor[:, None, :], heading)
        head_rotations = np.einsum("nji,njk->nik", heading, head_rotations)

    cal = head_rotations[calibration_frame]
    yaw = math.atan2(cal[1, 0], cal[0, 0])
    align = axis_rotation("z", -yaw)
    origin = pos_m[calibration_frame, head_i].copy()
    origin[2] = 0.0
    pos_m = (pos_m - origin) @ align.T

    sides = {}
    for side, wrist, knuckles in (
        ("left", body.left_wrist, body.left_knuckles),
        ("right", body.right_wrist, body.right_knuckles),
    ):
        sides[side] = (clip.index(wrist), *(clip.index(k) for k in knuckles))
    frames = []
    for i in range(pos_m.shape[0]):
        wrists = {}
        for side, (w, idx, mid, pinky) in sides.items():
            p = pos_m[i]
            with np.errstate(all="ignore"):  # a degenerate frame is named below, not warned of
                rotation = hand_frame_from_keypoints(p[w], p[idx], p[mid], p[pinky], side)
            if not (np.isfinite(p[w]).all() and np.isfinite(rotation).all()):
                raise MotionFileError(
                    f"{clip.where(i + skip_frames)}: the {side} wrist's pose is not a pose "
                    "(its hand keypoints coincide or overflow): a channel's value is out of "
                    "range"
                )
            wrists[side] = Pose(p[w].copy(), rotation)
        frames.append(
            HumanFrame(
                t_s=i * clip.frame_time_s,
                head=Pose(pos_m[i, head_i].copy(), align @ head_rotations[i]),
                left_wrist=wrists["left"],
                right_wrist=wrists["right"],
            )
        )
    arm = 0.0
    for names in ((body.left_elbow, body.left_wrist), (body.right_elbow, body.right_wrist)):
        arm += sum(float(np.linalg.norm(clip.joints[clip.index(n)].offset)) for n in names)
    LOG.debug("%s: %d frames after skipping %d", clip.source, len(frames), skip_frames)
    return BvhMotion(tuple(frames), clip.frame_time_s, arm / 2.0 * body.scale_m)
