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

from humanoid_teleop.core.config import Field, read_yaml
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
    #: The ``params`` value as read (file, line, key path) for the plugin's checks.
    params_node: Field | None = field(default=None, compare=False, repr=False)


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
        """Validate a profile mapping; see :meth:`from_field`."""
        return cls.from_field(Field.of(data, source, (), RetargetConfigError))

    @classmethod
    def from_field(cls, root: Field) -> TeleopProfile:
        """Validate a profile; errors name ``file:line: key.path``, the value and the choices."""
        root = Field(root.file, root.keys, root.value, root.line, RetargetConfigError)
        root.as_mapping(allowed=sorted(_TOP_KEYS), required=("name", "device", "retargeters"))
        name = root.child("name").as_str()
        device = root.child("device").as_choice(DEVICES)
        items = root.child("retargeters").elements()
        if not items:
            raise root.child("retargeters").error("need a non-empty list of retargeters")
        entries = []
        owner: dict[str, str] = {}
        for i, item in enumerate(items):
            entry = _entry(item)
            for group in entry.groups:
                if group in owner:
                    raise item.child("groups").error(
                        f"group {group!r} is already driven by {owner[group]}"
                    )
                owner[group] = f"retargeters[{i}] ({entry.plugin})"
            entries.append(entry)
        safety_block = root.optional("safety")
        safety = (
            SafetyConfig.from_field(safety_block) if safety_block is not None else SafetyConfig()
        )
        description_field = root.optional("description")
        description = ""
        if description_field is not None:
            if not isinstance(description_field.value, str):
                raise description_field.error("need a string")
            description = description_field.value
        return cls(
            name=name,
            device=device,
            retargeters=tuple(entries),
            safety=safety,
            description=description,
            source=str(root.file),
        )


def _entry(item: Field) -> RetargeterEntry:
    item.as_mapping(allowed=sorted(_ENTRY_KEYS), required=("plugin", "groups"))
    plugin = item.child("plugin").as_str()
    groups = item.child("groups").as_str_list()
    params_field = item.optional("params")
    params: Mapping[str, Any] = {}
    if params_field is not None:
        params_field.as_mapping()
        params = params_field.value  # keeps its lines for the plugin's errors
    where = f"{item.file}:{item.line}" if item.line else str(item.file)
    source = f"{where}: {item.key_path} ({plugin})"
    return RetargeterEntry(plugin, groups, params, source, params_field)


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
    return TeleopProfile.from_field(read_yaml(find_profile(name_or_path), RetargetConfigError))
