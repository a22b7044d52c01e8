"""Shared fixtures: robot models are loaded once per test session (parsing URDFs is slow)."""

from __future__ import annotations

from functools import cache

import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot

SHIPPED = [entry.name for entry in list_robots()]


@cache
def model_of(name: str) -> RobotModel:
    """The RobotModel of a shipped robot, built once."""
    return RobotModel(load_robot(name))


@pytest.fixture(params=SHIPPED)
def shipped_model(request: pytest.FixtureRequest) -> RobotModel:
    """Each shipped robot in turn."""
    return model_of(str(request.param))
