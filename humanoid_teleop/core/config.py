"""Read a YAML file keeping line numbers, and walk it with errors that name file:line and key.

:class:`Field` is a typed view of one value in the document: ``field.child("arms")`` goes
down one key, ``field.as_str()`` / ``as_float()`` / ``as_mapping(...)`` check the type, and
``field.error(...)`` builds a :class:`RobotConfigError` naming the file, the line, the key path
and the bad value.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from humanoid_teleop.core.robot.errors import RobotConfigError


class _LineDict(dict[str, Any]):
    """A mapping from the YAML document that remembers the line of each key (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[str, int] = {}
        self.line = 0


class _LineList(list[Any]):
    """A sequence from the YAML document that remembers the line of each item (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []
        self.line = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records lines and rejects duplicate keys."""

    source = "<string>"


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    result = _LineDict()
    result.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise RobotConfigError(
                f"{loader.source}:{line}: key {key!r} must be a string, got {type(key).__name__}"
            )
        if key in result:
            raise RobotConfigError(
                f"{loader.source}:{line}: duplicate key {key!r} "
                f"(first on line {result.key_lines[key]})"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList()
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_yaml(path: Path) -> Field:
    """Parse ``path`` and return its top-level value as a :class:`Field`.

    Raises RobotConfigError naming ``file:line:column`` for a syntax error and the file for a
    missing or unreadable file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise RobotConfigError(f"{path}: file not found") from err
    except UnicodeDecodeError as err:
        raise RobotConfigError(
            f"{path}: not a UTF-8 text file (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start}); robot.yaml must be YAML text"
        ) from err
    except OSError as err:
        raise RobotConfigError(f"{path}: cannot read: {err.strerror or err}") from err
    loader: _LineLoader | None = None
    try:
        # The constructor already scans the text for characters YAML does not allow.
        loader = _LineLoader(text)
        loader.source = str(path)
        data = loader.get_single_data()
    except yaml.reader.ReaderError as err:
        raise RobotConfigError(
            f"{path}: not a YAML text file: character #x{err.character:04x} at offset "
            f"{err.position} is not allowed in YAML"
        ) from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(p for p in (err.context, err.problem) if p)
        raise RobotConfigError(f"{where}: invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise RobotConfigError(f"{path}: invalid YAML: {' '.join(str(err).split())}") from err
    finally:
        if loader is not None:
            loader.dispose()
    return Field(path, (), data, 1)


def nearest(name: str, choices: Iterable[str], count: int = 5) -> str:
    """A short 'did you mean' text listing the choices closest to ``name``."""
    pool = sorted(set(choices))
    close = difflib.get_close_matches(name, pool, n=count, cutoff=0.4)
    if close:
        return "nearest: " + ", ".join(close)
    shown = ", ".join(pool[:12]) + (", ..." if len(pool) > 12 else "")
    return f"existing: {shown}" if pool else "none exist"


class Field:
    """One value of a YAML document with its file, key path and line, for precise errors."""

    def __init__(self, file: Path, keys: tuple[str, ...], value: Any, line: int) -> None:
        self.file = file
        self.keys = keys
        self.value = value
        self.line = line

    @property
    def key_path(self) -> str:
        """Dotted key path from the document root, e.g. ``arms.left.ee_frame``."""
        return ".".join(self.keys) if self.keys else "<top level>"

    def error(self, message: str) -> RobotConfigError:
        """An error for this value: ``file:line: key.path: message``."""
        return RobotConfigError(f"{self.file}:{self.line}: {self.key_path}: {message}")

    # -- navigation -------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def child(self, key: str) -> Field:
        """The value under ``key`` of this mapping (which must exist)."""
        mapping = self.value
        if not isinstance(mapping, dict) or key not in mapping:
            raise self.error(f"missing required key {key!r}")
        line = mapping.key_lines.get(key, self.line) if isinstance(mapping, _LineDict) else 0
        return Field(self.file, (*self.keys, key), mapping[key], line)

    def optional(self, key: str) -> Field | None:
        """The value under ``key`` or None when absent or null."""
        if not self.has(key) or self.value[key] is None:
            return None
        return self.child(key)

    def items(self) -> Iterator[tuple[str, Field]]:
        """(key, Field) pairs of this mapping, in file order."""
        mapping = self.as_mapping()
        for key in mapping:
            yield key, self.child(key)

    def elements(self) -> list[Field]:
        """Fields of this list, in order."""
        seq = self.value
        if not isinstance(seq, list):
            raise self.error(f"expected a list, got {_show(seq)}")
        lines = seq.item_lines if isinstance(seq, _LineList) else [self.line] * len(seq)
        return [
            Field(
                self.file,
                (*self.keys[:-1], f"{self.keys[-1]}[{i}]" if self.keys else f"[{i}]"),
                item,
                lines[i],
            )
            for i, item in enumerate(seq)
        ]

    # -- typed access -----------------------------------------------------------------------

    def as_mapping(
        self, allowed: Sequence[str] | None = None, required: Sequence[str] = ()
    ) -> dict[str, Any]:
        """This value as a mapping; unknown keys (when ``allowed`` is given) are errors."""
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_show(self.value)}")
        if allowed is not None:
            for key in self.value:
                if key not in allowed:
                    line = (
                        self.value.key_lines.get(key, self.line)
                        if isinstance(self.value, _LineDict)
                        else self.line
                    )
                    raise Field(self.file, (*self.keys, key), self.value[key], line).error(
                        f"unknown key {key!r}; allowed keys: {', '.join(allowed)}"
                    )
        for key in required:
            if key not in self.value:
                raise self.error(
                    f"missing required key {key!r}"
                    + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
                )
        return dict(self.value)

    def as_str(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.error(f"expected a non-empty string, got {_show(self.value)}")
        return self.value

    def as_float(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.error(f"expected a number, got {_show(self.value)}")
        number = float(self.value)
        if not math.isfinite(number):
            raise self.error(f"expected a finite number, got {_show(self.value)}")
        return number

    def as_positive_float(self) -> float:
        number = self.as_float()
        if number <= 0.0:
            raise self.error(f"expected a number > 0, got {_show(self.value)}")
        return number

    def as_int(self, minimum: int = 1) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"expected an integer, got {_show(self.value)}")
        if self.value < minimum:
            raise self.error(f"expected an integer >= {minimum}, got {self.value}")
        return int(self.value)

    def as_choice(self, choices: Sequence[str]) -> str:
        text = self.value
        if not isinstance(text, str) or text not in choices:
            raise self.error(f"got {_show(text)}; allowed: {', '.join(choices)}")
        return text

    def as_str_list(self, allow_empty: bool = False) -> tuple[str, ...]:
        items = self.elements()
        if not items and not allow_empty:
            raise self.error("expected a non-empty list of names, got []")
        names = tuple(item.as_str() for item in items)
        for i, name in enumerate(names):
            if name in names[:i]:
                raise items[i].error(f"{name!r} is listed twice")
        return names

    def as_vector(self, length: int) -> tuple[float, ...]:
        items = self.elements()
        if len(items) != length:
            raise self.error(f"expected a list of {length} numbers, got {_show(self.value)}")
        return tuple(item.as_float() for item in items)


def _show(value: Any) -> str:
    """A value as written in an error message (with its YAML type for non-scalars)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"[{', '.join(_show(v) for v in value[:6])}{', ...' if len(value) > 6 else ''}]"
    return repr(value)
