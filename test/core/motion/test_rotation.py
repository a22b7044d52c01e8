"""Rotation conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.motion.rotation import (
    exp3,
    matrix_to_quat,
    quat_to_matrix,
    quats_from_matrices,
    rotation_angle,
    rotation_angles,
    rotation_from_quat,
    rotations_from_quats,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4))
def test_vectorised_quaternions_round_trip(values: list[float]) -> None:
    """quats_from_matrices inverts quat_to_matrix for any rotation (up to sign, w >= 0)."""
    quat = np.array(values)
    if np.linalg.norm(quat) < 1e-3:
        return
    quat = quat / np.linalg.norm(quat)
    quat = -quat if quat[3] < 0 else quat
    back = quats_from_matrices(quat_to_matrix(quat)[None])[0]
    assert min(np.abs(back - quat).max(), np.abs(back + quat).max()) < 1e-9


def test_batch_quaternions_match_the_scalar_conversion() -> None:
    """quats_from_matrices agrees with matrix_to_quat matrix by matrix."""
    rng = np.random.default_rng(3)
    quats = rng.normal(size=(50, 4))
    matrices = np.array([quat_to_matrix(q / np.linalg.norm(q)) for q in quats])
    expected = np.array([matrix_to_quat(m) for m in matrices])
    np.testing.assert_allclose(quats_from_matrices(matrices), expected, atol=1e-12)


@pytest.mark.parametrize("scale", [1e300, 1e-300, 5e-324, 3.0])
def test_a_finite_non_zero_quaternion_is_normalised_whatever_its_scale(scale: float) -> None:
    """(s, 0, 0, 0) for huge, tiny and subnormal s is the 180° turn about x."""
    rotation = rotation_from_quat(scale, 0.0, 0.0, 0.0)
    assert np.allclose(rotation, np.diag([1.0, -1.0, -1.0]))


@pytest.mark.parametrize(
    "quat", [(0.0, 0.0, 0.0, 0.0), (math.nan, 0.0, 0.0, 1.0), (math.inf, 0.0, 0.0, 1.0)]
)
def test_a_zero_or_non_finite_quaternion_is_rejected(quat: tuple[float, ...]) -> None:
    """Only a quaternion without a direction raises."""
    with pytest.raises(ValueError, match="zero or not finite"):
        rotation_from_quat(*quat)


def test_batch_rotations_equal_the_scalar_conversion_bit_for_bit() -> None:
    """rotations_from_quats gives rotation_from_quat's numbers exactly, at any scale."""
    rng = np.random.default_rng(5)
    quats = rng.normal(size=(2000, 4)) * 10.0 ** rng.integers(-300, 300, size=(2000, 1))
    quats[:20, 1] = 0.0
    quats[20] = (-0.0, 0.5, -0.5, 0.5)
    expected = np.array([rotation_from_quat(*map(float, q)) for q in quats])
    assert rotations_from_quats(quats).tobytes() == expected.tobytes()


@pytest.mark.parametrize("bad", [(0.0, 0.0, 0.0, 0.0), (math.inf, 0.0, 0.0, 1.0)])
def test_batch_rotations_reject_the_first_quaternion_without_direction(
    bad: tuple[float, ...],
) -> None:
    """A zero or non-finite quaternion among others raises rotation_from_quat's error."""
    quats = np.tile([0.0, 0.0, 0.0, 1.0], (5, 1))
    quats[3] = bad
    with pytest.raises(ValueError, match=r"is zero or not finite"):
        rotations_from_quats(quats)


def test_batch_angles_equal_the_scalar_angle_bit_for_bit() -> None:
    """rotation_angles gives rotation_angle's numbers exactly, near 0 and pi too, and clamps
    a trace just outside [-1, 3] as it does."""
    rng = np.random.default_rng(6)
    rotations = [exp3(v) for v in rng.normal(size=(500, 3)) * 1.5]
    rotations += [np.eye(3), np.diag([1.0, -1.0, -1.0]), np.eye(3) * (1.0 + 1e-15)]
    rotations += [exp3(np.array([0.0, 0.0, math.pi - 1e-9])), -np.eye(3) * (1.0 + 1e-15)]
    expected = [rotation_angle(r) for r in rotations]
    assert np.array(rotation_angles(np.array(rotations))).tobytes() == np.array(expected).tobytes()


def test_quaternions_have_non_negative_w_bit_for_bit_as_the_batch() -> None:
    """matrix_to_quat agrees with quats_from_matrices (w >= 0) in every branch of the
    conversion, and its w is never negative."""
    rng = np.random.default_rng(7)
    rotations = np.array(
        [exp3(v) for v in rng.normal(size=(300, 3)) * 2.0]
        + [np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]), np.diag([-1.0, -1.0, 1.0])]
    )
    quats = np.array([matrix_to_quat(r) for r in rotations])
    assert (quats[:, 3] >= 0.0).all()
    np.testing.assert_allclose(quats, quats_from_matrices(rotations), atol=1e-12)
