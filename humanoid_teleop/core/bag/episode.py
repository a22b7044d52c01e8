"""One episode on disk: a rosbag2 bag directory written as ``<name>.partial``.

Files are ``<name>_<i>.mcap``; a new one starts when the current one reaches the split size
or duration, and each starts with the cached messages of every latched (transient-local)
topic so it stands alone. Closing writes each file's summary, ``metadata.yaml`` built from
those summaries, and renames the directory to ``<name>``. A small reserve file keeps room to
close cleanly when the disk fills.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from mcap.records import Channel, Message
from mcap.stream_reader import StreamReader

from .errors import BagError, DiskFullError
from .mcap_file import McapFileWriter, is_disk_full
from .metadata import BagMetadata, FileInfo, TopicInfo, write_metadata_yaml
from .msgdefs import MessageDefinition
from .qos import QosProfile
from .reader import EPISODE_METADATA_RECORD, metadata_from_files, summarize_mcap
from .recover import PARTIAL, recover_mcap

LOG = logging.getLogger(__name__)
PARTIAL_SUFFIX = PARTIAL
RESERVE_FILE = ".reserve"


@dataclass(frozen=True)
class RecordedTopic:
    """A topic the recorder writes: its type definition and the publishers' QoS."""

    name: str
    definition: MessageDefinition
    qos: tuple[QosProfile, ...]
    latched: bool


@dataclass(frozen=True)
class CachedMessage:
    """A serialized message kept for re-publication (times in [ns])."""

    receive_ns: int
    publish_ns: int
    sequence: int
    data: bytes


@dataclass(frozen=True)
class FileOptions:
    """How MCAP files are written and split (0 disables a split limit)."""

    compression: str = "zstd"
    chunk_size_bytes: int = 4 * 1024 * 1024
    split_max_bytes: int = 0
    split_max_duration_ns: int = 0
    reserve_bytes: int = 1024 * 1024
    library: str = "humanoid_teleop"
    ros_distro: str = ""


@dataclass
class _Handed:
    """Messages handed to one file's writer, per topic: the latched copies written when the
    file opened (they come first in the file) and the live messages after them."""

    latched: Counter[str] = field(default_factory=Counter)
    live: Counter[str] = field(default_factory=Counter)

    def live_kept(self, on_disk: Mapping[str, int]) -> dict[str, int]:
        """Live messages per topic among ``on_disk`` (a file keeps a prefix of what it got)."""
        topics = set(self.live) | set(on_disk)
        return {t: max(0, on_disk.get(t, 0) - self.latched[t]) for t in topics}


CustomFor = Callable[[Mapping[str, int]], Mapping[str, str]]
"""Builds the closing episode metadata from the live messages per topic the files hold."""


def episode_name_taken(bag_root: Path, name: str) -> bool:
    """Whether ``bag_root`` holds an episode called ``name``, closed or being written
    (``<name>.partial``)."""
    return (bag_root / name).exists() or (bag_root / f"{name}{PARTIAL_SUFFIX}").exists()


