"""Repair an MCAP file cut short (killed recorder, full disk) or damaged, without losing data.

The file is scanned record by record. Every chunk whose lengths, decompressed size and CRC
check out is kept byte for byte, wherever it is: a damaged record is skipped by searching for
the next valid chunk (resynchronising), not taken for the end of the file. Message indexes are
regenerated from the chunks' contents, and the file gets a ``rosbag2`` metadata record, a
``humanoid_teleop.episode`` record ``{"recovered": "true"}`` (so the flag survives in the file
itself), a data end with the data-section CRC, a summary whose every offset points at the
record it names, and a footer.

Two ways to write the result:

- **in place**, only when the repair keeps a prefix of the file untouched and cuts nothing
  but a torn tail holding no valid chunk (a killed recorder, a full disk; also a damaged
  summary after an intact data section): the tail is replaced by the appended indexes and
  summary, a few kilobytes, so this works on a disk that just ran full;
- **beside**: anything else (a skipped region inside the file, a rewritten index, a finished
  file with damage) is written to ``.<name>.recovering``, flushed, and renamed over the
  original, whose bytes stay as ``<name>.damaged`` unless ``keep_damaged`` is False.

Recovering a healthy or recovered file changes nothing; a recovery killed at any point and
run again gives the same file.
"""

from __future__ import annotations

import contextlib
import filecmp
import io
import logging
import mmap
import os
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import yaml
from mcap.data_stream import ReadDataStream, RecordBuilder
from mcap.records import (
    AttachmentIndex,
    Channel,
    Chunk,
    ChunkIndex,
    DataEnd,
    Footer,
    Header,
    MessageIndex,
    Metadata,
    MetadataIndex,
    Schema,
    Statistics,
    SummaryOffset,
)

from .errors import BagFormatError, DiskFullError
from .mcap_file import ROSBAG2_METADATA_RECORD, is_disk_full
from .metadata import (
    METADATA_FILE,
    BagMetadata,
    FileInfo,
    read_metadata_yaml,
    write_metadata_yaml,
)
from .reader import (
    EPISODE_METADATA_RECORD,
    channel_topic,
    episode_custom_data,
    metadata_disagreements,
    metadata_from_files,
    split_order,
)

LOG = logging.getLogger(__name__)
PARTIAL = ".partial"
DAMAGED_SUFFIX = ".damaged"
RECOVERED_RECORD = {"recovered": "true"}
MAGIC = bytes((137, 77, 67, 65, 80, 48, 13, 10))
_HEADER, _FOOTER, _SCHEMA, _CHANNEL, _MESSAGE, _CHUNK = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
_MESSAGE_INDEX, _CHUNK_INDEX, _ATTACHMENT, _ATTACHMENT_INDEX = 0x07, 0x08, 0x09, 0x0A
_STATISTICS, _METADATA, _METADATA_INDEX, _SUMMARY_OFFSET, _DATA_END = 0x0B, 0x0C, 0x0D, 0x0E, 0x0F
_FIRST_UNKNOWN_OPCODE = 0x10
_CHUNK_FIXED = 8 + 8 + 8 + 4 + 4 + 8  # chunk fields around the compression name and records
_FOOTER_RECORD = 9 + 20
_COMPRESSIONS = ("", "zstd", "lz4")
_UNKNOWN_TOPIC = "(unknown channel)"


@dataclass
class _FoundChunk:
    """A valid chunk: where it is, its parsed fields and what it holds."""

    start: int
    length: int  # whole record, opcode and length included
    chunk: Chunk
    indexes: dict[int, list[tuple[int, int]]]  # channel id → [(log time, offset in chunk)]
    counts: dict[int, int]  # messages per channel
    sizes: dict[int, int]  # message data bytes per channel
    schemas: list[Schema]
    channels: list[Channel]
    uses_undefined: set[int] = field(default_factory=set)  # channel ids defined only later
    index_ok: bool = False  # the file has a message index right after it for every channel
    index_offsets: dict[int, int] = field(default_factory=dict)  # channel → its index record
    index_end: int = 0
    raw: bytes | None = None  # the rebuilt record when messages on unknown channels were cut
    times_wrong: bool = False  # the record's start/end times are not its messages' (damage)


@dataclass
class _Record:
    """A record kept verbatim (schema, channel, metadata, attachment or unknown opcode)."""

    opcode: int
    start: int
    length: int
    parsed: Any = None


@dataclass
class McapScan:
    """What a scan found in one MCAP file."""

    size: int
    profile: str = ""
    header: tuple[int, int] | None = None  # (start, length) of a valid header record
    items: list[_FoundChunk | _Record] = field(default_factory=list)  # in file order
    schemas: dict[int, Schema] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    fallback_schemas: dict[int, Schema] = field(default_factory=dict)  # from the old summary
    fallback_channels: dict[int, Channel] = field(default_factory=dict)
    expected_counts: dict[int, int] = field(default_factory=dict)  # old summary statistics
    gaps: list[tuple[int, int, str]] = field(default_factory=list)  # skipped (start, end, why)
    damaged_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    damaged_sizes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    data_end: int | None = None
    data_crc_ok: bool = False
    summary_ok: bool = False
    finished: bool = False  # the file ends with the MCAP magic (its writer finished it)
    tail: int | None = None  # where the scan stopped without a data end
    indexes_rewritten: bool = False  # a message index in the file was wrong or missing
    problem: str = ""

    @property
    def chunks(self) -> list[_FoundChunk]:
        return [item for item in self.items if isinstance(item, _FoundChunk)]

    @property
    def healthy(self) -> bool:
        """Complete, every CRC and index right: nothing to repair."""
        return (
            self.data_end is not None
            and self.data_crc_ok
            and self.summary_ok
            and not self.gaps
            and not self.indexes_rewritten
            and not self.header_suspect
            and not any(c.times_wrong for c in self.chunks)
        )

    @property
    def message_count(self) -> int:
        return sum(sum(c.counts.values()) for c in self.chunks)

    @property
    def header_suspect(self) -> bool:
        """The header's profile is not 'ros2' while every schema is ros2msg: a damaged header."""
        encodings = {s.encoding for s in {**self.fallback_schemas, **self.schemas}.values()}
        return self.profile != "ros2" and encodings == {"ros2msg"}

    def channel_counts(self) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for chunk in self.chunks:
            for channel_id, count in chunk.counts.items():
                counts[channel_id] += count
        return dict(counts)


