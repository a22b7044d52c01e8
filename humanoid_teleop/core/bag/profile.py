"""Recording profiles (``config/record/*.yaml``): which topics, with which QoS, how stored.

Example::

    topics:                       # always recorded; a type makes the subscription start at once
      - /joint_states
      - {name: /robot_description, type: std_msgs/msg/String,
         qos: {durability: transient_local, depth: 1}}
    include: ["^/operator/", "^/teleop/"]   # regular expressions (re.search) on topic names
    exclude: ["^/rosout$"]
    robot_sensors: true           # add cameras, wrenches, joint states, commands of robot.yaml
    latched: [/tf_static, /robot_description]
    sync_reference: /joint_states
    default_depth: 100
    storage: {compression: zstd, chunk_size_mib: 4, flush_period_s: 0.5,
              split_max_size_mib: 2048, split_max_duration_s: 0}
    limits: {queue_max_mib: 256, min_free_mib: 64, warn_free_mib: 1024, reserve_mib: 1,
             reader_queue_mib: 64}
    check: {max_loss_ratio: 0.0}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from humanoid_teleop.core.config import Field, read_yaml, show_value

from .episode import FileOptions
from .errors import ProfileError
from .mcap_file import COMPRESSIONS
from .msgdefs import normalize_type_name
from .qos import DURABILITY, HISTORY, RELIABILITY, QosProfile
from .recorder import MIB, RecorderConfig

_TOP_KEYS = (
    "topics",
    "include",
    "exclude",
    "robot_sensors",
    "latched",
    "sync_reference",
    "default_depth",
    "storage",
    "limits",
    "check",
)
_STORAGE_KEYS = (
    "compression",
    "chunk_size_mib",
    "flush_period_s",
    "split_max_size_mib",
    "split_max_duration_s",
)
_LIMIT_KEYS = ("queue_max_mib", "min_free_mib", "warn_free_mib", "reserve_mib", "reader_queue_mib")
_CHECK_KEYS = ("max_loss_ratio",)
_TOPIC_KEYS = ("name", "type", "qos")
_QOS_KEYS = ("reliability", "durability", "depth", "history")
ALWAYS_EXCLUDED = ("/rosout", "/parameter_events", "/recorder/status")


@dataclass(frozen=True)
class QosOverride:
    """Per-topic subscription QoS settings that replace what matching would choose."""

    reliability: str | None = None
    durability: str | None = None
    depth: int | None = None
    history: str | None = None


@dataclass(frozen=True)
class TopicRule:
    """A topic named in the profile: optional type and QoS override.

    expected_bytes: Size of its messages [bytes] known before any arrives (e.g. a robot.yaml
        camera's frame), so its reader history is bounded in bytes from the start.
    """

    name: str
    type: str | None = None
    qos: QosOverride | None = None
    expected_bytes: int = 0


@dataclass(frozen=True)
class RecordingProfile:
    """A validated recording profile (see the module docstring for the file format)."""

    source: str
    topics: tuple[TopicRule, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    robot_sensors: bool = True
    latched: tuple[str, ...] = ("/tf_static", "/robot_description")
    sync_reference: str | None = "/joint_states"
    default_depth: int = 100
    compression: str = "zstd"
    chunk_size_mib: float = 4.0
    flush_period_s: float = 0.5
    split_max_size_mib: float = 0.0
    split_max_duration_s: float = 0.0
    queue_max_mib: float = 256.0
    min_free_mib: float = 64.0
    warn_free_mib: float = 1024.0
    reserve_mib: float = 1.0
    reader_queue_mib: float = 64.0
    max_loss_ratio: float = 0.0

    @classmethod
    def from_dict(cls, data: Any, source: str = "<profile>") -> RecordingProfile:
        """Validate a parsed profile; see :meth:`from_field`."""
        return cls.from_field(Field.of(data, source, (), ProfileError))

    @classmethod
    def from_field(cls, root: Field) -> RecordingProfile:
        """Validate a profile; every error names ``file:line: key.path``, the value and what
        is allowed."""
        root = Field(root.file, root.keys, root.value, root.line, ProfileError)
        root.as_mapping(allowed=_TOP_KEYS)
        fields: dict[str, Any] = {"source": str(root.file)}
        if root.has("topics"):
            fields["topics"] = tuple(_topic(item) for item in root.child("topics").elements())
        for key in ("include", "exclude"):
            if root.has(key):
                fields[key] = tuple(_regex(item) for item in root.child(key).elements())
        if root.has("latched"):
            fields["latched"] = tuple(
                _topic_name(item) for item in root.child("latched").elements()
            )
        if root.has("robot_sensors"):
            fields["robot_sensors"] = root.child("robot_sensors").as_bool()
        if root.has("sync_reference"):
            ref = root.child("sync_reference")
            fields["sync_reference"] = None if ref.value is None else _topic_name(ref)
        if root.has("default_depth"):
            fields["default_depth"] = root.child("default_depth").as_int(minimum=1)
        if root.has("storage"):
            storage = root.child("storage")
            storage.as_mapping(allowed=_STORAGE_KEYS)
            if storage.has("compression"):
                fields["compression"] = storage.child("compression").as_choice(tuple(COMPRESSIONS))
            for key in _STORAGE_KEYS[1:]:
                if storage.has(key):
                    minimum = 0.0 if key.startswith("split") else 1e-3
                    fields[key] = storage.child(key).as_float(minimum)
        if root.has("limits"):
            limits = root.child("limits")
            limits.as_mapping(allowed=_LIMIT_KEYS)
            for key in _LIMIT_KEYS:
                if limits.has(key):
                    minimum = 1e-3 if key == "reader_queue_mib" else 0.0
                    fields[key] = limits.child(key).as_float(minimum)
        if root.has("check"):
            check = root.child("check")
            check.as_mapping(allowed=_CHECK_KEYS)
            if check.has("max_loss_ratio"):
                fields["max_loss_ratio"] = check.child("max_loss_ratio").as_float_in(0.0, 1.0)
        return cls(**fields)

    @classmethod
    def load(cls, path: Path) -> RecordingProfile:
        """Read and validate a profile file (an empty file is the default profile)."""
        root = read_yaml(path, ProfileError)
        if root.value is None:
            root = Field(root.file, (), {}, root.line, ProfileError)
        return cls.from_field(root)

    def with_topics(self, names: Sequence[str]) -> RecordingProfile:
        """This profile plus explicit topic names (e.g. from the command line)."""
        known = {t.name for t in self.topics}
        extra = tuple(
            TopicRule(_topic_name(Field("command line", ("topic",), n, 0, ProfileError)))
            for n in names
            if n not in known
        )
        return replace(self, topics=self.topics + extra)

    def rule(self, topic: str) -> TopicRule | None:
        for rule in self.topics:
            if rule.name == topic:
                return rule
        return None

    def wants(self, topic: str) -> bool:
        """True when ``topic`` should be recorded."""
        if self.rule(topic) is not None:
            return True
        if topic in ALWAYS_EXCLUDED or any(re.search(p, topic) for p in self.exclude):
            return False
        return topic in self.latched or any(re.search(p, topic) for p in self.include)

    def subscription_qos(
        self, topic: str, offered: Sequence[QosProfile], message_bytes: int = 0
    ) -> QosProfile:
        """The QoS to subscribe with: matches every publisher, reliable whenever possible.

        Best effort only when a publisher offers nothing better (a reliable reader cannot
        match a best-effort writer); transient-local when every publisher offers it or the
        profile marks the topic latched. The reader history (``default_depth`` or the topic's
        ``qos.depth``) is bounded in bytes for every topic: once its largest message
        ``message_bytes`` [bytes] is known, the depth is at most
        ``limits.reader_queue_mib`` / that size (at least 1); until then, the rule's
        ``expected_bytes`` stands for it.
        """
        best_effort = any(q.reliability == "best_effort" for q in offered)
        durable = (bool(offered) and all(q.latched for q in offered)) or (
            topic in self.latched and not offered
        )
        depth = max([self.default_depth, *(q.depth for q in offered if q.latched)])
        qos = QosProfile(
            history="keep_last",
            depth=depth,
            reliability="best_effort" if best_effort else "reliable",
            durability="transient_local" if durable else "volatile",
        )
        rule = self.rule(topic)
        if rule is not None and not message_bytes:
            message_bytes = rule.expected_bytes
        if rule is not None and rule.qos is not None:
            o = rule.qos
            qos = replace(
                qos,
                reliability=o.reliability or qos.reliability,
                durability=o.durability or qos.durability,
                depth=o.depth if o.depth is not None else qos.depth,
                history=o.history or qos.history,
            )
        if message_bytes > 0:
            cap = max(1, int(self.reader_queue_mib * MIB) // message_bytes)
            qos = replace(qos, depth=min(qos.depth, cap))
        return qos

    def recorder_config(
        self, bag_dir: Path, *, library: str = "humanoid_teleop", ros_distro: str = ""
    ) -> RecorderConfig:
        """The recorder settings this profile asks for, writing under ``bag_dir``."""
        return RecorderConfig(
            bag_dir=bag_dir,
            files=FileOptions(
                compression=self.compression,
                chunk_size_bytes=int(self.chunk_size_mib * MIB),
                split_max_bytes=int(self.split_max_size_mib * MIB),
                split_max_duration_ns=int(self.split_max_duration_s * 1e9),
                reserve_bytes=int(self.reserve_mib * MIB),
                library=library,
                ros_distro=ros_distro,
            ),
            flush_period_s=self.flush_period_s,
            queue_max_bytes=int(self.queue_max_mib * MIB),
            min_free_bytes=int(self.min_free_mib * MIB),
            warn_free_bytes=int(self.warn_free_mib * MIB),
            sync_reference=self.sync_reference,
        )


def _topic_name(field: Field) -> str:
    data = field.value
    if not isinstance(data, str) or not re.fullmatch(r"/[A-Za-z0-9_~{}/]*[A-Za-z0-9_}]", data):
        raise field.error(
            f"{show_value(data)} is not an absolute topic name (like /camera/image_raw)"
        )
    return data


def _regex(field: Field) -> str:
    data = field.value
    if not isinstance(data, str):
        raise field.error(f"{show_value(data)} is not a regular expression string")
    try:
        re.compile(data)
    except re.error as err:
        raise field.error(f"{data!r} is not a valid regex: {err}") from err
    return data


def _topic(field: Field) -> TopicRule:
    if isinstance(field.value, str):
        return TopicRule(_topic_name(field))
    item = field.as_mapping(allowed=_TOPIC_KEYS, required=("name",))
    name = _topic_name(field.child("name"))
    type_name = None
    if item.get("type") is not None:
        try:
            type_name = normalize_type_name(str(item["type"]))
        except Exception as err:
            raise field.child("type").error(str(err)) from err
    qos = None
    if "qos" in item:
        qos_field = field.child("qos")
        q = qos_field.as_mapping(allowed=_QOS_KEYS)
        for field_name, allowed in (
            ("reliability", RELIABILITY),
            ("durability", DURABILITY),
            ("history", HISTORY),
        ):
            if field_name in q:
                qos_field.child(field_name).as_choice(allowed)
        depth = None
        if "depth" in q:
            depth = qos_field.child("depth").as_int(minimum=1)
        qos = QosOverride(q.get("reliability"), q.get("durability"), depth, q.get("history"))
    return TopicRule(name, type_name, qos)
