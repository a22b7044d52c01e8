"""Complete ``ros2msg`` message definitions and RIHS01 type hashes from share directories.

A message package installs ``share/<pkg>/msg/<Type>.msg`` (and, since Iron, ``<Type>.json``
with the type description and its RIHS01 hashes). The complete definition is laid out byte for
byte as rosbag2's local message definition source writes it: the type's own ``.msg`` text as
installed, then for each type it references (depth first, the references of one file in sorted
order, each type once) a newline, a line of 80 ``=``, a line ``MSG: <package>/<Type>`` spelled
package-qualified as the field spells it (never ``pkg/msg/Type``: Foxglove's parser finds
``std_msgs/Header`` only under that name) and that type's ``.msg`` text.
:func:`ros2msg_problems` finds what Foxglove's ``ros2msg`` parser would reject in such a text.
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
#: The message type a robot.yaml command interface of each kind (``InterfaceSpec.kind``)
#: takes: what the recorder node records on its topic and the offline episode writer writes.
COMMAND_INTERFACE_TYPES: dict[str, str] = {
    "forward": "std_msgs/msg/Float64MultiArray",
    "trajectory": "trajectory_msgs/msg/JointTrajectory",
    "joint_state": "sensor_msgs/msg/JointState",
}
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
_MAX_DEPTH = 64
_MSG_LINE = re.compile(r"^MSG: ([^ ]+)\s*(?:#.+)?$")
_TYPE_NAME = re.compile(r"^([A-Za-z0-9_]+)/(?:(msg|srv|action)/)?([A-Za-z0-9_]+)$")


@dataclass(frozen=True)
class MessageDefinition:
    """The complete definition of one message type, ready for an MCAP schema record."""

    type_name: str  # pkg/msg/Type
    encoding: str  # "ros2msg"
    text: str
    type_hash: str  # "RIHS01_<hex>" or "" when the distro has no type descriptions

    @property
    def stamped(self) -> bool:
        """Whether its messages carry a header stamp at CDR offset 4 (:func:`is_stamped`)."""
        return is_stamped(self.type_name, self.text)


_HEADER_NAMES = ("std_msgs/Header", "std_msgs/msg/Header")


def is_stamped(type_name: str, text: str) -> bool:
    """The one rule for a stamped message type, from its name and its ``ros2msg`` definition
    ``text`` (a bag's schema, or the installed .msg): ``std_msgs/Header`` itself, or a type
    whose first field is a Header; either way its stamp (int32 sec, uint32 nanosec) is at
    CDR offset 4. The recorder's accounting and every reader's sample time
    (:mod:`.clock`) ask it."""
    if type_name in _HEADER_NAMES:
        return True
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            return stripped.split()[0] in (*_HEADER_NAMES, "Header")
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
        """The installed ``.msg`` file's text, newlines and all, as rosbag2 embeds it."""
        path = self._file(full, ".msg")
        if path is None:
            searched = ", ".join(str(p / "share") for p in self._prefixes)
            raise MessageDefinitionError(
                f"no definition of {full}: {full.split('/')[2]}.msg not found under {searched}"
            )
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise MessageDefinitionError(f"{path}: cannot read the definition: {err}") from err

    def _build(self, full: str) -> MessageDefinition:
        seen: set[str] = set()

        def complete(name: str, depth: int) -> str:
            if depth > _MAX_DEPTH:
                raise MessageDefinitionError(f"{full}: definitions nest deeper than {_MAX_DEPTH}")
            text = self._msg_text(normalize_type_name(name))
            parts = [text]
            for dep in sorted(set(_field_types(name.split("/")[0], text))):
                if dep not in seen:
                    seen.add(dep)
                    parts.append(f"\n{SEPARATOR}\nMSG: {dep}\n{complete(dep, depth + 1)}")
            return "".join(parts)

        return MessageDefinition(full, "ros2msg", complete(full, 0), self._hash(full))

    def _hash(self, full: str) -> str:
        path = self._file(full, ".json")
        if path is None:
            LOG.debug("no type description for %s: recording without type hash", full)
            return ""
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as err:
            raise MessageDefinitionError(f"{path}: not a type description: {err}") from err
        for entry in data.get("type_hashes", []) if isinstance(data, dict) else []:
            if entry.get("type_name") == full:
                return str(entry["hash_string"])
        return ""


def _field_types(package: str, text: str) -> list[str]:
    """Non-primitive field types of a .msg body as ``pkg/Type``, in order of appearance.

    A bare ``Type`` belongs to ``package`` (``Header`` to std_msgs); ``pkg/msg/Type`` is
    spelled ``pkg/Type``.
    """
    refs = []
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if not stripped or stripped == "---":
            continue
        base = _base_type(stripped.split()[0])
        if base in _PRIMITIVES:
            continue  # constants are primitive, so skipped here too
        if base == "Header":
            refs.append("std_msgs/Header")
        elif "/" in base:
            pkg, _kind, typ = normalize_type_name(base).split("/")
            refs.append(f"{pkg}/{typ}")
        else:
            refs.append(f"{package}/{base}")
    return refs


def _base_type(token: str) -> str:
    """``pkg/Type[<=3]`` → ``pkg/Type``; ``string<=8`` → ``string``."""
    return re.sub(r"<=\d+$", "", re.sub(r"\[.*\]$", "", token))


def ros2msg_problems(text: str) -> list[str]:
    """What Foxglove's ``ros2msg`` parser (@foxglove/rosmsg, ``ros2: true``) would reject.

    Sections are split on lines starting with ``==``; every section after the first must be
    named by a ``MSG: <package>/<Type>`` line, and every complex field type must resolve to
    exactly one section the way Foxglove resolves it (``pkg/Type`` exactly, ``Header`` as
    ``std_msgs/Header``, a bare ``Type`` inside the section's own package, or, in the
    top-level section, any section ending in ``/Type``). An empty list means it parses.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    problems: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("=="):
            sections.append(("", []))
            continue
        if line.startswith("MSG:"):
            match = _MSG_LINE.match(line)
            if match is None:
                problems.append(f"bad section line {line!r} (expected 'MSG: <package>/<Type>')")
            else:
                sections[-1] = (match.group(1), sections[-1][1])
            continue
        sections[-1][1].append(line)
    names = [name for name, _lines in sections]
    for index, (name, lines) in enumerate(sections):
        if index and not name:
            problems.append(f"section {index} has no 'MSG: <package>/<Type>' line")
        namespace = name.rpartition("/")[0]
        for line in lines:
            token = line.split()[0]
            if "=" in line.split("#", 1)[0] and token.split("<=")[0] in _PRIMITIVES:
                continue  # a constant (or a default value) of a primitive type
            base = _base_type(token)
            if base in _PRIMITIVES:
                continue
            if "/" in base:
                matches = [n for n in names if n == base]
            elif base == "Header":
                matches = [n for n in names if n == "std_msgs/Header"]
            elif namespace:
                matches = [n for n in names if n == f"{namespace}/{base}"]
            else:
                matches = [n for n in names if n.endswith(f"/{base}")]
            if len(matches) != 1:
                where = f"section {name!r}" if name else "the top-level type"
                problems.append(
                    f"field type {base!r} in {where} matches {len(matches)} sections "
                    f"(sections: {', '.join(n for n in names if n) or 'none'})"
                )
    return problems