@dataclass(frozen=True)
class TopicRecovery:
    """Messages and message bytes of one topic kept and dropped by a repair (never negative)."""

    topic: str
    kept_messages: int
    kept_bytes: int
    dropped_messages: int
    dropped_bytes: int


@dataclass(frozen=True)
class RecoverReport:
    """Outcome of :func:`recover_mcap` for one file.

    ``bytes_dropped`` counts the bytes of damaged or torn regions skipped; ``kept_aside`` is
    where the original bytes are kept when the repair did not work in place.
    """

    path: Path
    was_complete: bool
    messages: int
    chunks: int
    bytes_dropped: int
    problem: str
    in_place: bool = True
    kept_aside: Path | None = None
    topics: tuple[TopicRecovery, ...] = ()


class _StrictBytes(io.BytesIO):
    """Content of one record: reading past its end is an error, not a short read."""

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        if size is not None and size >= 0 and len(data) != size:
            raise BagFormatError(f"a field runs {size - len(data)} bytes past the record")
        return data


def _read(cls: Any, content: bytes) -> Any:
    """Parse one record's content strictly: its fields fill the content exactly (a damaged
    inner length would otherwise make a stream reader run past the record) and writing the
    record again gives the same bytes (Foxglove refuses e.g. a map with a duplicated key)."""
    data = _StrictBytes(content)
    record = cls.read(ReadDataStream(data))
    if data.tell() != len(content):
        raise BagFormatError(
            f"{cls.__name__} fields take {data.tell()} of the record's {len(content)} bytes"
        )
    if _record_bytes(record)[9:] != content:  # e.g. a map with a duplicated key
        raise BagFormatError(f"{cls.__name__} record does not read back as written")
    return record


def _decompress(compression: str, data: bytes, size: int) -> bytes:
    if compression == "":
        return data
    if compression == "zstd":
        import zstandard

        return bytes(zstandard.ZstdDecompressor().decompress(data, max_output_size=size))
    import lz4.frame  # type: ignore[import-untyped]

    return bytes(lz4.frame.decompress(data))


def _compress(compression: str, data: bytes) -> bytes:
    if compression == "":
        return data
    if compression == "zstd":
        import zstandard

        return bytes(zstandard.ZstdCompressor().compress(data))
    import lz4.frame

    return bytes(lz4.frame.compress(data))


def _records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(opcode, offset, content) of the records in ``data``; raises unless they fill it."""
    pos = 0
    while pos < len(data):
        if pos + 9 > len(data):
            raise BagFormatError("chunk records end inside a record header")
        opcode, length = struct.unpack_from("<BQ", data, pos)
        if pos + 9 + length > len(data):
            raise BagFormatError("chunk record runs past the chunk")
        yield opcode, pos, bytes(data[pos + 9 : pos + 9 + length])
        pos += 9 + length


def _chunk_fields(content: bytes) -> tuple[Chunk, int]:
    """Parse a chunk record's content strictly (lengths must add up); returns it and its CRC."""
    if len(content) < _CHUNK_FIXED:
        raise BagFormatError("chunk record too short")
    start, end, usize, crc, clen = struct.unpack_from("<QQQII", content, 0)
    if 32 + clen + 8 > len(content):
        raise BagFormatError("chunk compression name runs past the record")
    compression = content[32 : 32 + clen].decode("utf-8")
    if compression not in _COMPRESSIONS:
        raise BagFormatError(f"unsupported chunk compression {compression!r}")
    (rlen,) = struct.unpack_from("<Q", content, 32 + clen)
    if 32 + clen + 8 + rlen != len(content):
        raise BagFormatError("chunk lengths do not add up to the record length")
    data = content[32 + clen + 8 :]
    chunk = Chunk(
        compression=compression,
        data=data,
        message_end_time=end,
        message_start_time=start,
        uncompressed_crc=crc,
        uncompressed_size=usize,
    )
    return chunk, crc


def _open_chunk(
    content: bytes, start: int, known_channels: Mapping[int, Channel], *, require_crc: bool
) -> _FoundChunk:
    """Validate a chunk record (lengths, size, CRC, records) and index its messages."""
    chunk, crc = _chunk_fields(content)
    if require_crc and crc == 0:
        raise BagFormatError("chunk has no CRC")
    data = _decompress(chunk.compression, chunk.data, chunk.uncompressed_size)
    if len(data) != chunk.uncompressed_size:
        raise BagFormatError(f"chunk holds {len(data)} bytes, declares {chunk.uncompressed_size}")
    if crc and zlib.crc32(data) != crc:
        raise BagFormatError("chunk CRC mismatch")
    found = _FoundChunk(start, 9 + len(content), chunk, {}, {}, {}, [], [])
    defined = set(known_channels)
    for opcode, pos, body in _records(data):
        if opcode == _SCHEMA:
            found.schemas.append(_read(Schema, body))
        elif opcode == _CHANNEL:
            channel = _read(Channel, body)
            found.channels.append(channel)
            defined.add(channel.id)
        elif opcode == _MESSAGE:
            if len(body) < 22:
                raise BagFormatError("message record too short")
            channel_id, _seq, log_time = struct.unpack_from("<HIQ", body, 0)
            if channel_id not in defined:
                found.uses_undefined.add(channel_id)
            found.indexes.setdefault(channel_id, []).append((log_time, pos))
            found.counts[channel_id] = found.counts.get(channel_id, 0) + 1
            found.sizes[channel_id] = found.sizes.get(channel_id, 0) + len(body) - 22
        else:
            raise BagFormatError(f"record with opcode {opcode:#x} inside a chunk")
    times = [t for records in found.indexes.values() for t, _pos in records]
    if times and (chunk.message_start_time, chunk.message_end_time) != (min(times), max(times)):
        found.times_wrong = True
    return found


