"""Teleop profiles: ``config/teleop/<name>.yaml`` assigns retargeters to joint groups per device.

::

    name: vr
    device: vr                          # vr | gamepad | exo | replay
    retargeters:                        # applied in order; each group belongs to one entry
      - plugin: arm_ik                  # entry-point name in humanoid_teleop.retargeters
        groups: [left_arm, right_arm]   # robot joint groups; absent ones are left out
        params: {mode: relative}        # plugin parameters (the plugin checks them)
    safety: {stale_timeout_s: 0.25}     # SafetyConfig fields

Profiles are given as a path or found by name in ``config/teleop/`` of the share directories
of :mod:`humanoid_teleop.core.resources` (environment override, ament index, source tree,
install prefix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from humanoid_teleop.core.resources import TELEOP_PROFILES
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.safety.config import SafetyConfig

DEVICES = ("vr", "gamepad", "exo", "replay")
_TOP_KEYS = {"name", "device", "description", "retargeters", "safety"}
_ENTRY_KEYS = {"plugin", "groups", "params"}


@dataclass(frozen=True)
class RetargeterEntry:
    """One retargeter of a profile: plugin name, groups it drives, its parameters."""

    plugin: str
    groups: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<profile>"


@dataclass(frozen=True)
class TeleopProfile:
    """A parsed teleop profile (see the module docstring for the file format)."""

    name: str
    device: str
    retargeters: tuple[RetargeterEntry, ...]
    safety: SafetyConfig
    description: str = ""
    source: str = "<profile>"

    @classmethod
    def from_dict(cls, data: Any, source: str = "<profile>") -> TeleopProfile:
        """Validate a profile mapping; errors name ``source``, key path, value and choices."""
        if not isinstance(data, Mapping):
            raise RetargetConfigError(f"{source}: a teleop profile must be a mapping")
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise RetargetConfigError(
                f"{source}: unknown key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}"
            )
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise RetargetConfigError(f"{source}: name = {name!r}: need a non-empty string")
        device = data.get("device")
        if device not in DEVICES:
            raise RetargetConfigError(f"{source}: device = {device!r}: allowed: {list(DEVICES)}")
        raw = data.get("retargeters")
        if not isinstance(raw, list) or not raw:
            raise RetargetConfigError(f"{source}: retargeters: need a non-empty list")
        entries = []
        owner: dict[str, str] = {}
        for i, item in enumerate(raw):
            where = f"{source}: retargeters[{i}]"
            entry = _entry(item, where)
            for group in entry.groups:
                if group in owner:
                    raise RetargetConfigError(
                        f"{where}: group {group!r} is already driven by {owner[group]}"
                    )
                owner[group] = f"retargeters[{i}] ({entry.plugin})"
            entries.append(entry)
        safety = data.get("safety", {})
        if not isinstance(safety, Mapping):
            raise RetargetConfigError(f"{source}: safety: need a mapping")
        description = data.get("description", "")
        if not isinstance(description, str):
            raise RetargetConfigError(f"{source}: description: need a string")
        return cls(
            name=name,
            device=device,
            retargeters=tuple(entries),
            safety=SafetyConfig.from_dict(safety, source),
            description=description,
            source=source,
        )


def _entry(item: Any, where: str) -> RetargeterEntry:
    if not isinstance(item, Mapping):
        raise RetargetConfigError(f"{where}: need a mapping with plugin, groups, params")
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        raise RetargetConfigError(
            f"{where}: unknown key(s) {unknown}; allowed: {sorted(_ENTRY_KEYS)}"
        )
    plugin = item.get("plugin")
    if not isinstance(plugin, str) or not plugin:
        raise RetargetConfigError(f"{where}.plugin = {plugin!r}: need a plugin name")
    groups = item.get("groups")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, str) for g in groups):
        raise RetargetConfigError(f"{where}.groups = {groups!r}: need a list of group names")
    params = item.get("params", {})
    if not isinstance(params, Mapping):
        raise RetargetConfigError(f"{where}.params: need a mapping")
    return RetargeterEntry(plugin, tuple(groups), dict(params), f"{where} ({plugin})")


def list_profiles() -> list[str]:
    """Names of every teleop profile on the resource search path."""
    return TELEOP_PROFILES.names()


def find_profile(name_or_path: str) -> Path:
    """Path of a profile given by name or path.

    Raises:
        ResourceNotFoundError: listing the profiles found and every folder looked in.
    """
    return TELEOP_PROFILES.find(name_or_path)


def load_profile(name_or_path: str) -> TeleopProfile:
    """Read and validate a teleop profile by name (``config/teleop/<name>.yaml``) or path."""
    path = find_profile(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise RetargetConfigError(f"{path}: cannot read teleop profile: {err}") from err
    return TeleopProfile.from_dict(data, str(path))
