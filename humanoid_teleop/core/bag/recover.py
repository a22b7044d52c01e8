"""Repair an MCAP file cut short (killed recorder, full disk) in place.

The file is scanned from the start; every complete, CRC-valid chunk is kept, the file is
truncated after the last one, missing message indexes are rewritten, and a ``rosbag2``
metadata record, data end, summary (schemas, channels, statistics, chunk / metadata /
attachment indexes, summary offsets) and footer are appended. Only the few bytes of the
summary are written, so recovery also works on a disk that just ran full.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mcap.data_stream import ReadDataStream, RecordBuilder
from mcap.records import (
    AttachmentIndex,
    Channel,
    Chunk,
    ChunkIndex,
    DataEnd,
    Footer,
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
    TopicInfo,
    read_metadata_yaml,
    write_metadata_yaml,
)
from .qos import qos_profiles_from_yaml
from .reader import episode_custom_data, metadata_from_files, split_order

LOG = logging.getLogger(__name__)
PARTIAL = ".partial"
MAGIC = bytes((137, 77, 67, 65, 80, 48, 13, 10))
_HEADER, _FOOTER, _SCHEMA, _CHANNEL, _MESSAGE, _CHUNK = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
_MESSAGE_INDEX, _ATTACHMENT, _METADATA, _DATA_END = 0x07, 0x09, 0x0C, 0x0F


@dataclass
class _ChunkScan:
    start: int
    length: int
    chunk: Chunk
    entries: dict[int, list[tuple[int, int]]]  # channel id → [(log time, offset in chunk)]
    index_offsets: dict[int, int] = field(default_factory=dict)
    index_length: int = 0


@dataclass
class McapScan:
    """What a sequential scan found in one MCAP file."""

    size: int
    complete: bool
    valid_end: int
    profile: str = ""
    schemas: dict[int, Schema] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    chunks: list[_ChunkScan] = field(default_factory=list)
    metadata: list[tuple[int, int, Metadata]] = field(default_factory=list)
    attachments: list[AttachmentIndex] = field(default_factory=list)
    channel_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    start_ns: int = 0
    end_ns: int = 0
    problem: str = ""

    @property
    def message_count(self) -> int:
        return sum(self.channel_counts.values())


@dataclass(frozen=True)
class RecoverReport:
    """Outcome of :func:`recover_mcap` for one file."""

    path: Path
    was_complete: bool
    messages: int
    chunks: int
    bytes_dropped: int
    problem: str


def _records(data: bytes, base: int) -> Iterator[tuple[int, int, int, bytes]]:
    """(opcode, offset, length, content) of the complete records in ``data``."""
    pos = 0
    while pos + 9 <= len(data):
        opcode, length = struct.unpack_from("<BQ", data, pos)
        if pos + 9 + length > len(data):
            return
        yield opcode, base + pos, length, data[pos + 9 : pos + 9 + length]
        pos += 9 + length


def _decompress(chunk: Chunk) -> bytes:
    if chunk.compression == "":
        return chunk.data
    if chunk.compression == "zstd":
        import zstandard

        return bytes(zstandard.ZstdDecompressor().decompress(chunk.data, chunk.uncompressed_size))
    if chunk.compression == "lz4":
        import lz4.frame  # type: ignore[import-untyped]

        return bytes(lz4.frame.decompress(chunk.data))
    raise BagFormatError(f"unsupported chunk compression {chunk.compression!r}")


def _end(builder: Any) -> bytes:
    return bytes(builder.end())


def _read(cls: Any, content: bytes) -> Any:
    return cls.read(ReadDataStream(io.BytesIO(content)))


def scan_mcap(path: Path) -> McapScan:
    """Scan ``path`` record by record up to the first incomplete or corrupt record."""
    try:
        with path.open("rb") as stream:
            return _scan(stream, path)
    except OSError as err:
        raise BagFormatError(f"{path}: cannot read: {err.strerror or err}") from err


def _scan(stream: IO[bytes], path: Path) -> McapScan:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if stream.read(8) != MAGIC:
        raise BagFormatError(f"{path}: not an MCAP file (bad or missing magic)")
    scan = McapScan(size=size, complete=False, valid_end=8)
    offset = 8
    last_chunk: _ChunkScan | None = None
    while True:
        head = stream.read(9)
        if len(head) < 9:
            scan.problem = "file ends inside a record header" if head else "no data end record"
            break
        opcode, length = struct.unpack("<BQ", head)
        if offset + 9 + length > size:
            scan.problem = f"record at byte {offset} runs past the end of the file"
            break
        content = stream.read(length)
        end = offset + 9 + length
        try:
            if opcode == _HEADER:
                scan.profile = _read_header_profile(content)
            elif opcode == _SCHEMA:
                schema = _read(Schema, content)
                scan.schemas[schema.id] = schema
            elif opcode == _CHANNEL:
                channel = _read(Channel, content)
                scan.channels[channel.id] = channel
            elif opcode == _CHUNK:
                last_chunk = _scan_chunk(scan, offset, 9 + length, _read(Chunk, content))
            elif opcode == _MESSAGE_INDEX and last_chunk is not None:
                index = _read(MessageIndex, content)
                last_chunk.index_offsets[index.channel_id] = offset
                last_chunk.index_length = end - (last_chunk.start + last_chunk.length)
            elif opcode == _METADATA:
                scan.metadata.append((offset, 9 + length, _read(Metadata, content)))
            elif opcode == _ATTACHMENT:
                scan.attachments.append(_attachment_index(offset, 9 + length, content))
            elif opcode == _DATA_END:
                # Repair appends its own data end, so a damaged summary is cut before ours.
                scan.valid_end = offset
                scan.complete = _has_footer(stream, size)
                if not scan.complete:
                    scan.problem = "data end found but the summary or footer is damaged"
                break
            elif opcode in (_MESSAGE,):
                raise BagFormatError("messages outside chunks are not supported")
            elif opcode == _FOOTER:
                scan.problem = "footer without data end"
                break
        except (BagFormatError, ValueError, struct.error, UnicodeDecodeError) as err:
            scan.problem = f"record at byte {offset}: {err}"
            break
        except Exception as err:  # zstd/lz4 raise their own error types on corrupt data
            scan.problem = f"record at byte {offset}: {type(err).__name__}: {err}"
            break
        scan.valid_end = end
        offset = end
    return scan


def _read_header_profile(content: bytes) -> str:
    (length,) = struct.unpack_from("<I", content, 0)
    return content[4 : 4 + length].decode("utf-8")


def _attachment_index(offset: int, length: int, content: bytes) -> AttachmentIndex:
    stream = ReadDataStream(io.BytesIO(content))
    log_time = stream.read8()
    create_time = stream.read8()
    name = stream.read(stream.read4()).decode("utf-8")
    media_type = stream.read(stream.read4()).decode("utf-8")
    data_size = stream.read8()
    return AttachmentIndex(
        offset=offset,
        length=length,
        log_time=log_time,
        create_time=create_time,
        data_size=data_size,
        name=name,
        media_type=media_type,
    )


def _scan_chunk(scan: McapScan, offset: int, length: int, chunk: Chunk) -> _ChunkScan:
    data = _decompress(chunk)
    if len(data) != chunk.uncompressed_size:
        raise BagFormatError(f"chunk size {len(data)} != declared {chunk.uncompressed_size}")
    if chunk.uncompressed_crc and zlib.crc32(data) != chunk.uncompressed_crc:
        raise BagFormatError("chunk CRC mismatch")
    entries: dict[int, list[tuple[int, int]]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    start_ns: int | None = None
    end_ns = 0
    for opcode, pos, _length, content in _records(data, 0):
        if opcode == _SCHEMA:
            schema = _read(Schema, content)
            scan.schemas[schema.id] = schema
        elif opcode == _CHANNEL:
            channel = _read(Channel, content)
            scan.channels[channel.id] = channel
        elif opcode == _MESSAGE:
            channel_id, _seq, log_time = struct.unpack_from("<HIQ", content, 0)
            if channel_id not in scan.channels:
                raise BagFormatError(f"message on unknown channel {channel_id}")
            entries[channel_id].append((log_time, pos))
            counts[channel_id] += 1
            start_ns = log_time if start_ns is None else min(start_ns, log_time)
            end_ns = max(end_ns, log_time)
    record = _ChunkScan(offset, length, chunk, dict(entries))
    for channel_id, count in counts.items():
        scan.channel_counts[channel_id] += count
    if start_ns is not None:
        scan.start_ns = start_ns if not scan.chunks else min(scan.start_ns, start_ns)
        scan.end_ns = max(scan.end_ns, end_ns)
    scan.chunks.append(record)
    return record


def _has_footer(stream: IO[bytes], size: int) -> bool:
    if size < 8 + 9 + 20 + 8:
        return False
    stream.seek(size - 8)
    if stream.read(8) != MAGIC:
        return False
    stream.seek(size - 8 - 29)
    opcode, length = struct.unpack("<BQ", stream.read(9))
    return bool(opcode == _FOOTER and length == 20)


def channel_topics(scan: McapScan) -> list[TopicInfo]:
    """One :class:`TopicInfo` per channel found, with its message count."""
    topics = []
    for channel_id, channel in sorted(scan.channels.items()):
        schema = scan.schemas.get(channel.schema_id)
        topics.append(
            TopicInfo(
                name=channel.topic,
                type=schema.name if schema else "",
                offered_qos_profiles=qos_profiles_from_yaml(
                    channel.metadata.get("offered_qos_profiles")
                ),
                type_description_hash=channel.metadata.get("topic_type_hash", ""),
                message_count=scan.channel_counts.get(channel_id, 0),
                serialization_format=channel.message_encoding,
            )
        )
    return topics


def recover_mcap(
    path: Path, *, ros_distro: str = "", extra_custom: Mapping[str, str] | None = None
) -> RecoverReport:
    """Make ``path`` a complete, indexed MCAP file in place (no-op when it already is)."""
    scan = scan_mcap(path)
    if scan.complete:
        return RecoverReport(path, True, scan.message_count, len(scan.chunks), 0, "")
    if scan.profile != "ros2":
        LOG.warning("%s: MCAP profile is %r, not 'ros2'", path, scan.profile)
    LOG.info("%s: recovering (%s)", path, scan.problem or "no summary")
    builder = RecordBuilder()
    # Keep every chunk; rewrite the message indexes of the last one if they were cut.
    truncate_at = scan.valid_end
    if scan.chunks:
        last = scan.chunks[-1]
        if set(last.index_offsets) != set(last.entries):
            truncate_at = last.start + last.length
            last.index_offsets = {}
            for channel_id, records in sorted(last.entries.items()):
                last.index_offsets[channel_id] = truncate_at + builder.count
                MessageIndex(channel_id=channel_id, records=records).write(builder)
            last.index_length = builder.count
        truncate_at = max(truncate_at, last.start + last.length + last.index_length)
    scan.metadata = [m for m in scan.metadata if m[0] + m[1] <= truncate_at]
    custom = episode_custom_data([m[2] for m in scan.metadata])
    custom.update(extra_custom or {})
    rel = path.name
    per_file = BagMetadata(
        starting_time_ns=scan.start_ns,
        duration_ns=scan.end_ns - scan.start_ns,
        message_count=scan.message_count,
        topics=tuple(channel_topics(scan)),
        files=(FileInfo(rel, scan.start_ns, scan.end_ns - scan.start_ns, scan.message_count),),
        custom_data=custom,
        ros_distro=ros_distro,
    )
    meta_offset = truncate_at + builder.count
    meta = Metadata(
        name=ROSBAG2_METADATA_RECORD, metadata={"serialized_metadata": per_file.serialized()}
    )
    meta.write(builder)
    scan.metadata.append((meta_offset, truncate_at + builder.count - meta_offset, meta))
    DataEnd(data_section_crc=0).write(builder)
    tail = _end(builder) + _summary(scan, truncate_at + builder.count)
    dropped = scan.size - truncate_at
    try:
        with path.open("r+b") as stream:
            stream.truncate(truncate_at)
            stream.seek(truncate_at)
            stream.write(tail)
    except OSError as err:
        if is_disk_full(err):
            raise DiskFullError(f"{path}: no space left to write the recovered summary") from err
        raise BagFormatError(f"{path}: cannot repair: {err.strerror or err}") from err
    return RecoverReport(
        path, False, scan.message_count, len(scan.chunks), dropped, scan.problem or "no summary"
    )


def _summary(scan: McapScan, summary_start: int) -> bytes:
    builder = RecordBuilder()
    offsets: list[SummaryOffset] = []

    def group(opcode: int, records: list[Any]) -> None:
        start = builder.count
        for record in records:
            record.write(builder)
        if records:
            offsets.append(SummaryOffset(opcode, summary_start + start, builder.count - start))

    group(_SCHEMA, [scan.schemas[k] for k in sorted(scan.schemas)])
    group(_CHANNEL, [scan.channels[k] for k in sorted(scan.channels)])
    group(
        0x0B,
        [
            Statistics(
                attachment_count=len(scan.attachments),
                channel_count=len(scan.channels),
                channel_message_counts=dict(scan.channel_counts),
                chunk_count=len(scan.chunks),
                message_count=scan.message_count,
                metadata_count=len(scan.metadata),
                message_start_time=scan.start_ns,
                message_end_time=scan.end_ns,
                schema_count=len(scan.schemas),
            )
        ],
    )
    group(
        0x08,
        [
            ChunkIndex(
                message_start_time=c.chunk.message_start_time,
                message_end_time=c.chunk.message_end_time,
                chunk_start_offset=c.start,
                chunk_length=c.length,
                message_index_offsets=dict(c.index_offsets),
                message_index_length=c.index_length,
                compression=c.chunk.compression,
                compressed_size=len(c.chunk.data),
                uncompressed_size=c.chunk.uncompressed_size,
            )
            for c in scan.chunks
        ],
    )
    group(0x0A, list(scan.attachments))
    group(
        0x0D,
        [MetadataIndex(offset=o, length=n, name=m.name) for o, n, m in scan.metadata],
    )
    offset_start = summary_start + builder.count
    for summary_offset in offsets:
        summary_offset.write(builder)
    body = _end(builder)
    crc = zlib.crc32(body)
    crc = zlib.crc32(struct.pack("<BQQQ", _FOOTER, 20, summary_start, offset_start), crc)
    footer = RecordBuilder()
    Footer(summary_start=summary_start, summary_offset_start=offset_start, summary_crc=crc).write(
        footer
    )
    return body + _end(footer) + MAGIC


@dataclass(frozen=True)
class RecoveredBag:
    """A repaired bag directory: where it now is, its metadata and each file's report."""

    path: Path
    metadata: BagMetadata
    reports: tuple[RecoverReport, ...]


