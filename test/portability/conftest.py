"""Fixtures of the porter's tests: scripted episodes recorded offline (MuJoCo + the teleop
pipeline + the scripted demonstrator, no DDS) in the episode format, once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.reader import iter_messages, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.portability.scripted import START_NS, record_scripted_episode
from humanoid_teleop.portability.writer import EpisodeOutput

#: The pair the reduced matrix test ports: (task, source robot, target robot).
PAIR = ("push", "g1", "alex")
EPISODES = 3
#: Command rate of the test's sources [Hz]: a session's (the demonstrator is tuned at it).
RATE_HZ = 250.0


@pytest.fixture(scope="session")
def models() -> Callable[[str], RobotModel]:
    """Robot models by name, built once per session."""
    cache: dict[str, RobotModel] = {}

    def get(name: str) -> RobotModel:
        if name not in cache:
            cache[name] = RobotModel(load_robot(name))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def sources(
    tmp_path_factory: pytest.TempPathFactory, models: Callable[[str], RobotModel]
) -> list[Path]:
    """EPISODES scripted episodes (seeds 1..N) of PAIR's task on its source robot."""
    task, robot, _ = PAIR
    root = tmp_path_factory.mktemp("sources")
    return [
        record_scripted_episode(models(robot), task, seed, root, rate_hz=RATE_HZ)
        for seed in range(1, EPISODES + 1)
    ]


def copy_without(
    episode: Path,
    out_dir: Path,
    drop: Callable[[str], bool],
    custom_changes: dict[str, str] | None = None,
    until_ns: int | None = None,
    from_ns: int | None = None,
) -> Path:
    """A copy of ``episode`` (same metadata fields, but ``custom_changes``: metadata
    ``custom.<key>`` values) without the topics ``drop`` selects (and, with ``until_ns``,
    without the messages logged after that time [ns]), written with the recorder's
    writer. With ``from_ns``, an episode the recorder started then [ns] (an episode begun
    while its operator was engaged): the messages logged before it are left out but for
    the last of each latched topic (transient local, the engaged flag among them), logged
    at ``from_ns`` as the recorder logs its latched copies at a file's start."""
    summary = read_bag(episode)
    custom = summary.metadata.custom_data
    info = EpisodeInfo(
        task=custom.get("task", ""),
        operator=custom.get("operator", ""),
        robot=custom.get("robot", ""),
        device=custom.get("device", ""),
        custom={k[len("custom.") :]: v for k, v in custom.items() if k.startswith("custom.")}
        | (custom_changes or {}),
    )
    start_ns = START_NS if from_ns is None else from_ns
    output = EpisodeOutput(out_dir, episode.name, info, start_ns)
    latched = {"/robot_description", "/tf_static", "/sim/object_names", "/sim/task/outcome"}
    if from_ns is not None:
        latched |= {
            t.name
            for t in summary.metadata.topics
            if any(q.durability == "transient_local" for q in t.offered_qos_profiles)
        }
    for topic in summary.metadata.topics:
        if not drop(topic.name):
            output.topic(topic.name, topic.type, latched=topic.name in latched)
    held: dict[str, bytes] = {}  # the latched topics' last messages before from_ns
    for message in iter_messages(episode):
        if until_ns is not None and message.log_time_ns > until_ns:
            break
        if drop(message.topic):
            continue
        if from_ns is not None and message.log_time_ns < from_ns:
            if message.topic in latched:
                held[message.topic] = message.data
            continue
        for topic, data in held.items():
            output.raw(topic, start_ns, data)
        held.clear()
        output.raw(message.topic, message.log_time_ns, message.data)
    end_ns = START_NS + summary.metadata.duration_ns
    return output.close(custom.get("outcome"), end_ns if until_ns is None else until_ns)
