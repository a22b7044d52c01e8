"""replay_node over real DDS: a BVH clip or a bag's operator intent as live operator input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh

from ..conftest import SHARED_DATA

rclpy = pytest.importorskip("rclpy")
from geometry_msgs.msg import PoseStamped  # noqa: E402

from humanoid_teleop.core.motion.messages import pose_from_msg  # noqa: E402
from humanoid_teleop.nodes.replay_node import bag_operator_messages, default_clip  # noqa: E402
from humanoid_teleop.nodes.ros_conversions import time_to_s  # noqa: E402

from .test_sim_robot_node import NodeProcess, Probe, free_domain  # noqa: E402

REPLAY = "humanoid_teleop.nodes.replay_node"
WRIST_TOPICS = ("/operator/head", "/operator/left_wrist", "/operator/right_wrist")
SIDES = ("left", "right")


def _stamps_s(messages: list[PoseStamped]) -> np.ndarray:
    return np.array([time_to_s(m.header.stamp) for m in messages])


def _play(
    tmp_path: Path, params: dict[str, object], seconds: float
) -> tuple[dict[str, list[PoseStamped]], str, int]:
    """Run replay_node with ``params`` for ``seconds`` after its first message."""
    domain = free_domain()
    node = NodeProcess(REPLAY, params, domain, tmp_path / "replay.log")
    probe = Probe(domain)
    try:
        got = {topic: probe.listen(PoseStamped, topic, 1000) for topic in WRIST_TOPICS}
        assert probe.spin_until(lambda: bool(got["/operator/head"]), 30.0), node.output()
        probe.spin_for(seconds)
    finally:
        probe.close()
        code = node.stop()
    return got, node.output(), code


def _clip_positions(skip_frames: int = 5) -> np.ndarray:
    """Right-wrist positions [m] of every frame of the shipped clip after ``skip_frames``."""
    frames = human_frames_from_bvh(read_bvh(default_clip()), skip_frames=skip_frames).frames
    return np.array([f.right_wrist.position_m for f in frames if f.right_wrist is not None])


def _frame_indices(messages: list[PoseStamped], clip: np.ndarray) -> np.ndarray:
    """Which clip frame each received pose is (it must be one exactly)."""
    received = np.array(
        [[m.pose.position.x, m.pose.position.y, m.pose.position.z] for m in messages]
    )
    indices = np.array([int(np.argmin(np.linalg.norm(clip - p, axis=1))) for p in received])
    np.testing.assert_allclose(received, clip[indices], atol=1e-9)
    return indices


def _clip_speed(messages: list[PoseStamped], clip: np.ndarray) -> float:
    """Clip frames advanced per second of publish time (a least-squares slope)."""
    indices = _frame_indices(messages, clip)
    stamps = _stamps_s(messages)
    return float(np.polyfit(stamps - stamps[0], indices, 1)[0])


Played = tuple[dict[str, list[PoseStamped]], str, int]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Played:
    """2.5 s of replay_node with default parameters (the shipped clip), shared by tests."""
    return _play(tmp_path_factory.mktemp("replay"), {}, 2.5)


@pytest.mark.ros
def test_default_clip_plays_at_its_recorded_speed(default_run: Played) -> None:
    """The shipped 120 Hz clip advances 120 frames per second, on head and both wrists."""
    got, log, code = default_run
    assert code == 0, log
    assert _clip_speed(got["/operator/right_wrist"], _clip_positions()) == pytest.approx(
        120.0, rel=0.03
    )
    for topic in WRIST_TOPICS:
        stamps = _stamps_s(got[topic][20:])  # past discovery
        # one message per frame; under heavy CPU load late frames are skipped, not queued
        assert (len(stamps) - 1) / (stamps[-1] - stamps[0]) <= 121.0, topic
        assert len(stamps) > 100, topic
        assert got[topic][-1].header.frame_id == "operator"
    assert "cmu_14_05_unscrew_cap_drink_soda.bvh: 843 frames" in log


@pytest.mark.ros
def test_rate_scale_slows_playback_down(tmp_path: Path) -> None:
    """rate_scale 0.5 advances the 120 Hz clip by 60 frames per second."""
    got, log, _ = _play(tmp_path, {"rate_scale": 0.5}, 2.0)
    speed = _clip_speed(got["/operator/right_wrist"], _clip_positions())
    assert speed == pytest.approx(60.0, rel=0.03), log


@pytest.mark.ros
def test_poses_are_the_clips_frames_in_order(default_run: Played) -> None:
    """Received right-wrist poses are frames of the converted clip, never repeated or reversed."""
    got, log, _ = default_run
    indices = _frame_indices(got["/operator/right_wrist"], _clip_positions())
    assert np.all(np.diff(indices) >= 1), log


@pytest.mark.ros
def test_without_loop_the_clip_plays_once_then_stops(tmp_path: Path) -> None:
    """With 248 frames (~2 s) left and loop false, at most those poses come, then nothing."""
    clip = _clip_positions(skip_frames=600)
    got, log, _ = _play(tmp_path, {"skip_frames": 600, "loop": False}, 3.5)
    counts = [len(got[t]) for t in WRIST_TOPICS]
    # playback waits for the subscribers, so none is lost to discovery; on a loaded machine a
    # late frame is skipped (kept to wall-clock time), but none comes twice or after the end
    assert max(counts) <= len(clip) and min(counts) >= 100, (counts, len(clip))
    indices = _frame_indices(got["/operator/right_wrist"], clip)
    assert np.all(np.diff(indices) >= 1)
    assert indices[-1] == len(clip) - 1
    assert "clip finished" in log


@pytest.mark.ros
def test_missing_motion_file_is_a_clear_error(tmp_path: Path) -> None:
    """A motion path that does not exist exits with code 2 and names the path."""
    missing = tmp_path / "nope.bvh"
    result = subprocess.run(
        [sys.executable, "-m", REPLAY, "--ros-args", "-p", f"motion:={missing}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{missing} does not exist" in result.stderr


def _intent_bag(
    tmp_path: Path, logged_at_ns: int | None = None
) -> tuple[Path, dict[str, np.ndarray]]:
    """A bag (written with rosbags) of 50 poses at 100 Hz on each of three topics: the left
    wrist's intent, the raw left wrist (other values) and the raw head (no head intent);
    with ``logged_at_ns`` every message is logged then (received in one burst), each still
    stamped when it was sampled."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    pose_type = store.types["geometry_msgs/msg/PoseStamped"]
    header_type = store.types["std_msgs/msg/Header"]
    time_type = store.types["builtin_interfaces/msg/Time"]
    pose_msg = store.types["geometry_msgs/msg/Pose"]
    point = store.types["geometry_msgs/msg/Point"]
    quat = store.types["geometry_msgs/msg/Quaternion"]
    ramp = np.linspace(0.2, 0.7, 50)
    recorded = {
        "/teleop/intent/left_wrist": np.stack([ramp, np.full(50, 0.3), np.full(50, 1.1)], 1),
        "/operator/left_wrist": np.stack([ramp, np.full(50, 0.9), np.full(50, 0.9)], 1),
        "/operator/head": np.stack([np.zeros(50), np.zeros(50), 1.5 + 0.1 * ramp], 1),
    }
    bag = tmp_path / "episode"
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        for topic, positions in recorded.items():
            conn = writer.add_connection(topic, pose_type.__msgtype__, typestore=store)
            for i, (x, y, z) in enumerate(positions):
                t_ns = 1_000_000_000 + i * 10_000_000
                stamp = time_type(sec=t_ns // 10**9, nanosec=t_ns % 10**9)
                msg = pose_type(
                    header=header_type(stamp=stamp, frame_id="operator"),
                    pose=pose_msg(
                        position=point(x=x, y=y, z=z),
                        orientation=quat(x=0.0, y=0.0, z=0.0, w=1.0),
                    ),
                )
                data = store.serialize_cdr(msg, pose_type.__msgtype__)
                writer.write(conn, t_ns if logged_at_ns is None else logged_at_ns, data)
    return bag, recorded


def test_bag_intent_received_in_one_burst_is_replayed_at_its_stamps(tmp_path: Path) -> None:
    """Operator input the recorder received all at once (log times equal) is timed by its
    header stamps: the 100 Hz clip's 10 ms steps, not one instant."""
    bag, _ = _intent_bag(tmp_path, logged_at_ns=3_000_000_000)
    messages = bag_operator_messages(bag).messages
    wrist = [t for t, topic, _ in messages if topic == "/operator/left_wrist"]
    assert wrist == [1_000_000_000 + i * 10_000_000 for i in range(50)]


def _wrists_and_hands(messages: list[tuple[int, str, bytes]]) -> dict[str, np.ndarray]:
    """Per /operator/ right wrist and hand topic: its messages' poses (n x 7, n x 25 x 7)."""
    from humanoid_teleop.core.motion import cdr

    rows: dict[str, list[np.ndarray]] = {}
    for _, topic, data in messages:
        if topic == "/operator/right_wrist":
            pose = cdr.decode_pose_stamped(data, topic)
            rows.setdefault(topic, []).append(np.array([*pose.position, *pose.quat_xyzw]))
        elif topic == "/operator/right_hand":
            rows.setdefault(topic, []).append(cdr.decode_pose_array(data, topic)[1])
    return {topic: np.array(values) for topic, values in rows.items()}


@pytest.fixture(scope="module")
def g1_push(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted G1 push episode (offline: MuJoCo, the teleop pipeline, the demonstrator)."""
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from humanoid_teleop.portability.scripted import record_scripted_episode

    root = tmp_path_factory.mktemp("g1_push")
    return record_scripted_episode(RobotModel(load_robot("g1")), "push", 1, root, rate_hz=250.0)


@pytest.mark.parametrize("by_engage", [False, True], ids=["re-centre", "pause"])
def test_a_re_centred_bag_replays_in_the_calibration_it_began_with(
    g1_push: Path, tmp_path: Path, by_engage: bool
) -> None:
    """An operator who re-centred (or paused and engaged again) 2 s in, the hand 10 cm away
    and turned 0.5 rad, drove the robot on from where it was: the replayed right wrist and
    hand are the episode's without the re-centre (1e-9), so the teleop node fed by the
    replay, calibrated once at its engage, puts the robot where the recording had it; read
    as recorded they are 10 cm off."""
    from humanoid_teleop.core.motion.rotation import quat_to_matrix
    from test.portability.conftest import recentred_copy

    turn = quat_to_matrix(np.array([0.0, 0.0, np.sin(0.25), np.cos(0.25)]))  # 0.5 rad
    shift = np.array([0.1, 0.0, 0.0])
    copy, _ = recentred_copy(g1_push, tmp_path, "recentred", 2.0, shift, turn, by_engage)
    original, replayed = bag_operator_messages(g1_push), bag_operator_messages(copy)
    assert original.unfollowed == "" and replayed.unfollowed == ""
    want, got = _wrists_and_hands(original.messages), _wrists_and_hands(replayed.messages)
    recorded = _wrists_and_hands(
        [(t, topic.replace("/teleop/intent/", "/operator/"), data)
         for t, topic, data in _intent_messages(copy)]
    )  # fmt: skip
    wrist, hand = "/operator/right_wrist", "/operator/right_hand"
    assert np.abs(recorded[wrist][-1, :3] - want[wrist][-1, :3]).max() > 0.09
    np.testing.assert_allclose(got[wrist][:, :3], want[wrist][:, :3], atol=1e-9)
    np.testing.assert_allclose(got[hand][..., :3], want[hand][..., :3], atol=1e-9)
    for a, b in zip(got[wrist][:, 3:], want[wrist][:, 3:], strict=True):
        np.testing.assert_allclose(quat_to_matrix(a), quat_to_matrix(b), atol=1e-9)
    assert [t for t, _, _ in replayed.messages] == [t for t, _, _ in original.messages]


def test_raw_device_input_sent_during_a_pause_is_not_replayed(
    g1_push: Path, tmp_path: Path
) -> None:
    """A bag of raw device input only (/operator/*): the operator paused 1 s before engaging
    again 2 s in, the device sending on, the hand 10 cm away from the pause on. Nothing
    sent during the pause is replayed (the recording's robot held), and the rest is the
    input of the episode without the pause."""
    from test.portability.conftest import recentred_copy

    shift = np.array([0.1, 0.0, 0.0])
    copy, at_ns = recentred_copy(g1_push, tmp_path, "raw", 2.0, shift, np.eye(3),
                                 raw_input_pause_s=1.0)  # fmt: skip
    original, replayed = bag_operator_messages(g1_push), bag_operator_messages(copy)
    assert replayed.unfollowed == ""
    wrist = "/operator/right_wrist"
    times = [t for t, topic, _ in replayed.messages if topic == wrist]
    recorded = [t for t, topic, _ in original.messages if topic == wrist]
    paused = [t for t in recorded if at_ns - 1_000_000_000 < t < at_ns]
    assert len(paused) > 200 and times == [t for t in recorded if t not in set(paused)]
    got, want = _wrists_and_hands(replayed.messages), _wrists_and_hands(original.messages)
    kept = np.array([t not in set(paused) for t in recorded])
    np.testing.assert_allclose(got[wrist][:, :3], want[wrist][kept, :3], atol=1e-9)


def _intent_messages(bag: Path) -> list[tuple[int, str, bytes]]:
    from humanoid_teleop.core.bag.reader import iter_messages

    topics = ["/teleop/intent/right_wrist", "/teleop/intent/right_hand"]
    return [(m.sample_time_ns, m.topic, m.data) for m in iter_messages(bag, topics=topics)]


def test_a_re_centred_bag_of_an_unknown_robot_replays_as_recorded_and_says_why(
    g1_push: Path, tmp_path: Path
) -> None:
    """Without the recorded robot's model the re-centre cannot be read: the input is
    replayed as recorded, and one line names the episode and the robot."""
    from test.portability.conftest import recentred_copy

    copy, _ = recentred_copy(g1_push, tmp_path, "recentred", 2.0, np.full(3, 0.1), np.eye(3))
    metadata = copy / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("robot: g1", "robot: no_such_robot"))
    replayed = bag_operator_messages(copy)
    assert "no_such_robot" in replayed.unfollowed
    assert "re-centres and pauses are replayed as recorded" in replayed.unfollowed
    assert "\n" not in replayed.unfollowed
    raw = [(t, topic.replace("/teleop/intent/", "/operator/"), data)
           for t, topic, data in _intent_messages(copy)]  # fmt: skip
    got, want = _wrists_and_hands(replayed.messages), _wrists_and_hands(raw)
    np.testing.assert_array_equal(got["/operator/right_wrist"], want["/operator/right_wrist"])


def _wrist_and_target_pairs(bag: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right wrist positions the teleop node used (``/teleop/intent/right_wrist``), each
    with the right EE target position it published next, in the same step (n x 3 each; a
    step on a new hand alone publishes a target without a wrist), and the wrists' sample
    times [ns]."""
    from humanoid_teleop.core.bag.reader import iter_messages
    from humanoid_teleop.core.motion import cdr

    rows: dict[str, list[tuple[int, int, tuple[float, ...]]]] = {"wrist": [], "target": []}
    topics = {"/teleop/intent/right_wrist": "wrist", "/teleop/ee_target/right": "target"}
    for m in iter_messages(bag, topics=list(topics)):
        position = cdr.decode_pose_stamped(m.data, m.topic).position
        rows[topics[m.topic]].append((m.publish_time_ns, m.sample_time_ns, position))
    wrists, targets = sorted(rows["wrist"]), sorted(rows["target"])
    published = np.array([t for t, _, _ in targets])
    # the intent first, then the targets, in one step: the first target at or after it
    nearest = np.searchsorted(published, [t for t, _, _ in wrists], side="left")
    keep = nearest < len(targets)
    return (
        np.array([p for _, _, p in wrists])[keep],
        np.array([targets[i][2] for i in nearest[keep]]),
        np.array([t for _, t, _ in wrists])[keep],
    )


@pytest.mark.ros
@pytest.mark.slow
def test_a_re_centred_bag_drives_a_live_teleop_node_as_it_drove_the_recording(
    g1_push: Path, tmp_path: Path
) -> None:
    """The real consumer: `bringup --device replay` of the re-centred G1 push into G1 (the
    teleop node calibrated once, at its engage). Each EE target it publishes is the one the
    recording's teleop node published for the same wrist (1 mm), after the re-centre too:
    read as recorded, the input after it would put them ~10 cm off."""
    from humanoid_teleop.core.motion.rotation import quat_to_matrix
    from test.portability.conftest import recentred_copy

    turn = quat_to_matrix(np.array([0.0, 0.0, np.sin(0.25), np.cos(0.25)]))
    shift = np.array([0.1, 0.0, 0.0])
    copy, at_ns = recentred_copy(g1_push, tmp_path, "recentred", 2.0, shift, turn)
    live_dir = tmp_path / "live"
    command = [
        sys.executable, "-m", "humanoid_teleop.cli.main", "bringup", "--robot", "g1",
        "--device", "replay", "--motion", str(copy), "--engage", "--start-episode",
        "--duration", "12", "--bag-dir", str(live_dir),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    (episode,) = [p for p in live_dir.iterdir() if p.is_dir()]
    live_wrists, live_targets, _ = _wrist_and_target_pairs(episode)
    wrists, targets, wrist_ns = _wrist_and_target_pairs(g1_push)
    # each live wrist is one of the recording's (the replay's input), found by position
    distance = np.linalg.norm(live_wrists[:, None, :] - wrists[None, :, :], axis=2)
    k = distance.argmin(axis=1)
    assert distance[np.arange(len(k)), k].max() < 1e-6
    assert (wrist_ns[k] >= at_ns).sum() > 100  # many of them after the re-centre
    error = np.linalg.norm(live_targets - targets[k], axis=1)
    assert error.max() < 0.001, f"EE targets off the recording's by up to {error.max():.4f} m"


@pytest.mark.ros
def test_bag_intent_is_replayed_on_operator_topics(tmp_path: Path) -> None:
    """A bag's left-wrist intent (not its raw left wrist) and its raw head (no head intent)
    come out on /operator/*, all of them, in order, once, restamped."""
    bag, recorded = _intent_bag(tmp_path)
    domain = free_domain()
    node = NodeProcess(REPLAY, {"motion": str(bag), "loop": False}, domain, tmp_path / "r.log")
    probe = Probe(domain)
    try:
        wrist = probe.listen(PoseStamped, "/operator/left_wrist", 1000)
        head = probe.listen(PoseStamped, "/operator/head", 1000)
        probe.spin_until(lambda: len(wrist) >= 50 and len(head) >= 50, 30.0)
        probe.spin_for(0.3)
    finally:
        probe.close()
        code = node.stop()
    assert code == 0, node.output()
    for got, topic in ((wrist, "/teleop/intent/left_wrist"), (head, "/operator/head")):
        positions = [[m.pose.position.x, m.pose.position.y, m.pose.position.z] for m in got]
        np.testing.assert_allclose(positions, recorded[topic])
    assert _stamps_s(wrist)[0] > 1e9  # restamped with the current time, not the recorded 1 s


@pytest.mark.ros
def test_a_consumer_of_only_some_topics_still_gets_the_clip(tmp_path: Path) -> None:
    """With a subscriber on the left wrist only, playback starts after the grace period."""
    domain = free_domain()
    node = NodeProcess(REPLAY, {}, domain, tmp_path / "replay.log")
    probe = Probe(domain)
    try:
        got = probe.listen(PoseStamped, "/operator/left_wrist", 100)
        assert probe.spin_until(lambda: len(got) > 10, 30.0), node.output()
    finally:
        probe.close()
        node.stop()
    assert "no subscriber yet on /operator/head, /operator/right_wrist" in node.output()


HANDS = SHARED_DATA / "hands" / "dex_retargeting_human_joint_right.npy"


@pytest.mark.ros
@pytest.mark.skipif(not HANDS.is_file(), reason=f"recorded hand keypoints not found at {HANDS}")
def test_recorded_hands_ride_on_the_clips_wrists(tmp_path: Path) -> None:
    """With `hands`, 25-joint hands come out, wrist on the wrist pose, left one mirrored."""
    from geometry_msgs.msg import PoseArray

    domain = free_domain()
    node = NodeProcess(REPLAY, {"hands": str(HANDS)}, domain, tmp_path / "replay.log")
    probe = Probe(domain)
    try:
        wrists = {s: probe.listen(PoseStamped, f"/operator/{s}_wrist", 500) for s in SIDES}
        hands = {s: probe.listen(PoseArray, f"/operator/{s}_hand", 500) for s in SIDES}
        assert probe.spin_until(lambda: all(len(h) > 20 for h in hands.values()), 30.0)
    finally:
        probe.close()
        node.stop()
    for side in SIDES:
        by_stamp = {(m.header.stamp.sec, m.header.stamp.nanosec): m for m in wrists[side]}
        hand = hands[side][-1]
        wrist = by_stamp[(hand.header.stamp.sec, hand.header.stamp.nanosec)].pose
        assert len(hand.poses) == 25
        first = hand.poses[0].position
        assert (first.x, first.y, first.z) == pytest.approx(
            (wrist.position.x, wrist.position.y, wrist.position.z)
        )
        # thumb tip in the wrist's hand frame: +y for the right hand, -y for the left
        rotation = pose_from_msg(wrist).rotation
        tip = hand.poses[4].position
        local = rotation.T @ (np.array([tip.x, tip.y, tip.z]) - pose_from_msg(wrist).position_m)
        assert local[1] > 0.01 if side == "right" else local[1] < -0.01
