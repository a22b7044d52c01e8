"""The source side of a port (:mod:`humanoid_teleop.portability.track`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.port import PortOptions, port_episode
from humanoid_teleop.portability.source import Samples, SourceEpisode, read_source
from humanoid_teleop.portability.track import SourceTrack


def test_kinematic_self_port_is_compared_with_the_source_pipelines_commands(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A scripted push ported onto its own robot without physics repeats the recorded
    commands, and its report says so: the source's path is its pipeline's whole command
    (the waist where it engaged), not the recorded arm on the waist physics bent (G1's:
    0.5 cm free-space p95)."""
    episode = read_source(sources[0])
    model = models(episode.robot)
    result = port_episode(episode, model, model, tmp_path, PortOptions(sim=False))
    ported = read_source(result.path)
    for group, stream in episode.commands.items():
        np.testing.assert_array_equal(ported.commands[group].values, stream.values)
    assert result.report.free_p95_m < 1e-9


def test_kinematic_comparison_path_holds_the_uncommanded_joints_and_sets_the_mimics(
    models: Callable[[str], RobotModel],
) -> None:
    """Without physics the source's tool path is FK of its commands with every group no
    command was recorded for where it was at engage and the hand's mimic joints set from
    its commanded joint (Romeo: its waist bent in physics after engage, its fingers stopped
    by an object short of where the command puts them); with physics, the measured
    joints'. The goal's commanded path keeps the measured waist and fingers."""
    model = models("romeo")
    description = model.description
    names = model.joint_names
    t_s = np.arange(1, 6) * 0.004
    measured = np.tile(model.home_positions(), (len(t_s), 1))
    waist = model.group_indices("waist")
    measured[:, waist] = np.linspace(0.0, 0.08, len(t_s))[:, None]  # bent after engage
    fingers = [names.index(m.joint) for m in model.mimics if m.source == "RHand"]
    assert fingers
    measured[:, fingers] = 0.3  # stopped by an object
    arm, hand = model.group_indices("right_arm"), model.group_indices("right_hand")
    arm_cmd = measured[:, arm] + np.linspace(0.0, 0.2, len(t_s))[:, None]
    hand_cmd = np.full((len(t_s), len(hand)), 0.9)
    episode = SourceEpisode(
        path=Path("synthetic"),
        custom={},
        robot=description.name,
        engage_ns=0,
        joint_names=names,
        joints=Samples(t_s, measured),
        commands={"right_arm": Samples(t_s, arm_cmd), "right_hand": Samples(t_s, hand_cmd)},
        wrists={},
        hands={},
        intent_source="",
        objects=None,
        object_names=(),
        scene="",
        outcome="",
    )
    track = SourceTrack(episode, model, "right", measured_too=False)
    q = measured.copy()
    q[:, arm], q[:, hand] = arm_cmd, hand_cmd
    np.testing.assert_array_equal(track.commanded_q, q)  # the goal's: measured elsewhere
    q[:, waist] = measured[0, waist]
    q = np.array([model.apply_mimic(row) for row in q])
    for k, row in enumerate(q):
        pose = track.tool.tool(row)
        np.testing.assert_allclose(track.actual_p[k], pose.position_m - track.origin, atol=1e-12)
        np.testing.assert_allclose(track.actual_r[k], pose.rotation, atol=1e-12)
    assert np.abs(track.actual_p - track.commanded_p).max() > 0.01
    physics = SourceTrack(episode, model, "right", measured_too=True)
    for k, row in enumerate(measured):
        pose = physics.tool.tool(row)
        np.testing.assert_array_equal(physics.actual_p[k], pose.position_m - physics.origin)
        np.testing.assert_array_equal(physics.actual_r[k], pose.rotation)
