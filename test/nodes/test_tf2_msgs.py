"""tf2_msgs/msg/TFMessage works over real DDS and is the official type (pip-only installs build it).

In wheels mode tools/setup_venv.sh builds tf2_msgs from tools/interfaces/tf2_msgs; with a
sourced distro these tests check the distro's own tf2_msgs the same way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

PEER = Path(__file__).with_name("tf2_msgs_peer.py")

# The RIHS01 (REP-2011) hash of tf2_msgs/msg/TFMessage as ROS 2 Jazzy/Kilted/Rolling report it:
# `ros2 topic info -v /tf` on real robots, rosbag2's `type_description_hash` in metadata.yaml,
# and rosbags' own type store (`hash_rihs01`), which computes it independently of rosidl.
OFFICIAL_TFMESSAGE_HASH = "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087"

TRANSFORMS: list[dict[str, Any]] = [
    {
        "parent": "pelvis",
        "child": "torso_link",
        "stamp": [1_700_000_000, 123_456_789],
        "translation_m": [0.0, 0.0, 0.044],
        "rotation_xyzw": [0.0, 0.0, 0.0, 1.0],
    },
    {
        "parent": "torso_link",
        "child": "left_wrist_yaw_link",
        "stamp": [1_700_000_000, 123_456_789],
        "translation_m": [0.27, 0.19, 0.12],
        "rotation_xyzw": [0.1830127, 0.1830127, -0.6830127, 0.6830127],
    },
    {
        "parent": "torso_link",
        "child": "head_camera_optical_frame",
        "stamp": [1_700_000_001, 0],
        "translation_m": [0.06, -0.0175, 0.43],
        "rotation_xyzw": [-0.5, 0.5, -0.5, 0.5],
    },
]


def _require_tf2_msgs() -> None:
    if importlib.util.find_spec("tf2_msgs") is None:
        pytest.fail(
            "tf2_msgs is not importable: run tools/setup_venv.sh, which builds it in wheels mode "
            "(or `.venv/bin/python tools/interfaces/build_interfaces.py tools/interfaces/tf2_msgs`)"
        )


def _installed_share_file(name: str) -> Path:
    """`share/tf2_msgs/msg/<name>` in this venv or, with a sourced distro, an ament prefix."""
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates = [Path(p) / "share" / "tf2_msgs" / "msg" / name for p in [sys.prefix, *prefixes]]
    found = [c for c in candidates if c.is_file()]
    if not found:
        _require_tf2_msgs()
        pytest.fail(f"tf2_msgs is importable but no {name} in any of {list(map(str, candidates))}")
    return found[0]


@pytest.fixture(scope="module")
def exchange() -> dict[str, Any]:
    """What a listener process reported after a talker process published TRANSFORMS once."""
    _require_tf2_msgs()
    topic = f"/test_tf_{uuid.uuid4().hex[:8]}"
    listener = subprocess.Popen(
        [sys.executable, str(PEER), "listen", topic, "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    talker = subprocess.Popen(
        [sys.executable, str(PEER), "talk", topic, json.dumps(TRANSFORMS), "30"],
        stdout=subprocess.DEVNULL,
    )
    try:
        out, err = listener.communicate(timeout=60)
    finally:
        talker.terminate()
        talker.wait(timeout=10)
    assert listener.returncode == 0, f"listener stdout:\n{out}\nstderr:\n{err}"
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.mark.ros
def test_listener_process_receives_every_transform(exchange: dict[str, Any]) -> None:
    """Frames, stamps, translations and rotations arrive unchanged in another process."""
    assert exchange["transforms"] == TRANSFORMS


@pytest.mark.ros
def test_graph_names_the_topic_type_tf2_msgs_tfmessage(exchange: dict[str, Any]) -> None:
    """DDS discovery reports the topic as tf2_msgs/msg/TFMessage, the type real tf2 nodes use."""
    assert exchange["topic_types"] == ["tf2_msgs/msg/TFMessage"]


@pytest.mark.ros
def test_publisher_type_hash_over_dds_is_the_official_one(exchange: dict[str, Any]) -> None:
    """The type hash the publisher announces over DDS equals ROS 2's tf2_msgs TFMessage hash."""
    assert exchange["publisher_type_hashes"] == [OFFICIAL_TFMESSAGE_HASH]


@pytest.mark.ros
def test_rclpy_serialized_tfmessage_decodes_with_rosbags() -> None:
    """CDR bytes from our typesupport decode with rosbags' independent ROS 2 Kilted type store."""
    _require_tf2_msgs()
    from rclpy.serialization import serialize_message
    from rosbags.typesys import Stores, get_typestore

    sys.path.insert(0, str(PEER.parent))
    try:
        from tf2_msgs_peer import to_msg
    finally:
        sys.path.remove(str(PEER.parent))
    store = get_typestore(Stores.ROS2_KILTED)
    decoded = store.deserialize_cdr(serialize_message(to_msg(TRANSFORMS)), "tf2_msgs/msg/TFMessage")
    assert [(t.header.frame_id, t.child_frame_id) for t in decoded.transforms] == [
        (t["parent"], t["child"]) for t in TRANSFORMS
    ]
    assert decoded.transforms[1].transform.rotation.z == TRANSFORMS[1]["rotation_xyzw"][2]
    assert decoded.transforms[0].header.stamp.nanosec == TRANSFORMS[0]["stamp"][1]


@pytest.mark.ros
def test_rosbags_serialized_tfmessage_decodes_with_rclpy() -> None:
    """CDR bytes written by rosbags (as found in other tools' bags) decode with our typesupport."""
    _require_tf2_msgs()
    from rclpy.serialization import deserialize_message
    from rosbags.typesys import Stores, get_typestore
    from tf2_msgs.msg import TFMessage

    store = get_typestore(Stores.ROS2_KILTED)
    ns = store.types
    header = ns["std_msgs/msg/Header"](
        stamp=ns["builtin_interfaces/msg/Time"](sec=5, nanosec=7), frame_id="world"
    )
    transform = ns["geometry_msgs/msg/Transform"](
        translation=ns["geometry_msgs/msg/Vector3"](x=1.0, y=-2.0, z=0.5),
        rotation=ns["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
    )
    stamped = ns["geometry_msgs/msg/TransformStamped"](
        header=header, child_frame_id="base_link", transform=transform
    )
    raw = store.serialize_cdr(
        ns["tf2_msgs/msg/TFMessage"](transforms=[stamped]), "tf2_msgs/msg/TFMessage"
    )
    msg = deserialize_message(bytes(raw), TFMessage)
    assert len(msg.transforms) == 1
    assert msg.transforms[0].child_frame_id == "base_link"
    assert msg.transforms[0].transform.translation.y == -2.0


def test_installed_type_description_hash_is_the_official_one() -> None:
    """share/tf2_msgs/msg/TFMessage.json (read by schema lookups) carries the official hash."""
    description = json.loads(_installed_share_file("TFMessage.json").read_text(encoding="utf-8"))
    hashes = {h["type_name"]: h["hash_string"] for h in description["type_hashes"]}
    assert hashes["tf2_msgs/msg/TFMessage"] == OFFICIAL_TFMESSAGE_HASH


def test_installed_message_definition_is_the_official_field_list() -> None:
    """share/tf2_msgs/msg/TFMessage.msg (used for MCAP schemas) declares exactly the one field."""
    definition = _installed_share_file("TFMessage.msg").read_text(encoding="utf-8")
    fields = [
        line.split("#")[0].strip() for line in definition.splitlines() if line.split("#")[0].strip()
    ]
    assert fields == ["geometry_msgs/TransformStamped[] transforms"]
