"""Where the files humanoid_teleop ships are found: one lookup, one search order, one error.

Every shipped file lives under a *share directory* laid out like the installed
``share/humanoid_teleop`` (which is also the layout of the source checkout):

==================  ==========================================  =============================
kind                folder                                      file
==================  ==========================================  =============================
robots              ``robots/``                                 ``<name>/robot.yaml``
teleop profiles     ``config/teleop/``                          ``<name>.yaml``
joystick pads       ``config/teleop/pads/``                     ``<name>.yaml``
record profiles     ``config/record/``                          ``<name>.yaml``
leader arms (exo)   ``config/devices/``                         ``exo_<name>.yaml``
gamepad presets     ``config/devices/gamepad/``                 ``<name>.yaml``
Foxglove layouts    ``config/foxglove/``                        ``<name>.json``
export QC rules     ``config/export/``                          ``<name>.yaml``
sim scenes          ``config/sim/scenes/``                      ``<name>.yaml``
motion clips        ``data/mocap/``                             ``<name>.bvh``
==================  ==========================================  =============================

Share directories are searched in this order (the first folder holding the file wins):

1. ``HUMANOID_TELEOP_SHARE``: ``os.pathsep``-separated directories laid out like the share
   directory (a site's own profiles and presets shadow the shipped ones);
2. the ament index: ``<prefix>/share/humanoid_teleop`` for the first ``AMENT_PREFIX_PATH``
   prefix holding the marker ``share/ament_index/resource_index/packages/humanoid_teleop``
   (a colcon workspace, plain or ``--symlink-install``, or a distro install under ``/opt/ros``;
   the same rule as ``ament_index_python.get_package_share_directory``);
3. the source tree (a checkout or an editable install: ``package.xml`` beside the package);
4. ``<prefix>/share/humanoid_teleop`` for this interpreter's ``sys.prefix`` (pip into a venv)
   and the user base (``pip install --user``).

Robots also have their own folder list, ``HUMANOID_TELEOP_ROBOTS_PATH``, searched before
these (see :mod:`humanoid_teleop.core.robot.locate`).
"""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from humanoid_teleop.core.errors import ConfigError

PACKAGE = "humanoid_teleop"
SHARE_ENV = "HUMANOID_TELEOP_SHARE"
AMENT_ENV = "AMENT_PREFIX_PATH"
AMENT_MARKER = Path("share") / "ament_index" / "resource_index" / "packages"


class ResourceNotFoundError(ConfigError):
    """A shipped file (or a given path) does not exist; the message lists every place looked."""


@dataclass(frozen=True)
class ShareRoot:
    """One candidate share directory and where it came from (for error messages)."""

    path: Path
    origin: str


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _env_dirs(environ: Mapping[str, str], name: str) -> list[Path]:
    return [Path(part).expanduser() for part in environ.get(name, "").split(os.pathsep) if part]


