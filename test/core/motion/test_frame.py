"""HumanFrame parts and their validity flags."""

from __future__ import annotations

import dataclasses
import inspect
import math

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame, Input, LeaderJoints, Pose


def test_absent_parts_are_invalid() -> None:
    """A frame with only a head reports the head valid and every other part invalid."""
    frame = HumanFrame(t_s=0.0, head=Pose.identity())
    validity = frame.validity()
    assert validity[Input.HEAD] is True
    assert not any(v for k, v in validity.items() if k is not Input.HEAD)


def test_nan_pose_is_invalid() -> None:
    """A wrist pose with a NaN coordinate is present but not valid."""
    frame = HumanFrame(t_s=0.0, left_wrist=Pose(np.array([0.0, np.nan, 0.0]), np.eye(3)))
    assert frame.is_valid(Input.LEFT_WRIST) is False


def test_quaternion_round_trip() -> None:
    """A pose built from a quaternion gives the same quaternion back."""
    q = np.array([0.1, -0.2, 0.3, 0.9])
    q /= np.linalg.norm(q)
    assert np.allclose(Pose.from_quat(np.zeros(3), q).quat_xyzw(), q)


def test_hand_skeleton_needs_25_joints() -> None:
    """A skeleton with 21 joints is refused with its shape."""
    with pytest.raises(ValueError, match=r"\(21, 3\)"):
        HandSkeleton(np.zeros((21, 3)))


def test_hand_skeleton_is_finite_exactly_when_every_joint_is() -> None:
    """A NaN or inf at any of the 75 coordinates makes a skeleton not finite; huge finite
    coordinates do not."""
    assert HandSkeleton(np.full((25, 3), 1e308)).is_finite()
    for bad in (math.nan, math.inf, -math.inf):
        for k in range(75):
            positions = np.zeros((25, 3))
            positions.flat[k] = bad
            assert not HandSkeleton(positions).is_finite()


def test_human_frame_init_sets_every_declared_field() -> None:
    """The hand-written __init__ takes the declared fields in order and stores each as
    given, like the dataclass's generated one; extra defaults to a new empty dict."""
    fields = [f.name for f in dataclasses.fields(HumanFrame)]
    assert list(inspect.signature(HumanFrame.__init__).parameters)[1:] == fields
    values = {name: object() for name in fields}
    frame = HumanFrame(**values)  # type: ignore[arg-type]
    assert all(getattr(frame, name) is value for name, value in values.items())
    assert vars(frame) == values
    first, second = HumanFrame(0.0), HumanFrame(0.0)
    assert first.extra == {} and first.extra is not second.extra
    assert first == second and dataclasses.replace(first, t_s=1.0) == HumanFrame(1.0)


def test_leader_names_and_positions_must_match() -> None:
    """Leader joints with 2 names and 3 angles are refused."""
    with pytest.raises(ValueError, match="2 names but 3 positions"):
        LeaderJoints(("a", "b"), np.zeros(3))


def test_pose_is_finite_exactly_when_every_number_is() -> None:
    """A NaN or inf anywhere (position or rotation) makes a pose not finite; finite numbers
    whose sum overflows (1e308 + 1e308) and list-valued poses still read as finite."""
    assert Pose(np.zeros(3), np.eye(3)).is_finite()
    assert Pose(np.full(3, 1e308), np.full((3, 3), 1e308)).is_finite()
    assert Pose([0.1, 0.2, 0.3], np.eye(3).tolist()).is_finite()  # type: ignore[arg-type]
    for bad in (math.nan, math.inf, -math.inf):
        for k in range(12):
            values = np.zeros(12)
            values[k] = bad
            pose = Pose(values[:3], values[3:].reshape(3, 3))
            assert not pose.is_finite()
