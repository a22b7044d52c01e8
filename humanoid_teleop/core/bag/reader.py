"""Read bags we (or rosbag2) wrote: summaries, topics, counts and messages.

Tests across the project use these helpers to assert what a bag holds, e.g.::

    bag = read_bag(path)
    assert bag.topic("/joint_states").message_count > 0
    for msg in iter_messages(path, topics=["/recorder/annotation"]): ...
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import lz4.frame  # type: ignore[import-untyped]  # lz4 ships no type information
import numpy as np
import zstandard
from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap.records import Channel, Metadata, Schema
from mcap.summary import Summary
from numpy.typing import NDArray

from .clock import sample_time_ns, sample_times_ns
from .errors import BagError, BagFormatError, MessageDefinitionError
from .metadata import METADATA_FILE, BagMetadata, FileInfo, TopicInfo, read_metadata_yaml
from .msgdefs import MessageDefinitionSource, is_stamped
from .qos import qos_profiles_from_yaml

EPISODE_METADATA_RECORD = "humanoid_teleop.episode"


class RawMessage(NamedTuple):
    """One recorded message: serialized CDR ``data`` and times in [ns]. A named tuple, not a
    frozen dataclass: readers build one per message, and a frozen dataclass took ~0.85 us to
    build against ~0.3 us (a tenth of reading a kinematic port's source)."""

    topic: str
    type: str
    log_time_ns: int
    publish_time_ns: int
    sequence: int
    data: bytes
    #: Whether its type carries a header stamp (:func:`stamped_schema` of its channel's).
    stamped: bool

    @property
    def sample_time_ns(self) -> int:
        """When the message was sampled [ns]: header stamp, else publish time, else log time
        (:func:`.clock.sample_time_ns`); the clock to align streams on."""
        return sample_time_ns(self.stamped, self.data, self.publish_time_ns, self.log_time_ns)


def stamped_schema(schema: Schema | None) -> bool:
    """Whether messages of an MCAP ``schema`` carry a header stamp: :func:`.msgdefs.is_stamped`
    of its name and its own definition text (a bag needs no installed definitions), or for
    a schema recorded without one, the installed definition of its type (none: not
    stamped)."""
    return schema is not None and _stamped_definition(schema.name, bytes(schema.data))


@functools.lru_cache(maxsize=256)
def _stamped_definition(type_name: str, data: bytes) -> bool:
    """:func:`stamped_schema` of a schema's name and data, once per schema (a reader that
    walks message by message asks it for every message)."""
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        try:
            text = MessageDefinitionSource().get(type_name).text
        except MessageDefinitionError:
            text = ""  # not installed either: not stamped
    return is_stamped(type_name, text)


def _wanted_channels(
    summary: Summary, wanted: list[str] | None
) -> dict[int, tuple[str, str, bool]]:
    """Channel id -> (topic, schema name, :func:`stamped_schema`) of the channels of
    ``wanted`` topics (None: every channel) in an MCAP file's ``summary``."""
    channels = {}
    for cid, channel in summary.channels.items():
        if wanted is None or channel.topic in wanted:
            schema = summary.schemas.get(channel.schema_id)
            name = schema.name if schema is not None else ""
            channels[cid] = (channel.topic, name, stamped_schema(schema))
    return channels


@dataclass(frozen=True)
class FileSummary:
    """The summary section of one MCAP file."""

    path: Path
    topics: tuple[TopicInfo, ...]
    start_ns: int
    end_ns: int
    message_count: int
    chunk_count: int
    custom_data: dict[str, str]
    profile: str
    schema_encodings: dict[str, str]


@dataclass(frozen=True)
class BagSummary:
    """A bag directory: its metadata.yaml plus episode metadata decoded from custom_data."""

    path: Path
    metadata: BagMetadata

    def topic(self, name: str) -> TopicInfo:
        """The topic called ``name``; the error lists the topics the bag has."""
        for topic in self.metadata.topics:
            if topic.name == name:
                return topic
        names = ", ".join(t.name for t in self.metadata.topics)
        raise BagFormatError(f"{self.path}: no topic {name!r} (topics: {names})")

    @property
    def files(self) -> list[Path]:
        """Its MCAP files in split order (:func:`mcap_files` of the bag, without reading
        metadata.yaml again)."""
        return _listed_files(self.path, self.metadata)

    @property
    def counts(self) -> dict[str, int]:
        """Messages per topic."""
        return {t.name: t.message_count for t in self.metadata.topics}

    def custom_json(self, key: str) -> Any:
        """A JSON-valued custom_data entry (``annotations``, ``loss``, ``sync``), or None; a
        value that is not JSON raises :class:`BagFormatError` naming the file and the key."""
        text = self.metadata.custom_data.get(key)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as err:  # json.JSONDecodeError, or a number too long to convert
            source = self.path / METADATA_FILE if self.path.is_dir() else self.path
            raise BagFormatError(f"{source}: custom_data.{key}: not JSON ({err})") from err


def mcap_files(bag: Path) -> list[Path]:
    """The MCAP files of a bag directory (from metadata.yaml when present), or [bag]."""
    if bag.is_file():
        return [bag]
    if (bag / METADATA_FILE).is_file():
        return _listed_files(bag, read_metadata_yaml(bag))
    return sorted(bag.glob("*.mcap"), key=split_order)


def _listed_files(bag: Path, metadata: BagMetadata) -> list[Path]:
    """The MCAP files ``bag``'s metadata.yaml (``metadata``) lists."""
    return [bag / f.path for f in metadata.files]


def split_order(path: Path) -> tuple[str, int]:
    """Sort key putting ``name_2.mcap`` before ``name_10.mcap``."""
    stem, _, index = path.stem.rpartition("_")
    return (stem, int(index)) if index.isdigit() else (path.stem, 0)


def episode_custom_data(records: list[Metadata]) -> dict[str, str]:
    """Merge the episode metadata records of a file, later records overriding earlier ones."""
    merged: dict[str, str] = {}
    for record in records:
        if record.name == EPISODE_METADATA_RECORD:
            merged.update(record.metadata)
    return merged


def channel_topic(channel: Channel, schema: Schema | None, message_count: int) -> TopicInfo:
    """The metadata.yaml entry of an MCAP ``channel`` (its ``schema``, None when the file
    has none) holding ``message_count`` messages: its QoS and type hash from the channel's
    metadata, as rosbag2 writes them."""
    return TopicInfo(
        name=channel.topic,
        type=schema.name if schema else "",
        offered_qos_profiles=qos_profiles_from_yaml(channel.metadata.get("offered_qos_profiles")),
        type_description_hash=channel.metadata.get("topic_type_hash", ""),
        message_count=message_count,
        serialization_format=channel.message_encoding,
    )


#: The smallest MCAP file [bytes]: magic, a Header record (opcode, length, two empty
#: strings), a Footer record (opcode, length, two offsets, CRC), magic.
_MIN_MCAP_BYTES = 8 + (1 + 8 + 4 + 4) + (1 + 8 + 8 + 8 + 4) + 8


def _open_mcap(path: Path) -> BinaryIO:
    """``path`` opened for reading; a file that cannot be opened, or is too short to be an
    MCAP file (the ``mcap`` reader would seek before its start, or unpack too few bytes),
    raises :class:`BagFormatError` naming it."""
    try:
        stream = path.open("rb")
    except OSError as err:
        raise BagFormatError(f"{path}: cannot open: {err.strerror or err}") from err
    try:
        size = os.fstat(stream.fileno()).st_size
    except OSError as err:
        stream.close()
        raise BagFormatError(f"{path}: cannot read: {err.strerror or err}") from err
    if size < _MIN_MCAP_BYTES:
        stream.close()
        raise BagFormatError(
            f"{path}: not an MCAP file ({size} bytes, shorter than the {_MIN_MCAP_BYTES} "
            "of an empty one)"
        )
    return stream


def summarize_mcap(path: Path) -> FileSummary:
    """Read the summary and metadata records of a complete MCAP file."""
    try:
        with _open_mcap(path) as stream:
            reader = make_reader(stream)
            header = reader.get_header()
            summary = reader.get_summary()
            if summary is None:
                raise BagFormatError(f"{path}: no summary section (run `bag recover`)")
            records = list(reader.iter_metadata())
    except (OSError, McapError, EOFError, struct.error, ValueError) as err:
        raise BagFormatError(f"{path}: unreadable MCAP ({type(err).__name__}: {err})") from err
    stats = summary.statistics
    counts = dict(stats.channel_message_counts) if stats else {}
    topics = []
    encodings = {}
    for channel_id, channel in sorted(summary.channels.items()):
        schema = summary.schemas.get(channel.schema_id)
        if schema is not None:
            encodings[schema.name] = schema.encoding
        topics.append(channel_topic(channel, schema, int(counts.get(channel_id, 0))))
    return FileSummary(
        path=path,
        topics=tuple(topics),
        start_ns=int(stats.message_start_time) if stats else 0,
        end_ns=int(stats.message_end_time) if stats else 0,
        message_count=int(stats.message_count) if stats else 0,
        chunk_count=int(stats.chunk_count) if stats else 0,
        custom_data=episode_custom_data(records),
        profile=str(header.profile),
        schema_encodings=encodings,
    )


def metadata_from_files(
    bag_dir: Path,
    files: Iterable[Path],
    *,
    custom_data: dict[str, str] | None = None,
    ros_distro: str = "",
) -> BagMetadata:
    """Build the bag's metadata.yaml content from the summaries of its MCAP files."""
    summaries = [summarize_mcap(f) for f in files]
    topics: dict[str, TopicInfo] = {}
    for summary in summaries:
        for topic in summary.topics:
            known = topics.get(topic.name)
            count = topic.message_count + (known.message_count if known else 0)
            base = known or topic
            topics[topic.name] = TopicInfo(
                name=base.name,
                type=base.type,
                offered_qos_profiles=base.offered_qos_profiles,
                type_description_hash=base.type_description_hash,
                message_count=count,
                serialization_format=base.serialization_format,
            )
    with_messages = [s for s in summaries if s.message_count]
    start = min((s.start_ns for s in with_messages), default=0)
    end = max((s.end_ns for s in with_messages), default=0)
    custom: dict[str, str] = {}
    for summary in summaries:
        custom.update(summary.custom_data)
    custom.update(custom_data or {})
    return BagMetadata(
        starting_time_ns=start,
        duration_ns=end - start,
        message_count=sum(s.message_count for s in summaries),
        topics=tuple(topics.values()),
        files=tuple(
            FileInfo(
                path=str(s.path.relative_to(bag_dir)),
                starting_time_ns=s.start_ns,
                duration_ns=s.end_ns - s.start_ns,
                message_count=s.message_count,
            )
            for s in summaries
        ),
        custom_data=custom,
        ros_distro=ros_distro,
    )


def metadata_disagreements(listed: BagMetadata, files: BagMetadata) -> list[str]:
    """Where metadata.yaml (``listed``) and the metadata built from the files differ."""
    out = []
    if listed.relative_file_paths != files.relative_file_paths:
        out.append(
            f"files {list(listed.relative_file_paths)} listed, "
            f"{list(files.relative_file_paths)} present"
        )
    if listed.message_count != files.message_count:
        out.append(f"message_count {listed.message_count} listed, {files.message_count} in files")
    listed_topics = {t.name: t.message_count for t in listed.topics}
    file_topics = {t.name: t.message_count for t in files.topics}
    for name in sorted(set(listed_topics) | set(file_topics)):
        if listed_topics.get(name) != file_topics.get(name):
            out.append(
                f"{name}: {listed_topics.get(name, 'absent')} listed, "
                f"{file_topics.get(name, 'absent')} in files"
            )
    return out


def read_bag(bag: Path) -> BagSummary:
    """The summary of a bag directory with a metadata.yaml."""
    return BagSummary(bag, read_metadata_yaml(bag))


def bag_content_hash(bag: Path, files: list[Path] | None = None) -> str:
    """``sha256:<hex>`` over the names and bytes of the bag's MCAP files, in split order
    (``files`` when the caller already listed them).

    ``metadata.yaml`` is left out: it is rebuilt from the files (``bag recover``), so the
    hash names the recorded data itself. A file that cannot be read raises :class:`BagError`
    naming the bag and the file."""
    digest = hashlib.sha256()
    for path in files if files is not None else mcap_files(bag):
        digest.update(path.name.encode() + b"\0")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as err:
            raise BagError(f"{bag}: cannot read {path.name}: {err.strerror}") from err
    return "sha256:" + digest.hexdigest()


def find_episodes(sources: Iterable[Path]) -> list[Path]:
    """Episode folders named by ``sources``: an episode itself, or every episode found under a
    folder (at any depth, sorted by path).

    A source that is neither raises :class:`BagError` naming it."""
    episodes: list[Path] = []
    for source in sources:
        if (source / METADATA_FILE).is_file():
            episodes.append(source)
            continue
        if not source.is_dir():
            raise BagError(f"{source}: no such episode or folder")
        found = sorted(p.parent for p in source.rglob(METADATA_FILE))
        if not found:
            raise BagError(f"{source}: no episode (a folder with {METADATA_FILE}) in it")
        episodes.extend(found)
    return episodes


_RECORD_HEADER = struct.Struct("<BQ")
"""MCAP record: opcode (uint8), body length [bytes] (uint64)."""
_MESSAGE_HEADER = struct.Struct("<HIQQ")
"""MCAP Message body: channel id, sequence, log time [ns], publish time [ns]; data follows."""
_CHUNK_HEADER = struct.Struct("<QQQI")
"""MCAP Chunk body: start [ns], end [ns], uncompressed size [bytes], CRC; then compression."""
_MESSAGE_OPCODE = 0x05
_CHUNK_OPCODE = 0x06


def _chunk_records(stream: BinaryIO, offset: int, length: int, path: Path) -> bytes:
    """The uncompressed records of the Chunk record at ``offset`` (``length`` bytes)."""
    stream.seek(offset)
    raw = stream.read(length)
    if len(raw) != length or raw[0] != _CHUNK_OPCODE:
        raise BagFormatError(f"{path}: no chunk record at byte {offset}")
    _start, _end, size, _crc = _CHUNK_HEADER.unpack_from(raw, 9)
    at = 9 + _CHUNK_HEADER.size
    name_length = int.from_bytes(raw[at : at + 4], "little")
    compression = raw[at + 4 : at + 4 + name_length].decode()
    at += 4 + name_length
    records_length = int.from_bytes(raw[at : at + 8], "little")
    body = raw[at + 8 : at + 8 + records_length]
    if compression not in ("", "zstd", "lz4"):
        raise BagFormatError(f"{path}: chunk compression {compression!r} unsupported")
    try:
        if compression == "zstd":
            return bytes(zstandard.ZstdDecompressor().decompress(body, max_output_size=size))
        if compression == "lz4":
            return bytes(lz4.frame.decompress(body))
    except (zstandard.ZstdError, RuntimeError) as err:  # lz4.frame raises RuntimeError
        raise BagFormatError(
            f"{path}: the {compression} chunk at byte {offset} does not decompress ({err})"
        ) from err
    return body


def _chunk_index(stream: BinaryIO) -> Summary | None:
    """The summary of an MCAP file whose messages are all in indexed chunks, else None."""
    try:
        summary = make_reader(stream).get_summary()
    except (McapError, EOFError, ValueError):
        return None
    finally:
        stream.seek(0)
    stats = summary.statistics if summary else None
    if summary is None or stats is None or not summary.chunk_indexes:
        return None
    return summary if stats.chunk_count == len(summary.chunk_indexes) else None


def _iter_stored(
    path: Path, stream: BinaryIO, summary: Summary, wanted: list[str] | None
) -> Iterator[RawMessage]:
    """Messages of one MCAP file with a chunk index (``summary``), in stored order.

    Skips chunks holding none of ``wanted``'s channels and walks each chunk's records with
    :mod:`struct`, building a message only for a wanted channel (the ``mcap`` reader parses
    every record of every chunk into objects: 2-3x the time on a camera bag)."""
    channels = _wanted_channels(summary, wanted)
    for index in sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset):
        if index.message_index_offsets and not any(
            cid in channels for cid in index.message_index_offsets
        ):
            continue
        records = _chunk_records(stream, index.chunk_start_offset, index.chunk_length, path)
        view = memoryview(records)
        at, end = 0, len(records)
        while at + 9 <= end:
            opcode, length = _RECORD_HEADER.unpack_from(records, at)
            at += 9
            if opcode == _MESSAGE_OPCODE:
                cid, sequence, log_ns, publish_ns = _MESSAGE_HEADER.unpack_from(records, at)
                found = channels.get(cid)
                if found is not None:  # by position: half the cost of keywords per message
                    data = bytes(view[at + _MESSAGE_HEADER.size : at + length])
                    yield RawMessage(
                        found[0], found[1], log_ns, publish_ns, sequence, data, found[2]
                    )
            at += length
        if at != end:
            raise BagFormatError(f"{path}: chunk at byte {index.chunk_start_offset} is cut short")