def ament_prefix(package: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The first ``AMENT_PREFIX_PATH`` prefix registering ``package`` in the ament index."""
    for prefix in _env_dirs(_environ(environ), AMENT_ENV):
        if (prefix / AMENT_MARKER / package).is_file():
            return prefix
    return None


def ament_share(package: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """``<prefix>/share/<package>`` of ``package`` in the ament index, or None."""
    prefix = ament_prefix(package, environ)
    return None if prefix is None else prefix / "share" / package


def source_tree() -> Path | None:
    """The checkout this module runs from (source tree or editable install), or None."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "package.xml").is_file() and (root / PACKAGE).is_dir() else None


def install_prefixes() -> list[Path]:
    """Prefixes pip installs data files under: ``sys.prefix``, then the user base."""
    prefixes = [Path(sys.prefix)]
    user_base = site.getuserbase()
    if user_base and Path(user_base) not in prefixes:
        prefixes.append(Path(user_base))
    return prefixes


def share_roots(environ: Mapping[str, str] | None = None) -> list[ShareRoot]:
    """Every candidate share directory of humanoid_teleop, in search order (may not exist)."""
    env = _environ(environ)
    roots = [ShareRoot(path, SHARE_ENV) for path in _env_dirs(env, SHARE_ENV)]
    ament = ament_share(PACKAGE, env)
    if ament is not None:
        roots.append(ShareRoot(ament, "ament index"))
    tree = source_tree()
    if tree is not None:
        roots.append(ShareRoot(tree, "source tree"))
    roots += [ShareRoot(p / "share" / PACKAGE, "install prefix") for p in install_prefixes()]
    return roots


def _where_looked(environ: Mapping[str, str]) -> str:
    """What the search covered, including the steps that contributed no directory."""
    notes = []
    if not environ.get(SHARE_ENV):
        notes.append(f"{SHARE_ENV} unset")
    if not environ.get(AMENT_ENV):
        notes.append(f"{AMENT_ENV} unset")
    elif ament_prefix(PACKAGE, environ) is None:
        notes.append(f"{PACKAGE} not in the ament index of {AMENT_ENV}={environ[AMENT_ENV]}")
    if source_tree() is None:
        notes.append("not running from a source tree")
    return "; ".join(notes)


@dataclass(frozen=True)
class ResourceKind:
    """One kind of shipped file: its folder under a share directory and its file name rule.

    A name ``n`` is the file ``<folder>/<prefix><n><suffix>``.
    """

    label: str
    folder: str
    suffix: str = ".yaml"
    prefix: str = ""

    def candidate_dirs(self, environ: Mapping[str, str] | None = None) -> list[ShareRoot]:
        """``<root>/<folder>`` for every share root, in search order (may not exist)."""
        return [ShareRoot(root.path / self.folder, root.origin) for root in share_roots(environ)]

    def dirs(self, environ: Mapping[str, str] | None = None) -> list[Path]:
        """The existing folders of this kind, in search order, each once."""
        found: list[Path] = []
        seen: set[Path] = set()
        for candidate in self.candidate_dirs(environ):
            if candidate.path.is_dir() and candidate.path.resolve() not in seen:
                seen.add(candidate.path.resolve())
                found.append(candidate.path)
        return found

    def names(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """Names of every file of this kind on the search path, sorted."""
        names: set[str] = set()
        for folder in self.dirs(environ):
            for path in folder.glob(f"{self.prefix}*{self.suffix}"):
                rel = path.relative_to(folder).as_posix()
                if path.is_file():
                    names.add(rel[len(self.prefix) : len(rel) - len(self.suffix)])
        return sorted(names)

    def files(self, environ: Mapping[str, str] | None = None) -> dict[str, Path]:
        """Name → file for every name on the search path (the first folder wins)."""
        return {name: self.find(name, environ) for name in self.names(environ)}

    def find(self, name_or_path: str | Path, environ: Mapping[str, str] | None = None) -> Path:
        """The file for a name (searched) or a path (``/`` in it or this kind's suffix).

        Raises:
            ResourceNotFoundError: naming the kind, what exists, and every folder looked in.
        """
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or "/" in text or text.endswith(self._suffixes()):
            path = Path(text).expanduser()
            if path.is_file():
                return path
            raise ResourceNotFoundError(f"{path}: {self.label} file not found")
        env = _environ(environ)
        file_name = f"{self.prefix}{text}{self.suffix}"
        for folder in self.dirs(env):
            if (folder / file_name).is_file():
                return folder / file_name
        looked = ", ".join(f"{c.path} ({c.origin})" for c in self.candidate_dirs(env))
        notes = _where_looked(env)
        raise ResourceNotFoundError(
            f"no {self.label} {text!r} ({file_name}); available: "
            f"{', '.join(self.names(env)) or 'none'}; looked in: {looked}"
            + (f" [{notes}]" if notes else "")
        )

    def _suffixes(self) -> tuple[str, ...]:
        return (".yaml", ".yml") if self.suffix == ".yaml" else (self.suffix,)


ROBOTS = ResourceKind("robot", "robots", suffix="/robot.yaml")
TELEOP_PROFILES = ResourceKind("teleop profile", "config/teleop")
PADS = ResourceKind("pad preset", "config/teleop/pads")
RECORD_PROFILES = ResourceKind("recording profile", "config/record")
LEADER_ARMS = ResourceKind("leader-arm config", "config/devices", prefix="exo_")
GAMEPAD_PRESETS = ResourceKind("gamepad preset", "config/devices/gamepad")
FOXGLOVE_LAYOUTS = ResourceKind("Foxglove layout", "config/foxglove", suffix=".json")
EXPORT_RULES = ResourceKind("export rules file", "config/export")
SIM_SCENES = ResourceKind("sim scene", "config/sim/scenes")
MOTION_CLIPS = ResourceKind("motion clip", "data/mocap", suffix=".bvh")

KINDS = (
    ROBOTS,
    TELEOP_PROFILES,
    PADS,
    RECORD_PROFILES,
    LEADER_ARMS,
    GAMEPAD_PRESETS,
    FOXGLOVE_LAYOUTS,
    EXPORT_RULES,
    SIM_SCENES,
    MOTION_CLIPS,
)
"""Every kind of file humanoid_teleop ships."""
