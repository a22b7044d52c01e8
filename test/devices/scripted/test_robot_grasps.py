"""Every shipped robot with a hand lifts the cube with the scripted demonstrator (offline)."""

from __future__ import annotations

import dataclasses

import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.physics_config import DemonstratorSettings, load_physics
from humanoid_teleop.devices.scripted.demonstrator import DemonstratorConfig
from humanoid_teleop.devices.scripted.episode import robot_demonstrator_config, run_episode

#: A seed per robot and the sim time [s] by which the cube has been lifted (the episode goes
#: on to place it; the lift is what this test is about).
LIFTS = {"talos": (4, 12.0), "romeo": (7, 10.0), "alex": (1, 12.0)}


@pytest.mark.parametrize("robot", sorted(LIFTS))
def test_scripted_grasp_lifts_the_cube(robot: str) -> None:
    """The demonstrator, through retargeting and safety, lifts the cube >= 5 cm."""
    seed, max_s = LIFTS[robot]
    result = run_episode(RobotModel(load_robot(robot)), "pick_and_place", seed, max_s=max_s)
    assert result.lift_m >= 0.05, result


def test_robot_settings_override_the_demonstrator_defaults() -> None:
    """physics.yaml's demonstrator block changes exactly the fields it names."""
    description = load_robot("talos")
    given = load_physics(description.source_file).demonstrator.overrides()
    config = robot_demonstrator_config(description)
    assert given and all(getattr(config, k) == v for k, v in given.items())
    others = set(DemonstratorSettings.__dataclass_fields__) - set(given) - {"tasks"}
    assert all(getattr(config, k) == getattr(DemonstratorConfig(), k) for k in others)


def test_every_robot_setting_is_a_demonstrator_field() -> None:
    """Each DemonstratorSettings value names a DemonstratorConfig field (same name and unit)."""
    fields = {f.name for f in dataclasses.fields(DemonstratorConfig)}
    settings = {f.name for f in dataclasses.fields(DemonstratorSettings)} - {"tasks"}
    assert settings <= fields


def test_task_settings_apply_to_their_task_only() -> None:
    """TALOS' push settings change the push's demonstrator, not pick_and_place's."""
    description = load_robot("talos")
    push = robot_demonstrator_config(description, "push")
    pick = robot_demonstrator_config(description, "pick_and_place")
    assert push.tilt_down_rad != pick.tilt_down_rad
    assert pick == robot_demonstrator_config(description)