#: A topic's messages gathered by :func:`gather_messages`: its type name, their log times
#: (or sample times) [ns] and their serialized data, in stored order.
TopicMessages = tuple[str, list[int], list[bytes]]

_MESSAGE_INDEX_OPCODE = 0x07
#: A Message Index record up to its entries [bytes]: opcode, record length, channel id, the
#: entries' length; then (log time, offset in the chunk's records) pairs of uint64.
_INDEX_ENTRIES_AT = _RECORD_HEADER.size + 2 + 4
#: A Message record up to its data [bytes]: opcode, record length, then the message's channel
#: id, sequence, log and publish times.
_MESSAGE_DATA_AT = _RECORD_HEADER.size + _MESSAGE_HEADER.size


def gather_messages(
    bag: Path,
    topics: Iterable[str],
    files: list[Path] | None = None,
    *,
    sample_times: bool = False,
    publish_clock: Collection[str] = (),
) -> dict[str, TopicMessages]:
    """The messages of ``topics`` in a bag directory or MCAP file, per topic in stored order
    (file by file): what :func:`iter_messages` with ``log_time_order=False`` yields, grouped
    by topic, with their log times, or with ``sample_times`` their sample times
    (:mod:`.clock`: header stamp, else publish time, else log time; the topics of
    ``publish_clock`` at their publish time, else log time, stamped or not). A file whose chunks
    carry message indexes (every file this project writes) is read through them: each
    wanted channel's messages are located and checked as arrays, with no step per record of
    the other channels and no object per message (a kinematic port reads ~2 000 messages per
    second of episode). ``files`` as for :func:`iter_messages`."""
    wanted = list(topics)
    gathered: dict[str, TopicMessages] = {}
    for path in files if files is not None else mcap_files(bag):
        try:
            with _open_mcap(path) as stream:
                summary = _chunk_index(stream)
                if summary is not None and all(
                    c.message_index_offsets for c in summary.chunk_indexes
                ):
                    found = _gather_indexed(
                        path, stream, summary, wanted, sample_times, publish_clock
                    )
                    if found is not None:
                        for topic, (type_name, times, datas) in found.items():
                            entry = gathered.setdefault(topic, (type_name, [], []))
                            entry[1].extend(times)
                            entry[2].extend(datas)
                        continue
        except (
            OSError, McapError, EOFError, zstandard.ZstdError, RuntimeError, struct.error
        ) as err:  # fmt: skip
            raise BagFormatError(f"{path}: unreadable ({type(err).__name__}: {err})") from err
        for message in iter_messages(path, wanted, log_time_order=False, files=[path]):
            entry = gathered.setdefault(message.topic, (message.type, [], []))
            t_ns = message.log_time_ns
            if sample_times:
                stamped = message.stamped and message.topic not in publish_clock
                t_ns = sample_time_ns(stamped, message.data, message.publish_time_ns, t_ns)
            entry[1].append(t_ns)
            entry[2].append(message.data)
    return gathered


