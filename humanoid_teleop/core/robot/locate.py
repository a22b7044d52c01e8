"""Where robot folders and model packages live on this machine.

Robots are folders ``<dir>/<name>/robot.yaml``. The search path is, in order: the folders of
``HUMANOID_TELEOP_ROBOTS_PATH`` (colon-separated, so an integrator's robots can shadow shipped
ones), then the ``robots/`` folders of the share directories that
:mod:`humanoid_teleop.core.resources` searches for every shipped file (``HUMANOID_TELEOP_SHARE``,
the ament index, the source tree, ``sys.prefix/share/humanoid_teleop``).

Model packages (``model.package`` in robot.yaml, e.g. ``example-robot-data``) resolve like ROS
``package://`` URIs: ``share/<package>`` under the ament index, ``AMENT_PREFIX_PATH`` /
``CMAKE_PREFIX_PATH`` / ``ROS_PACKAGE_PATH``, this interpreter's prefix and cmeel prefixes
(where the ``example-robot-data`` and ``pin`` wheels put their data).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from humanoid_teleop.core.resources import ROBOTS, ament_share

ROBOTS_PATH_ENV = "HUMANOID_TELEOP_ROBOTS_PATH"
ROBOT_FILE = "robot.yaml"


def _env_dirs(environ: Mapping[str, str], name: str) -> list[Path]:
    return [Path(part) for part in environ.get(name, "").split(os.pathsep) if part]


def shipped_robots_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The ``robots/`` folders of the share directories that exist, in resource search order."""
    return ROBOTS.dirs(environ)


def robot_search_path(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Folders searched for ``<name>/robot.yaml``: the environment's first, then shipped ones."""
    env = os.environ if environ is None else environ
    return [*_env_dirs(env, ROBOTS_PATH_ENV), *shipped_robots_dirs(env)]


def package_share_candidates(package: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every directory where ``package``'s shared data could be, in lookup order."""
    env = os.environ if environ is None else environ
    candidates: list[Path] = []
    ament = ament_share(package, env)
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
