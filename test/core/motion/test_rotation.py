"""Rotation conversions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.motion.rotation import matrix_to_quat, quat_to_matrix, quats_from_matrices


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
