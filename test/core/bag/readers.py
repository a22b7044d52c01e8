"""The readers our users open bags with, for asserting a file reads everywhere.

``read_sequential`` is the MCAP stream reader with CRC validation (chunk and data-section
CRCs), ``read_indexed`` the seeking reader through the summary with chunk CRCs validated,
``read_rosbags`` rosbags' AnyReader (which also decodes every message), and Foxglove's JS stack
runs through :mod:`test.core.bag.foxglove`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

from mcap.reader import SeekingReader
from mcap.stream_reader import StreamReader
from rosbags.highlevel import AnyReader

from .foxglove import foxglove_decode

Message = tuple[str, int, bytes]  # topic, log time [ns], CDR bytes


def read_sequential(path: Path) -> list[Message]:
    """Every message, reading the file front to back with CRC validation; ends at the footer."""
    channels: dict[int, str] = {}
    out: list[Message] = []
    footer = False
    with path.open("rb") as stream:
        for record in StreamReader(stream, validate_crcs=True).records:
            name = type(record).__name__
            if name == "Channel":
                channels[record.id] = record.topic  # type: ignore[attr-defined]
            elif name == "Message":
                out.append((channels[record.channel_id], record.log_time, record.data))  # type: ignore[attr-defined]
            elif name == "Footer":
                footer = True
    assert footer, f"{path}: no footer"
    _assert_summary_crc(path)
    return out


def _assert_summary_crc(path: Path) -> None:
    data = path.read_bytes()
    footer_at = len(data) - 8 - 29
    start = int.from_bytes(data[footer_at + 9 : footer_at + 17], "little")
    crc = int.from_bytes(data[footer_at + 25 : footer_at + 29], "little")
    assert crc == 0 or zlib.crc32(data[start : footer_at + 25]) == crc, f"{path}: summary CRC"


def read_indexed(path: Path) -> list[Message]:
    """Every message through the summary's chunk indexes, chunk CRCs validated."""
    with path.open("rb") as stream:
        reader = SeekingReader(stream, validate_crcs=True)
        return [
            (channel.topic, message.log_time, message.data)
            for _schema, channel, message in reader.iter_messages(log_time_order=False)
        ]


def read_rosbags(path: Path) -> list[Message]:
    """Every message decoded by rosbags (the raw bytes returned)."""
    with AnyReader([path]) as reader:
        out = []
        for connection, timestamp, data in reader.messages():
            reader.deserialize(data, connection.msgtype)
            out.append((connection.topic, timestamp, bytes(data)))
        return out


def assert_all_readers_agree(files: Iterable[Path], foxglove: bool = True) -> list[Message]:
    """Each file reads the same with all four readers; returns the messages of all files."""
    files = list(files)
    results = foxglove_decode(files) if foxglove else {}
    everything: list[Message] = []
    for path in files:
        sequential = read_sequential(path)
        assert sorted(read_indexed(path)) == sorted(sequential), path
        assert sorted(read_rosbags(path)) == sorted(sequential), path
        if foxglove:
            got = results[str(path)]
            assert got["ok"], f"Foxglove cannot read {path}: {got['error']}"
            assert got["messages"] == got["stream_messages"] == len(sequential), path
        everything += sequential
    return everything
