"""Operator input from a recorded MCAP bag becomes HumanFrames (written with mcap_ros2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mcap_ros2.writer import Writer

from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource
from humanoid_teleop.core.motion.bag_input import human_frames_from_bag
from humanoid_teleop.core.motion.errors import MotionFileError


def _pose_stamped(ns: int, x: float) -> dict[str, object]:
    return {
        "header": {"stamp": {"sec": ns // 10**9, "nanosec": ns % 10**9}, "frame_id": "operator"},
        "pose": {
            "position": {"x": x, "y": 0.0, "z": 1.0},
            "orientation": {"x": 0.0, "y": 0.0, "z": 0.0, "w": 1.0},
        },
    }


def write_operator_bag(path: Path, prefix: str = "/operator/", seconds: float = 0.5) -> None:
    """Head and right wrist at 50 Hz; the wrist moves +x at 0.2 m/s."""
    definition = MessageDefinitionSource().get("geometry_msgs/msg/PoseStamped")
    with path.open("wb") as handle:
        writer = Writer(handle)
        schema = writer.register_msgdef(definition.type_name, definition.text)
        for k in range(int(seconds * 50)):
            ns = 10**9 + k * 20_000_000
            for topic, x in (("head", 0.0), ("right_wrist", 0.3 + 0.2 * k * 0.02)):
                writer.write_message(prefix + topic, schema, _pose_stamped(ns, x), ns, ns)
        writer.finish()


def test_bag_frames_sample_latest_parts_at_rate(tmp_path: Path) -> None:
    """A 0.5 s recording sampled at 100 Hz gives ~50 frames with the moving wrist."""
    bag = tmp_path / "ep.mcap"
    write_operator_bag(bag)
    frames = human_frames_from_bag(bag, rate_hz=100.0)
    assert 45 <= len(frames) <= 52
    assert frames[0].head is not None and frames[0].left_wrist is None
    xs = [f.right_wrist.position_m[0] for f in frames if f.right_wrist is not None]
    assert xs[-1] > xs[0] + 0.08
    assert np.all(np.diff([f.t_s for f in frames]) > 0)


def test_intent_topics_are_preferred(tmp_path: Path) -> None:
    """/teleop/intent/* topics are read when present."""
    bag = tmp_path / "intent.mcap"
    write_operator_bag(bag, prefix="/teleop/intent/")
    assert human_frames_from_bag(bag)[0].right_wrist is not None


def test_bag_without_operator_input_is_refused(tmp_path: Path) -> None:
    """A bag with other topics only names the topics it looked for."""
    bag = tmp_path / "other.mcap"
    write_operator_bag(bag, prefix="/elsewhere/")
    with pytest.raises(MotionFileError, match=r"no operator input in the bag \(looked for"):
        human_frames_from_bag(bag)
