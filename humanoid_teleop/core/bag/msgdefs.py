"""Complete ``ros2msg`` message definitions and RIHS01 type hashes from share directories.

A message package installs ``share/<pkg>/msg/<Type>.msg`` (and, since Iron, ``<Type>.json``
with the type description and its RIHS01 hashes). The complete definition is the type's own
``.msg`` text followed, for every type it references, by a line of 80 ``=``, a line
``MSG: pkg/msg/Type`` and that type's ``.msg`` text (rosbag2's ``ros2msg`` encoding).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import MessageDefinitionError

LOG = logging.getLogger(__name__)
SEPARATOR = "=" * 80
_PRIMITIVES = frozenset(
    [
        "bool",
        "byte",
        "char",
        "float32",
        "float64",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "string",
        "wstring",
    ]
)
_TYPE_NAME = re.compile(r"^([A-Za-z0-9_]+)/(?:(msg|srv|action)/)?([A-Za-z0-9_]+)$")


@dataclass(frozen=True)
class MessageDefinition:
    """The complete definition of one message type, ready for an MCAP schema record."""

    type_name: str  # pkg/msg/Type
    encoding: str  # "ros2msg"
    text: str
    type_hash: str  # "RIHS01_<hex>" or "" when the distro has no type descriptions

    @property
    def first_field_is_header(self) -> bool:
        """True when the message starts with a ``std_msgs/Header`` (stamp at CDR offset 4)."""
        for line in self.text.splitlines():
            stripped = line.split("#", 1)[0].strip()
            if stripped:
                return stripped.split()[0] in ("std_msgs/Header", "std_msgs/msg/Header", "Header")
        return False


def normalize_type_name(name: str) -> str:
    """``pkg/Type`` or ``pkg/msg/Type`` → ``pkg/msg/Type``; raises on anything else."""
    match = _TYPE_NAME.match(name.strip())
    if not match:
        raise MessageDefinitionError(
            f"{name!r} is not a message type name (expected pkg/msg/Type, e.g. std_msgs/msg/String)"
        )
    pkg, kind, typ = match.groups()
    return f"{pkg}/{kind or 'msg'}/{typ}"


def default_prefixes() -> tuple[Path, ...]:
    """Install prefixes to search: ``AMENT_PREFIX_PATH`` entries, then this interpreter's."""
    prefixes = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    for extra in (Path(sys.prefix), Path(sys.base_prefix)):
        if extra not in prefixes:
            prefixes.append(extra)
    return tuple(prefixes)


class MessageDefinitionSource:
    """Finds and caches complete definitions under ``<prefix>/share/<pkg>/msg/``."""

    def __init__(self, prefixes: Sequence[Path] | None = None) -> None:
        self._prefixes = tuple(prefixes) if prefixes is not None else default_prefixes()
        self._cache: dict[str, MessageDefinition] = {}

    def get(self, type_name: str) -> MessageDefinition:
        """The complete ``ros2msg`` definition and RIHS01 hash of ``type_name``."""
        full = normalize_type_name(type_name)
        if full not in self._cache:
            self._cache[full] = self._build(full)
        return self._cache[full]

    def _file(self, full: str, suffix: str) -> Path | None:
        pkg, kind, typ = full.split("/")
        for prefix in self._prefixes:
            path = prefix / "share" / pkg / kind / f"{typ}{suffix}"
            if path.is_file():
                return path
        return None

    def _msg_text(self, full: str) -> str:
        path = self._file(full, ".msg")
        if path is None:
            searched = ", ".join(str(p / "share") for p in self._prefixes)
            raise MessageDefinitionError(
                f"no definition of {full}: {full.split('/')[2]}.msg not found under {searched}"
            )
        return path.read_text(encoding="utf-8")

    def _build(self, full: str) -> MessageDefinition:
        text = self._msg_text(full)
        deps = self._dependencies(full, text)
        parts = [text.rstrip("\n")]
        for dep in deps:
            parts.append(f"{SEPARATOR}\nMSG: {dep}\n{self._msg_text(dep).rstrip(chr(10))}")
        return MessageDefinition(full, "ros2msg", "\n".join(parts) + "\n", self._hash(full))

    def _hash(self, full: str) -> str:
        path = self._file(full, ".json")
        if path is None:
            LOG.debug("no type description for %s: recording without type hash", full)
            return ""
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("type_hashes", []):
            if entry.get("type_name") == full:
                return str(entry["hash_string"])
        return ""

    def _dependencies(self, full: str, text: str) -> list[str]:
        """Every type ``full`` references, depth first in order of appearance, no repeats."""
        order: list[str] = []
        stack = [(full, text)]
        seen = {full}
        while stack:
            current, body = stack.pop()
            found = []
            for ref in _field_types(current.split("/")[0], body):
                if ref not in seen:
                    seen.add(ref)
                    found.append(ref)
            for ref in found:
                order.append(ref)
            for ref in reversed(found):
                stack.append((ref, self._msg_text(ref)))
        return order


def _field_types(package: str, text: str) -> list[str]:
    """Non-primitive field types of a .msg body, as pkg/msg/Type."""
    refs = []
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if not stripped or stripped == "---":
            continue
        token = stripped.split()[0]  # constants are primitive, so skipped below
        base = re.sub(r"\[.*\]$", "", token)
        base = re.sub(r"<=\d+$", "", base)
        if base in _PRIMITIVES:
            continue
        if base == "Header":
            refs.append("std_msgs/msg/Header")
        elif "/" in base:
            refs.append(normalize_type_name(base))
        else:
            refs.append(f"{package}/msg/{base}")
    return refs
