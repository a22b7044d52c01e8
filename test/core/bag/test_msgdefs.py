"""Complete ros2msg definitions and type hashes come from the installed share directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from humanoid_teleop.core.bag.errors import MessageDefinitionError
from humanoid_teleop.core.bag.msgdefs import SEPARATOR, MessageDefinitionSource

TYPES = [
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/JointState",
    "geometry_msgs/msg/WrenchStamped",
    "diagnostic_msgs/msg/DiagnosticArray",
    "trajectory_msgs/msg/JointTrajectory",
]


@pytest.mark.parametrize("type_name", TYPES)
def test_definition_parses_with_rosbags_into_the_same_type(type_name: str) -> None:
    """rosbags parses our complete text into a type with the fields of its own store."""
    definition = MessageDefinitionSource().get(type_name)
    sections = definition.text.split(f"\n{SEPARATOR}\n")
    types = dict(get_types_from_msg(sections[0], type_name))
    for section in sections[1:]:
        header, _, body = section.partition("\n")
        types.update(get_types_from_msg(body, header.removeprefix("MSG: ")))
    ours = get_typestore(Stores.EMPTY)
    ours.register(types)
    reference = get_typestore(Stores.ROS2_JAZZY)
    assert ours.get_msgdef(type_name).fields == reference.get_msgdef(type_name).fields


def test_type_hash_is_the_rihs01_of_the_type() -> None:
    """The hash is read from the type description JSON (RIHS01 of std_msgs/String)."""
    definition = MessageDefinitionSource().get("std_msgs/String")
    assert definition.type_hash == (
        "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18"
    )


def test_unknown_type_names_the_searched_directories(tmp_path: Path) -> None:
    """A type with no .msg anywhere raises, listing where it looked."""
    with pytest.raises(MessageDefinitionError, match=rf"Nope\.msg not found under {tmp_path}"):
        MessageDefinitionSource([tmp_path]).get("tf2_msgs/msg/Nope")


def test_malformed_type_name_is_rejected() -> None:
    """A name that is not pkg/msg/Type is refused with the expected form."""
    with pytest.raises(MessageDefinitionError, match="expected pkg/msg/Type"):
        MessageDefinitionSource().get("Image")
