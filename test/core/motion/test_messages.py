"""Operator input messages -> HumanFrame parts (core.motion.messages)."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.messages import CdrPartReader, pose_from_values


def test_a_huge_quaternion_from_the_wire_is_normalised() -> None:
    """A PoseStamped with orientation (1e300, 0, 0, 0) reads as the 180° turn about x."""
    data = cdr.encode_pose_stamped(5, 0, "operator", (0.1, 0.2, 0.3, 1e300, 0.0, 0.0, 0.0))
    stamp_s, pose = CdrPartReader("right_wrist", "/operator/right_wrist").read(data)
    assert stamp_s == 5.0
    assert pose.is_finite()
    assert np.allclose(pose.rotation, np.diag([1.0, -1.0, -1.0]))


def test_a_zero_quaternion_gives_a_non_finite_pose() -> None:
    """A zero quaternion has no direction: the pose is marked non-finite for the guard."""
    pose = pose_from_values((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))
    assert not pose.is_finite()