def _u64_column(heads: NDArray[np.uint8], start: int) -> NDArray[np.uint64]:
    """The little-endian uint64 at byte ``start`` of each row of ``heads``."""
    column: NDArray[np.uint64] = np.ascontiguousarray(heads[:, start : start + 8]).view("<u8")[:, 0]
    return column


def _gather_indexed(
    path: Path, stream: BinaryIO, summary: Summary, wanted: list[str], sample_times: bool,
    publish_clock: Collection[str],
) -> dict[str, TopicMessages] | None:  # fmt: skip
    """:func:`gather_messages` of one MCAP file whose chunks all have message indexes; None
    when the indexes list another number of messages of a wanted channel than the file's
    statistics count (an index that leaves messages out: the file is walked instead)."""
    gathered: dict[str, TopicMessages] = {}
    counts: dict[int, int] = {}
    channels = _wanted_channels(summary, wanted)
    head = np.arange(_MESSAGE_DATA_AT)
    for index in sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset):
        ids = [cid for cid in index.message_index_offsets if cid in channels]
        if not ids:
            continue
        records = _chunk_records(stream, index.chunk_start_offset, index.chunk_length, path)
        block_at = index.chunk_start_offset + index.chunk_length  # the indexes follow the chunk
        stream.seek(block_at)
        block = stream.read(index.message_index_length)
        buffer = np.frombuffer(records, dtype=np.uint8)
        for cid in ids:
            at = index.message_index_offsets[cid] - block_at
            if not 0 <= at <= len(block) - _INDEX_ENTRIES_AT:
                raise BagFormatError(f"{path}: channel {cid}'s message index is out of place")
            opcode, length = _RECORD_HEADER.unpack_from(block, at)
            channel, size = struct.unpack_from("<HI", block, at + _RECORD_HEADER.size)
            if opcode != _MESSAGE_INDEX_OPCODE or channel != cid or size % 16 or (
                _INDEX_ENTRIES_AT + size > min(_RECORD_HEADER.size + length, len(block) - at)
            ):  # fmt: skip
                raise BagFormatError(f"{path}: channel {cid}'s message index is malformed")
            entries_at = at + _INDEX_ENTRIES_AT
            pairs = np.frombuffer(block, dtype="<u8", count=size // 8, offset=entries_at)
            offsets = np.sort(pairs[1::2].astype(np.int64))
            last = len(records) - _MESSAGE_DATA_AT  # the last offset a message can start at
            if len(offsets) and not 0 <= offsets[0] <= offsets[-1] <= last:
                raise BagFormatError(f"{path}: a message index points past its chunk")
            heads = buffer[offsets[:, None] + head]
            ends = offsets + _RECORD_HEADER.size + _u64_column(heads, 1).astype(np.int64)
            # each record's channel id (uint16 after the record header) and log time (uint64
            # after the channel id and sequence)
            record_channels = heads[:, 9].astype(np.int64) | (heads[:, 10].astype(np.int64) << 8)
            if not (
                (heads[:, 0] == _MESSAGE_OPCODE).all()
                and (record_channels == cid).all()
                and (ends >= offsets + _MESSAGE_DATA_AT).all()
                and (ends[:-1] <= offsets[1:]).all()
                and (ends <= len(records)).all()
            ):
                raise BagFormatError(f"{path}: a message index does not match its chunk's records")
            counts[cid] = counts.get(cid, 0) + len(offsets)
            if not len(offsets):
                continue
            topic, type_name, stamped = channels[cid]
            entry = gathered.setdefault(topic, (type_name, [], []))
            data_starts = offsets + _MESSAGE_DATA_AT
            log_times = _u64_column(heads, _RECORD_HEADER.size + 6)
            if sample_times:
                publish_times = _u64_column(heads, _RECORD_HEADER.size + 14)
                times = sample_times_ns(
                    stamped and topic not in publish_clock,
                    buffer, data_starts, ends, publish_times, log_times,
                )  # fmt: skip
                entry[1].extend(times.tolist())
            else:
                entry[1].extend(log_times.tolist())
            starts = data_starts.tolist()
            entry[2].extend([records[a:b] for a, b in zip(starts, ends.tolist(), strict=True)])
    assert summary.statistics is not None  # _chunk_index's summaries have statistics
    stated = summary.statistics.channel_message_counts
    if any(counts.get(cid, 0) != stated.get(cid, 0) for cid in channels):
        return None
    return gathered


def iter_messages(
    bag: Path,
    topics: Iterable[str] | None = None,
    log_time_order: bool = True,
    files: list[Path] | None = None,
) -> Iterator[RawMessage]:
    """Messages of a bag directory or MCAP file, file by file in log-time order (or, with
    ``log_time_order=False``, in the order they are stored, which skips a sort; a file with
    a chunk index is then walked by :func:`_iter_stored`); ``files``: the bag's MCAP files
    (:func:`mcap_files`) when the caller already listed them."""
    wanted = list(topics) if topics is not None else None
    for path in files if files is not None else mcap_files(bag):
        try:
            with _open_mcap(path) as stream:
                summary = None if log_time_order else _chunk_index(stream)
                if summary is not None:
                    yield from _iter_stored(path, stream, summary, wanted)
                    continue
                reader = make_reader(stream)
                for schema, channel, message in reader.iter_messages(
                    topics=wanted, log_time_order=log_time_order
                ):
                    yield RawMessage(
                        topic=channel.topic,
                        type=schema.name if schema else "",
                        log_time_ns=message.log_time,
                        publish_time_ns=message.publish_time,
                        sequence=message.sequence,
                        data=message.data,
                        stamped=stamped_schema(schema),
                    )
        except (
            OSError, McapError, EOFError, zstandard.ZstdError, RuntimeError, struct.error
        ) as err:  # fmt: skip
            raise BagFormatError(f"{path}: unreadable ({type(err).__name__}: {err})") from err
