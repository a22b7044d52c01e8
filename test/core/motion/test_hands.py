"""MediaPipe -> WebXR hand conversion and the hand frame convention."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.motion.errors import MotionError
from humanoid_teleop.core.motion.frame import WEBXR_TIPS, HandSkeleton
from humanoid_teleop.core.motion.hands import (
    hand_frame_from_keypoints,
    load_mediapipe_right_hand_mano,
    mediapipe_to_webxr,
)

from ...conftest import SHARED_DATA

HAND_FILE = SHARED_DATA / "hands" / "dex_retargeting_human_joint_right.npy"
needs_hands = pytest.mark.skipif(not HAND_FILE.exists(), reason=f"shared data absent: {HAND_FILE}")


def test_tips_map_to_mediapipe_tips() -> None:
    """Each WebXR tip is the MediaPipe tip of the same finger."""
    points = np.arange(63, dtype=np.float64).reshape(21, 3)
    out = mediapipe_to_webxr(points)
    mp_tips = {"thumb": 4, "index": 8, "middle": 12, "ring": 16, "pinky": 20}
    for finger, xr in WEBXR_TIPS.items():
        assert np.array_equal(out[xr], points[mp_tips[finger]])


def test_metacarpal_lies_between_wrist_and_knuckle() -> None:
    """The interpolated index metacarpal is on the wrist -> index knuckle segment."""
    points = np.zeros((21, 3))
    points[5] = [0.1, 0.0, 0.0]
    out = mediapipe_to_webxr(points)
    assert 0.0 < out[5, 0] < 0.1
    assert np.allclose(out[5, 1:], 0.0)


def test_wrong_shape_is_rejected() -> None:
    """A 20-point hand is refused with the shape it had."""
    with pytest.raises(MotionError, match=r"\(20, 3\)"):
        mediapipe_to_webxr(np.zeros((20, 3)))


def test_right_hand_frame_puts_thumb_side_at_plus_y() -> None:
    """For a right hand, the index side of the palm is +y and the back is +z."""
    r = hand_frame_from_keypoints(
        np.zeros(3), np.array([0.1, 0.02, 0]), np.array([0.1, 0, 0]), np.array([0.1, -0.03, 0]),
        "right",
    )  # fmt: skip
    assert np.allclose(r, np.eye(3))


def test_left_hand_frame_puts_thumb_side_at_minus_y() -> None:
    """For a left hand with the same layout mirrored, the frame is again right-handed."""
    r = hand_frame_from_keypoints(
        np.zeros(3), np.array([0.1, -0.02, 0]), np.array([0.1, 0, 0]), np.array([0.1, 0.03, 0]),
        "left",
    )  # fmt: skip
    assert np.allclose(r, np.eye(3))


@needs_hands
def test_recorded_hand_converts_to_right_hand_frame() -> None:
    """In the recorded right hand, knuckles point to +x and the index knuckle is at +y."""
    joints = load_mediapipe_right_hand_mano(str(HAND_FILE))
    assert joints.shape == (621, 25, 3)
    HandSkeleton(joints[0])
    middle_knuckle, index_knuckle, pinky_knuckle = joints[:, 11], joints[:, 6], joints[:, 21]
    assert (middle_knuckle[:, 0] > 0.05).all()
    assert np.median(index_knuckle[:, 1] - pinky_knuckle[:, 1]) > 0.02
