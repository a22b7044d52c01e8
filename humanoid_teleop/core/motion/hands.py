"""Hand-skeleton conversions: 21-point MediaPipe hands -> the 25-joint WebXR skeleton.

MediaPipe ``HandLandmark`` order: 0 wrist; 1-4 thumb CMC, MCP, IP, tip; 5-8 index MCP, PIP,
DIP, tip; 9-12 middle; 13-16 ring; 17-20 pinky. WebXR adds a metacarpal joint at the base of
each long finger (inside the palm, near the wrist) that MediaPipe does not track: we place it
on the wrist -> knuckle segment at :data:`METACARPAL_FRACTION` of its length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.errors import MotionError
from humanoid_teleop.core.motion.frame import HandSkeleton
from humanoid_teleop.core.motion.rotation import frame_from_axes

FloatArray = NDArray[np.float64]

#: Where the WebXR metacarpal joint of a long finger sits on the wrist -> knuckle segment.
METACARPAL_FRACTION = 0.25

# WebXR index -> MediaPipe index for the joints MediaPipe tracks.
_DIRECT: dict[int, int] = {
    0: 0, 1: 1, 2: 2, 3: 3, 4: 4,
    6: 5, 7: 6, 8: 7, 9: 8,
    11: 9, 12: 10, 13: 11, 14: 12,
    16: 13, 17: 14, 18: 15, 19: 16,
    21: 17, 22: 18, 23: 19, 24: 20,
}  # fmt: skip
_METACARPALS = {5: 5, 10: 9, 15: 13, 20: 17}  # WebXR metacarpal -> MediaPipe knuckle (MCP)

#: Rotation from dex-retargeting's MANO wrist frame (+z to the middle knuckle, +y toward the
#: thumb side, +x palm normal) to our right-hand frame: our x = mano z, y = mano y, z = -mano x.
MANO_TO_RIGHT_HAND = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


def mediapipe_to_webxr(points: FloatArray) -> FloatArray:
    """Convert MediaPipe keypoints (21, 3) or (N, 21, 3) [m] to WebXR joints (25, 3) / (N, 25, 3).

    Positions keep their frame; only the joint set changes.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-2:] != (21, 3):
        raise MotionError(f"MediaPipe hand needs shape (21, 3) or (N, 21, 3), got {pts.shape}")
    out = np.empty((*pts.shape[:-2], 25, 3))
    for xr, mp in _DIRECT.items():
        out[..., xr, :] = pts[..., mp, :]
    wrist = pts[..., 0, :]
    for xr, mp in _METACARPALS.items():
        out[..., xr, :] = wrist + METACARPAL_FRACTION * (pts[..., mp, :] - wrist)
    return out


def hand_frame_from_keypoints(
    wrist: FloatArray,
    index_knuckle: FloatArray,
    middle_knuckle: FloatArray,
    pinky_knuckle: FloatArray,
    side: str,
) -> FloatArray:
    """Rotation of the human hand frame (see :mod:`frame`) from four keypoints of one hand.

    +x points from the wrist to the middle knuckle; +y lies toward the index side for the
    right hand and toward the pinky side for the left hand; +z = x x y is the back of the hand.
    """
    across = index_knuckle - pinky_knuckle
    if side == "left":
        across = -across
    elif side != "right":
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    return frame_from_axes(middle_knuckle - wrist, across)


#: WebXR joint rows that define the hand frame (:func:`hand_frame_of_webxr`): the wrist and
#: the index, middle and pinky knuckles (their proximal phalanges' bases).
WEBXR_FRAME_JOINTS = (0, 6, 11, 21)


def hand_frame_of_webxr(joints: FloatArray, side: str) -> FloatArray:
    """Rotation of the human hand frame of a (25, 3) WebXR hand [m] (the reference definition:
    the dexterous hand solve's compiled copy, ``ik_kernel._hand_local``, is held to it)."""
    wrist, index, middle, pinky = (joints[row] for row in WEBXR_FRAME_JOINTS)
    return hand_frame_from_keypoints(wrist, index, middle, pinky, side)


def skeleton_in_world(
    local_points: FloatArray, wrist_position_m: FloatArray, wrist_rotation: FloatArray
) -> HandSkeleton:
    """Place WebXR joints given in the hand frame (25, 3) at a wrist pose in the operator frame."""
    return HandSkeleton(local_points @ wrist_rotation.T + wrist_position_m)


def load_mediapipe_right_hand_mano(path: str) -> FloatArray:
    """Load dex-retargeting's recorded right hand (N, 21, 3) and return WebXR joints (N, 25, 3).

    The file holds wrist-local keypoints in the MANO convention; the result is in our
    right-hand frame (wrist at the origin).
    """
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise MotionError(f"{path}: cannot read hand keypoints: {err}") from err
    if raw.ndim != 3 or raw.shape[1:] != (21, 3):
        raise MotionError(f"{path}: expected an (N, 21, 3) array, got {raw.shape}")
    return mediapipe_to_webxr(np.asarray(raw, dtype=np.float64) @ MANO_TO_RIGHT_HAND.T)
