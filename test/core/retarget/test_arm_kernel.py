"""The compiled wrist -> EE target map equals its Python statement (calibration + reach)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import Pose
from humanoid_teleop.core.retarget.arm_ik import usable
from humanoid_teleop.core.retarget.arm_kernel import (
    _arm_target,
    arm_target,
    side_map,
    within_reach,
)
from humanoid_teleop.core.retarget.calibration import ArmCalibration

FloatArray = NDArray[np.float64]


def _rotation(rng: np.random.Generator) -> FloatArray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    rotation: FloatArray = q * np.sign(np.diag(r))
    return rotation if np.linalg.det(rotation) > 0 else -rotation


def _reference(
    calibration: ArmCalibration, wrist: Pose, shoulder: FloatArray, reach: float
) -> Pose | None:
    """``usable`` wrist -> ``ArmCalibration.target`` -> pulled onto the reach sphere."""
    if not usable(wrist):
        return None
    target = calibration.target(wrist)
    offset = target.position_m - shoulder
    distance = float(np.linalg.norm(offset))
    if math.isfinite(reach) and distance > reach:
        return Pose(shoulder + offset * (reach / distance), target.rotation)
    return target


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["relative", "absolute"]),
    reach=st.sampled_from([0.1, 0.5, 5.0, math.inf]),
    wrist_scale=st.sampled_from([0.1, 1.0, 60.0, 150.0]),
)
def test_kernel_matches_calibration_target_and_reach(
    seed: int, mode: str, reach: float, wrist_scale: float
) -> None:
    rng = np.random.default_rng(seed)
    calibration = ArmCalibration(
        mode=mode,
        scale=float(rng.uniform(0.5, 2.0)),
        wrist0=Pose(rng.normal(size=3), _rotation(rng)),
        ee0=Pose(rng.normal(size=3) * 0.3, _rotation(rng)),
        human_anchor_m=rng.normal(size=3),
        robot_anchor_m=rng.normal(size=3) * 0.3,
        ee_r_hand=_rotation(rng),
    )
    shoulder = rng.normal(size=3) * 0.2
    wrist = Pose(rng.normal(size=3) * wrist_scale, _rotation(rng))
    out = np.full(12, -7.0)
    ok = arm_target(
        wrist.position_m, wrist.rotation, side_map(*calibration.affine(), shoulder, reach), out
    )
    want = _reference(calibration, wrist, shoulder, reach)
    assert ok == (want is not None)
    if want is None:
        assert (out == -7.0).all()  # left as it was
    else:
        np.testing.assert_allclose(out[:9].reshape(3, 3), want.rotation, atol=1e-12)
        np.testing.assert_allclose(out[9:], want.position_m, atol=1e-12)


def test_non_finite_wrist_leaves_the_target_and_any_layout_uses_one_kernel() -> None:
    side = side_map(np.zeros(3), np.zeros(3), 1.0, np.eye(3), np.zeros(3), math.inf)
    out = np.full(12, 3.0)
    assert not arm_target(np.array([0.0, np.nan, 0.0]), np.eye(3), side, out)
    assert not arm_target(np.zeros(3), np.full((3, 3), np.inf), side, out)
    assert (out == 3.0).all()
    assert arm_target(np.zeros(3), np.asfortranarray(np.eye(3)), side, out)
    assert arm_target(np.zeros(4)[:3], np.eye(3).T, side, out)
    read_only = np.frombuffer(np.zeros(3).tobytes())  # decoded in place from bytes
    assert arm_target(read_only, np.eye(3), side, out)
    assert len(_arm_target.signatures) == 1


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    reach=st.sampled_from([0.1, 0.5, 5.0, math.inf]),
    scale=st.sampled_from([0.1, 1.0, 5.0]),
)
def test_within_reach_is_the_targets_reach_limit(seed: int, reach: float, scale: float) -> None:
    """within_reach gives the position arm_target gives an EE target at that position (the
    identity map), to the bit: the arm IK's one reach limit."""
    rng = np.random.default_rng(seed)
    shoulder = rng.normal(size=3) * 0.2
    position = rng.normal(size=3) * scale
    out = np.empty(12)
    side = side_map(np.zeros(3), np.zeros(3), 1.0, np.eye(3), shoulder, reach)
    assert arm_target(position, np.eye(3), side, out)
    assert within_reach(position, shoulder, reach).tobytes() == out[9:].tobytes()
