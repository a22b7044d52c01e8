"""Robot fixtures: shipped robot names, and one RobotModel per robot per test session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.robot.locate import shipped_robots_dirs

SHIPPED = [entry.name for entry in list_robots(shipped_robots_dirs())]


@pytest.fixture(scope="session")
def robot_model() -> Callable[[str], RobotModel]:
    """Build each shipped robot's model once per session: ``robot_model("g1")``."""
    cache: dict[str, RobotModel] = {}

    def get(name: str) -> RobotModel:
        if name not in cache:
            cache[name] = RobotModel(load_robot(name, shipped_robots_dirs()))
        return cache[name]

    return get
