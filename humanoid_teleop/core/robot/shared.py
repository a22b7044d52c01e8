"""Robots loaded once per process: the one cache of :func:`load_robot` and :class:`RobotModel`.

Tools that read many episodes (export, port, annotation, the portability matrix) meet a
handful of robots again and again; a parse costs ~10 ms and a model ~10-50 ms. They share
these two caches, keyed by the robot.yaml's resolved path and its bytes, so a robot.yaml
edited while a process runs is loaded anew (its URDF/MJCF is read when the robot.yaml is).

>>> from humanoid_teleop.core.robot.shared import shared_model
>>> shared_model("g1") is shared_model("g1")
True
"""

from __future__ import annotations

import functools
from pathlib import Path

from humanoid_teleop.core.robot.loader import find_robot_file, load_robot
from humanoid_teleop.core.robot.model import RobotModel
from humanoid_teleop.core.robot.schema import RobotDescription


def shared_robot(name_or_path: str | Path) -> RobotDescription:
    """:func:`load_robot` of a name on the search path or a path, parsed once per process
    and robot.yaml content (raises what ``load_robot`` raises)."""
    file = find_robot_file(name_or_path).resolve()
    return _description(file, file.read_bytes())


def shared_model(name_or_path: str | Path) -> RobotModel:
    """The :class:`RobotModel` of :func:`shared_robot`'s robot, built once per process and
    robot.yaml content."""
    file = find_robot_file(name_or_path).resolve()
    return _model(file, file.read_bytes())


def models_built() -> int:
    """How many models this process has built (a worker that freezes what it built out of
    the garbage collector's passes checks whether there is anything new)."""
    return _model.cache_info().misses


def forget_shared_robots() -> None:
    """Drop every cached robot and model, as in a fresh process."""
    _model.cache_clear()
    _description.cache_clear()


@functools.lru_cache(maxsize=32)
def _description(file: Path, content: bytes) -> RobotDescription:
    """``file``'s description (``content``, its bytes, keys the cache)."""
    return load_robot(file)


@functools.lru_cache(maxsize=32)
def _model(file: Path, content: bytes) -> RobotModel:
    return RobotModel(_description(file, content))
