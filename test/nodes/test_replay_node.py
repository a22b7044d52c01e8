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
    messages = bag_operator_messages(bag)
    wrist = [t for t, topic, _ in messages if topic == "/operator/left_wrist"]
    assert wrist == [1_000_000_000 + i * 10_000_000 for i in range(50)]


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
