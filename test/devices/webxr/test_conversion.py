"""WebXR (y up, -z forward) → REP-103 operator frame (x forward, y left, z up)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from pyquaternion import Quaternion

from humanoid_teleop.devices.webxr.conversion import WEBXR_TO_OPERATOR, poses_to_operator


def _pose(position: list[float], q: Quaternion) -> np.ndarray:
    return np.array([*position, q.x, q.y, q.z, q.w])


def test_forward_right_up_map_to_operator_axes() -> None:
    """WebXR -z (forward) → +x, +x (right) → -y, +y (up) → +z."""
    points = np.array([[0, 0, -1], [1, 0, 0], [0, 1, 0]], dtype=float)
    poses = np.hstack([points, np.tile([0, 0, 0, 1.0], (3, 1))])
    out = poses_to_operator(poses)
    np.testing.assert_allclose(out[:, :3], [[1, 0, 0], [0, -1, 0], [0, 0, 1]], atol=1e-12)


def test_change_of_basis_is_a_proper_rotation() -> None:
    """The basis change is orthonormal with determinant +1 (no mirroring)."""
    np.testing.assert_allclose(WEBXR_TO_OPERATOR @ WEBXR_TO_OPERATOR.T, np.eye(3))
    assert np.isclose(np.linalg.det(WEBXR_TO_OPERATOR), 1.0)


def test_webxr_wrist_axes_become_hand_frame_convention() -> None:
    """A wrist whose -z (toward the fingers) points forward and +y up maps to x forward, z up.

    WebXR joint frames: -z along the bone to the fingertip, +y out of the back of the hand.
    The human hand frame convention: +x wrist → middle knuckle, +z out of the back of the hand.
    An identity WebXR orientation means fingers forward (-z), back of the hand up (+y).
    """
    out = poses_to_operator(_pose([0, 1, 0], Quaternion()))
    rotation = Quaternion(out[6], *out[3:6]).rotation_matrix
    np.testing.assert_allclose(rotation[:, 0], [1, 0, 0], atol=1e-12)  # fingers forward
    np.testing.assert_allclose(rotation[:, 2], [0, 0, 1], atol=1e-12)  # back of hand up


def test_yaw_about_webxr_up_becomes_yaw_about_operator_up() -> None:
    """Turning 90° left about WebXR +y is turning 90° left about operator +z."""
    out = poses_to_operator(_pose([0, 0, 0], Quaternion(axis=[0, 1, 0], degrees=90)))
    rotation = Quaternion(out[6], *out[3:6]).rotation_matrix
    expected = Quaternion(axis=[0, 0, 1], degrees=90).rotation_matrix
    np.testing.assert_allclose(rotation, expected, atol=1e-12)


@given(
    st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(
        lambda q: float(np.linalg.norm(q)) > 0.1
    ),
    st.lists(st.floats(-1, 1), min_size=3, max_size=3),
)
def test_rotated_points_agree_in_both_frames(
    position: list[float], quat: list[float], point: list[float]
) -> None:
    """Transforming a point by a pose then converting equals converting both first."""
    q = Quaternion(quat[3], *quat[:3]).normalised
    pose = _pose(position, q)
    world_xr = q.rotate(point) + np.array(position)
    out = poses_to_operator(pose)
    q_op = Quaternion(out[6], *out[3:6])
    world_op = q_op.rotate(WEBXR_TO_OPERATOR @ np.array(point)) + out[:3]
    np.testing.assert_allclose(world_op, WEBXR_TO_OPERATOR @ world_xr, atol=1e-9)
