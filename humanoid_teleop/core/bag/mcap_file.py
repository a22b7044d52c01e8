"""One MCAP file in the rosbag2 ``ros2`` profile, written chunk by chunk.

Schemas are ``ros2msg`` complete definitions, messages ``cdr``; chunk, data-section and
summary CRCs are all written. Each channel carries the
``offered_qos_profiles`` (v9 YAML text) and ``topic_type_hash`` (RIHS01) metadata rosbag2
writes, and the file closes with a ``rosbag2`` metadata record, a summary and indexes. The
caller flushes the open chunk at least every ``flush_period`` so a killed process loses at
most that much (the page cache outlives the process).
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .errors import BagError, DiskFullError
from .mcap_writer import ChunkedMcapWriter
from .metadata import BagMetadata
from .msgdefs import MessageDefinition
from .qos import QosProfile, qos_profiles_to_yaml

LOG = logging.getLogger(__name__)
#: Compression names (the recording profile's) -> the MCAP chunk compression.
COMPRESSIONS = {"zstd": "zstd", "lz4": "lz4", "none": ""}
ROSBAG2_METADATA_RECORD = "rosbag2"
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(err: OSError) -> bool:
    """True when ``err`` means no space (or quota) left on the device."""
    return err.errno in _FULL_ERRNOS


class McapFileWriter:
    """Writes one ``.mcap`` file; not thread-safe (the recorder's writer thread owns it)."""

    def __init__(
        self,
        path: Path,
        *,
        compression: str = "zstd",
        chunk_size_bytes: int = 4 * 1024 * 1024,
        library: str = "humanoid_teleop",
    ) -> None:
        if compression not in COMPRESSIONS:
            raise BagError(f"compression {compression!r} is not one of {', '.join(COMPRESSIONS)}")
        self.path = path
        try:
            self._file: IO[bytes] = path.open("xb")
        except OSError as err:
            raise self._os_error("create", err) from err
        # chunk, data-section and summary CRCs (`bag check` detects damage outside chunks
        # too), every index, the schemas and channels repeated in the summary
        try:
            self._writer = ChunkedMcapWriter(
                self._file, chunk_size_bytes, COMPRESSIONS[compression]
            )
        except ValueError as err:  # a codec not installed
            self._file.close()
            path.unlink()
            raise BagError(f"{path}: {err}") from None
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._closed = False
        self.message_count = 0
        self.first_log_time_ns: int | None = None
        self.last_log_time_ns: int | None = None
        self.unflushed_messages = 0
        self._size = 0
        self._guard(lambda: self._writer.start(profile="ros2", library=library), "start")

    def _os_error(self, action: str, err: OSError) -> BagError:
        if is_disk_full(err):
            return DiskFullError(f"{self.path}: disk full while trying to {action}")
        return BagError(f"{self.path}: cannot {action}: {err.strerror or err}")

    def _guard(self, action: Any, what: str) -> Any:
        try:
            return action()
        except OSError as err:
            raise self._os_error(what, err) from err

    @property
    def size_bytes(self) -> int:
        """Bytes handed to the operating system so far (excludes the open chunk).

        Safe to read from another thread (the status timer): a closed file reports its
        last known size.
        """
        with contextlib.suppress(ValueError, OSError):
            self._size = int(self._file.tell())
        return self._size

    def channel_id(self, topic: str) -> int | None:
        """The channel of ``topic`` in this file, if it was added."""
        return self._channels.get(topic)

    def add_topic(
        self, topic: str, definition: MessageDefinition, qos: Sequence[QosProfile]
    ) -> int:
        """Register ``topic`` (schema + channel with rosbag2 metadata); returns the channel id."""
        if topic in self._channels:
            return self._channels[topic]
        schema_id = self._schemas.get(definition.type_name)
        if schema_id is None:
            schema_id = self._guard(
                lambda: self._writer.register_schema(
                    definition.type_name, definition.encoding, definition.text.encode("utf-8")
                ),
                "write a schema",
            )
            self._schemas[definition.type_name] = schema_id
        metadata = {
            "offered_qos_profiles": qos_profiles_to_yaml(qos),
            "topic_type_hash": definition.type_hash,
        }
        channel_id = int(
            self._guard(
                lambda: self._writer.register_channel(topic, "cdr", schema_id, metadata),
                "write a channel",
            )
        )
        self._channels[topic] = channel_id
        return channel_id

    def write(
        self, channel_id: int, log_time_ns: int, publish_time_ns: int, sequence: int, data: bytes
    ) -> None:
        """Append one serialized message to the open chunk (log time = receive time [ns])."""
        # once per message: the guard inlined (no closure per call), the library's documented
        # parameters in their order (channel_id, log_time, data, publish_time, sequence; the
        # sequence wraps to its 32 bits)
        try:
            self._writer.add_message(channel_id, log_time_ns, data, publish_time_ns, sequence)
        except OSError as err:
            raise self._os_error("write a message", err) from err
        self.message_count += 1
        self.unflushed_messages += 1
        if self.first_log_time_ns is None:
            self.first_log_time_ns = log_time_ns
        self.last_log_time_ns = log_time_ns

    def write_batch(self, messages: Sequence[tuple[int, int, bytes, int, int]]) -> None:
        """:meth:`write` of each of ``messages``, in order, in one call: the same bytes. Each
        is (channel id, log time [ns], data, publish time [ns], sequence), the order the
        chunk writer takes them in. After an error the counts are those before the batch
        (the file is then abandoned or repaired, not finished)."""
        if not messages:
            return
        try:
            self._writer.add_messages(messages)
        except OSError as err:
            raise self._os_error("write a message", err) from err
        self.message_count += len(messages)
        self.unflushed_messages += len(messages)
        if self.first_log_time_ns is None:
            self.first_log_time_ns = messages[0][1]
        self.last_log_time_ns = messages[-1][1]

    def flush(self) -> None:
        """Close the open chunk and hand everything to the operating system."""
        self._guard(self._writer.flush, "flush a chunk")
        self.unflushed_messages = 0

    def add_metadata(self, name: str, data: Mapping[str, str]) -> None:
        """Write an MCAP metadata record (between chunks)."""
        self._guard(lambda: self._writer.add_metadata(name, dict(data)), "write metadata")

    def finish(self, rosbag2_metadata: BagMetadata | None = None) -> None:
        """Write the ``rosbag2`` metadata record, summary, indexes and footer; close the file."""
        if self._closed:
            return
        if rosbag2_metadata is not None:
            self.add_metadata(
                ROSBAG2_METADATA_RECORD, {"serialized_metadata": rosbag2_metadata.serialized()}
            )
        self._guard(self._writer.finish, "write the summary")
        self._guard(self._file.close, "close")
        self._closed = True

    def abandon(self, deleting: bool = False) -> None:
        """Close the file as it is (no summary); ``recover`` can repair it later.
        ``deleting``: the caller deletes it next, so a close that fails (the disk full) is
        not worth a line."""
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
        except OSError as err:
            if not deleting:
                LOG.warning("%s: closing after an error failed too: %s", self.path, err)