def _count_damaged(scan: McapScan, content: bytes) -> None:
    """Best effort: count the messages of a chunk that failed its checks, per channel."""
    try:
        chunk, _crc = _chunk_fields(content)
        data = _decompress(chunk.compression, chunk.data, chunk.uncompressed_size)
        for opcode, _pos, body in _records(data):
            if opcode == _MESSAGE and len(body) >= 22:
                (channel_id,) = struct.unpack_from("<H", body, 0)
                scan.damaged_counts[channel_id] += 1
                scan.damaged_sizes[channel_id] += len(body) - 22
    except Exception:  # a damaged chunk may fail anywhere; counting is optional
        return


def scan_mcap(path: Path) -> McapScan:
    """Scan ``path``: valid chunks anywhere, skipped regions, data-section and summary state."""
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, io.SEEK_END)
            if size < len(MAGIC):
                raise BagFormatError(f"{path}: not an MCAP file ({size} bytes)")
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                scanner = _Scanner(mm, size)
                if mm[: len(MAGIC)] != MAGIC:
                    # A damaged magic in front of MCAP records is damage, not another format.
                    if not scanner.header_follows() and scanner.next_chunk(len(MAGIC)) is None:
                        raise BagFormatError(f"{path}: not an MCAP file (bad or missing magic)")
                    scanner.scan.gaps.append((0, len(MAGIC), "bad magic"))
                    scanner.scan.problem = "bad magic at the start of the file"
                return scanner.run()
    except OSError as err:
        raise BagFormatError(f"{path}: cannot read: {err.strerror or err}") from err


