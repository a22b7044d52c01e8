"""The signals the annotation rules read from a bag: arm speed from the joint states, and a
topic holding another message type than robot.yaml says refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.annotation.errors import AnnotationError
from humanoid_teleop.annotation.signals import read_signals
from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig
from test.annotation.helpers import NS, record_synthetic
from test.core.bag.conftest import string_msg


def test_arm_speed_is_the_joint_displacement_over_the_window(tmp_path: Path) -> None:
    """Joint j0 moving 0.01 rad every 0.1 s reads as an arm speed of 0.1 rad/s."""
    episode = record_synthetic(tmp_path / "bags", "ep", duration_s=2.0, robot="g1")
    signals = read_signals(episode)
    assert signals.arm_speed is not None and len(signals.arm_speed.values) > 10
    assert signals.arm_speed.values == pytest.approx(0.1)


def _one_joint_state(tmp_path: Path, type_name: str, data: bytes) -> Path:
    """An episode "ep" of robot g1 whose /joint_states (declared ``type_name``) holds one
    message of bytes ``data``, at 1 s."""
    recorder = BagRecorder(
        RecorderConfig(
            bag_dir=tmp_path / "bags",
            files=FileOptions(reserve_bytes=4096),
            warn_free_bytes=0,
            min_free_bytes=0,
        )
    )
    try:
        recorder.add_topic("/joint_states", type_name, [QosProfile()])
        recorder.start_episode(EpisodeInfo(robot="g1"), name="ep")
        recorder.submit("/joint_states", data, NS)
        return recorder.stop_episode().path
    finally:
        recorder.close()


def test_a_joint_topic_of_another_type_is_refused_naming_it(tmp_path: Path) -> None:
    """/joint_states holding std_msgs/msg/String raises AnnotationError naming topic and type."""
    episode = _one_joint_state(tmp_path, "std_msgs/msg/String", string_msg("not joints"))
    with pytest.raises(
        AnnotationError,
        match=r"ep: /joint_states holds std_msgs/msg/String, not sensor_msgs/msg/JointState",
    ):
        read_signals(episode)


def test_joint_states_received_in_bursts_are_read_at_their_stamps(tmp_path: Path) -> None:
    """The same 10 Hz joint states received by the recorder in one burst per second (log
    times bunched; stamps as sampled, as on a loaded host) read as the same arm speed."""
    episode = record_synthetic(tmp_path / "bags", "burst", duration_s=2.0, robot="g1", burst_s=1.0)
    signals = read_signals(episode)
    assert signals.arm_speed is not None and len(signals.arm_speed.values) > 10
    assert signals.arm_speed.values == pytest.approx(0.1)


def test_an_undecodable_message_is_named_by_topic_and_time(tmp_path: Path) -> None:
    """A joint state whose bytes do not decode (a damaged recording) raises AnnotationError
    naming the episode, the topic and the message's time in the episode (it said only
    "undecodable message: 102")."""
    garbage = b"\x00\x01\x00\x00" + b"\xff" * 7
    episode = _one_joint_state(tmp_path, "sensor_msgs/msg/JointState", garbage)
    with pytest.raises(AnnotationError) as err:
        read_signals(episode)
    line = str(err.value)
    assert line.startswith(f"{episode}: /joint_states: the message at 0.000 s: undecodable ("), line
    assert "\n" not in line
