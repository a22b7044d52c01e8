"""The one config layer: read a YAML file keeping line numbers, and walk it with errors that
name ``file:line: key.path:``.

Every config reader builds on it — robot.yaml, teleop profiles (and their safety and IK
blocks), gamepad pads, device configs, record profiles, sim physics and scenes, export QC
rules. :func:`read_yaml` parses a file; :class:`Field` is a typed view of one value in it:
``field.child("arms")`` goes down one key, ``field.as_str()`` / ``as_float()`` /
``as_mapping(...)`` check the type (numbers must be finite unless a reader allows otherwise),
and ``field.error(...)`` builds the reader's :class:`ConfigError` subclass naming the file, the
line, the key path and the bad value. :meth:`Field.of` wraps a plain mapping (ROS parameters,
a dict built in code) the same way, without lines. Readers that walk plain mappings name a
value's place with :func:`located`, which adds the line when the mapping came from
:func:`read_yaml`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from humanoid_teleop.core.errors import ConfigError


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
    error: type[ConfigError] = ConfigError


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    result = _LineDict()
    result.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise loader.error(
                f"{loader.source}:{line}: key {key!r} must be a string, got {type(key).__name__}"
            )
        if key in result:
            raise loader.error(
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


def read_yaml(path: Path, error: type[ConfigError] = ConfigError) -> Field:
    """Parse ``path`` and return its top-level value as a :class:`Field` raising ``error``.

    Raises ``error`` naming ``file:line:column`` for a syntax error and the file for a
    missing or unreadable file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise error(f"{path}: file not found") from err
    except UnicodeDecodeError as err:
        raise error(
            f"{path}: not a UTF-8 text file (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start}); a config file must be YAML text"
        ) from err
    except OSError as err:
        raise error(f"{path}: cannot read: {err.strerror or err}") from err
    loader: _LineLoader | None = None
    try:
        # The constructor already scans the text for characters YAML does not allow.
        loader = _LineLoader(text)
        loader.source = str(path)
        loader.error = error
        data = loader.get_single_data()
    except yaml.reader.ReaderError as err:
        raise error(
            f"{path}: not a YAML text file: character #x{err.character:04x} at offset "
            f"{err.position} is not allowed in YAML"
        ) from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = " ".join(p for p in (err.context, err.problem) if p)
        raise error(f"{where}: invalid YAML: {problem}") from err
    except yaml.YAMLError as err:
        raise error(f"{path}: invalid YAML: {' '.join(str(err).split())}") from err
    finally:
        if loader is not None:
            loader.dispose()
    return Field(path, (), data, 1, error)


