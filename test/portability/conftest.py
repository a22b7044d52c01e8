"""Fixtures of the porter's tests: scripted episodes recorded offline (MuJoCo + the teleop
pipeline + the scripted demonstrator, no DDS) in the episode format, once per session."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.reader import iter_messages, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.cdr import (
    decode_pose_stamped,
    encode_pose_stamped,
    pose_stamped_values,
)
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


def _episode_info(
    custom: dict[str, str], custom_changes: dict[str, str] | None = None
) -> EpisodeInfo:
    """An episode's fields from its metadata ``custom`` data (the ``custom.<key>`` values as
    ``custom_changes`` changes them), for a copy written with the recorder's writer."""
    return EpisodeInfo(
        task=custom.get("task", ""),
        operator=custom.get("operator", ""),
        robot=custom.get("robot", ""),
        device=custom.get("device", ""),
        custom={k[len("custom.") :]: v for k, v in custom.items() if k.startswith("custom.")}
        | (custom_changes or {}),
    )


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
    info = _episode_info(custom, custom_changes)
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


def recentred_copy(
    episode: Path,
    out_dir: Path,
    name: str,
    at_s: float,
    shift_m: np.ndarray,
    turn: np.ndarray,
    by_engage: bool = False,
    raw_input_pause_s: float | None = None,
) -> tuple[Path, float]:
    """A copy of ``episode`` whose operator re-centred ``at_s`` [s] after its first message
    (at the first right EE target then): from there on the recorded right wrist is moved by
    ``shift_m`` [m] and turned by ``turn`` (in its own frame, ``R @ turn``: the controller
    held otherwise) and the hand's joints with it, while every EE target, command and joint
    state stays as it was: what the robot did, driven through the calibration captured
    there (relative: the new wrist mapped onto the same targets). The calibration is marked
    as the teleop node marks it (a std_msgs/Header on /teleop/intent/calibrated), or with
    ``by_engage`` as an episode recorded before that topic shows it: a disengage and an
    engage on /teleop/intent/engaged, 4 ms apart. With ``raw_input_pause_s``, a recording of
    raw device input only, as a stack without intent topics makes it: the intent wrist and
    hand are on /operator/right_wrist and _hand, without /teleop/intent/calibrated, and the
    operator paused that long [s] before engaging again at the re-centre's time, while the
    device went on sending (the wrist moved from the disengage on). Returns the copy and the
    re-centre's time [ns]."""
    from rosbags.typesys import Stores, get_typestore

    from humanoid_teleop.core.motion.rotation import matrix_to_quat, quat_to_matrix
    from humanoid_teleop.core.motion.topics import (
        CALIBRATED_TOPIC,
        EE_TARGET_PREFIX,
        ENGAGED_TOPIC,
        INTENT_PREFIX,
    )

    store = get_typestore(Stores.ROS2_JAZZY)
    summary = read_bag(episode)
    messages = list(iter_messages(episode))
    first_ns = min(m.log_time_ns for m in messages)
    at_ns = min(
        m.log_time_ns
        for m in messages
        if m.topic == f"{EE_TARGET_PREFIX}right" and m.log_time_ns >= first_ns + at_s * 1e9
    )
    custom = summary.metadata.custom_data
    output = EpisodeOutput(out_dir, name, _episode_info(custom), START_NS)
    latched = {"/robot_description", "/tf_static", "/sim/object_names", "/sim/task/outcome"}
    latched |= {ENGAGED_TOPIC, CALIBRATED_TOPIC}
    raw = raw_input_pause_s is not None
    by_engage = by_engage or raw
    pause_ns = 4_000_000 if raw_input_pause_s is None else round(raw_input_pause_s * 1e9)
    wrist_topic, hand_topic = f"{INTENT_PREFIX}right_wrist", f"{INTENT_PREFIX}right_hand"
    renamed = {t: t.replace(INTENT_PREFIX, "/operator/") for t in (wrist_topic, hand_topic)}
    for topic in summary.metadata.topics:
        if not (by_engage and topic.name == CALIBRATED_TOPIC):
            written = renamed.get(topic.name, topic.name) if raw else topic.name
            output.topic(written, topic.type, latched=topic.name in latched)
    wrist: tuple[np.ndarray, np.ndarray] | None = None  # the recorded one, position and rotation
    marked = paused = False
    for message in messages:
        t_ns, data = message.log_time_ns, message.data
        if by_engage and message.topic == CALIBRATED_TOPIC:
            continue
        if by_engage and t_ns >= at_ns - pause_ns and not paused:
            paused = True
            output.flag(ENGAGED_TOPIC, at_ns - pause_ns, False)
        if t_ns >= at_ns and not marked:
            marked = True
            if by_engage:
                output.flag(ENGAGED_TOPIC, at_ns, True)
            else:
                output.header(CALIBRATED_TOPIC, at_ns, "pelvis")
        # raw input: moved while paused (from just after the disengage, whose step used the
        # input sampled at its time)
        moved_from_ns = at_ns - pause_ns + 1 if raw else at_ns
        if message.topic == wrist_topic:
            msg = store.deserialize_cdr(data, "geometry_msgs/msg/PoseStamped")
            p, o = msg.pose.position, msg.pose.orientation
            wrist = (np.array([p.x, p.y, p.z]), quat_to_matrix(np.array([o.x, o.y, o.z, o.w])))
            if t_ns >= moved_from_ns:
                moved = wrist[0] + shift_m
                q = matrix_to_quat(wrist[1] @ turn)
                p.x, p.y, p.z = (float(v) for v in moved)
                o.x, o.y, o.z, o.w = (float(v) for v in q)
                data = bytes(store.serialize_cdr(msg, "geometry_msgs/msg/PoseStamped"))
        elif message.topic == hand_topic and t_ns >= moved_from_ns and wrist is not None:
            msg = store.deserialize_cdr(data, "geometry_msgs/msg/PoseArray")
            p0, r0 = wrist
            r1 = r0 @ turn
            for pose in msg.poses:
                point = np.array([pose.position.x, pose.position.y, pose.position.z])
                moved = p0 + shift_m + r1 @ (r0.T @ (point - p0))
                pose.position.x, pose.position.y, pose.position.z = (float(v) for v in moved)
            data = bytes(store.serialize_cdr(msg, "geometry_msgs/msg/PoseArray"))
        output.raw(renamed.get(message.topic, message.topic) if raw else message.topic, t_ns, data)
    output.close(custom.get("outcome"), START_NS + summary.metadata.duration_ns)
    return out_dir / name, at_ns


