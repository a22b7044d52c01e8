"""TALOS and iCub, with their own push settings in physics.yaml (iCub: its own scene layout),
push the puck into the target (offline)."""

from __future__ import annotations

import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.scene import SUCCESS
from humanoid_teleop.devices.scripted.episode import run_episode

#: A seed per robot and the sim time [s] the push may take.
PUSHES = {"icub": (1, 8.0), "talos": (1, 12.0)}


@pytest.mark.parametrize("robot", sorted(PUSHES))
def test_scripted_push_reaches_the_target(robot: str) -> None:
    """The demonstrator, through retargeting and safety, pushes the puck into the disc."""
    seed, max_s = PUSHES[robot]
    result = run_episode(RobotModel(load_robot(robot)), "push", seed, max_s=max_s)
    assert result.outcome == SUCCESS, result
