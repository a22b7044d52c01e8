"""Complete ros2msg definitions and type hashes come from the installed share directories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from humanoid_teleop.core.bag.errors import MessageDefinitionError
from humanoid_teleop.core.bag.msgdefs import (
    SEPARATOR,
    MessageDefinitionSource,
    default_prefixes,
    ros2msg_problems,
)

from .foxglove import foxglove_parse_errors

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


def _share_text(full: str) -> str:
    pkg, kind, typ = full.split("/")
    for prefix in default_prefixes():
        path = prefix / "share" / pkg / kind / f"{typ}.msg"
        if path.is_file():
            return path.read_bytes().decode()
    raise AssertionError(f"{full} not installed")


def test_layout_is_byte_for_byte_rosbag2s() -> None:
    """Own text, then each dependency (sorted, depth first) after 80 '=' and 'MSG: pkg/Type'."""
    text = MessageDefinitionSource().get("geometry_msgs/msg/WrenchStamped").text
    order = [
        ("geometry_msgs/Wrench", "geometry_msgs/msg/Wrench"),
        ("geometry_msgs/Vector3", "geometry_msgs/msg/Vector3"),
        ("std_msgs/Header", "std_msgs/msg/Header"),
        ("builtin_interfaces/Time", "builtin_interfaces/msg/Time"),
    ]
    expected = _share_text("geometry_msgs/msg/WrenchStamped") + "".join(
        f"\n{SEPARATOR}\nMSG: {name}\n{_share_text(full)}" for name, full in order
    )
    assert text == expected


@pytest.mark.parametrize("type_name", TYPES)
def test_dependencies_are_named_package_slash_type(type_name: str) -> None:
    """Every 'MSG:' line names its type as pkg/Type, never pkg/msg/Type."""
    text = MessageDefinitionSource().get(type_name).text
    names = [line[5:] for line in text.splitlines() if line.startswith("MSG: ")]
    assert names
    assert all(re.fullmatch(r"[a-z0-9_]+/[A-Za-z0-9]+", n) for n in names), names


@pytest.mark.parametrize("type_name", TYPES)
def test_foxglove_parses_every_definition(type_name: str) -> None:
    """Foxglove's ros2msg parser accepts the text and so does our check of it."""
    text = MessageDefinitionSource().get(type_name).text
    assert foxglove_parse_errors([text]) == [None]
    assert ros2msg_problems(text) == []


def _variants() -> list[str]:
    good = MessageDefinitionSource().get("geometry_msgs/msg/WrenchStamped").text
    return [
        good,
        good.replace("MSG: std_msgs/Header", "MSG: std_msgs/msg/Header"),
        good.replace("MSG: geometry_msgs/Vector3", "MSG: geometry_msgs/msg/Vector3"),
        good.replace("MSG: geometry_msgs/Wrench\n", "\n"),
        good + f"\n{SEPARATOR}\nMSG: geometry_msgs/Vector3\nfloat32 w\n",
        good.split(f"\n{SEPARATOR}\n")[0],
        "Header header\nuint8 X=1\n",
        "Header header\n" + f"{SEPARATOR}\nMSG: std_msgs/Header\nstring frame_id\n",
    ]


def test_problems_agree_with_foxglove_parser() -> None:
    """ros2msg_problems flags exactly the texts @foxglove/rosmsg refuses."""
    texts = _variants()
    foxglove = foxglove_parse_errors(texts)
    ours = [ros2msg_problems(t) for t in texts]
    assert [e is not None for e in foxglove] == [bool(p) for p in ours], [foxglove, ours]
    assert foxglove[1] is not None and "std_msgs/Header" in foxglove[1]
