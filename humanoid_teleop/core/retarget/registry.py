"""Discovery of retargeter plugins through the entry-point group ``humanoid_teleop.retargeters``.

A missing or broken plugin is a hard error that lists the available names; nothing is
skipped silently.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from humanoid_teleop.core.retarget.base import API_VERSION, Retargeter
from humanoid_teleop.core.retarget.errors import PluginError

ENTRY_POINT_GROUP = "humanoid_teleop.retargeters"


def available_retargeters() -> dict[str, EntryPoint]:
    """Plugin name -> entry point, for every installed distribution."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return dict(sorted(found.items()))


def load_retargeter(name: str) -> type[Retargeter]:
    """The plugin class registered as ``name``; raises PluginError listing available names."""
    available = available_retargeters()
    if name not in available:
        names = ", ".join(available) or "none (is humanoid_teleop installed?)"
        raise PluginError(f"no retargeter plugin {name!r}; available: {names}")
    ep = available[name]
    try:
        cls = ep.load()
    except Exception as err:  # a plugin's import can fail in any way: report it with context
        raise PluginError(
            f"retargeter plugin {name!r} ({ep.value}) failed to load: {type(err).__name__}: {err}"
        ) from err
    if not (isinstance(cls, type) and issubclass(cls, Retargeter)):
        raise PluginError(
            f"retargeter plugin {name!r} ({ep.value}) is not a subclass of "
            "humanoid_teleop.core.retarget.base.Retargeter"
        )
    if cls.api_version != API_VERSION:
        raise PluginError(
            f"retargeter plugin {name!r} ({ep.value}) was written for API version "
            f"{cls.api_version}; this humanoid_teleop provides version {API_VERSION}"
        )
    return cls
