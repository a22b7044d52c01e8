"""A synthetic operator hand (25 WebXR joints) that opens and pinches.

Points are in the human hand frame of :mod:`humanoid_teleop.core.motion.frame`: wrist at the
origin, +x toward the middle knuckle, +z the back of the hand, +y toward the index side on a
right hand (the pinky side on a left hand). ``closure`` 0 is a flat open hand, 1 puts the
thumb tip on the index tip (a pinch: the hand retargeter closes dexterous hands and grippers).
:func:`fist_points` is a fist (every long finger folded into the palm).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import WEBXR_FINGER_CHAINS

FloatArray = NDArray[np.float64]

#: Knuckle (metacarpal head) y offsets [m] of the long fingers on a right hand.
_KNUCKLE_Y_M = {"index": 0.025, "middle": 0.005, "ring": -0.013, "pinky": -0.03}
#: Phalanx lengths [m] (proximal, intermediate, distal) of the long fingers.
_PHALANGES_M = (0.045, 0.025, 0.022)
_KNUCKLE_X_M = 0.09
#: Finger flexion at full closure [rad] per joint (index and middle curl toward the thumb).
_CURL_RAD = 0.6
_THUMB_BASE_M = np.array([0.025, 0.025, -0.015])
_THUMB_OPEN_TIP_M = np.array([0.085, 0.085, -0.02])
#: A fist's flexion [rad] at the long fingers' knuckle, middle and last joints.
_FIST_CURL_RAD = (1.4, 1.6, 1.0)


def _finger(knuckle: FloatArray, curl_rad: tuple[float, float, float]) -> list[FloatArray]:
    """Metacarpal base, knuckle and the three joints after it, each curling toward -z by
    its ``curl_rad``."""
    points = [np.array([0.02, knuckle[1], 0.0]), knuckle.copy()]
    angle, here = 0.0, knuckle.copy()
    for length, curl in zip(_PHALANGES_M, curl_rad, strict=True):
        angle += curl
        here = here + length * np.array([np.cos(angle), 0.0, -np.sin(angle)])
        points.append(here)
    return points


def hand_points(side: str, closure: float, thumb: float | None = None) -> FloatArray:
    """(25, 3) WebXR joints [m] of a ``side`` hand at ``closure`` in [0, 1], hand frame;
    ``thumb`` in [0, 1]: how far the thumb has come toward the index tip (default
    ``closure``: a pinch), e.g. 0 for curled fingers with the thumb spread."""
    thumbs = None if thumb is None else np.array([thumb], dtype=np.float64)
    points: FloatArray = hand_points_rows(side, np.array([closure], dtype=np.float64), thumbs)[0]
    return points


def hand_points_rows(
    side: str, closures: FloatArray, thumbs: FloatArray | None = None
) -> FloatArray:
    """:func:`hand_points` at each of ``closures`` (n,) (and ``thumbs`` (n,), default the
    closures: a pinch) in one numpy pass: (n, 25, 3) [m], hand frame (~1 us a row: a port
    asks for one hand per recorded step)."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    c = np.clip(np.asarray(closures, dtype=np.float64), 0.0, 1.0)
    c_thumb = c if thumbs is None else np.clip(np.asarray(thumbs, dtype=np.float64), 0.0, 1.0)
    points = np.zeros((len(c), 25, 3))
    for finger, y in _KNUCKLE_Y_M.items():
        curl = _CURL_RAD * c if finger in ("index", "middle") else 0.2 * c
        rows = WEBXR_FINGER_CHAINS[finger]
        points[:, rows[0]] = (0.02, y, 0.0)
        here = np.tile(np.array([_KNUCKLE_X_M, y, 0.0]), (len(c), 1))
        points[:, rows[1]] = here
        angle, flat = np.zeros(len(c)), np.zeros(len(c))
        for k, length in enumerate(_PHALANGES_M):
            angle = angle + curl
            here = here + length * np.column_stack([np.cos(angle), flat, -np.sin(angle)])
            points[:, rows[2 + k]] = here
    index_tip = points[:, WEBXR_FINGER_CHAINS["index"][-1]]
    tip = (1.0 - c_thumb)[:, None] * _THUMB_OPEN_TIP_M + c_thumb[:, None] * index_tip
    for k, index in enumerate(WEBXR_FINGER_CHAINS["thumb"]):
        points[:, index] = _THUMB_BASE_M + (k / 3.0) * (tip - _THUMB_BASE_M)
    if side == "left":
        points[:, :, 1] *= -1.0
    return points


def fist_points(side: str) -> FloatArray:
    """(25, 3) WebXR joints [m] of a ``side`` fist, hand frame: the long fingers folded into
    the palm (tips ~3 cm under it), the thumb tip across the index and middle fingers."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    points = hand_points("right", 0.0)
    for finger, y in _KNUCKLE_Y_M.items():
        chain = _finger(np.array([_KNUCKLE_X_M, y, 0.0]), _FIST_CURL_RAD)
        for index, point in zip(WEBXR_FINGER_CHAINS[finger], chain, strict=True):
            points[index] = point
    middle_joint = points[WEBXR_FINGER_CHAINS["index"][3]]
    tip = middle_joint + np.array([0.0, -0.015, -0.02])
    for k, index in enumerate(WEBXR_FINGER_CHAINS["thumb"]):
        points[index] = _THUMB_BASE_M + (k / 3.0) * (tip - _THUMB_BASE_M)
    if side == "left":
        points[:, 1] *= -1.0
    return points
