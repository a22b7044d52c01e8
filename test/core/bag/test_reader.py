"""iter_messages in stored order walks indexed chunks itself, matching the mcap reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.reader import iter_messages

TOPICS = ("/a", "/b", "/c")


def _write(path: Path, compression: CompressionType, chunk_size: int = 256) -> None:
    with path.open("wb") as stream:
        writer = Writer(stream, chunk_size=chunk_size, compression=compression)
        writer.start(profile="ros2", library="test")
        schema = writer.register_schema("std_msgs/msg/String", "ros2msg", b"string data")
        ids = [writer.register_channel(t, "cdr", schema) for t in TOPICS]
        for i in range(200):
            channel = ids[i % 3] if i < 150 else ids[0]
            data = bytes([i % 256]) * (1 + i % 37)
            writer.add_message(channel, log_time=1000 - i, data=data, publish_time=i, sequence=i)
        writer.finish()


def _reference(path: Path, topics: list[str] | None) -> list[tuple[object, ...]]:
    with path.open("rb") as stream:
        return [
            (c.topic, s.name, m.log_time, m.publish_time, m.sequence, bytes(m.data))
            for s, c, m in make_reader(stream).iter_messages(topics=topics, log_time_order=False)
        ]


def _ours(path: Path, topics: list[str] | None) -> list[tuple[object, ...]]:
    return [
        (m.topic, m.type, m.log_time_ns, m.publish_time_ns, m.sequence, m.data)
        for m in iter_messages(path, topics=topics, log_time_order=False)
    ]


@pytest.mark.parametrize(
    "compression", [CompressionType.ZSTD, CompressionType.LZ4, CompressionType.NONE]
)
def test_stored_order_matches_the_mcap_reader(tmp_path: Path, compression: CompressionType) -> None:
    """Every message, its times, sequence and bytes, in the mcap reader's stored order."""
    path = tmp_path / "x.mcap"
    _write(path, compression)
    assert _ours(path, None) == _reference(path, None)


def test_topic_filter_matches_the_mcap_reader(tmp_path: Path) -> None:
    """Asking for some topics gives exactly the mcap reader's messages of those topics."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.ZSTD)
    wanted = ["/b", "/c"]
    ours = _ours(path, wanted)
    assert ours == _reference(path, wanted)
    assert {row[0] for row in ours} == set(wanted)


def test_damaged_chunk_raises_bag_format_error(tmp_path: Path) -> None:
    """A chunk whose bytes were overwritten raises BagFormatError naming the file."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.NONE, chunk_size=1 << 20)
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None
    index = summary.chunk_indexes[0]
    data = bytearray(path.read_bytes())
    start = index.chunk_start_offset + index.chunk_length - 40
    data[start : start + 8] = b"\xff" * 8  # a record length far past the chunk's end
    path.write_bytes(bytes(data))
    with pytest.raises(BagFormatError, match=r"x\.mcap"):
        list(iter_messages(path, log_time_order=False))