def read_mapping(path: Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    """The top-level mapping of ``path`` (its mappings remember their lines, for
    :func:`located`); anything else raises ``error`` naming the file."""
    root = read_yaml(path, error)
    if not isinstance(root.value, dict):
        raise root.error(f"the top level must be a mapping, got {show_value(root.value)}")
    value: dict[str, Any] = root.value
    return value


def key_line(data: Any, key: str | None = None) -> int:
    """The 1-based line of ``key`` in ``data`` (of ``data`` itself when ``key`` is None), or 0
    when ``data`` did not come from :func:`read_yaml`."""
    if isinstance(data, _LineDict):
        return data.line if key is None else data.key_lines.get(key, data.line)
    if isinstance(data, _LineList):
        return data.line
    return 0


def located(source: str, data: Any, key_path: str, key: str | None = None) -> str:
    """``source:line: key_path`` for the value at ``key`` of ``data`` (``source: key_path`` when
    the line is unknown): the start of every config error."""
    line = key_line(data, key)
    return f"{source}:{line}: {key_path}" if line else f"{source}: {key_path}"


def nearest(name: str, choices: Iterable[str], count: int = 5) -> str:
    """A short 'did you mean' text listing the choices closest to ``name``."""
    pool = sorted(set(choices))
    close = difflib.get_close_matches(name, pool, n=count, cutoff=0.4)
    if close:
        return "nearest: " + ", ".join(close)
    shown = ", ".join(pool[:12]) + (", ..." if len(pool) > 12 else "")
    return f"existing: {shown}" if pool else "none exist"


class Field:
    """One value of a YAML document with its file, key path and line, for precise errors.

    ``line`` 0 means unknown (a mapping that did not come from :func:`read_yaml`); errors are
    of class ``error_type``.
    """

    def __init__(
        self,
        file: Path | str,
        keys: tuple[str, ...],
        value: Any,
        line: int,
        error_type: type[ConfigError] = ConfigError,
    ) -> None:
        #: The file (or the name of the mapping's source) errors name.
        self.file = Path(file)
        self.keys = keys
        self.value = value
        self.line = line
        self.error_type = error_type

    @classmethod
    def of(
        cls,
        value: Any,
        source: Path | str,
        keys: tuple[str, ...] = (),
        error_type: type[ConfigError] = ConfigError,
    ) -> Field:
        """``value`` (a mapping from :func:`read_yaml` keeps its lines) as a Field."""
        return cls(source, keys, value, key_line(value), error_type)

    @property
    def key_path(self) -> str:
        """Dotted key path from the document root, e.g. ``arms.left.ee_frame``."""
        return ".".join(self.keys) if self.keys else "<top level>"

    def error(self, message: str) -> ConfigError:
        """An error for this value: ``file:line: key.path: message`` (no line when unknown)."""
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        return self.error_type(f"{where}: {self.key_path}: {message}")

    def _field(self, keys: tuple[str, ...], value: Any, line: int) -> Field:
        return Field(self.file, keys, value, line, self.error_type)

    # -- navigation -------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def child(self, key: str) -> Field:
        """The value under ``key`` of this mapping (which must exist)."""
        mapping = self.value
        if not isinstance(mapping, dict) or key not in mapping:
            raise self.error(f"missing required key {key!r}")
        line = mapping.key_lines.get(key, self.line) if isinstance(mapping, _LineDict) else 0
        return self._field((*self.keys, key), mapping[key], line)

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
            raise self.error(f"expected a list, got {show_value(seq)}")
        lines = seq.item_lines if isinstance(seq, _LineList) else [self.line] * len(seq)
        return [
            self._field(
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
            raise self.error(f"expected a mapping, got {show_value(self.value)}")
        if allowed is not None:
            for key in self.value:
                if key not in allowed:
                    line = (
                        self.value.key_lines.get(key, self.line)
                        if isinstance(self.value, _LineDict)
                        else self.line
                    )
                    raise self._field((*self.keys, key), self.value[key], line).error(
                        f"unknown key {key!r}; allowed keys: {', '.join(allowed)}"
                    )
        for key in required:
            if key not in self.value:
                raise self.error(
                    f"missing required key {key!r}"
                    + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
                )
        return dict(self.value)

    def as_str(self, allow_empty: bool = False) -> str:
        """This value as a string: non-blank unless ``allow_empty``."""
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, got {show_value(self.value)}")
        if not allow_empty and not self.value.strip():
            raise self.error(f"expected a non-empty string, got {show_value(self.value)}")
        return self.value

    def as_float(self, minimum: float | None = None) -> float:
        """This value as a finite float, ``>= minimum`` when one is given."""
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.error(f"expected a number, got {show_value(self.value)}")
        number = float(self.value)
        if not math.isfinite(number):
            raise self.error(f"expected a finite number, got {show_value(self.value)}")
        if minimum is not None and number < minimum:
            raise self.error(f"expected a number >= {minimum}, got {show_value(self.value)}")
        return number

    def as_float_in(self, low: float, high: float, unit: str = "") -> float:
        """This value as a finite float in ``[low, high]`` (``unit`` names it in the error)."""
        number = self.as_float()
        if not low <= number <= high:
            unit_text = f" {unit}" if unit else ""
            raise self.error(
                f"expected a number in [{low}, {high}]{unit_text}, got {show_value(self.value)}"
            )
        return number

    def as_positive_float(self) -> float:
        number = self.as_float()
        if number <= 0.0:
            raise self.error(f"expected a number > 0, got {show_value(self.value)}")
        return number

    def as_int(self, minimum: int | None = 1) -> int:
        """This value as an int, ``>= minimum`` unless that is None."""
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"expected an integer, got {show_value(self.value)}")
        if minimum is not None and self.value < minimum:
            raise self.error(f"expected an integer >= {minimum}, got {self.value}")
        return int(self.value)

    def as_choice(self, choices: Sequence[str]) -> str:
        text = self.value
        if not isinstance(text, str) or text not in choices:
            raise self.error(f"got {show_value(text)}; allowed: {', '.join(choices)}")
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

    def as_bool(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {show_value(self.value)}")
        return self.value

    def as_fields_of(self, cls: type, nonfinite: Sequence[str] = ()) -> dict[str, Any]:
        """This mapping as keyword arguments for the dataclass ``cls``: unknown keys are errors
        (listing ``cls``'s fields) and each value must match its field's annotation — bool,
        int, float (an int is accepted; NaN/inf only for the fields in ``nonfinite``), str,
        or one of those ``| None``. Range checks are the caller's, via :meth:`child`."""
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        mapping = self.as_mapping(allowed=names)
        values: dict[str, Any] = {}
        for key in mapping:
            item = self.child(key)
            kinds = _kinds(hints[key])
            if item.value is None and type(None) in kinds:
                values[key] = None
            elif bool in kinds:
                values[key] = item.as_bool()
            elif int in kinds:
                if isinstance(item.value, bool) or not isinstance(item.value, int):
                    raise item.error(f"expected an integer, got {show_value(item.value)}")
                values[key] = item.value
            elif float in kinds:
                if key in nonfinite:
                    if isinstance(item.value, bool) or not isinstance(item.value, (int, float)):
                        raise item.error(f"expected a number, got {show_value(item.value)}")
                    values[key] = float(item.value)
                else:
                    values[key] = item.as_float()
            elif str in kinds:
                if not isinstance(item.value, str):
                    raise item.error(f"expected a string, got {show_value(item.value)}")
                values[key] = item.value
            else:
                raise TypeError(f"{cls.__name__}.{key}: unsupported field type {hints[key]}")
        return values

    def as_vector(self, length: int) -> tuple[float, ...]:
        items = self.elements()
        if len(items) != length:
            raise self.error(f"expected a list of {length} numbers, got {show_value(self.value)}")
        return tuple(item.as_float() for item in items)


def _kinds(hint: Any) -> tuple[Any, ...]:
    """The member types of ``X | Y`` (or ``(hint,)``)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


#: The longest scalar [characters] an error message quotes (garbage files hold huge ones).
SHOW_LIMIT = 60


def show_value(value: Any) -> str:
    """A value as written in an error message: its YAML type for a mapping, the first items
    of a list, a scalar's repr cut to :data:`SHOW_LIMIT` characters."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"[{', '.join(show_value(v) for v in value[:6])}{', ...' if len(value) > 6 else ''}]"
    text = repr(value)
    return text if len(text) <= SHOW_LIMIT else text[: SHOW_LIMIT - 3] + "..."
