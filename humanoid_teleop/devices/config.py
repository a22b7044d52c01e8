"""Helpers the device configs' ``from_dict`` builders share, on the one config layer.

Files are read by :func:`humanoid_teleop.core.config.read_mapping`, so every error starts with
``file:line: key.path:`` (no line for mappings built in code, e.g. node parameters), then the
bad value and what is allowed. Each value is checked by :class:`humanoid_teleop.core.config.Field`
(the same checks and messages as every other config): numbers must be finite, a device setting
is never NaN or inf. These helpers only add the device configs' defaults for absent keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from humanoid_teleop.core.config import Field, key_line, located, read_mapping
from humanoid_teleop.core.errors import ConfigError


def load_yaml_mapping(path: Path) -> Mapping[str, Any]:
    """Read ``path`` as a YAML mapping that remembers its lines; raise :class:`ConfigError`
    naming the file (and line) otherwise."""
    return read_mapping(path, ConfigError)


def at(source: str, data: Any, key: str, where: str = "") -> str:
    """``source:line: where+key`` for ``data[key]``: where a device config error points."""
    return located(source, data, f"{where}{key}", key)


def _field(data: Mapping[str, Any], key: str, source: str, where: str) -> Field:
    """``data[key]`` as a :class:`Field` at ``where+key`` (its line when ``data`` has lines)."""
    return Field(source, (f"{where}{key}",), data[key], key_line(data, key))


def reject_unknown(
    data: Mapping[str, Any], allowed: Iterable[str], source: str, where: str = ""
) -> None:
    """Raise :class:`ConfigError` if ``data`` has a key outside ``allowed``."""
    keys = (where[:-1],) if where.endswith(".") else ((where,) if where else ())
    Field(source, keys, data, key_line(data)).as_mapping(allowed=sorted(set(allowed)))


def number(
    data: Mapping[str, Any],
    key: str,
    default: float,
    source: str,
    where: str = "",
    minimum: float | None = None,
) -> float:
    """``data[key]`` as a finite float (``default`` when absent), optionally ``>= minimum``."""
    if key not in data:
        return default
    return _field(data, key, source, where).as_float(minimum)


def integer(
    data: Mapping[str, Any],
    key: str,
    default: int,
    source: str,
    where: str = "",
    minimum: int | None = None,
) -> int:
    """``data[key]`` as an int (``default`` when absent), optionally ``>= minimum``."""
    if key not in data:
        return default
    return _field(data, key, source, where).as_int(minimum)


def string(
    data: Mapping[str, Any],
    key: str,
    default: str,
    source: str,
    where: str = "",
    choices: Iterable[str] | None = None,
) -> str:
    """``data[key]`` as a str (``default`` when absent; may be empty), optionally one of
    ``choices``."""
    if key not in data:
        return default
    item = _field(data, key, source, where)
    if choices is not None:
        return item.as_choice(list(choices))
    return item.as_str(allow_empty=True)
