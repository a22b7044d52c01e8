"""rosbag2 ``metadata.yaml`` (version 9) as a typed record, with YAML in and out.

Times are integers in [ns] (``starting_time`` since the Unix epoch). ``custom_data`` maps
strings to strings, as rosbag2 requires; structured values are stored as JSON text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BagFormatError
from .qos import QosProfile, qos_profiles_from_yaml

METADATA_FILE = "metadata.yaml"
#: Prefix of the ``custom_data`` keys a ported episode's provenance and report are written
#: under (``custom.port.source_robot``, ``custom.port.report``, ...; docs/portability.md).
PORT_KEY_PREFIX = "custom.port."
#: The ``device`` of a ported episode's metadata.
PORT_DEVICE = "port"
METADATA_VERSION = 9
#: libyaml's emitter when PyYAML has it (the same safe subset and layout as the Python one,
#: ~5x faster: every episode and every file of one is closed with its metadata, ~7 ms each
#: in Python for a port's loss, sync and report JSON values), else PyYAML's own.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def ported_from(custom_data: Mapping[str, str]) -> str:
    """The robot an episode was recorded on before it was ported to its own (``custom_data``:
    its metadata's; its ``custom.port.source_robot``), "" for one recorded on its robot."""
    return custom_data.get(f"{PORT_KEY_PREFIX}source_robot", "")


def _dump(data: Mapping[str, Any]) -> str:
    """Block-style YAML of ``data`` in insertion order, UTF-8 text kept as is."""
    text: str = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=1000)
    return text


@dataclass(frozen=True)
class TopicInfo:
    """One recorded topic and how many messages it has in the bag."""

    name: str
    type: str
    offered_qos_profiles: tuple[QosProfile, ...] = ()
    type_description_hash: str = ""
    message_count: int = 0
    serialization_format: str = "cdr"

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic_metadata": {
                "name": self.name,
                "type": self.type,
                "serialization_format": self.serialization_format,
                "offered_qos_profiles": [p.to_dict() for p in self.offered_qos_profiles],
                "type_description_hash": self.type_description_hash,
            },
            "message_count": self.message_count,
        }


@dataclass(frozen=True)
class FileInfo:
    """One storage file of the bag, relative to the bag directory."""

    path: str
    starting_time_ns: int
    duration_ns: int
    message_count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "starting_time": {"nanoseconds_since_epoch": self.starting_time_ns},
            "duration": {"nanoseconds": self.duration_ns},
            "message_count": self.message_count,
        }


