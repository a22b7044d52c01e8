"""BVH reader: hierarchy, line endings, units and the operator-frame conversion."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh
from humanoid_teleop.core.motion.errors import MotionFileError

from ...conftest import SHARED_DATA

MOCAP = SHARED_DATA / "mocap"
DRINK = MOCAP / "cmu_14_05_unscrew_cap_drink_soda.bvh"
needs_mocap = pytest.mark.skipif(not DRINK.exists(), reason=f"shared mocap data absent: {MOCAP}")

TINY = (
    "HIERARCHY\nROOT hip\n{\n  OFFSET 0 0 0\n"
    "  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\r\n"
    "  JOINT arm\r\n  {\r\n    OFFSET 10 0 0\r\n    CHANNELS 3 Zrotation Xrotation Yrotation\r\n"
    "    End Site\r\n    {\r\n      OFFSET 5 0 0\r\n    }\r\n  }\r\n}\r\n"
    "MOTION\r\nFrames:\t2\r\nFrame Time:\t0.01\r\n"
    "0 100 0 0 0 0 0 0 0\n1 100 0 0 0 0 450 0 0\n"
)


def test_reader_parses_mixed_line_endings_and_tabs(tmp_path: Path) -> None:
    """A file with LF and CRLF lines and tab-separated headers parses fully."""
    path = tmp_path / "tiny.bvh"
    path.write_bytes(TINY.encode())
    clip = read_bvh(path)
    assert [j.name for j in clip.joints] == ["hip", "arm"]
    assert clip.frame_count == 2
    assert clip.frame_time_s == pytest.approx(0.01)


def test_unwrapped_angles_rotate_like_their_wrapped_value(tmp_path: Path) -> None:
    """A 450 degree Z rotation of the child places it as 90 degrees would."""
    path = tmp_path / "tiny.bvh"
    path.write_bytes(TINY.encode())
    _rot, pos = read_bvh(path).forward_kinematics()
    assert np.allclose(pos[1, 1], [11.0, 100.0, 0.0])
    assert np.allclose(pos[0, 1], [10.0, 100.0, 0.0])


def test_truncated_motion_names_file_and_counts(tmp_path: Path) -> None:
    """A file with fewer motion lines than announced is rejected with both numbers."""
    path = tmp_path / "short.bvh"
    path.write_text(TINY.replace("Frames:\t2", "Frames:\t3"))
    with pytest.raises(MotionFileError, match=r"short\.bvh: header says 3 frames, file has 2"):
        read_bvh(path)


def test_non_numeric_value_names_the_line(tmp_path: Path) -> None:
    """A garbage value in the motion data is reported with its line number."""
    path = tmp_path / "bad.bvh"
    path.write_text(TINY.replace("1 100 0 0 0 0 450 0 0", "1 100 0 x 0 0 450 0 0"))
    with pytest.raises(MotionFileError, match=r"bad\.bvh:20"):
        read_bvh(path)


def test_unknown_joint_lists_the_joints(tmp_path: Path) -> None:
    """Asking for a joint the file lacks lists the joints it has."""
    path = tmp_path / "tiny.bvh"
    path.write_text(TINY)
    with pytest.raises(MotionFileError, match="joints are: hip, arm"):
        read_bvh(path).index("head")


@needs_mocap
def test_cmu_clip_head_height_is_metres_and_z_up() -> None:
    """The CMU performer's head is about 1.45 m above the floor in the operator frame."""
    motion = human_frames_from_bvh(read_bvh(DRINK))
    head = motion.frames[0].head
    assert head is not None
    assert head.position_m[2] == pytest.approx(1.45, abs=0.05)
    assert np.linalg.norm(head.position_m[:2]) < 1e-9


@needs_mocap
def test_cmu_left_wrist_is_on_the_left() -> None:
    """At calibration the performer's left wrist has y > 0 and the right wrist y < 0."""
    frame = human_frames_from_bvh(read_bvh(DRINK)).frames[0]
    assert frame.left_wrist is not None and frame.right_wrist is not None
    assert frame.left_wrist.position_m[1] > 0.05
    assert frame.right_wrist.position_m[1] < -0.05


@needs_mocap
def test_cmu_drinking_lifts_left_hand_to_mouth() -> None:
    """Between 3 and 6 s of the soda clip the left hand rises above 1.45 m."""
    motion = human_frames_from_bvh(read_bvh(DRINK))
    heights = [f.left_wrist.position_m[2] for f in motion.frames if f.left_wrist]
    assert max(heights[360:720]) > 1.45


@needs_mocap
def test_cmu_wrist_frames_are_rotations() -> None:
    """Every wrist orientation is a proper rotation matrix."""
    motion = human_frames_from_bvh(read_bvh(DRINK))
    for frame in motion.frames[::50]:
        assert frame.right_wrist is not None
        r = frame.right_wrist.rotation
        assert np.allclose(r @ r.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(r) == pytest.approx(1.0)


@needs_mocap
def test_cmu_operator_arm_length_is_human() -> None:
    """The skeleton's upper arm plus forearm is between 0.4 and 0.7 m."""
    assert 0.4 < human_frames_from_bvh(read_bvh(DRINK)).operator_arm_length_m < 0.7


@needs_mocap
def test_follow_hips_removes_body_turns() -> None:
    """In the traffic clip (a 300+ degree turn) following the hips keeps head yaw within 90."""
    clip = read_bvh(MOCAP / "cmu_13_26_direct_traffic_wave.bvh")
    yaw = np.unwrap(
        [np.arctan2(f.head.rotation[1, 0], f.head.rotation[0, 0])
         for f in human_frames_from_bvh(clip, follow_hips=True).frames if f.head]
    )  # fmt: skip
    assert np.degrees(np.abs(yaw)).max() < 90.0


@needs_mocap
@pytest.mark.parametrize("value", ["1e30", "1e308"])
def test_a_frame_of_absurd_finite_values_names_its_line(tmp_path: Path, value: str) -> None:
    """A frame whose channels are finite but absurd (every one 1e30) made a hand frame of
    coinciding keypoints: a numpy warning naming no file, and a retargeted clip that went
    on, changed. Now one error naming the file and line, with no warning."""
    lines = DRINK.read_text().splitlines()
    first = lines.index("MOTION") + 3  # MOTION, Frames:, Frame Time:
    bad = first + 100
    lines[bad] = " ".join([value] * len(lines[bad].split()))
    path = tmp_path / "absurd.bvh"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MotionFileError) as err:
            human_frames_from_bvh(read_bvh(path))
    assert str(err.value).startswith(f"{path}:{bad + 1}: the left wrist's pose is not a pose")
