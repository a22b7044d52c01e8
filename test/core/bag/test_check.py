"""check_bag finds each kind of defect and passes a good bag."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.mcap_file import McapFileWriter
from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo
from humanoid_teleop.core.bag.recover import scan_mcap

from .conftest import LATCHED, joint_state, now_ns, string_msg
from .foxglove import foxglove_decode

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


def _flipped(path: Path, offset: int) -> Path:
    (mcap,) = path.glob("*.mcap")
    data = bytearray(mcap.read_bytes())
    data[offset] ^= 0x01
    mcap.write_bytes(bytes(data))
    return mcap


def _first_chunk(path: Path) -> tuple[int, int]:
    (mcap,) = path.glob("*.mcap")
    chunk = scan_mcap(mcap).chunks[0]
    return chunk.start, chunk.start + chunk.length


@pytest.mark.parametrize(
    "where",
    ["chunk data", "chunk CRC field", "chunk length field", "message index", "summary", "footer"],
)
def test_flipped_byte_is_a_defect(make_recorder: Make, where: str) -> None:
    """A single flipped bit anywhere that matters makes check report the file damaged."""
    path = _bag(make_recorder)
    start, end = _first_chunk(path)
    (mcap,) = path.glob("*.mcap")
    size = mcap.stat().st_size
    offset = {
        "chunk data": end - 10,
        "chunk CRC field": start + 9 + 24,
        "chunk length field": start + 2,
        "message index": end + 12,
        "summary": size - 120,
        "footer": size - 8 - 10,
    }[where]
    _flipped(path, offset)
    assert "damaged" in _kinds(path)


def test_cut_file_is_a_not_closed_defect(make_recorder: Make) -> None:
    """A file cut short (no data end, no summary) is reported as not closed."""
    path = _bag(make_recorder)
    (mcap,) = path.glob("*.mcap")
    mcap.write_bytes(mcap.read_bytes()[:-50])
    assert "not closed" in _kinds(path)


def test_schema_foxglove_cannot_parse_is_a_defect(tmp_path: Path) -> None:
    """A schema naming its dependencies pkg/msg/Type (old form) is a schema defect."""
    definition = MessageDefinitionSource().get("sensor_msgs/msg/JointState")
    old = replace(
        definition, text=re.sub(r"^MSG: (\w+)/", r"MSG: \1/msg/", definition.text, flags=re.M)
    )
    writer = McapFileWriter(tmp_path / "old.mcap")
    channel = writer.add_topic("/joint_states", old, [QosProfile()])
    t = now_ns()
    writer.write(channel, t, t, 1, joint_state(t, [1.0]))
    writer.finish()
    (defect,) = [d for d in check_bag(tmp_path / "old.mcap").defects if d.kind == "schema"]
    assert "Foxglove cannot parse" in defect.detail and "std_msgs/Header" in defect.detail
    assert not foxglove_decode([tmp_path / "old.mcap"])[str(tmp_path / "old.mcap")]["ok"]


def test_a_folder_in_place_of_metadata_yaml_is_not_a_missing_one(make_recorder: Make) -> None:
    """A metadata.yaml that is a folder is reported as not a file, not as absent."""
    path = _bag(make_recorder)
    (path / "metadata.yaml").unlink()
    (path / "metadata.yaml").mkdir()
    details = [(d.kind, d.where, d.detail) for d in check_bag(path).defects]
    assert details == [
        ("metadata", str(path / "metadata.yaml"), "not a file; move it away and run `bag recover`")
    ]


@pytest.mark.parametrize(
    ("replace_with", "found"), [("nothing", "absent"), ("folder", "a folder in its place")]
)
def test_a_listed_mcap_that_is_gone_or_a_folder_is_named_as_such(
    make_recorder: Make, replace_with: str, found: str
) -> None:
    """An .mcap metadata.yaml lists but that was deleted, or replaced by a folder, is a
    "missing file" defect that says which."""
    path = _bag(make_recorder)
    (mcap,) = path.glob("*.mcap")
    mcap.unlink()
    if replace_with == "folder":
        mcap.mkdir()
    missing = [(d.where, d.detail) for d in check_bag(path).defects if d.kind == "missing file"]
    assert missing == [(str(mcap), f"listed in metadata.yaml but {found}")]


@pytest.mark.parametrize(
    ("key", "value", "detail"),
    [
        ("loss", '{"topics": {"/chatter": {"dropped": NaN}}}', "not a loss record (cannot"),
        ("loss", '{"topics": [1]}', "not a loss record ("),
        ("annotations", "3", "not a list of labels (a JSON int, not a list)"),
        ("annotations", '[{"text": "grasp"}]', "not a list of labels ('time_ns')"),
    ],
)
def test_a_malformed_loss_or_label_record_is_a_metadata_defect(
    make_recorder: Make, key: str, value: str, detail: str
) -> None:
    """A ``loss`` or ``annotations`` record that is not the recorder's (a hand edit, another
    tool's) is a metadata defect naming it, as export refuses it (a NaN raised a traceback;
    a number for the labels passed as ok)."""
    path = _bag(make_recorder)
    metadata = path / "metadata.yaml"
    root = yaml.safe_load(metadata.read_text())
    root["rosbag2_bagfile_information"]["custom_data"][key] = value
    metadata.write_text(yaml.safe_dump(root, sort_keys=False))
    defects = [(d.kind, d.where, d.detail) for d in check_bag(path).defects]
    assert len(defects) == 1, defects
    assert defects[0][:2] == ("metadata", f"custom_data.{key}")
    assert defects[0][2].startswith(detail), defects
