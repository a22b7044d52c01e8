"""Hand retargeter on real recorded hand data: fingers follow, grippers follow the pinch."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame
from humanoid_teleop.core.motion.hands import load_mediapipe_right_hand_mano
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.hand import HandRetargeter, pinch_distance_m

from ...conftest import SHARED_DATA
from .conftest import model_of

HAND_FILE = SHARED_DATA / "hands" / "dex_retargeting_human_joint_right.npy"
needs_hands = pytest.mark.skipif(not HAND_FILE.exists(), reason=f"shared data absent: {HAND_FILE}")


def _hands() -> np.ndarray:
    return load_mediapipe_right_hand_mano(str(HAND_FILE))


def _closure(robot: str, side: str, joints: np.ndarray) -> np.ndarray:
    """Per frame: mean fraction of the way from the open to the closed hand pose."""
    model = model_of(robot)
    spec = model.description.hands[side]
    assert spec.group is not None
    hand = HandRetargeter(RetargetContext(model, (spec.group,)))
    q = model.home_positions()
    open_q, closed_q = np.array(spec.open_positions), np.array(spec.closed_positions)
    span = np.where(np.abs(closed_q - open_q) > 1e-6, closed_q - open_q, np.inf)
    out = []
    for i, points in enumerate(joints):
        frame = HumanFrame(i / 30.0, right_hand=HandSkeleton(points))
        for _ in range(3):  # settle like three 90 Hz steps per 30 Hz video frame
            values = hand.step(frame, q)[spec.group]
        out.append(float(np.mean(np.clip((values - open_q) / span, -1, 2))))
    return np.array(out)


@needs_hands
@pytest.mark.parametrize("robot", ["g1", "alex"])
def test_dexterous_hand_closes_more_for_fist_than_open_hand(robot: str) -> None:
    """Frames where the human's fingertips are near the wrist close the robot hand more."""
    joints = _hands()[::3]
    closure = _closure(robot, "right", joints)
    reach = np.linalg.norm(joints[:, [9, 14, 19, 24]], axis=2).mean(axis=1)
    curled, extended = reach < np.percentile(reach, 20), reach > np.percentile(reach, 80)
    assert closure[curled].mean() > closure[extended].mean() + 0.15


@needs_hands
def test_dexterous_targets_stay_within_limits() -> None:
    """Every dexterous target for the recorded clip is inside the hand joints' limits."""
    model = model_of("alex")
    spec = model.description.hands["right"]
    assert spec.group is not None
    hand = HandRetargeter(RetargetContext(model, (spec.group,)))
    idx = model.group_indices(spec.group)
    q = model.home_positions()
    for i, points in enumerate(_hands()[::5]):
        values = hand.step(HumanFrame(i / 6.0, right_hand=HandSkeleton(points)), q)[spec.group]
        assert np.all(values >= model.limits.lower[idx]) and np.all(
            values <= model.limits.upper[idx]
        )


@needs_hands
def test_gripper_follows_pinch_distance() -> None:
    """Talos' gripper is closed at the recorded pinch and open for the widest thumb-index gap."""
    model = model_of("talos")
    spec = model.description.hands["right"]
    hand = HandRetargeter(RetargetContext(model, ("right_hand",)))
    joints = _hands()
    gaps = [pinch_distance_m(HandSkeleton(p)) for p in joints]
    pinch, wide = joints[int(np.argmin(gaps))], joints[int(np.argmax(gaps))]
    closed = hand.step(HumanFrame(0.0, right_hand=HandSkeleton(pinch)), model.home_positions())
    opened = hand.step(HumanFrame(0.1, right_hand=HandSkeleton(wide)), model.home_positions())
    assert np.allclose(closed["right_hand"], spec.closed_positions)
    assert np.allclose(opened["right_hand"], spec.open_positions)


def test_missing_hand_input_gives_no_target() -> None:
    """Without a hand skeleton the retargeter leaves the hand group's target alone."""
    model = model_of("g1")
    hand = HandRetargeter(RetargetContext(model, ("left_hand", "right_hand")))
    assert hand.step(HumanFrame(0.0), model.home_positions()) == {}


def test_engagement_restarts_the_dexterous_solver_from_the_open_hand() -> None:
    """After a new engagement (calibrate) the hand commands equal a fresh retargeter's, not
    ones warm-started from the earlier engagement's closed hand."""
    from humanoid_teleop.devices.scripted.hand_model import hand_points

    model = model_of("g1")
    spec = model.description.hands["right"]
    assert spec.group is not None
    used = HandRetargeter(RetargetContext(model, (spec.group,)))
    fresh = HandRetargeter(RetargetContext(model, (spec.group,)))
    q = model.home_positions()
    closed = HumanFrame(0.0, right_hand=HandSkeleton(hand_points("right", 1.0)))
    for _ in range(30):
        used.step(closed, q)
    half = HumanFrame(1.0, right_hand=HandSkeleton(hand_points("right", 0.5)))
    assert used.calibrate(half, q)
    assert fresh.calibrate(half, q)
    np.testing.assert_array_equal(used.step(half, q)[spec.group], fresh.step(half, q)[spec.group])