class _Scanner:
    def __init__(self, mm: mmap.mmap, size: int) -> None:
        self.mm = mm
        self.scan = McapScan(size=size, finished=mm[size - len(MAGIC) :] == MAGIC)

    def run(self) -> McapScan:
        scan = self.scan
        self._read_old_summary()
        pos = len(MAGIC)
        crc = zlib.crc32(MAGIC)
        last_chunk: _FoundChunk | None = None
        while True:
            if pos + 9 > scan.size:
                scan.problem = scan.problem or (
                    "file ends inside a record header" if pos < scan.size else "no data end"
                )
                scan.tail = pos
                break
            opcode, length = struct.unpack_from("<BQ", self.mm, pos)
            end = pos + 9 + length
            why = ""
            if end > scan.size:
                why = f"record at byte {pos} runs past the end of the file"
            else:
                why = self._take(opcode, pos, end, last_chunk)
            if why == "data end":
                scan.data_end = pos
                (stored,) = struct.unpack_from("<I", self.mm, pos + 9) if length >= 4 else (0,)
                scan.data_crc_ok = not scan.gaps and (stored in (0, crc))
                if not scan.data_crc_ok and not scan.gaps:
                    scan.problem = scan.problem or "data section CRC mismatch"
                    scan.indexes_rewritten = True
                self._check_summary(pos + 9 + length)
                break
            if why:
                scan.problem = scan.problem or why
                resync = self.next_chunk(pos + 1)
                if resync is None:
                    scan.tail = pos
                    break
                scan.gaps.append((pos, resync, why))
                pos = resync
                last_chunk = None
                continue
            if opcode == _CHUNK:
                last_chunk = scan.items[-1]  # type: ignore[assignment]
            elif opcode != _MESSAGE_INDEX:
                last_chunk = None
            crc = zlib.crc32(self.mm[pos:end], crc)
            pos = end
        self._finish_indexes()
        return scan

    def _take(self, opcode: int, pos: int, end: int, last_chunk: _FoundChunk | None) -> str:
        """Record the record at ``pos``; '' when kept, 'data end', or why it is invalid."""
        scan = self.scan
        content = bytes(self.mm[pos + 9 : end])
        try:
            if opcode == _HEADER and pos == len(MAGIC):
                (n,) = struct.unpack_from("<I", content, 0)
                scan.profile = content[4 : 4 + n].decode("utf-8")
                _read(Header, content)
                scan.header = (pos, end - pos)
            elif opcode == _SCHEMA:
                schema = _read(Schema, content)
                scan.schemas.setdefault(schema.id, schema)
                scan.items.append(_Record(opcode, pos, end - pos, schema))
            elif opcode == _CHANNEL:
                channel = _read(Channel, content)
                scan.channels.setdefault(channel.id, channel)
                scan.items.append(_Record(opcode, pos, end - pos, channel))
            elif opcode == _CHUNK:
                try:
                    found = _open_chunk(content, pos, scan.channels, require_crc=False)
                except Exception:
                    _count_damaged(scan, content)
                    raise
                for schema in found.schemas:
                    scan.schemas.setdefault(schema.id, schema)
                for channel in found.channels:
                    scan.channels.setdefault(channel.id, channel)
                scan.items.append(found)
            elif opcode == _MESSAGE_INDEX:
                if last_chunk is None:
                    return f"message index at byte {pos} follows no chunk"
                index = _read(MessageIndex, content)
                if last_chunk.indexes.get(index.channel_id) != list(index.records):
                    scan.indexes_rewritten = True
                last_chunk.index_offsets[index.channel_id] = pos
                last_chunk.index_end = end
            elif opcode == _METADATA:
                scan.items.append(_Record(opcode, pos, end - pos, _read(Metadata, content)))
            elif opcode == _ATTACHMENT:
                stored = struct.unpack_from("<I", content, len(content) - 4)[0]
                if stored and zlib.crc32(content[:-4]) != stored:
                    return f"attachment at byte {pos}: CRC mismatch"
                scan.items.append(_Record(opcode, pos, end - pos, _attachment_index(content)))
            elif opcode == _DATA_END:
                return "data end"
            elif opcode >= _FIRST_UNKNOWN_OPCODE:
                scan.items.append(_Record(opcode, pos, end - pos, None))
            else:
                return f"record at byte {pos}: opcode {opcode:#x} does not belong here"
        except Exception as err:  # any parse failure marks the record damaged
            return f"record at byte {pos}: {err}"
        return ""

    def _finish_indexes(self) -> None:
        chunks = self.scan.chunks
        for i, chunk in enumerate(chunks):
            chunk.index_ok = set(chunk.index_offsets) == set(chunk.indexes)
            if not chunk.index_ok and (i < len(chunks) - 1 or self.scan.data_end is not None):
                self.scan.indexes_rewritten = True  # the last chunk of a cut file may lack them

    def header_follows(self) -> bool:
        """A header record with a readable profile sits right after the (damaged) magic."""
        at = len(MAGIC)
        if at + 9 + 8 > self.scan.size or self.mm[at] != _HEADER:
            return False
        (length,) = struct.unpack_from("<Q", self.mm, at + 1)
        try:
            _read(Header, bytes(self.mm[at + 9 : at + 9 + length]))
        except Exception:  # anything unreadable is no header
            return False
        return bool(at + 9 + length <= self.scan.size)

    def next_chunk(self, start: int) -> int | None:
        """Offset of the next valid chunk record (with a CRC) at or after ``start``."""
        mm, size = self.mm, self.scan.size
        pos = start
        while True:
            pos = mm.find(bytes((_CHUNK,)), pos)
            if pos < 0 or pos + 9 + _CHUNK_FIXED > size:
                return None
            (length,) = struct.unpack_from("<Q", mm, pos + 1)
            if _CHUNK_FIXED <= length <= size - pos - 9:
                (clen,) = struct.unpack_from("<I", mm, pos + 9 + 28)
                if clen in (0, 3, 4):
                    try:
                        _open_chunk(
                            bytes(mm[pos + 9 : pos + 9 + length]),
                            pos,
                            {**self.scan.fallback_channels, **self.scan.channels},
                            require_crc=True,
                        )
                        return pos
                    except Exception:  # not a chunk here; keep searching
                        pass
            pos += 1

    def _footer(self) -> tuple[int, int, int, int] | None:
        """(footer offset, summary start, summary offset start, summary CRC) if present."""
        size = self.scan.size
        if not self.scan.finished or size < len(MAGIC) * 2 + _FOOTER_RECORD:
            return None
        at = size - len(MAGIC) - _FOOTER_RECORD
        opcode, length, start, offset_start, crc = struct.unpack_from("<BQQQI", self.mm, at)
        if opcode != _FOOTER or length != 20:
            return None
        return at, start, offset_start, crc

    def _summary_records(self, start: int, stop: int) -> list[tuple[int, bytes]]:
        out = []
        pos = start
        while pos + 9 <= stop:
            opcode, length = struct.unpack_from("<BQ", self.mm, pos)
            if pos + 9 + length > stop:
                break
            out.append((opcode, bytes(self.mm[pos + 9 : pos + 9 + length])))
            pos += 9 + length
        return out

    def _read_old_summary(self) -> None:
        """Schemas, channels and counts from the old summary, for chunks that lost theirs."""
        footer = self._footer()
        if footer is None or not footer[1] or not len(MAGIC) < footer[1] < footer[0]:
            return
        at, start, _offsets, crc = footer
        if crc and zlib.crc32(self.mm[start : at + 1 + 8 + 8 + 8]) != crc:
            return  # a damaged summary could hand out damaged definitions
        for opcode, content in self._summary_records(start, at):
            try:
                if opcode == _SCHEMA:
                    schema = _read(Schema, content)
                    self.scan.fallback_schemas[schema.id] = schema
                elif opcode == _CHANNEL:
                    channel = _read(Channel, content)
                    self.scan.fallback_channels[channel.id] = channel
                elif opcode == _STATISTICS:
                    stats = _read(Statistics, content)
                    self.scan.expected_counts = dict(stats.channel_message_counts)
            except Exception:  # a damaged summary record is just not used
                continue

    def _check_summary(self, summary_expected: int) -> None:
        """The summary is intact (CRC) and describes exactly what the scan found."""
        scan = self.scan
        footer = self._footer()
        if footer is None:
            scan.problem = scan.problem or "data end found but the summary or footer is damaged"
            return
        at, start, offset_start, crc = footer
        if start != summary_expected or not start <= offset_start <= at:
            scan.problem = scan.problem or "footer offsets do not point at the summary"
            return
        if crc and zlib.crc32(self.mm[start : at + 1 + 8 + 8 + 8]) != crc:
            scan.problem = scan.problem or "summary CRC mismatch"
            return
        try:
            scan.summary_ok = self._summary_matches(self._summary_records(start, at))
        except Exception as err:  # any parse failure makes the summary unusable
            scan.problem = scan.problem or f"summary unreadable: {err}"
            return
        if not scan.summary_ok:
            scan.problem = scan.problem or "summary does not match the data section"

    def _summary_matches(self, records: list[tuple[int, bytes]]) -> bool:
        scan = self.scan
        indexes = [_read(ChunkIndex, c) for op, c in records if op == _CHUNK_INDEX]
        stats = [_read(Statistics, c) for op, c in records if op == _STATISTICS]
        chunks = scan.chunks
        if len(indexes) != len(chunks) or len(stats) != 1:
            return False
        for index, chunk in zip(indexes, chunks, strict=True):
            if (
                index.chunk_start_offset != chunk.start
                or index.chunk_length != chunk.length
                or dict(index.message_index_offsets) != chunk.index_offsets
            ):
                return False
        return bool(
            stats[0].message_count == scan.message_count
            and dict(stats[0].channel_message_counts) == scan.channel_counts()
        )


