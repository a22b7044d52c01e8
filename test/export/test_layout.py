"""The schema's geometry (end-effector poses from FK, the canonical torso frame, hand closure)
and which groups' action is the measured state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.robot import list_robots
from humanoid_teleop.export.layout import (
    CANONICAL_SLOTS,
    driven_joints,
    hand_closure,
    torso_frames,
    unrecorded_commands,
)
from humanoid_teleop.export.shard import robot_model
from humanoid_teleop.export.source import read_episode

ROBOTS = [entry.name for entry in list_robots()]


@pytest.mark.parametrize("robot", ROBOTS)
def test_torso_frame_at_home_has_base_axes_and_sits_between_the_shoulders(robot: str) -> None:
    """At home the canonical torso frame is the base frame's axes, origin mid-shoulders."""
    model = robot_model(robot)
    home = model.home_positions()
    rotations, origins = torso_frames(model, home[None, :])
    np.testing.assert_allclose(rotations[0], np.eye(3), atol=1e-12)
    arms = model.description.arms
    shoulders = [model.description.groups[arms[s].group][0] for s in ("left", "right")]
    middle = 0.5 * (model.fk(home, shoulders[0])[1] + model.fk(home, shoulders[1])[1])
    np.testing.assert_allclose(origins[0], middle, atol=1e-12)


@pytest.mark.parametrize("robot", ROBOTS)
def test_every_shipped_robot_fits_the_canonical_slots(robot: str) -> None:
    """Each driven group of every shipped robot fits its canonical slot width."""
    description = robot_model(robot).description
    for group, width in CANONICAL_SLOTS.items():
        assert len(description.groups.get(group, ())) <= width, (robot, group)


def test_hand_closure_is_0_open_and_1_closed() -> None:
    """Hand joints at robot.yaml open read 0, at closed read 1, halfway 0.5."""
    model = robot_model("g1")
    hand = model.description.hands["left"]
    q = np.tile(model.home_positions(), (3, 1))
    idx = model.group_indices(hand.group or "")
    for row, closure in enumerate((0.0, 0.5, 1.0)):
        q[row, idx] = hand.grasp_positions(closure)
    np.testing.assert_allclose(hand_closure(model, "left", q), [0.0, 0.5, 1.0], atol=1e-9)


def test_driven_joints_follow_the_fixed_group_order() -> None:
    """Joint vectors list waist, head, arms, hands in that order with URDF names."""
    model = robot_model("talos")
    groups = model.description.groups
    expected = [*groups["waist"], *groups["head"], *groups["left_arm"], *groups["right_arm"],
                *groups["left_hand"], *groups["right_hand"]]  # fmt: skip
    assert list(driven_joints(model)) == expected


def test_an_episode_without_command_topics_names_every_driven_group_and_its_topic(
    talos_offline: dict[str, Path],
) -> None:
    """No command topic recorded: every driven group is listed with its robot.yaml topic."""
    model = robot_model("talos")
    data = read_episode(talos_offline["no_commands"], model.description)
    interfaces = model.description.interfaces
    assert unrecorded_commands(model, data) == {
        group: interfaces[group].topic
        for group in ("waist", "head", "left_arm", "right_arm", "left_hand", "right_hand")
    }


def test_an_episode_with_its_command_topics_names_no_group(talos_offline: dict[str, Path]) -> None:
    """Every interface recorded (the writer's native episode): no group is listed."""
    model = robot_model("talos")
    data = read_episode(talos_offline["native"], model.description)
    assert data.commands.keys() == model.description.interfaces.keys()
    assert unrecorded_commands(model, data) == {}


@pytest.mark.parametrize("by_engage", [False, True], ids=["calibrated", "engaged_again"])
def test_the_calibration_in_effect_counts_the_operators_recentres(
    tmp_path: Path, by_engage: bool
) -> None:
    """``teleop.calibration`` is 0 up to a re-centre 2 s in (the operator's wrist input jumps
    there, the robot does not) and 1 from it on: marked on /teleop/intent/calibrated, or in
    an episode recorded before that topic by a disengage and an engage; without a re-centre,
    0 throughout (the engage's own calibration is the first)."""
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from humanoid_teleop.export.layout import build_frames
    from humanoid_teleop.portability.scripted import record_scripted_episode
    from test.portability.conftest import recentred_copy

    model = RobotModel(load_robot("g1"))
    plain = record_scripted_episode(model, "push", 1, tmp_path / "src", max_s=4.0)
    copy, at_ns = recentred_copy(plain, tmp_path, "recentred", 2.0, np.full(3, 0.05),
                                 np.eye(3), by_engage)  # fmt: skip
    for episode, jump_ns in ((plain, None), (copy, at_ns)):
        data = read_episode(episode, model.description)
        frames = build_frames(model, data, "robot", 30, (), "push")
        column = frames.columns["teleop.calibration"][:, 0]
        expected = np.zeros(len(frames.grid_ns))
        if jump_ns is not None:
            expected[frames.grid_ns >= jump_ns] = 1.0
        np.testing.assert_array_equal(column, expected)
        assert column.max() == (0.0 if jump_ns is None else 1.0)


def _episode_with_nan_positions(bag_dir: Path, joint: str, nan_steps: range) -> Path:
    """A TALOS episode of joint states only (offline writer, 30 Hz, 2 s at home) whose
    position of ``joint`` is NaN in the messages ``nan_steps``."""
    from humanoid_teleop.core.bag.recorder import EpisodeInfo
    from humanoid_teleop.core.robot import robot_model_hash
    from humanoid_teleop.portability.scripted import START_NS
    from humanoid_teleop.portability.writer import JOINT_STATE, EpisodeOutput

    model = robot_model("talos")
    description = model.description
    info = EpisodeInfo(
        task="wave", operator="test", robot="talos",
        robot_model_hash=robot_model_hash(description), device="scripted", station="offline",
    )  # fmt: skip
    output = EpisodeOutput(bag_dir, "talos_nan", info, START_NS)
    topic = description.sensors.joint_state_topic
    output.topic(topic, JOINT_STATE)
    column = model.joint_names.index(joint)
    t_ns = START_NS
    for k in range(61):
        t_ns = START_NS + round(k * 1e9 / 30)
        q = model.home_positions()
        if k in nan_steps:
            q[column] = np.nan
        output.joint_state(topic, t_ns, model.joint_names, q)
    return output.close("success", t_ns)


def test_nan_joint_positions_are_one_input_error_naming_episode_topic_and_joint(
    tmp_path: Path,
) -> None:
    """A stretch of NaN positions in /joint_states is one ExportInputError naming the episode,
    the topic, how many messages and the joint (not pinocchio's "q is not finite")."""
    from humanoid_teleop.export.errors import ExportInputError
    from humanoid_teleop.export.layout import build_frames

    model = robot_model("talos")
    joint = model.description.groups["right_arm"][0]
    episode = _episode_with_nan_positions(tmp_path, joint, range(20, 30))
    data = read_episode(episode, model.description, fps=30)
    topic = model.description.sensors.joint_state_topic
    with pytest.raises(ExportInputError) as err:
        build_frames(model, data, "robot", 30, (), "wave")
    assert str(err.value) == (
        f"{episode}: {topic}: 10 of the 61 messages read hold a NaN or an infinity (joints {joint})"
    )
