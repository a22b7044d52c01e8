"""The chunked MCAP writer writes, for the same calls, the bytes the ``mcap`` package's
``Writer`` writes with the episode writer's settings (every index, CRCs of chunks, data
section and summary): readers cannot tell the two apart."""

from __future__ import annotations

import io

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from humanoid_teleop.core.bag.mcap_writer import ChunkedMcapWriter

LIBRARY_COMPRESSION = {
    "zstd": CompressionType.ZSTD,
    "lz4": CompressionType.LZ4,
    "": CompressionType.NONE,
}


def _calls(writer: Writer | ChunkedMcapWriter, seed: int) -> None:
    """A recording's calls: schemas and channels (one added late, metadata with non-ASCII
    text), messages of every size out of log-time order over several chunks, a flush, a
    metadata record between chunks."""
    rng = np.random.default_rng(seed)
    writer.start(profile="ros2", library="humanoid_teleop test")
    pose = writer.register_schema("geometry_msgs/msg/PoseStamped", "ros2msg", b"float64 x\n")
    state = writer.register_schema("sensor_msgs/msg/JointState", "ros2msg", b"string[] name\n")
    channels = [
        writer.register_channel("/a", "cdr", pose, {"offered_qos_profiles": "- depth: 10"}),
        writer.register_channel("/b", "cdr", state, {}),
    ]
    t_ns = 1_700_000_000_000_000_000
    for k in range(600):
        if k == 250:
            writer.flush()
            writer.add_metadata("note", {"operator": "Zoë", "task": "push"})
        if k == 300:
            channels.append(writer.register_channel("/größe", "cdr", pose, {"k": "v"}))
        channel = channels[int(rng.integers(len(channels)))]
        t_ns += int(rng.integers(-2_000_000, 4_000_000))  # some out of order
        data = rng.bytes(int(rng.choice([0, 1, 7, 48, 300, 2000])))
        writer.add_message(channel, t_ns, data, t_ns + 5, int(rng.integers(0, 2**32)))
    writer.add_metadata("rosbag2", {"serialized_metadata": "rosbag2_bagfile_information: {}"})
    writer.finish()


@pytest.mark.parametrize("compression", ["zstd", "lz4", ""])
@pytest.mark.parametrize("chunk_size", [1, 4096, 4 * 1024 * 1024])
def test_writes_the_bytes_of_the_mcap_packages_writer(compression: str, chunk_size: int) -> None:
    ours, theirs = io.BytesIO(), io.BytesIO()
    _calls(ChunkedMcapWriter(ours, chunk_size, compression), seed=chunk_size)
    library = Writer(
        theirs,
        chunk_size=chunk_size,
        compression=LIBRARY_COMPRESSION[compression],
        enable_crcs=True,
        enable_data_crcs=True,
    )
    _calls(library, seed=chunk_size)
    assert ours.getvalue() == theirs.getvalue()
    messages = list(make_reader(io.BytesIO(ours.getvalue())).iter_messages(log_time_order=False))
    assert len(messages) == 600


def test_an_episode_without_messages_has_a_summary_like_the_packages() -> None:
    ours, theirs = io.BytesIO(), io.BytesIO()
    for writer in (ChunkedMcapWriter(ours, 1024, "zstd"), Writer(theirs, enable_data_crcs=True)):
        writer.start(profile="ros2", library="x")
        writer.register_channel("/a", "cdr", 0, {})
        writer.finish()
    assert ours.getvalue() == theirs.getvalue()


def test_an_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="'brotli' is not one of"):
        ChunkedMcapWriter(io.BytesIO(), 1024, "brotli")


@pytest.mark.parametrize("chunk_size", [1, 700, 4 * 1024 * 1024])
def test_a_batch_of_messages_writes_the_bytes_of_one_call_each(chunk_size: int) -> None:
    """add_messages (a port's held messages) writes what add_message writes per message,
    chunks closing within a batch or not; batches of any size, one message to many."""
    rng = np.random.default_rng(7)
    rows = [
        (
            int(rng.integers(1, 4)),
            1_700_000_000_000_000_000 + int(rng.integers(0, 10**9)),
            rng.bytes(int(rng.choice([0, 5, 64, 400]))),
            int(rng.integers(0, 10**9)),
            int(rng.integers(0, 2**32)),
        )
        for _ in range(500)
    ]
    outputs = []
    for batched in (False, True):
        stream = io.BytesIO()
        writer = ChunkedMcapWriter(stream, chunk_size, "zstd")
        writer.start(profile="ros2", library="x")
        schema = writer.register_schema("std_msgs/msg/String", "ros2msg", b"string data\n")
        for topic in ("/a", "/b", "/c"):
            writer.register_channel(topic, "cdr", schema, {})
        if batched:
            at = 0
            for size in (1, 0, 37, 200, 262):
                writer.add_messages(rows[at : at + size])
                at += size
            assert at == len(rows)
        else:
            for row in rows:
                writer.add_message(*row)
        writer.finish()
        outputs.append(stream.getvalue())
    assert outputs[0] == outputs[1]


def test_a_sequence_beyond_32_bits_wraps() -> None:
    stream = io.BytesIO()
    writer = ChunkedMcapWriter(stream, 1024, "")
    writer.start(profile="ros2", library="x")
    channel = writer.register_channel("/a", "cdr", 0, {})
    writer.add_message(channel, 10, b"x", 10, 2**32 + 5)
    writer.finish()
    (message,) = make_reader(io.BytesIO(stream.getvalue())).iter_messages()
    assert message[2].sequence == 5