def copy_changing(
    source: Path, out_dir: Path, name: str, change: Callable[[str, int, bytes], tuple[int, bytes]]
) -> Path:
    """A copy of ``source`` written with the recorder's writer, each message's (publish
    time, data) as ``change(topic, log time, data)`` gives them (received at the log time,
    or at the newest time received before when that is later)."""
    metadata = read_bag(source).metadata
    output = EpisodeOutput(out_dir, name, EpisodeInfo(robot=metadata.custom_data["robot"]),
                           START_NS)  # fmt: skip
    latched = {"/robot_description", "/tf_static", "/sim/object_names", "/sim/task/outcome"}
    for topic in metadata.topics:
        output.topic(topic.name, topic.type, latched=topic.name in latched)
    for message in iter_messages(source):
        output.raw(message.topic, *change(message.topic, message.log_time_ns, message.data))
    output.close("success", START_NS + metadata.duration_ns)
    return out_dir / name


def nan_wrist_copy(source: Path, out_dir: Path, every: int = 0) -> tuple[Path, int]:
    """A copy of ``source`` whose intent right wrist holds a NaN x in its 300th message (and
    with ``every``, in every message): (the copy, its messages on that topic)."""
    topic = "/teleop/intent/right_wrist"
    count = [0]

    def nan_wrist(name: str, t_ns: int, data: bytes) -> tuple[int, bytes]:
        if name != topic:
            return t_ns, data
        count[0] += 1
        if count[0] != 300 and not every:
            return t_ns, data
        header = decode_pose_stamped(data, topic).header
        values = (math.nan, *pose_stamped_values(data, topic)[1:])
        sec, nanosec = divmod(round(header.stamp_s * 1e9), 1_000_000_000)
        return t_ns, encode_pose_stamped(sec, nanosec, header.frame_id, values)

    return copy_changing(source, out_dir, "nan_wrist", nan_wrist), count[0]