@dataclass(frozen=True)
class BagMetadata:
    """The ``rosbag2_bagfile_information`` of one bag directory."""

    starting_time_ns: int
    duration_ns: int
    message_count: int
    topics: tuple[TopicInfo, ...]
    files: tuple[FileInfo, ...]
    custom_data: Mapping[str, str] = field(default_factory=dict)
    ros_distro: str = ""
    storage_identifier: str = "mcap"
    compression_format: str = ""
    compression_mode: str = ""
    version: int = METADATA_VERSION

    @property
    def relative_file_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """The mapping under ``rosbag2_bagfile_information`` (also the MCAP ``rosbag2`` record)."""
        return {
            "version": self.version,
            "storage_identifier": self.storage_identifier,
            "duration": {"nanoseconds": self.duration_ns},
            "starting_time": {"nanoseconds_since_epoch": self.starting_time_ns},
            "message_count": self.message_count,
            "topics_with_message_count": [t.to_dict() for t in self.topics],
            "compression_format": self.compression_format,
            "compression_mode": self.compression_mode,
            "relative_file_paths": list(self.relative_file_paths),
            "files": [f.to_dict() for f in self.files],
            "custom_data": dict(self.custom_data),
            "ros_distro": self.ros_distro,
        }

    def serialized(self) -> str:
        """YAML of :meth:`to_dict`, the ``serialized_metadata`` of the MCAP ``rosbag2`` record."""
        return _dump(self.to_dict())

    def to_yaml(self) -> str:
        """The full text of ``metadata.yaml``."""
        return _dump({"rosbag2_bagfile_information": self.to_dict()})

    @classmethod
    def from_yaml(cls, text: str, source: str = METADATA_FILE) -> BagMetadata:
        """Parse ``metadata.yaml`` text; errors name ``source`` and the missing or bad key."""
        try:
            # libyaml's loader when PyYAML has it: the same safe subset, ~10x faster on the
            # large loss/sync JSON values a long episode carries
            root = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            what = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise BagFormatError(f"{source}: not valid YAML{line}: {what}") from err
        if not isinstance(root, dict) or "rosbag2_bagfile_information" not in root:
            raise BagFormatError(f"{source}: no 'rosbag2_bagfile_information' mapping")
        info = root["rosbag2_bagfile_information"]
        key = ""
        try:
            key = "version"
            version = int(info["version"])
            key = "topics_with_message_count"
            topics = tuple(
                TopicInfo(
                    name=str(t["topic_metadata"]["name"]),
                    type=str(t["topic_metadata"]["type"]),
                    offered_qos_profiles=_topic_qos(t["topic_metadata"], source),
                    type_description_hash=str(t["topic_metadata"].get("type_description_hash", "")),
                    message_count=int(t["message_count"]),
                    serialization_format=str(t["topic_metadata"]["serialization_format"]),
                )
                for t in info["topics_with_message_count"] or []
            )
            key = "files"
            files = tuple(
                FileInfo(
                    path=str(f["path"]),
                    starting_time_ns=int(f["starting_time"]["nanoseconds_since_epoch"]),
                    duration_ns=int(f["duration"]["nanoseconds"]),
                    message_count=int(f["message_count"]),
                )
                for f in info.get("files") or []
            )
            key = "custom_data"
            custom = {str(k): str(v) for k, v in (info.get("custom_data") or {}).items()}
            key = "starting_time"
            start = int(info["starting_time"]["nanoseconds_since_epoch"])
            key = "duration"
            duration = int(info["duration"]["nanoseconds"])
            key = "message_count"
            count = int(info["message_count"])
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise BagFormatError(f"{source}: bad or missing key {key!r}: {err!r}") from err
        if duration < 0 or count < 0:  # a hand edit: every reader would take it as it is
            key, value = ("duration", duration) if duration < 0 else ("message_count", count)
            raise BagFormatError(f"{source}: {key} {value} is negative")
        return cls(
            starting_time_ns=start,
            duration_ns=duration,
            message_count=count,
            topics=topics,
            files=files,
            custom_data=custom,
            ros_distro=str(info.get("ros_distro") or ""),
            storage_identifier=str(info.get("storage_identifier", "mcap")),
            compression_format=str(info.get("compression_format") or ""),
            compression_mode=str(info.get("compression_mode") or ""),
            version=version,
        )


def _topic_qos(topic_metadata: Mapping[str, Any], source: str) -> tuple[QosProfile, ...]:
    """The ``offered_qos_profiles`` of one ``topic_metadata`` mapping of ``source``; a bad
    value raises :class:`BagFormatError` naming the file and the topic."""
    try:
        return qos_profiles_from_yaml(topic_metadata.get("offered_qos_profiles"))
    except BagFormatError as err:
        name = topic_metadata.get("name", "?")
        raise BagFormatError(f"{source}: topic {name}: {err}") from err


def write_metadata_yaml(bag_dir: Path, metadata: BagMetadata) -> Path:
    """Write ``bag_dir/metadata.yaml`` atomically (temp file + rename) and return its path."""
    path = bag_dir / METADATA_FILE
    tmp = bag_dir / f".{METADATA_FILE}.tmp"
    tmp.write_text(metadata.to_yaml(), encoding="utf-8")
    tmp.replace(path)
    return path


def read_metadata_yaml(bag_dir: Path) -> BagMetadata:
    """Read ``bag_dir/metadata.yaml``."""
    path = bag_dir / METADATA_FILE
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise BagFormatError(f"{path}: cannot read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise BagFormatError(f"{path}: not a text file (byte {err.start} is not UTF-8)") from err
    return BagMetadata.from_yaml(text, str(path))
