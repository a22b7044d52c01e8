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
