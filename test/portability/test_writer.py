"""The porter's message encoders give the bytes rosbags' ROS 2 type store reads, its stream
decoders read what a one-message decode reads, and held messages reach the files in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.reader import iter_messages
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.cdr import encode_forward_command
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.source import Float64ArrayDecoder, decode_float64_array
from humanoid_teleop.portability.writer import _BATCH_MESSAGES, EpisodeOutput, encode_rgb_image

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)


def test_rgb_image_bytes_equal_rosbags_serialization() -> None:
    """encode_rgb_image writes exactly what rosbags serializes for the same Image."""
    types = TYPESTORE.types
    image = (np.arange(5 * 7 * 3) % 251).astype(np.uint8).reshape(5, 7, 3)
    for frame_id in ("", "head_optical", "abc"):
        message = types["sensor_msgs/msg/Image"](
            header=types["std_msgs/msg/Header"](
                stamp=types["builtin_interfaces/msg/Time"](sec=1_800_000_000, nanosec=5),
                frame_id=frame_id,
            ),
            height=5, width=7, encoding="rgb8", is_bigendian=0, step=21, data=image.ravel(),
        )  # fmt: skip
        expected = bytes(TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/Image"))
        assert encode_rgb_image(1_800_000_000_000_000_005, frame_id, image) == expected


def test_float64_array_decoder_reads_any_layout() -> None:
    """decode_float64_array returns the data of Float64MultiArrays with 0-2 dimensions."""
    types = TYPESTORE.types
    dim = types["std_msgs/msg/MultiArrayDimension"]
    for dims in ([], [dim(label="j", size=3, stride=3)], [dim(label="ab", size=1, stride=1)] * 2):
        for values in (np.zeros(0), np.array([1.5, -2.0, 3.25])):
            message = types["std_msgs/msg/Float64MultiArray"](
                layout=types["std_msgs/msg/MultiArrayLayout"](dim=dims, data_offset=0),
                data=values,
            )
            data = bytes(TYPESTORE.serialize_cdr(message, "std_msgs/msg/Float64MultiArray"))
            assert np.array_equal(decode_float64_array(data, "test"), values)
    assert np.array_equal(decode_float64_array(encode_forward_command([1.0, 2.0]), "t"), [1, 2])


def test_float64_array_stream_decoder_follows_layout_changes() -> None:
    """Float64ArrayDecoder decodes a stream whose dimensions, labels and counts change
    between messages exactly as decode_float64_array decodes each message alone."""
    types = TYPESTORE.types
    dim = types["std_msgs/msg/MultiArrayDimension"]
    layouts = [[], [dim(label="j", size=3, stride=3)], [dim(label="joints", size=2, stride=2)]]
    decoder = Float64ArrayDecoder("stream")
    for step in range(12):
        values = np.arange(step % 4, dtype=np.float64) * 0.5 - step
        message = types["std_msgs/msg/Float64MultiArray"](
            layout=types["std_msgs/msg/MultiArrayLayout"](dim=layouts[step % 3], data_offset=0),
            data=values,
        )
        data = bytes(TYPESTORE.serialize_cdr(message, "std_msgs/msg/Float64MultiArray"))
        assert np.array_equal(decoder.decode(data), decode_float64_array(data, "one"))
        assert np.array_equal(decoder.decode(data), values)


def test_held_messages_reach_the_files_in_order_across_batches(tmp_path: Path) -> None:
    """Messages written in several batches (more than one batch of count, one of bytes)
    come out of the closed episode in submission order with per-topic sequences."""
    output = EpisodeOutput(tmp_path, "batched", EpisodeInfo(robot="g1"), START_NS)
    output.topic("/a", "std_msgs/msg/Bool")
    output.topic("/big", "std_msgs/msg/Bool")
    sent = []
    for i in range(_BATCH_MESSAGES + 300):
        topic, payload = ("/big", b"\x00" * (3 << 20)) if i % 2000 == 1 else ("/a", b"")
        data = b"\x00\x01\x00\x00" + payload + bytes([i % 2])
        output.raw(topic, START_NS + i, data)
        sent.append((topic, START_NS + i, data))
    path = output.close(None, START_NS + len(sent))
    got = [(m.topic, m.log_time_ns, m.data) for m in iter_messages(path, log_time_order=False)]
    assert got == sent
    sequences = [m.sequence for m in iter_messages(path) if m.topic == "/a"]
    assert sequences == list(range(1, len(sequences) + 1))


def test_abandoned_episode_leaves_nothing_of_its_held_messages(tmp_path: Path) -> None:
    """abandon() drops messages not yet written and the episode folder."""
    output = EpisodeOutput(tmp_path, "dropped", EpisodeInfo(robot="g1"), START_NS)
    output.topic("/a", "std_msgs/msg/Bool")
    for i in range(10):
        output.flag("/a", START_NS + i, True)
    output.abandon()
    assert list(tmp_path.iterdir()) == []


def test_episodes_share_the_type_definitions_of_their_install_prefixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Episodes of one process look each message type up once (the same definition object),
    and an episode opened under other install prefixes looks them up under those."""
    first = EpisodeOutput(tmp_path, "first", EpisodeInfo(robot="g1"), START_NS)
    second = EpisodeOutput(tmp_path, "second", EpisodeInfo(robot="g1"), START_NS)
    for output in (first, second):
        output.topic("/a", "std_msgs/msg/Bool")
    assert first._topics["/a"].definition is second._topics["/a"].definition
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "elsewhere"))
    third = EpisodeOutput(tmp_path, "third", EpisodeInfo(robot="g1"), START_NS)
    third.topic("/a", "std_msgs/msg/Bool")
    assert third._topics["/a"].definition is not first._topics["/a"].definition
    assert third._topics["/a"].definition == first._topics["/a"].definition
    for output in (first, second, third):
        output.abandon()
