"""Helpers the device configs' ``from_dict`` builders share, on the one config layer.

Files are read by :func:`humanoid_teleop.core.config.read_mapping`, so every error starts with
``file:line: key.path:`` (no line for mappings built in code, e.g. node parameters), then the
bad value and what is allowed. Numbers must be finite: a device setting is never NaN or inf.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from humanoid_teleop.core.config import located, read_mapping
from humanoid_teleop.core.errors import ConfigError


def load_yaml_mapping(path: Path) -> Mapping[str, Any]:
    """Read ``path`` as a YAML mapping that remembers its lines; raise :class:`ConfigError`
    naming the file (and line) otherwise."""
    return read_mapping(path, ConfigError)


def at(source: str, data: Any, key: str, where: str = "") -> str:
    """``source:line: where+key`` for ``data[key]``: where a device config error points."""
    return located(source, data, f"{where}{key}", key)


def reject_unknown(
    data: Mapping[str, Any], allowed: Iterable[str], source: str, where: str = ""
) -> None:
    """Raise :class:`ConfigError` if ``data`` has a key outside ``allowed``."""
    allowed_set = set(allowed)
    for key in data:
        if key not in allowed_set:
            raise ConfigError(
                f"{at(source, data, key, where)}: unknown key "
                f"(allowed: {', '.join(sorted(allowed_set))})"
            )


def number(
    data: Mapping[str, Any],
    key: str,
    default: float,
    source: str,
    where: str = "",
    minimum: float | None = None,
) -> float:
    """``data[key]`` as a finite float (``default`` when absent), optionally ``>= minimum``."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{at(source, data, key, where)}: must be a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{at(source, data, key, where)}: must be finite, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{at(source, data, key, where)}: must be >= {minimum}, got {value!r}")
    return float(value)


def integer(
    data: Mapping[str, Any],
    key: str,
    default: int,
    source: str,
    where: str = "",
    minimum: int | None = None,
) -> int:
    """``data[key]`` as an int (``default`` when absent), optionally ``>= minimum``."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{at(source, data, key, where)}: must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{at(source, data, key, where)}: must be >= {minimum}, got {value!r}")
    return value


def string(
    data: Mapping[str, Any],
    key: str,
    default: str,
    source: str,
    where: str = "",
    choices: Iterable[str] | None = None,
) -> str:
    """``data[key]`` as a str (``default`` when absent), optionally one of ``choices``."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{at(source, data, key, where)}: must be a string, got {value!r}")
    if choices is not None:
        options = list(choices)
        if value not in options:
            raise ConfigError(
                f"{at(source, data, key, where)}: is {value!r}; allowed: {', '.join(options)}"
            )
    return value