class EpisodeWriter:
    """Writes one episode directory; owned by a single thread."""

    def __init__(
        self,
        bag_root: Path,
        name: str,
        options: FileOptions,
        start_record: Mapping[str, str],
    ) -> None:
        self.name = name
        self.options = options
        self.final_path = bag_root / name
        self.path = bag_root / f"{name}{PARTIAL_SUFFIX}"
        if episode_name_taken(bag_root, name):
            raise BagError(f"{self.final_path}: an episode with this name already exists")
        try:
            self.path.mkdir(parents=True)
            self._reserve()
        except OSError as err:
            if is_disk_full(err):
                raise DiskFullError(f"{self.path}: disk full, cannot start an episode") from err
            raise BagError(f"{self.path}: cannot create: {err.strerror or err}") from err
        self._start_record = dict(start_record)
        self._topics: dict[str, RecordedTopic] = {}
        self._files: list[Path] = []
        self._handed: dict[Path, _Handed] = {}
        self._file: McapFileWriter | None = None
        self._file_start_ns = 0
        #: Live messages per topic handed to the open file (its entry of ``_handed``).
        self._live: Counter[str] = Counter()
        #: Whether a split limit is set (else no message checks the file's size or age).
        self._splits = bool(options.split_max_bytes or options.split_max_duration_ns)
        self.bytes_closed = 0

    def _reserve(self) -> None:
        if self.options.reserve_bytes <= 0:
            return
        with (self.path / RESERVE_FILE).open("wb") as reserve:
            reserve.write(b"\0" * self.options.reserve_bytes)
            reserve.flush()
            os.fsync(reserve.fileno())

    def _release_reserve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.path / RESERVE_FILE).unlink()

    @property
    def bytes_written(self) -> int:
        """Bytes handed to the operating system in all files of this episode."""
        file = self._file  # read once: the writer thread may replace it meanwhile
        return self.bytes_closed + (file.size_bytes if file else 0)

    @property
    def files(self) -> list[Path]:
        return list(self._files)

    def add_topic(self, topic: RecordedTopic, latched: Iterable[CachedMessage] = ()) -> None:
        """Make ``topic`` part of this episode (its channel appears in every file)."""
        self._topics[topic.name] = topic
        if self._file is not None:
            self._file.add_topic(topic.name, topic.definition, topic.qos)

    def write(
        self,
        topic: str,
        receive_ns: int,
        publish_ns: int,
        sequence: int,
        data: bytes,
        latched: Callable[[], Mapping[str, Iterable[CachedMessage]]],
    ) -> None:
        """Write one message, opening or splitting files as needed (``latched`` gives the
        messages to re-write at the start of a new file)."""
        file = self._file
        if file is None or (self._splits and self._should_split(receive_ns)):
            self._open_next(receive_ns, latched())
            file = self._file
            assert file is not None
        channel = self._channel(file, topic)
        # Counted before the write: when it fails, the message is already in the chunk being
        # written, which may or may not have reached the disk (recovery tells).
        self._live[topic] += 1
        file.write(channel, receive_ns, publish_ns, sequence, data)

    def _channel(self, file: McapFileWriter, topic: str) -> int:
        """``topic``'s channel id in the open ``file``, registered there if it is not yet."""
        channel = file.channel_id(topic)
        if channel is None:
            known = self._topics[topic]
            channel = file.add_topic(topic, known.definition, known.qos)
        return channel

    def write_batch(
        self,
        messages: Sequence[tuple[str, int, int, int, bytes]],
        latched: Callable[[], Mapping[str, Iterable[CachedMessage]]],
    ) -> None:
        """:meth:`write` of each of ``messages`` (topic, receive time [ns], publish time [ns],
        sequence, data), in order: the same files, handed to the open file in one call where
        no split limit is set (a port holds thousands of messages); with a split limit, one
        :meth:`write` each."""
        if self._splits:
            for topic, receive_ns, publish_ns, sequence, data in messages:
                self.write(topic, receive_ns, publish_ns, sequence, data, latched)
            return
        if not messages:
            return
        if self._file is None:
            self._open_next(messages[0][1], latched())
        file = self._file
        assert file is not None
        counts = Counter(map(itemgetter(0), messages))
        channels = {topic: self._channel(file, topic) for topic in counts}
        self._live.update(counts)  # counted before the write, as write counts them
        file.write_batch([(channels[t], r, d, p, s) for t, r, p, s, d in messages])

    def begin(self, start_ns: int, latched: Mapping[str, Iterable[CachedMessage]]) -> None:
        """Open the first file now, with the latched messages, so no episode is empty."""
        if self._file is None:
            self._open_next(start_ns, latched)

    def _should_split(self, now_ns: int) -> bool:
        assert self._file is not None
        opts = self.options
        if opts.split_max_bytes and self._file.size_bytes >= opts.split_max_bytes:
            return True
        return bool(
            opts.split_max_duration_ns
            and now_ns - self._file_start_ns >= opts.split_max_duration_ns
        )

    def _open_next(self, start_ns: int, latched: Mapping[str, Iterable[CachedMessage]]) -> None:
        if self._file is not None:
            self._finish_file(self._file, {})
        path = self.path / f"{self.name}_{len(self._files)}.mcap"
        try:
            self._file = McapFileWriter(
                path,
                compression=self.options.compression,
                chunk_size_bytes=self.options.chunk_size_bytes,
                library=self.options.library,
            )
        except BagError:
            # A file that could not even get its header holds no message: do not leave it.
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        self._files.append(path)
        handed = self._handed[path] = _Handed()
        self._live = handed.live
        self._file_start_ns = start_ns
        self._file.add_metadata(EPISODE_METADATA_RECORD, self._start_record)
        for topic in self._topics.values():
            channel = self._file.add_topic(topic.name, topic.definition, topic.qos)
            for cached in latched.get(topic.name, ()):
                # Re-published latched messages are logged at the file start so they are
                # in range for players; publish time keeps when they were really sent.
                handed.latched[topic.name] += 1
                self._file.write(
                    channel,
                    max(cached.receive_ns, start_ns),
                    cached.publish_ns,
                    cached.sequence,
                    cached.data,
                )

    def flush(self) -> None:
        """Hand the open chunk to the operating system."""
        if self._file is not None and self._file.unflushed_messages:
            self._file.flush()

    def _finish_file(self, file: McapFileWriter, custom: Mapping[str, str]) -> None:
        if custom:
            file.add_metadata(EPISODE_METADATA_RECORD, custom)
        start = file.first_log_time_ns or 0
        end = file.last_log_time_ns or 0
        topics = tuple(
            TopicInfo(t.name, t.definition.type_name, t.qos, t.definition.type_hash)
            for t in self._topics.values()
        )
        rel = file.path.name
        meta = BagMetadata(
            starting_time_ns=start,
            duration_ns=end - start,
            message_count=file.message_count,
            topics=topics,
            files=(FileInfo(rel, start, end - start, file.message_count),),
            custom_data={**self._start_record, **custom},
            ros_distro=self.options.ros_distro,
        )
        file.finish(meta)
        self.bytes_closed += file.path.stat().st_size

    def close(self, custom: Mapping[str, str]) -> Path:
        """Finish every file, write metadata.yaml and rename to the final name.

        Raises BagError (DiskFullError when out of space) if the last file cannot be
        finished; the episode is then still open for :meth:`close_after_error`.
        """
        if self._file is None:
            self._open_next(0, {})
        assert self._file is not None
        self._finish_file(self._file, custom)
        self._file = None
        return self._finalize(custom)

    def close_after_error(self, custom_for: CustomFor) -> tuple[Path, dict[str, int]]:
        """Keep what reached the disk after a write error: repair the files, then close.

        What the repaired files will hold is counted first (reading each file in order with
        CRC checks up to its torn end), ``custom_for`` turns those counts of live messages
        per topic into the closing metadata, which goes into the repaired files and
        metadata.yaml. Returns the final path and the live messages per topic on disk.
        """
        self._release_reserve()
        if self._file is not None:
            self._file.abandon()
            self._file = None
        on_disk = {path: readable_message_counts(path) for path in self._files}
        kept = self._live_kept(on_disk)
        custom = custom_for(kept)
        for path in self._files:
            recover_mcap(path, ros_distro=self.options.ros_distro, extra_custom=custom)
        repaired = {
            path: {t.name: t.message_count for t in summarize_mcap(path).topics if t.message_count}
            for path in self._files
        }
        if repaired != on_disk:
            # The repair kept other messages than a sequential read found: metadata.yaml
            # follows the repaired files (the in-file copy of the summary may be off).
            LOG.warning(
                "%s: the repaired files hold %s messages, a sequential read found %s",
                self.path,
                {p.name: sum(c.values()) for p, c in repaired.items()},
                {p.name: sum(c.values()) for p, c in on_disk.items()},
            )
            kept = self._live_kept(repaired)
            custom = custom_for(kept)
        return self._finalize(custom), kept

    def _live_kept(self, on_disk: Mapping[Path, Mapping[str, int]]) -> dict[str, int]:
        kept: Counter[str] = Counter()
        for path, counts in on_disk.items():
            kept.update(self._handed.get(path, _Handed()).live_kept(counts))
        return dict(kept)

    def _finalize(self, custom: Mapping[str, str]) -> Path:
        self._release_reserve()
        metadata = metadata_from_files(
            self.path,
            self._files,
            custom_data={**self._start_record, **custom},
            ros_distro=self.options.ros_distro,
        )
        write_metadata_yaml(self.path, metadata)
        self.path.rename(self.final_path)
        return self.final_path

    def discard(self) -> Path:
        """Stop writing and delete the episode directory."""
        if self._file is not None:
            self._file.abandon(deleting=True)
            self._file = None
        shutil.rmtree(self.path, ignore_errors=True)
        return self.path


def readable_message_counts(path: Path) -> dict[str, int]:
    """Messages per topic in ``path`` read in order, with chunk CRCs checked, up to the first
    incomplete or damaged record (a torn end after a write error)."""
    counts: Counter[str] = Counter()
    topics: dict[int, str] = {}
    try:
        with path.open("rb") as stream:
            for record in StreamReader(stream, validate_crcs=True).records:
                if isinstance(record, Channel):
                    topics[record.id] = record.topic
                elif isinstance(record, Message):
                    counts[topics.get(record.channel_id, "")] += 1
    except Exception as err:  # the torn end: mcap, zstd and lz4 raise their own errors
        LOG.debug("%s: sequential read stops: %s: %s", path, type(err).__name__, err)
    return dict(counts)