def _attachment_index(content: bytes) -> AttachmentIndex:
    """An attachment's index entry (offset and length filled in where it is placed)."""
    stream = ReadDataStream(io.BytesIO(content))
    log_time = stream.read8()
    create_time = stream.read8()
    name = stream.read(stream.read4()).decode("utf-8")
    media_type = stream.read(stream.read4()).decode("utf-8")
    data_size = stream.read8()
    return AttachmentIndex(
        offset=0,
        length=0,
        log_time=log_time,
        create_time=create_time,
        data_size=data_size,
        name=name,
        media_type=media_type,
    )


def _is_repair_record(item: _FoundChunk | _Record) -> bool:
    """A record a repair writes (and so rewrites): the rosbag2 or the 'recovered' record."""
    if not isinstance(item, _Record) or item.opcode != _METADATA:
        return False
    record: Metadata = item.parsed
    return record.name == ROSBAG2_METADATA_RECORD or (
        record.name == EPISODE_METADATA_RECORD and dict(record.metadata) == RECOVERED_RECORD
    )


def _rosbag2_custom(record: Metadata) -> dict[str, str]:
    try:
        data = yaml.safe_load(record.metadata.get("serialized_metadata", ""))
        custom = data.get("custom_data") or {}
        return {str(k): str(v) for k, v in custom.items()}
    except Exception:  # a damaged rosbag2 record contributes nothing
        return {}


def _end(builder: Any) -> bytes:
    return bytes(builder.end())


def _record_bytes(record: Any) -> bytes:
    builder = RecordBuilder()
    record.write(builder)
    return _end(builder)


@dataclass
class _Placed:
    """A chunk where the repaired file has it, with its message indexes."""

    chunk: _FoundChunk
    start: int
    index_offsets: dict[int, int]
    index_length: int

    @property
    def length(self) -> int:
        return len(self.chunk.raw) if self.chunk.raw is not None else self.chunk.length


@dataclass
class _Output:
    """The repaired file's bytes from ``base`` on: copied source ranges and new records."""

    base: int
    crc: int
    parts: list[bytes | tuple[int, int]] = field(default_factory=list)
    placed: list[_Placed] = field(default_factory=list)
    metadata: list[tuple[int, int, str]] = field(default_factory=list)
    attachments: list[AttachmentIndex] = field(default_factory=list)
    channels: dict[int, Channel] = field(default_factory=dict)
    schemas: dict[int, Schema] = field(default_factory=dict)
    offset: int = -1

    def __post_init__(self) -> None:
        self.offset = self.base

    def copy(self, mm: mmap.mmap, start: int, length: int) -> int:
        at = self.offset
        self.parts.append((start, length))
        self.crc = zlib.crc32(mm[start : start + length], self.crc)
        self.offset += length
        return at

    def add(self, data: bytes) -> int:
        at = self.offset
        self.parts.append(data)
        self.crc = zlib.crc32(data, self.crc)
        self.offset += len(data)
        return at

    def add_indexes(self, chunk: _FoundChunk, start: int) -> None:
        offsets = {}
        builder = RecordBuilder()
        at = self.offset
        for channel_id, records in chunk.indexes.items():
            offsets[channel_id] = at + builder.count
            MessageIndex(channel_id=channel_id, records=records).write(builder)
        self.add(_end(builder))
        self.placed.append(_Placed(chunk, start, offsets, self.offset - at))

    def write_to(self, mm: mmap.mmap, stream: IO[bytes]) -> None:
        for part in self.parts:
            if isinstance(part, bytes):
                stream.write(part)
            else:
                start, length = part
                stream.write(mm[start : start + length])


def _plan_in_place(scan: McapScan) -> int | None:
    """The offset to cut at when the repair may work in place (see module doc), else None."""
    if scan.gaps or scan.indexes_rewritten:
        return None
    if any(c.uses_undefined or c.times_wrong for c in scan.chunks):
        return None
    if scan.header is None or scan.header_suspect:
        return None  # the header is rewritten
    if scan.data_end is not None:
        if not scan.data_crc_ok:
            return None
        cut = scan.data_end  # intact data section, damaged or stale summary
    elif scan.finished:
        return None  # a finished file that lost its data end: keep its bytes
    else:
        cut = scan.tail if scan.tail is not None else scan.size
    items = list(scan.items)
    while items and _is_repair_record(items[-1]):
        cut = items.pop().start  # an earlier repair's records are written again
    chunks = scan.chunks
    if chunks and not chunks[-1].index_ok:
        last = chunks[-1]
        if items[-1] is not last:
            return None  # records after a chunk without indexes: rewrite beside
        cut = last.start + last.length
    return cut


