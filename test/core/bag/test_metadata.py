"""metadata.yaml text: what the writer emits reads back as written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.metadata import (
    METADATA_FILE,
    BagMetadata,
    FileInfo,
    TopicInfo,
    read_metadata_yaml,
)
from humanoid_teleop.core.bag.qos import QosProfile


def _metadata() -> BagMetadata:
    """An episode's metadata with the values that stress a YAML emitter: JSON text longer
    than a line, non-ASCII names, quotes, colons, leading spaces, newlines, empty text."""
    loss = {f"/topic_{i}": {"received": i, "written": i, "rate_hz": 250.0} for i in range(60)}
    custom = {
        "operator": "Zoë Ørsted-Ünal 操作员",
        "task": "pick: the 'red' cube \"fast\"",
        "loss": json.dumps(loss),
        "custom.note": "  leading spaces\nand a second line\ttab",
        "custom.empty": "",
        "custom.yes": "yes",
        "custom.number": "0123",
        "custom.hash": "# not a comment",
    }
    topics = (
        TopicInfo("/joint_states", "sensor_msgs/msg/JointState", (QosProfile(depth=1000),), "x"),
        TopicInfo("/tf_static", "tf2_msgs/msg/TFMessage", (QosProfile(depth=1),), "", 1),
    )
    files = (FileInfo("ep_0.mcap", 1_700_000_000_000_000_000, 10_000_000_000, 2501),)
    return BagMetadata(
        starting_time_ns=1_700_000_000_000_000_000,
        duration_ns=10_000_000_000,
        message_count=2501,
        topics=topics,
        files=files,
        custom_data=custom,
        ros_distro="jazzy",
    )


def test_metadata_yaml_reads_back_equal() -> None:
    """metadata.yaml text parses back to the same record, every custom value unchanged."""
    metadata = _metadata()
    assert BagMetadata.from_yaml(metadata.to_yaml()) == metadata


def test_metadata_yaml_is_the_python_emitters_text() -> None:
    """The text is what PyYAML's own emitter writes for the same data (libyaml's emitter is
    used for speed when present: files written before and after compare equal)."""
    metadata = _metadata()
    python = yaml.safe_dump(
        {"rosbag2_bagfile_information": metadata.to_dict()},
        sort_keys=False,
        allow_unicode=True,
        width=1000,
    )
    assert metadata.to_yaml() == python
    serialized = yaml.safe_dump(metadata.to_dict(), sort_keys=False, allow_unicode=True, width=1000)
    assert metadata.serialized() == serialized


def _edited_yaml(edit: Callable[[dict[str, Any]], None]) -> str:
    """The text of :func:`_metadata` after ``edit`` changed its mapping in place."""
    info = _metadata().to_dict()
    edit(info)
    return yaml.safe_dump({"rosbag2_bagfile_information": info}, sort_keys=False)


def test_an_infinite_integer_names_its_key() -> None:
    """An integer field given ``.inf`` raises BagFormatError naming the file and the key
    (int() of an infinite float raises OverflowError)."""
    text = _edited_yaml(lambda info: info["duration"].update(nanoseconds=float("inf")))
    assert ".inf" in text
    with pytest.raises(BagFormatError, match=r"ep/metadata\.yaml: bad or missing key 'duration'"):
        BagMetadata.from_yaml(text, "ep/metadata.yaml")


def test_qos_profiles_that_are_no_list_name_the_file_and_topic(tmp_path: Path) -> None:
    """An ``offered_qos_profiles`` that is no list raises BagFormatError naming the
    metadata.yaml file and the topic."""

    def edit(info: dict[str, Any]) -> None:
        info["topics_with_message_count"][1]["topic_metadata"]["offered_qos_profiles"] = "fast"

    (tmp_path / METADATA_FILE).write_text(_edited_yaml(edit), encoding="utf-8")
    with pytest.raises(
        BagFormatError,
        match=rf"{tmp_path / METADATA_FILE}: topic /tf_static: offered_qos_profiles must be a list",
    ):
        read_metadata_yaml(tmp_path)


@pytest.mark.parametrize("key", ["duration", "message_count"])
def test_a_negative_duration_or_count_names_its_key(key: str) -> None:
    """A negative duration or message count (a hand edit) raises BagFormatError naming the
    file and the key; every reader took it as it was ("duration -0.00 s", QC passed)."""

    def edit(info: dict[str, Any]) -> None:
        if key == "duration":
            info["duration"]["nanoseconds"] = -5
        else:
            info["message_count"] = -5

    with pytest.raises(BagFormatError, match=rf"^ep/metadata\.yaml: {key} -5 is negative$"):
        BagMetadata.from_yaml(_edited_yaml(edit), "ep/metadata.yaml")
