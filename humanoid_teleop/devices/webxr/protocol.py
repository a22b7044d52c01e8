"""The vr_bridge wire format, version 1: compact binary pose frames over a WebSocket.

Client (headset page) → server:

* one JSON **text** message first, the hello: ``{"type": "hello", "version": 1,
  "token": "<token or empty>"}``; the server answers ``{"type": "welcome", ...}`` or
  ``{"type": "error", "reason": ...}`` and closes.
* then one **binary** pose frame per XR animation frame, little-endian::

    offset size  field
    0      1     version      u8   (= 1)
    1      1     kind         u8   (= 1, pose frame)
    2      2     flags        u16  bit 0 head, 1 left hand, 2 right hand,
                                   3 left controller, 4 right controller
    4      4     seq          u32  frame counter of the page
    8      8     t_ms         f64  client time of the XR frame, ms since the Unix epoch
    16     ...   body         f32  for each flag set, in bit order:
                                   head: 7 (px py pz qx qy qz qw)
                                   hand: 25 x 7 in WebXR joint order, wrist first
                                   controller: 7 pose + 8 button values + 4 axes

  Poses are in the WebXR ``local-floor`` space (metres, y up, x right, -z forward) exactly
  as the browser reports them; :mod:`.conversion` turns them into the operator frame.

Server → client:

* binary camera frames: ``u8 version, u8 kind (= 2), u8 eye (0 left/mono, 1 right),
  u8 reserved, u32 seq, f64 stamp_ms`` then the JPEG bytes;
* JSON text status messages ``{"type": "status", ...}`` (rate, rejected counts).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from humanoid_teleop.core.motion.frame import WEBXR_HAND_JOINTS
from humanoid_teleop.devices.errors import FrameRejected

VERSION = 1
KIND_POSE = 1
KIND_CAMERA = 2

HEADER = struct.Struct("<BBHId")
CAMERA_HEADER = struct.Struct("<BBBBId")

FLAG_HEAD = 1 << 0
FLAG_LEFT_HAND = 1 << 1
FLAG_RIGHT_HAND = 1 << 2
FLAG_LEFT_CONTROLLER = 1 << 3
FLAG_RIGHT_CONTROLLER = 1 << 4
KNOWN_FLAGS = 0b11111

POSE_FLOATS = 7
HAND_JOINTS = len(WEBXR_HAND_JOINTS)
CONTROLLER_BUTTONS = 8
CONTROLLER_AXES = 4
CONTROLLER_FLOATS = POSE_FLOATS + CONTROLLER_BUTTONS + CONTROLLER_AXES

#: WebXR hand joint order (https://www.w3.org/TR/webxr-hand-input-1/#skeleton-joints-section),
#: the one the core's HandSkeleton uses.
HAND_JOINT_NAMES: tuple[str, ...] = WEBXR_HAND_JOINTS

_SECTIONS: tuple[tuple[int, int], ...] = (
    (FLAG_HEAD, POSE_FLOATS),
    (FLAG_LEFT_HAND, HAND_JOINTS * POSE_FLOATS),
    (FLAG_RIGHT_HAND, HAND_JOINTS * POSE_FLOATS),
    (FLAG_LEFT_CONTROLLER, CONTROLLER_FLOATS),
    (FLAG_RIGHT_CONTROLLER, CONTROLLER_FLOATS),
)
#: Largest valid pose frame [bytes]; the default size limit of the server.
MAX_POSE_FRAME_BYTES = HEADER.size + 4 * sum(n for _, n in _SECTIONS)


FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Controller:
    """A tracked controller: grip pose (WebXR space), button values [0, 1] and axes [-1, 1]."""

    pose: FloatArray
    buttons: FloatArray
    axes: FloatArray


@dataclass(frozen=True)
class XrFrame:
    """One decoded pose frame, poses still in the WebXR ``local-floor`` space.

    Each pose is ``(px, py, pz, qx, qy, qz, qw)`` [m]; hands are ``25 x 7`` arrays.
    """

    seq: int
    client_time_ms: float
    head: FloatArray | None = None
    left_hand: FloatArray | None = None
    right_hand: FloatArray | None = None
    left_controller: Controller | None = None
    right_controller: Controller | None = None


def _check_poses(poses: FloatArray, what: str) -> None:
    """Reject NaN/inf and zero quaternions; normalise every other quaternion in place (the
    body is float32 on the wire, so its squares cannot overflow in float64)."""
    if not np.all(np.isfinite(poses)):
        raise FrameRejected("malformed", f"{what} has a NaN or infinite value")
    quats = poses[..., 3:7]
    norms = np.linalg.norm(quats, axis=-1, keepdims=True)
    if np.any(norms == 0.0):
        raise FrameRejected("malformed", f"{what} has a zero quaternion (no orientation)")
    quats /= norms


def decode_pose_frame(data: bytes) -> XrFrame:
    """Decode and validate one binary pose frame; raise :class:`FrameRejected` if invalid.

    The rejection reason is ``wrong_version`` or ``malformed``.
    """
    if len(data) < HEADER.size:
        raise FrameRejected("malformed", f"{len(data)} bytes is shorter than the header")
    version, kind, flags, seq, t_ms = HEADER.unpack_from(data)
    if version != VERSION:
        raise FrameRejected("wrong_version", f"version {version}, this server speaks {VERSION}")
    if kind != KIND_POSE:
        raise FrameRejected("malformed", f"kind {kind} is not a pose frame ({KIND_POSE})")
    if flags & ~KNOWN_FLAGS:
        raise FrameRejected("malformed", f"unknown flag bits 0x{flags & ~KNOWN_FLAGS:x}")
    if not math.isfinite(t_ms):
        raise FrameRejected("malformed", "client time is not finite")
    floats = sum(n for flag, n in _SECTIONS if flags & flag)
    expected = HEADER.size + 4 * floats
    if len(data) != expected:
        raise FrameRejected(
            "malformed", f"{len(data)} bytes, flags 0x{flags:02x} need exactly {expected}"
        )
    body = np.frombuffer(data, dtype="<f4", count=floats, offset=HEADER.size).astype(np.float64)
    parts: dict[int, FloatArray] = {}
    start = 0
    for flag, n in _SECTIONS:
        if flags & flag:
            parts[flag] = body[start : start + n]
            start += n

    def hand(flag: int, what: str) -> FloatArray | None:
        if flag not in parts:
            return None
        joints = parts[flag].reshape(HAND_JOINTS, POSE_FLOATS)
        _check_poses(joints, what)
        return joints

    def controller(flag: int, what: str) -> Controller | None:
        if flag not in parts:
            return None
        values = parts[flag]
        pose = values[:POSE_FLOATS]
        _check_poses(pose, what)
        rest = values[POSE_FLOATS:]
        if not np.all(np.isfinite(rest)):
            raise FrameRejected("malformed", f"{what} has a NaN button or axis")
        return Controller(pose, rest[:CONTROLLER_BUTTONS], rest[CONTROLLER_BUTTONS:])

    head = parts.get(FLAG_HEAD)
    if head is not None:
        _check_poses(head, "head")
    return XrFrame(
        seq=seq,
        client_time_ms=t_ms,
        head=head,
        left_hand=hand(FLAG_LEFT_HAND, "left hand"),
        right_hand=hand(FLAG_RIGHT_HAND, "right hand"),
        left_controller=controller(FLAG_LEFT_CONTROLLER, "left controller"),
        right_controller=controller(FLAG_RIGHT_CONTROLLER, "right controller"),
    )


def encode_pose_frame(frame: XrFrame, version: int = VERSION) -> bytes:
    """Encode ``frame`` as the page does (used by tests, the bench and ``devices check``)."""
    flags = 0
    chunks: list[FloatArray] = []
    for flag, value in (
        (FLAG_HEAD, frame.head),
        (FLAG_LEFT_HAND, frame.left_hand),
        (FLAG_RIGHT_HAND, frame.right_hand),
    ):
        if value is not None:
            flags |= flag
            chunks.append(np.asarray(value, dtype=np.float64).ravel())
    for flag, ctrl in (
        (FLAG_LEFT_CONTROLLER, frame.left_controller),
        (FLAG_RIGHT_CONTROLLER, frame.right_controller),
    ):
        if ctrl is not None:
            flags |= flag
            chunks.append(np.concatenate([ctrl.pose, ctrl.buttons, ctrl.axes]))
    body = np.concatenate(chunks).astype("<f4").tobytes() if chunks else b""
    return HEADER.pack(version, KIND_POSE, flags, frame.seq, frame.client_time_ms) + body


def encode_camera_frame(eye: int, seq: int, stamp_ms: float, jpeg: bytes) -> bytes:
    """One server → client camera message: header then the JPEG bytes."""
    return CAMERA_HEADER.pack(VERSION, KIND_CAMERA, eye, 0, seq & 0xFFFFFFFF, stamp_ms) + jpeg


def parse_hello(text: str) -> dict[str, Any]:
    """Parse the hello message; raise :class:`FrameRejected` (``malformed``/``wrong_version``)."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError as err:
        raise FrameRejected("malformed", f"hello is not JSON: {err.msg}") from err
    if not isinstance(message, dict) or message.get("type") != "hello":
        raise FrameRejected("malformed", 'first message must be {"type": "hello", ...}')
    if message.get("version") != VERSION:
        raise FrameRejected(
            "wrong_version", f"hello version {message.get('version')!r}, server speaks {VERSION}"
        )
    token = message.get("token", "")
    if not isinstance(token, str):
        raise FrameRejected("malformed", "hello token must be a string")
    return message
