"""Small helpers shared by the device configs' ``from_dict`` builders.

Every error names the file (``source``), the key path, the bad value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from humanoid_teleop.core.errors import ConfigError


def load_yaml_mapping(path: Path) -> Mapping[str, Any]:
    """Read ``path`` as a YAML mapping; raise :class:`ConfigError` naming the file otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def reject_unknown(
    data: Mapping[str, Any], allowed: Iterable[str], source: str, where: str = ""
) -> None:
    """Raise :class:`ConfigError` if ``data`` has a key outside ``allowed``."""
    allowed_set = set(allowed)
    for key in data:
        if key not in allowed_set:
            raise ConfigError(
                f"{source}: unknown key '{where}{key}' (allowed: {', '.join(sorted(allowed_set))})"
            )


def number(
    data: Mapping[str, Any],
    key: str,
    default: float,
    source: str,
    where: str = "",
    minimum: float | None = None,
) -> float:
    """``data[key]`` as a float (``default`` when absent), optionally ``>= minimum``."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: '{where}{key}' must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{source}: '{where}{key}' must be >= {minimum}, got {value!r}")
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
        raise ConfigError(f"{source}: '{where}{key}' must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{source}: '{where}{key}' must be >= {minimum}, got {value!r}")
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
        raise ConfigError(f"{source}: '{where}{key}' must be a string, got {value!r}")
    if choices is not None:
        options = list(choices)
        if value not in options:
            raise ConfigError(
                f"{source}: '{where}{key}' is {value!r}; allowed: {', '.join(options)}"
            )
    return value
