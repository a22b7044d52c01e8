"""check_bag finds each kind of defect and passes a good bag."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo

from .conftest import LATCHED, now_ns, string_msg

Make = Callable[..., BagRecorder]


def _bag(make: Make, latched: bool = True) -> Path:
    recorder = make()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    if latched:
        recorder.add_topic("/robot_description", "std_msgs/msg/String", [LATCHED])
        recorder.submit("/robot_description", string_msg("<robot/>"), now_ns())
    recorder.start_episode(EpisodeInfo())
    for i in range(10):
        recorder.submit("/chatter", string_msg(str(i)), now_ns(), 0, i + 1)
    return recorder.stop_episode().path


def _kinds(path: Path, **kwargs: object) -> set[str]:
    return {d.kind for d in check_bag(path, **kwargs).defects}  # type: ignore[arg-type]


def test_good_bag_has_no_defects(make_recorder: Make) -> None:
    """A freshly recorded bag passes every check."""
    report = check_bag(_bag(make_recorder))
    assert report.ok, report.defects
    assert report.messages == 11


def test_metadata_count_mismatch_is_a_defect(make_recorder: Make) -> None:
    """Editing a count in metadata.yaml makes check report a metadata defect."""
    path = _bag(make_recorder)
    meta = yaml.safe_load((path / "metadata.yaml").read_text())
    meta["rosbag2_bagfile_information"]["message_count"] = 99
    (path / "metadata.yaml").write_text(yaml.safe_dump(meta))
    assert "metadata" in _kinds(path)


def test_missing_latched_topic_is_a_defect(make_recorder: Make) -> None:
    """A required latched topic absent from a file is reported."""
    path = _bag(make_recorder, latched=False)
    assert "missing latched" in _kinds(path, required_latched=("/tf_static",))


def test_loss_above_threshold_is_a_defect(make_recorder: Make) -> None:
    """Publisher sequence gaps count as loss and fail a zero-loss check."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    for seq in (1, 2, 5, 6):
        recorder.submit("/chatter", string_msg(str(seq)), now_ns(), 0, seq)
    path = recorder.stop_episode().path
    loss = json.loads(
        yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"][
            "custom_data"
        ]["loss"]
    )
    assert loss["topics"]["/chatter"]["sequence_gaps"] == 2
    assert "loss" in _kinds(path)
    assert "loss" not in _kinds(path, max_loss_ratio=0.5)


def test_unreadable_message_is_a_defect(make_recorder: Make) -> None:
    """A message whose bytes do not decode with the stored schema is reported."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    recorder.submit("/chatter", b"\x00\x01\x00\x00\xff\xff\xff\x7f", now_ns())
    path = recorder.stop_episode().path
    assert "unreadable message" in _kinds(path)


def test_time_going_backwards_is_a_defect(make_recorder: Make) -> None:
    """Receive times that go backwards inside a file are reported."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    t = now_ns()
    recorder.submit("/chatter", string_msg("a"), t)
    recorder.submit("/chatter", string_msg("b"), t - 1_000_000)
    assert "time backwards" in _kinds(recorder.stop_episode().path)


def test_partial_directory_is_a_defect(make_recorder: Make, tmp_path: Path) -> None:
    """An episode that was never closed (.partial, no metadata.yaml) is reported."""
    recorder = make_recorder()
    partial = recorder.start_episode(EpisodeInfo())
    assert {"not closed", "metadata"} <= _kinds(partial)
    recorder.stop_episode()


def test_loss_detail_says_how_much_dds_reported_lost(make_recorder: Make) -> None:
    """A loss defect names the share of it that DDS reported lost before the recorder."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    recorder.submit("/chatter", string_msg("1"), now_ns(), 0, 1)
    recorder.note_lost("/chatter", 3)
    recorder.submit("/chatter", string_msg("5"), now_ns(), 0, 5)
    path = recorder.stop_episode().path
    (defect,) = [d for d in check_bag(path).defects if d.kind == "loss"]
    assert "3 sequence gaps; DDS reported 3 lost before the recorder" in defect.detail