def recover_bag(bag_dir: Path, *, rename: bool = True, ros_distro: str = "") -> RecoveredBag:
    """Repair every MCAP file of ``bag_dir`` and rewrite its metadata.yaml.

    A ``<name>.partial`` directory is renamed to ``<name>`` afterwards (unless ``rename`` is
    False or that name is taken). ``custom_data`` keeps the episode fields found in the files
    and gains ``recovered: "true"`` when any file needed repair.
    """
    files = sorted(bag_dir.glob("*.mcap"), key=split_order)
    if not files:
        raise BagFormatError(f"{bag_dir}: no .mcap files to recover")
    reports = tuple(recover_mcap(f, ros_distro=ros_distro) for f in files)
    extra = {} if all(r.was_complete for r in reports) else {"recovered": "true"}
    if (bag_dir / METADATA_FILE).is_file() and not extra:
        existing = read_metadata_yaml(bag_dir)
        extra = dict(existing.custom_data)
    metadata = metadata_from_files(bag_dir, files, custom_data=extra, ros_distro=ros_distro)
    write_metadata_yaml(bag_dir, metadata)
    for leftover in (bag_dir / ".reserve",):
        leftover.unlink(missing_ok=True)
    path = bag_dir
    if rename and bag_dir.name.endswith(PARTIAL):
        target = bag_dir.with_name(bag_dir.name[: -len(PARTIAL)])
        if not target.exists():
            bag_dir.rename(target)
            path = target
    return RecoveredBag(path, metadata, reports)
