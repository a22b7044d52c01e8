"""Where robot folders and model packages live on this machine.

Robots are folders ``<dir>/<name>/robot.yaml``. The search path is, in order: the folders of
``HUMANOID_TELEOP_ROBOTS_PATH`` (colon-separated, so an integrator's robots can shadow shipped
ones), then the package's own ``robots/`` — from a source checkout or editable install, from an
installed ``share/humanoid_teleop/robots``, or via ``ament_index_python`` in a sourced workspace.

Model packages (``model.package`` in robot.yaml, e.g. ``example-robot-data``) resolve like ROS
``package://`` URIs: ``share/<package>`` under the ament index, ``AMENT_PREFIX_PATH`` /
``CMAKE_PREFIX_PATH`` / ``ROS_PACKAGE_PATH``, this interpreter's prefix and cmeel prefixes
(where the ``example-robot-data`` and ``pin`` wheels put their data).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROBOTS_PATH_ENV = "HUMANOID_TELEOP_ROBOTS_PATH"
PACKAGE = "humanoid_teleop"
ROBOT_FILE = "robot.yaml"


def _env_dirs(environ: Mapping[str, str], name: str) -> list[Path]:
    return [Path(part) for part in environ.get(name, "").split(os.pathsep) if part]


def _ament_share(package: str) -> Path | None:
    """The ament-index share directory of ``package``, or None (no index or not registered)."""
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(package))
    except (PackageNotFoundError, LookupError, ValueError, OSError):
        return None


def shipped_robots_dirs(prefixes: Sequence[Path] | None = None) -> list[Path]:
    """The package's own robots folders that exist, most specific first, without duplicates.

    In order: the source checkout (also an editable install), ``<prefix>/share/humanoid_teleop/
    robots`` for each of ``prefixes`` (default: this interpreter's ``sys.prefix``), and the
    share directory the ament index (``AMENT_PREFIX_PATH``) gives for humanoid_teleop.
    """
    repo = Path(__file__).resolve().parents[3]
    candidates = []
    if (repo / "package.xml").is_file():
        candidates.append(repo / "robots")
    for prefix in [Path(sys.prefix)] if prefixes is None else prefixes:
        candidates.append(prefix / "share" / PACKAGE / "robots")
    ament = _ament_share(PACKAGE)
    if ament is not None:
        candidates.append(ament / "robots")
    found: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve() not in [f.resolve() for f in found]:
            found.append(candidate)
    return found


def robot_search_path(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Folders searched for ``<name>/robot.yaml``: the environment's first, then shipped ones."""
    env = os.environ if environ is None else environ
    return [*_env_dirs(env, ROBOTS_PATH_ENV), *shipped_robots_dirs()]


def package_share_candidates(package: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every directory where ``package``'s shared data could be, in lookup order."""
    env = os.environ if environ is None else environ
    candidates: list[Path] = []
    ament = _ament_share(package)
    if ament is not None:
        candidates.append(ament)
    for name in ("AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH"):
        candidates += [prefix / "share" / package for prefix in _env_dirs(env, name)]
    candidates += [root / package for root in _env_dirs(env, "ROS_PACKAGE_PATH")]
    candidates.append(Path(sys.prefix) / "share" / package)
    candidates += [Path(entry) / "cmeel.prefix" / "share" / package for entry in sys.path if entry]
    return candidates


def find_package_share(package: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The first existing share directory of ``package``, or None."""
    for candidate in package_share_candidates(package, environ):
        if candidate.is_dir():
            return candidate
    return None
