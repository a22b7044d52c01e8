"""Operator input from a recorded MCAP bag becomes HumanFrames (written with mcap_ros2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mcap_ros2.writer import Writer

from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource
from humanoid_teleop.core.motion.bag_input import motion_from_bag
from humanoid_teleop.core.motion.errors import MotionFileError


def _pose_stamped(ns: int, x: float) -> dict[str, object]:
    return {
        "header": {"stamp": {"sec": ns // 10**9, "nanosec": ns % 10**9}, "frame_id": "operator"},
        "pose": {
            "position": {"x": x, "y": 0.0, "z": 1.0},
            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
        },
    }


def write_operator_bag(
    path: Path,
    prefix: str = "/operator/",
    seconds: float = 0.5,
    late: tuple[int, int, int] | None = None,
    marks: tuple[list[int], list[tuple[int, bool]]] = ([], []),
) -> None:
    """Head and right wrist at 50 Hz; the wrist moves +x at 0.2 m/s. ``late``: (first, last
    sample [ns], delay [ns]): the wrist messages sampled then reached the recorder that much
    later (their log times; stamps and publish times as sampled). ``marks``: recorded
    calibrations (/teleop/intent/calibrated stamps [ns]) and engaged flags (time [ns], on)."""
    sources = MessageDefinitionSource()
    with path.open("wb") as handle:
        writer = Writer(handle)
        schemas = {
            name: writer.register_msgdef(name, sources.get(name).text)
            for name in ("geometry_msgs/msg/PoseStamped", "std_msgs/msg/Header",
                         "std_msgs/msg/Bool")
        }  # fmt: skip
        pose = schemas["geometry_msgs/msg/PoseStamped"]
        for ns in marks[0]:
            stamp = {"stamp": {"sec": ns // 10**9, "nanosec": ns % 10**9}, "frame_id": "pelvis"}
            writer.write_message(
                "/teleop/intent/calibrated", schemas["std_msgs/msg/Header"], stamp, ns, ns
            )
        for ns, on in marks[1]:
            writer.write_message(
                "/teleop/intent/engaged", schemas["std_msgs/msg/Bool"], {"data": on}, ns, ns
            )
        for k in range(int(seconds * 50)):
            ns = 10**9 + k * 20_000_000
            for topic, x in (("head", 0.0), ("right_wrist", 0.3 + 0.2 * k * 0.02)):
                log_ns = ns
                if late is not None and topic == "right_wrist" and late[0] <= ns <= late[1]:
                    log_ns = ns + late[2]
                writer.write_message(prefix + topic, pose, _pose_stamped(ns, x), log_ns, ns)
        writer.finish()


def test_bag_frames_sample_latest_parts_at_rate(tmp_path: Path) -> None:
    """A 0.5 s recording sampled at 100 Hz gives ~50 frames with the moving wrist."""
    bag = tmp_path / "ep.mcap"
    write_operator_bag(bag)
    frames = motion_from_bag(bag, rate_hz=100.0).frames
    assert 45 <= len(frames) <= 52
    assert frames[0].head is not None and frames[0].left_wrist is None
    xs = [f.right_wrist.position_m[0] for f in frames if f.right_wrist is not None]
    assert xs[-1] > xs[0] + 0.08
    assert np.all(np.diff([f.t_s for f in frames]) > 0)


def test_intent_topics_are_preferred(tmp_path: Path) -> None:
    """/teleop/intent/* topics are read when present."""
    bag = tmp_path / "intent.mcap"
    write_operator_bag(bag, prefix="/teleop/intent/")
    assert motion_from_bag(bag).frames[0].right_wrist is not None


def test_bag_without_operator_input_is_refused(tmp_path: Path) -> None:
    """A bag with other topics only names the topics it looked for."""
    bag = tmp_path / "other.mcap"
    write_operator_bag(bag, prefix="/elsewhere/")
    with pytest.raises(MotionFileError, match=r"no operator input in the bag \(looked for"):
        motion_from_bag(bag)


def test_input_received_late_is_read_at_its_stamps(tmp_path: Path) -> None:
    """Wrist messages of 0.2 s that reached the recorder 0.5 s late (a loaded host's burst)
    give the frames of the on-time recording: read at their stamps, not their log times."""
    on_time, late = tmp_path / "on_time.mcap", tmp_path / "late.mcap"
    write_operator_bag(on_time)
    write_operator_bag(late, late=(1_100_000_000, 1_300_000_000, 500_000_000))
    expected, got = motion_from_bag(on_time).frames, motion_from_bag(late).frames
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a.t_s == b.t_s
        assert a.right_wrist is not None and b.right_wrist is not None
        np.testing.assert_array_equal(a.right_wrist.position_m, b.right_wrist.position_m)


def test_the_recordings_later_calibrations_are_read_with_the_frames(tmp_path: Path) -> None:
    """A re-centre 0.3 s after the input starts (recorded on /teleop/intent/calibrated,
    after the engage's own) is at 0.3 s on the frames' clock; in a recording made before
    that topic, an engage after a pause is."""
    marked, legacy = tmp_path / "marked.mcap", tmp_path / "legacy.mcap"
    start = 10**9
    write_operator_bag(marked, "/teleop/intent/", marks=([start + 5_000_000, start + 300_000_000],
                                                        [(start - 10_000_000, True)]))  # fmt: skip
    write_operator_bag(legacy, "/teleop/intent/", marks=([], [(start - 10_000_000, True),
        (start + 290_000_000, False), (start + 300_000_000, True)]))  # fmt: skip
    assert motion_from_bag(marked).recalibrations_s == pytest.approx((0.3,))
    assert motion_from_bag(legacy).recalibrations_s == pytest.approx((0.3,))
    plain = tmp_path / "plain.mcap"
    write_operator_bag(plain, "/teleop/intent/")
    assert motion_from_bag(plain).recalibrations_s == ()


def test_raw_device_input_during_a_pause_is_left_out(tmp_path: Path) -> None:
    """/operator/* input goes on while the teleop node holds: the frames hold the pose at a
    disengage (0.2 s in) until the engage (0.3 s); intent topics (published only while
    engaged) are read as they are."""
    start = 10**9
    flags = [(start - 10_000_000, True), (start + 200_000_000, False), (start + 300_000_000, True)]
    raw = tmp_path / "raw.mcap"
    write_operator_bag(raw, marks=([], flags))
    frames = motion_from_bag(raw, rate_hz=50.0).frames
    x = {round(f.t_s, 3): f.right_wrist.position_m[0] for f in frames if f.right_wrist}
    held = 0.3 + 0.2 * 10 * 0.02  # the sample at the disengage (its step used it)
    assert all(x[t] == pytest.approx(held) for t in (0.2, 0.24, 0.28)), x
    assert x[0.3] == pytest.approx(0.3 + 0.2 * 15 * 0.02)  # on again from the engage
    intent = tmp_path / "intent.mcap"
    write_operator_bag(intent, "/teleop/intent/", marks=([], flags))
    frames = motion_from_bag(intent, rate_hz=50.0).frames
    assert frames[12].right_wrist is not None
    assert frames[12].right_wrist.position_m[0] == pytest.approx(0.3 + 0.2 * 12 * 0.02)
    with pytest.raises(MotionFileError, match="no operator input while /teleop/intent/engaged"):
        write_operator_bag(tmp_path / "off.mcap", marks=([], [(start - 1, False)]))
        motion_from_bag(tmp_path / "off.mcap")