def _custom(items: list[_FoundChunk | _Record], extra: Mapping[str, str] | None) -> dict[str, str]:
    records = [i.parsed for i in items if isinstance(i, _Record) and i.opcode == _METADATA]
    custom: dict[str, str] = {}
    for record in records:
        if record.name == ROSBAG2_METADATA_RECORD:
            custom.update(_rosbag2_custom(record))
    custom.update(episode_custom_data(records))
    custom.update(extra or {})
    custom.pop("recovered", None)
    return custom


def _append_repair_records(
    scan: McapScan, out: _Output, custom: dict[str, str], name: str, ros_distro: str
) -> None:
    """The rosbag2 record describing the repaired file and the 'recovered' episode record."""
    counts: dict[int, int] = defaultdict(int)
    for placed in out.placed:
        for channel_id, count in placed.chunk.counts.items():
            counts[channel_id] += count
    starts = [p.chunk.chunk.message_start_time for p in out.placed if p.chunk.counts]
    ends = [p.chunk.chunk.message_end_time for p in out.placed if p.chunk.counts]
    start, end = (min(starts), max(ends)) if starts else (0, 0)
    total = sum(counts.values())
    topics = []
    for channel_id, channel in sorted(out.channels.items()):
        schema = out.schemas.get(channel.schema_id)
        topics.append(channel_topic(channel, schema, counts.get(channel_id, 0)))
    meta = BagMetadata(
        starting_time_ns=start,
        duration_ns=end - start,
        message_count=total,
        topics=tuple(topics),
        files=(FileInfo(name, start, end - start, total),),
        custom_data={**custom, **RECOVERED_RECORD},
        ros_distro=ros_distro,
    )
    for record_name, data in (
        (ROSBAG2_METADATA_RECORD, {"serialized_metadata": meta.serialized()}),
        (EPISODE_METADATA_RECORD, dict(RECOVERED_RECORD)),
    ):
        raw = _record_bytes(Metadata(name=record_name, metadata=data))
        out.metadata.append((out.add(raw), len(raw), record_name))


def _build_in_place(
    scan: McapScan, mm: mmap.mmap, cut: int, name: str, ros_distro: str, extra: Mapping[str, str]
) -> _Output:
    """New bytes appended at ``cut`` (the file before ``cut`` stays as it is)."""
    out = _Output(cut, zlib.crc32(memoryview(mm)[:cut]))  # no copy of a large file
    kept = [i for i in scan.items if i.start < cut]
    for item in kept:
        if isinstance(item, _FoundChunk):
            if item.index_ok:
                length = item.index_end - item.start - item.length if item.indexes else 0
                out.placed.append(_Placed(item, item.start, dict(item.index_offsets), length))
            else:
                out.add_indexes(item, item.start)
        elif item.opcode == _METADATA:
            out.metadata.append((item.start, item.length, item.parsed.name))
        elif item.opcode == _ATTACHMENT:
            out.attachments.append(_placed_attachment(item, item.start))
    out.channels = dict(scan.channels)
    out.schemas = dict(scan.schemas)
    _append_repair_records(scan, out, _custom(kept, extra), name, ros_distro)
    return out


def _placed_attachment(item: _Record, at: int) -> AttachmentIndex:
    index: AttachmentIndex = item.parsed
    return AttachmentIndex(
        offset=at,
        length=item.length,
        log_time=index.log_time,
        create_time=index.create_time,
        data_size=index.data_size,
        name=index.name,
        media_type=index.media_type,
    )


def _without_channels(chunk: _FoundChunk, drop: set[int]) -> _FoundChunk:
    """``chunk`` rebuilt without the messages of channels ``drop`` (no definition survived),
    its start and end times those of the messages it keeps."""
    data = _decompress(chunk.chunk.compression, chunk.chunk.data, chunk.chunk.uncompressed_size)
    keep = bytearray()
    for opcode, pos, _body in _records(data):
        (length,) = struct.unpack_from("<Q", data, pos + 1)
        if opcode == _MESSAGE and struct.unpack_from("<H", data, pos + 9)[0] in drop:
            continue
        keep += data[pos : pos + 9 + length]
    records = bytes(keep)
    times = [
        struct.unpack_from("<Q", body, 6)[0] for op, _p, body in _records(records) if op == _MESSAGE
    ]
    rebuilt = Chunk(
        compression=chunk.chunk.compression,
        data=_compress(chunk.chunk.compression, records),
        message_end_time=max(times, default=0),
        message_start_time=min(times, default=0),
        uncompressed_crc=zlib.crc32(records),
        uncompressed_size=len(records),
    )
    raw = _record_bytes(rebuilt)
    found = _open_chunk(raw[9:], chunk.start, {}, require_crc=False)
    found.raw = raw
    found.uses_undefined = set()
    return found


