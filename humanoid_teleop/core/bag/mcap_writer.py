"""A chunked MCAP writer whose per-message cost is one ``struct`` pack.

The episode writer (:mod:`.mcap_file`) hands it every message a recorder or a port writes:
thousands per second of episode. The ``mcap`` package's ``Writer`` builds a record object
and writes each field through its own buffer calls (~10 us a message, a fifth of a
kinematic port's CPU time); this one appends each message record's header in one
precompiled pack to the open chunk (a ``bytearray``) and keeps the chunk's message index as
plain tuples. Everything else (records, their order, compression, indexes, statistics,
summary, CRCs) follows the MCAP specification (https://mcap.dev/spec) exactly as that
``Writer`` lays it out with ``enable_crcs`` and ``enable_data_crcs``, every index type, the
schemas and channels repeated in the summary, statistics and summary offsets: for the same
calls the two write the same bytes (``test/core/bag/test_mcap_writer.py`` holds them to it).
Readers therefore see no difference; ``bench/mcap_writer.py`` measures the two side by side.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Mapping
from typing import IO

MAGIC = b"\x89MCAP0\r\n"
#: Record opcodes (MCAP specification).
HEADER, FOOTER, SCHEMA, CHANNEL, MESSAGE, CHUNK, MESSAGE_INDEX, CHUNK_INDEX = 1, 2, 3, 4, 5, 6, 7, 8
ATTACHMENT_INDEX, STATISTICS, METADATA, METADATA_INDEX, SUMMARY_OFFSET, DATA_END = (
    0x0A,
    0x0B,
    0x0C,
    0x0D,
    0x0E,
    0x0F,
)
#: Chunk compressions this writer offers (the names the specification gives them).
COMPRESSIONS = ("zstd", "lz4", "")

# a message record up to its data: opcode, record length, channel id, sequence, log and
# publish times [ns]
_MESSAGE_HEAD = struct.Struct("<BQHIQQ")
_MESSAGE_FIELDS = 2 + 4 + 8 + 8
_RECORD_HEAD = struct.Struct("<BQ")
_U16, _U32, _U64 = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<Q")


def _text(value: str) -> bytes:
    data = value.encode()
    return _U32.pack(len(data)) + data


def _string_map(values: Mapping[str, str]) -> bytes:
    body = b"".join(_text(k) + _text(v) for k, v in values.items())
    return _U32.pack(len(body)) + body


def _record(opcode: int, body: bytes) -> bytes:
    return _RECORD_HEAD.pack(opcode, len(body)) + body


def _compress(name: str, data: bytes | bytearray) -> bytes | bytearray:
    if name == "zstd":
        import zstandard

        out: bytes = zstandard.compress(data)
        return out
    if name == "lz4":
        import lz4.frame  # type: ignore[import-untyped]

        packed: bytes = lz4.frame.compress(data)
        return packed
    return data


class ChunkedMcapWriter:
    """Writes one MCAP file to ``stream`` in chunks of about ``chunk_size`` bytes
    (uncompressed), compressed with ``compression`` (one of :data:`COMPRESSIONS`, "" for
    none). Not thread-safe. An ``OSError`` of the stream propagates from the call that
    wrote."""

    def __init__(self, stream: IO[bytes], chunk_size: int, compression: str) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression {compression!r} is not one of {COMPRESSIONS}")
        if compression:  # an uninstalled codec fails here, not at the first chunk
            try:
                _compress(compression, b"")
            except ImportError as err:
                raise ValueError(f"{compression} compression needs {err.name}") from None
        self._stream = stream
        self._chunk_size = chunk_size
        self._compression = compression
        self._crc = 0  # of the data section so far
        self._schemas: list[bytes] = []  # their records, for the summary
        self._channels: list[bytes] = []
        self._chunk = bytearray()  # the open chunk's records
        # channel -> log time, offset, log time, offset, ... of its messages in the open
        # chunk (flat: its message index's entries as they are packed): the chunk's and the
        # file's message counts and time spans are taken from it as the chunk closes
        self._indexes: dict[int, list[int]] = {}
        self._chunk_indexes: list[bytes] = []
        self._metadata_indexes: list[bytes] = []
        self._message_counts: dict[int, int] = {}
        self._message_count = 0
        self._start_ns = 0
        self._end_ns = 0
        self._metadata_count = 0
        self._chunk_count = 0

    def _write(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._stream.write(data)

    def start(self, profile: str, library: str) -> None:
        """The magic and the header record."""
        self._write(MAGIC + _record(HEADER, _text(profile) + _text(library)))

    def register_schema(self, name: str, encoding: str, data: bytes) -> int:
        """A schema record (in the open chunk); its id (1, 2, ...)."""
        schema_id = len(self._schemas) + 1
        body = _U16.pack(schema_id) + _text(name) + _text(encoding) + _U32.pack(len(data)) + data
        self._register(self._schemas, _record(SCHEMA, body))
        return schema_id

    def register_channel(
        self, topic: str, message_encoding: str, schema_id: int, metadata: Mapping[str, str]
    ) -> int:
        """A channel record (in the open chunk); its id (1, 2, ...)."""
        channel_id = len(self._channels) + 1
        body = (
            _U16.pack(channel_id)
            + _U16.pack(schema_id)
            + _text(topic)
            + _text(message_encoding)
            + _string_map(metadata)
        )
        self._register(self._channels, _record(CHANNEL, body))
        return channel_id

    def _register(self, records: list[bytes], record: bytes) -> None:
        """Keep a schema's or channel's ``record`` for the summary (``records``) and put it
        in the open chunk."""
        records.append(record)
        self._chunk += record
        self._finish_chunk_if_full()

    def add_message(
        self, channel_id: int, log_time: int, data: bytes, publish_time: int, sequence: int = 0
    ) -> None:
        """A message record in the open chunk (times [ns]); the chunk is written once it
        holds more than ``chunk_size`` bytes. The record's sequence is 32 bits: a larger
        ``sequence`` wraps (where the ``mcap`` package's writer raises)."""
        self.add_messages(((channel_id, log_time, data, publish_time, sequence),))

    def add_messages(self, messages: Iterable[tuple[int, int, bytes, int, int]]) -> None:
        """:meth:`add_message` of each of ``messages`` (channel id, log time, data, publish
        time, sequence), in order: the same records, chunks and indexes in one call (an
        offline writer hands thousands of messages at once)."""
        chunk, indexes, chunk_size = self._chunk, self._indexes, self._chunk_size
        for channel_id, log_time, data, publish_time, sequence in messages:
            index = indexes.get(channel_id)
            if index is None:
                index = indexes[channel_id] = []
            index += (log_time, len(chunk))
            chunk += _MESSAGE_HEAD.pack(
                MESSAGE,
                _MESSAGE_FIELDS + len(data),
                channel_id,
                sequence & 0xFFFFFFFF,
                log_time,
                publish_time,
            )
            chunk += data
            if len(chunk) > chunk_size:
                self._finish_chunk()
                chunk, indexes = self._chunk, self._indexes

    def add_metadata(self, name: str, values: Mapping[str, str]) -> None:
        """A metadata record (between chunks) and its index entry."""
        offset = self._stream.tell()
        record = _record(METADATA, _text(name) + _string_map(values))
        self._metadata_count += 1
        self._metadata_indexes.append(
            _record(METADATA_INDEX, _U64.pack(offset) + _U64.pack(len(record)) + _text(name))
        )
        self._write(record)

    def flush(self) -> None:
        """Write the open chunk (if it holds a message) and flush the stream."""
        self._finish_chunk()
        self._stream.flush()

    def _finish_chunk_if_full(self) -> None:
        if len(self._chunk) > self._chunk_size:
            self._finish_chunk()

    def _finish_chunk(self) -> None:
        """The open chunk's record and its message indexes, if it holds a message (schemas
        and channels alone stay for the next chunk, as they are repeated in the summary)."""
        if not self._indexes:
            return
        chunk_start_ns = min(min(entries[::2]) for entries in self._indexes.values())
        chunk_end_ns = max(max(entries[::2]) for entries in self._indexes.values())
        records = self._chunk  # compressed and checked as it is (no copy of ~4 MB)
        packed = _compress(self._compression, records)
        body = (
            struct.pack(
                "<QQQI",
                chunk_start_ns,
                chunk_end_ns,
                len(records),
                zlib.crc32(records),
            )
            + _text(self._compression)
            + _U64.pack(len(packed))
            + packed
        )
        chunk_offset = self._stream.tell()
        chunk_record = _record(CHUNK, body)
        self._write(chunk_record)
        index_offset = chunk_offset + len(chunk_record)
        offsets = bytearray()  # channel id -> its message index's offset in the file
        indexes = bytearray()
        for channel_id, entries in self._indexes.items():
            offsets += _U16.pack(channel_id) + _U64.pack(index_offset + len(indexes))
            indexes += _record(
                MESSAGE_INDEX,
                _U16.pack(channel_id)
                + _U32.pack(8 * len(entries))
                + struct.pack(f"<{len(entries)}Q", *entries),
            )
        index_bytes = bytes(indexes)
        self._write(index_bytes)
        offset_map = bytes(offsets)
        self._chunk_indexes.append(
            _record(
                CHUNK_INDEX,
                struct.pack(
                    "<QQQQ",
                    chunk_start_ns,
                    chunk_end_ns,
                    chunk_offset,
                    len(chunk_record),
                )
                + _U32.pack(len(offset_map))
                + offset_map
                + _U64.pack(len(index_bytes))
                + _text(self._compression)
                + _U64.pack(len(packed))
                + _U64.pack(len(records)),
            )
        )
        self._chunk_count += 1
        if self._message_count:
            self._start_ns = min(self._start_ns, chunk_start_ns)
            self._end_ns = max(self._end_ns, chunk_end_ns)
        else:
            self._start_ns, self._end_ns = chunk_start_ns, chunk_end_ns
        counts = self._message_counts
        for channel_id, entries in self._indexes.items():
            counts[channel_id] = counts.get(channel_id, 0) + len(entries) // 2
            self._message_count += len(entries) // 2
        self._chunk = bytearray()
        self._indexes = {}

    def finish(self) -> None:
        """The last chunk, the data end, the summary (schemas, channels, statistics, chunk,
        attachment and metadata indexes, summary offsets) and the footer; the stream is left
        open."""
        self._finish_chunk()
        self._write(_record(DATA_END, _U32.pack(self._crc)))
        summary_start = self._stream.tell()
        counts = b"".join(_U16.pack(c) + _U64.pack(n) for c, n in self._message_counts.items())
        statistics = _record(
            STATISTICS,
            struct.pack(
                "<QHIIIIQQ",
                self._message_count,
                len(self._schemas),
                len(self._channels),
                0,
                self._metadata_count,
                self._chunk_count,
                self._start_ns,
                self._end_ns,
            )
            + _U32.pack(len(counts))
            + counts,
        )
        groups = (
            (SCHEMA, b"".join(self._schemas)),
            (CHANNEL, b"".join(self._channels)),
            (STATISTICS, statistics),
            (CHUNK_INDEX, b"".join(self._chunk_indexes)),
            (ATTACHMENT_INDEX, b""),
            (METADATA_INDEX, b"".join(self._metadata_indexes)),
        )
        summary = bytearray()
        offsets = bytearray()
        for opcode, group in groups:
            offsets += _record(
                SUMMARY_OFFSET,
                struct.pack("<BQQ", opcode, summary_start + len(summary), len(group)),
            )
            summary += group
        offsets_start = summary_start + len(summary)
        summary += offsets
        footer_head = struct.pack("<BQQQ", FOOTER, 20, summary_start, offsets_start)
        summary_crc = zlib.crc32(footer_head, zlib.crc32(bytes(summary)))
        self._stream.write(bytes(summary) + footer_head + _U32.pack(summary_crc) + MAGIC)