def _build_beside(
    scan: McapScan, mm: mmap.mmap, name: str, ros_distro: str, extra: Mapping[str, str]
) -> _Output:
    """The whole repaired file: every valid record in order, definitions first where lost."""
    out = _Output(0, 0)
    out.add(MAGIC)
    if scan.header is not None and not scan.header_suspect:
        out.copy(mm, *scan.header)
    else:
        out.add(_record_bytes(Header(profile="ros2", library="humanoid_teleop recover")))
    known_channels = {**scan.fallback_channels, **scan.channels}
    known_schemas = {**scan.fallback_schemas, **scan.schemas}
    early = sorted(
        {i for c in scan.chunks for i in c.uses_undefined if i in known_channels}
        - set(scan.channels)
    )
    for channel_id in early:  # definitions only the old summary still had
        channel = known_channels[channel_id]
        schema = known_schemas.get(channel.schema_id)
        if schema is not None and schema.id not in out.schemas:
            out.add(_record_bytes(schema))
            out.schemas[schema.id] = schema
        out.add(_record_bytes(channel))
        out.channels[channel_id] = channel
    items = [i for i in scan.items if not _is_repair_record(i)]
    for item in items:
        if isinstance(item, _FoundChunk):
            for schema in item.schemas:
                out.schemas.setdefault(schema.id, schema)
            for channel in item.channels:
                out.channels.setdefault(channel.id, channel)
            unknown = {i for i in item.indexes if i not in known_channels}
            chunk = _without_channels(item, unknown) if unknown or item.times_wrong else item
            for channel_id in unknown:
                scan.damaged_counts[channel_id] += item.counts[channel_id]
                scan.damaged_sizes[channel_id] += item.sizes[channel_id]
            if not chunk.counts and not chunk.channels and not chunk.schemas:
                continue  # nothing left that a reader could use
            if chunk.raw is not None:
                start = out.add(chunk.raw)
            else:
                start = out.copy(mm, item.start, item.length)
            out.add_indexes(chunk, start)
            continue
        at = out.copy(mm, item.start, item.length)
        if item.opcode == _SCHEMA:
            out.schemas.setdefault(item.parsed.id, item.parsed)
        elif item.opcode == _CHANNEL:
            out.channels.setdefault(item.parsed.id, item.parsed)
        elif item.opcode == _METADATA:
            out.metadata.append((at, item.length, item.parsed.name))
        elif item.opcode == _ATTACHMENT:
            out.attachments.append(_placed_attachment(item, at))
    _append_repair_records(scan, out, _custom(items, extra), name, ros_distro)
    return out


def _summary_bytes(out: _Output) -> bytes:
    """Data end (with the data-section CRC), summary, footer and closing magic."""
    data_end = _record_bytes(DataEnd(data_section_crc=out.crc))
    summary_start = out.offset + len(data_end)
    builder = RecordBuilder()
    offsets: list[SummaryOffset] = []

    def group(opcode: int, records: list[Any]) -> None:
        start = builder.count
        for record in records:
            record.write(builder)
        if records:
            offsets.append(SummaryOffset(opcode, summary_start + start, builder.count - start))

    counts: dict[int, int] = defaultdict(int)
    for placed in out.placed:
        for channel_id, count in placed.chunk.counts.items():
            counts[channel_id] += count
    with_messages = [p.chunk.chunk for p in out.placed if p.chunk.counts]
    schema_ids = {c.schema_id for c in out.channels.values()}
    schemas = [out.schemas[k] for k in sorted(out.schemas) if k in schema_ids]
    group(_SCHEMA, schemas)
    group(_CHANNEL, [out.channels[k] for k in sorted(out.channels)])
    group(
        _STATISTICS,
        [
            Statistics(
                attachment_count=len(out.attachments),
                channel_count=len(out.channels),
                channel_message_counts=dict(counts),
                chunk_count=len(out.placed),
                message_count=sum(counts.values()),
                metadata_count=len(out.metadata),
                message_start_time=min((c.message_start_time for c in with_messages), default=0),
                message_end_time=max((c.message_end_time for c in with_messages), default=0),
                schema_count=len(schemas),
            )
        ],
    )
    group(
        _CHUNK_INDEX,
        [
            ChunkIndex(
                message_start_time=p.chunk.chunk.message_start_time,
                message_end_time=p.chunk.chunk.message_end_time,
                chunk_start_offset=p.start,
                chunk_length=p.length,
                message_index_offsets=dict(p.index_offsets),
                message_index_length=p.index_length,
                compression=p.chunk.chunk.compression,
                compressed_size=len(p.chunk.chunk.data),
                uncompressed_size=p.chunk.chunk.uncompressed_size,
            )
            for p in out.placed
        ],
    )
    group(_ATTACHMENT_INDEX, list(out.attachments))
    group(
        _METADATA_INDEX,
        [MetadataIndex(offset=o, length=n, name=name) for o, n, name in out.metadata],
    )
    offset_start = summary_start + builder.count
    for summary_offset in offsets:
        summary_offset.write(builder)
    body = _end(builder)
    crc = zlib.crc32(body)
    crc = zlib.crc32(struct.pack("<BQQQ", _FOOTER, 20, summary_start, offset_start), crc)
    footer = Footer(summary_start=summary_start, summary_offset_start=offset_start, summary_crc=crc)
    return data_end + body + _record_bytes(footer) + MAGIC


def _topic_report(scan: McapScan, out: _Output | None) -> tuple[TopicRecovery, ...]:
    channels = {**scan.fallback_channels, **scan.channels}
    kept: dict[int, int] = defaultdict(int)
    kept_bytes: dict[int, int] = defaultdict(int)
    for chunk in [p.chunk for p in out.placed] if out is not None else scan.chunks:
        for channel_id, count in chunk.counts.items():
            kept[channel_id] += count
            kept_bytes[channel_id] += chunk.sizes[channel_id]
    rows: dict[str, list[int]] = {}
    for channel_id in sorted(set(kept) | set(scan.damaged_counts) | set(scan.expected_counts)):
        channel = channels.get(channel_id)
        topic = channel.topic if channel else f"{_UNKNOWN_TOPIC} {channel_id}"
        dropped = max(
            scan.damaged_counts.get(channel_id, 0),
            scan.expected_counts.get(channel_id, 0) - kept[channel_id],
            0,
        )
        row = rows.setdefault(topic, [0, 0, 0, 0])
        row[0] += kept[channel_id]
        row[1] += kept_bytes[channel_id]
        row[2] += dropped
        row[3] += scan.damaged_sizes.get(channel_id, 0)
    return tuple(TopicRecovery(t, *r) for t, r in sorted(rows.items()))


def recover_mcap(
    path: Path,
    *,
    ros_distro: str = "",
    extra_custom: Mapping[str, str] | None = None,
    keep_damaged: bool = True,
) -> RecoverReport:
    """Make ``path`` a complete, indexed MCAP file keeping every valid chunk (see module doc).

    A healthy file is left byte-identical. ``keep_damaged``: keep the original bytes as
    ``<name>.damaged`` when the repair cannot work in place.
    """
    temp = path.with_name(f".{path.name}.recovering")
    temp.unlink(missing_ok=True)  # left by a repair killed before its rename
    scan = scan_mcap(path)
    if scan.healthy:
        return RecoverReport(
            path,
            True,
            scan.message_count,
            len(scan.chunks),
            0,
            "",
            topics=_topic_report(scan, None),
        )
    if scan.profile and scan.profile != "ros2":
        LOG.warning("%s: MCAP profile is %r, not 'ros2'", path, scan.profile)
    LOG.info("%s: recovering (%s)", path, scan.problem or "no summary")
    cut = _plan_in_place(scan)
    extra = dict(extra_custom or {})
    kept_aside = None
    try:
        with (
            path.open("rb") as stream,
            mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mm,
        ):
            if cut is not None:
                out = _build_in_place(scan, mm, cut, path.name, ros_distro, extra)
                tail = b"".join(p for p in out.parts if isinstance(p, bytes))
                tail += _summary_bytes(out)
            else:
                out = _build_beside(scan, mm, path.name, ros_distro, extra)
                with temp.open("xb") as target:
                    out.write_to(mm, target)
                    target.write(_summary_bytes(out))
                    target.flush()
                    os.fsync(target.fileno())
        if cut is None:
            kept_aside = _swap(path, temp, keep_damaged)
        else:
            with path.open("r+b") as target:
                target.seek(cut)
                target.write(tail)
                target.truncate(cut + len(tail))
                target.flush()
                os.fsync(target.fileno())
    except OSError as err:
        temp.unlink(missing_ok=True)
        if is_disk_full(err):
            raise DiskFullError(f"{path}: no space left to write the repaired file") from err
        raise BagFormatError(f"{path}: cannot repair: {err.strerror or err}") from err
    dropped = sum(end - start for start, end, _why in scan.gaps)
    if scan.tail is not None:
        dropped += scan.size - scan.tail
    return RecoverReport(
        path,
        False,
        sum(sum(p.chunk.counts.values()) for p in out.placed),
        len(out.placed),
        dropped,
        scan.problem or "no summary",
        in_place=cut is not None,
        kept_aside=kept_aside,
        topics=_topic_report(scan, out),
    )


def _same_bytes(a: Path, b: Path) -> bool:
    return a.samefile(b) or filecmp.cmp(a, b, shallow=False)


def _swap(path: Path, temp: Path, keep_damaged: bool) -> Path | None:
    """Rename ``temp`` over ``path``, first keeping the original bytes beside it."""
    aside = None
    if keep_damaged:
        aside = path.with_name(path.name + DAMAGED_SUFFIX)
        n = 0
        while aside.exists() and not _same_bytes(aside, path):
            n += 1
            aside = path.with_name(f"{path.name}{DAMAGED_SUFFIX}.{n}")
        if not aside.exists():
            try:
                os.link(path, aside)
            except OSError:
                import shutil

                shutil.copy2(path, aside)
    temp.replace(path)
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return aside


@dataclass(frozen=True)
class RecoveredBag:
    """A repaired bag directory: where it now is, its metadata and each file's report."""

    path: Path
    metadata: BagMetadata
    reports: tuple[RecoverReport, ...]


def recover_bag(
    bag_dir: Path, *, rename: bool = True, ros_distro: str = "", keep_damaged: bool = True
) -> RecoveredBag:
    """Repair every MCAP file of ``bag_dir`` and rewrite its metadata.yaml.

    A ``<name>.partial`` directory is renamed to ``<name>`` afterwards (unless ``rename`` is
    False or that name is taken). ``custom_data`` keeps the episode fields found in the files
    (``recovered: "true"`` among them once any file was repaired, recorded in the file itself
    so a second run keeps it) and those of an existing, readable metadata.yaml.
    """
    files = sorted(bag_dir.glob("*.mcap"), key=split_order)
    if not files:
        raise BagFormatError(f"{bag_dir}: no .mcap files to recover")
    existing = None
    listed = bag_dir / METADATA_FILE
    if listed.exists() and not listed.is_file():  # a folder in its place: cannot be rewritten
        raise BagFormatError(
            f"{listed}: not a file; move it away and run `bag recover` again to rebuild it "
            "from the files"
        )
    if listed.is_file():
        try:
            existing = read_metadata_yaml(bag_dir)
        except BagFormatError as err:
            raise BagFormatError(
                f"{err}; move it away and run `bag recover` again to rebuild it from the files"
            ) from err
    reports = tuple(
        recover_mcap(f, ros_distro=ros_distro, keep_damaged=keep_damaged) for f in files
    )
    metadata = metadata_from_files(
        bag_dir,
        files,
        custom_data=dict(existing.custom_data) if existing else None,
        ros_distro=ros_distro or (existing.ros_distro if existing else ""),
    )
    if not all(r.was_complete for r in reports):
        metadata = replace(metadata, custom_data={**metadata.custom_data, **RECOVERED_RECORD})
    if existing is None or metadata_disagreements(existing, metadata):
        write_metadata_yaml(bag_dir, metadata)
    else:
        metadata = existing
    (bag_dir / ".reserve").unlink(missing_ok=True)
    path = bag_dir
    if rename and bag_dir.name.endswith(PARTIAL):
        target = bag_dir.with_name(bag_dir.name[: -len(PARTIAL)])
        if not target.exists():
            bag_dir.rename(target)
            path = target
    return RecoveredBag(path, metadata, reports)
