"""recorder_node over real DDS: byte-identical round trips, services, latching, SIGKILL."""

from __future__ import annotations

import json
import multiprocessing
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import WrenchStamped  # noqa: E402
from mcap.reader import make_reader  # noqa: E402
from mcap_ros2.decoder import DecoderFactory  # noqa: E402
from rclpy.duration import Duration  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile  # noqa: E402
from rclpy.serialization import deserialize_message  # noqa: E402
from rosbags.highlevel import AnyReader  # noqa: E402
from sensor_msgs.msg import Image, JointState  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from std_srvs.srv import SetBool, Trigger  # noqa: E402

from humanoid_teleop.core.bag.check import check_bag  # noqa: E402
from humanoid_teleop.core.bag.reader import iter_messages, read_bag  # noqa: E402
from humanoid_teleop.core.bag.recover import recover_bag  # noqa: E402

from ..core.bag.foxglove import assert_foxglove_reads  # noqa: E402

pytestmark = pytest.mark.ros
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class Peer:
    """A test-side rclpy node: publishers, service clients and a /recorder/status listener."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(f"peer_{uuid.uuid4().hex[:6]}", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.status: dict[str, str] = {}
        self.node.create_subscription(DiagnosticArray, "/recorder/status", self._on_status, 10)

    def _on_status(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == "recorder":
                self.status = {kv.key: kv.value for kv in status.values}

    def spin_until(self, done: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            self.executor.spin_once(timeout_sec=0.05)

    def call(self, srv_type: Any, name: str, request: Any) -> Any:
        client = self.node.create_client(srv_type, name)
        self.spin_until(client.service_is_ready, 30, f"service {name}")
        future = client.call_async(request)
        self.spin_until(future.done, 30, f"answer of {name}")
        return future.result()

    def trigger(self, name: str) -> Any:
        return self.call(Trigger, name, Trigger.Request())

    def wait_written(self, count: int, timeout_s: float = 30) -> None:
        self.spin_until(
            lambda: int(self.status.get("messages_written", "0")) >= count,
            timeout_s,
            f"{count} written messages (status: {self.status})",
        )

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
        self.context.destroy()  # its DDS participant goes now, not during a later test


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def _profile(tmp_path: Path, topics: list[dict[str, Any]]) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "topics": topics,
                "robot_sensors": False,
                "sync_reference": None,
                "storage": {"flush_period_s": 0.2, "chunk_size_mib": 0.25},
                "limits": {"min_free_mib": 1, "warn_free_mib": 1, "reserve_mib": 0.1},
            }
        )
    )
    return path


def _start_node(
    tmp_path: Path, profile: Path, *, auto_start: bool, station: str = ""
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "humanoid_teleop.nodes.recorder_node",
            "--ros-args",
            "-p",
            f"bag_dir:={tmp_path / 'bags'}",
            "-p",
            f"profile:={profile}",
            "-p",
            f"auto_start_episode:={'true' if auto_start else 'false'}",
            "-p",
            "task:=stack the cubes",
            "-p",
            "status_period_s:=0.2",
            *(["-p", f"station:={station}"] if station else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop_node(node: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    node.send_signal(sig)
    out, _ = node.communicate(timeout=60)
    return out


def _wait_matched(peer: Peer, publishers: list[Any]) -> None:
    peer.spin_until(
        lambda: all(p.get_subscription_count() > 0 for p in publishers), 30, "subscriptions"
    )


def _messages(n: int) -> dict[str, list[Any]]:
    """Varied messages of four types, including a 640x480 rgb8 image."""
    rng = np.random.default_rng(7)
    out: dict[str, list[Any]] = {
        "/rt/string": [],
        "/rt/joints": [],
        "/rt/image": [],
        "/rt/wrench": [],
    }
    for i in range(n):
        out["/rt/string"].append(String(data=f"ünïcode {i} " * (i % 5)))
        js = JointState(name=[f"j{k}" for k in range(43)], position=rng.normal(size=43).tolist())
        js.header.stamp.sec, js.header.stamp.nanosec, js.header.frame_id = 100 + i, 5, "base"
        out["/rt/joints"].append(js)
        img = Image(height=480, width=640, encoding="rgb8", step=640 * 3)
        img.data = rng.integers(0, 255, 640 * 480 * 3, dtype=np.uint8).tobytes()
        img.header.stamp.sec = 100 + i
        out["/rt/image"].append(img)
        wrench = WrenchStamped()
        wrench.wrench.force.x, wrench.wrench.torque.z = float(i), -0.5 * i
        out["/rt/wrench"].append(wrench)
    return out


def _publish(count: int) -> None:
    """In another process: publish ``count`` messages per topic once both readers match."""
    rclpy.init()
    node = rclpy.create_node("round_trip_publisher")
    pubs = {t: node.create_publisher(cls, t, 100) for t, (cls, _ty) in TYPES.items()}
    deadline = time.monotonic() + 30
    while any(p.get_subscription_count() < 2 for p in pubs.values()):
        if time.monotonic() > deadline:
            raise SystemExit("readers did not match")
        rclpy.spin_once(node, timeout_sec=0.05)
    for topic, msgs in _messages(count).items():
        for msg in msgs:
            pubs[topic].publish(msg)
    # Stay until both readers acknowledged everything (a lost sample is repaired only after
    # the next heartbeat, 3 s in Fast DDS), not for a fixed time.
    for topic, pub in pubs.items():
        if not pub.wait_for_all_acked(Duration(seconds=60)):
            raise SystemExit(f"{topic}: readers did not acknowledge every message")
    node.destroy_node()
    rclpy.shutdown()


TYPES = {
    "/rt/string": (String, "std_msgs/msg/String"),
    "/rt/joints": (JointState, "sensor_msgs/msg/JointState"),
    "/rt/image": (Image, "sensor_msgs/msg/Image"),
    "/rt/wrench": (WrenchStamped, "geometry_msgs/msg/WrenchStamped"),
}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[bytes]]]:
    """Record 20 messages on each of four topics published over DDS; returns bag and bytes."""
    tmp_path = tmp_path_factory.mktemp("round_trip")
    profile = _profile(tmp_path, [{"name": t, "type": ty} for t, (_c, ty) in TYPES.items()])
    node = _start_node(tmp_path, profile, auto_start=True)
    peer = Peer()
    try:
        # What DDS delivers to another process (Fast DDS pads the CDR payload) is what the
        # bag must hold, so a raw subscriber here keeps a copy of what the publisher sent.
        received: dict[str, list[bytes]] = {t: [] for t in TYPES}
        for topic, (cls, _ty) in TYPES.items():
            peer.node.create_subscription(
                cls, topic, lambda data, t=topic: received[t].append(bytes(data)), 100, raw=True
            )
        publisher = multiprocessing.get_context("spawn").Process(target=_publish, args=(20,))
        publisher.start()
        peer.wait_written(80)
        peer.spin_until(lambda: all(len(v) == 20 for v in received.values()), 30, "peer copy")
        publisher.join(30)
    finally:
        peer.close()
        out = _stop_node(node)
    assert node.returncode == 0, out
    (bag,) = (tmp_path / "bags").iterdir()
    return bag, received


def test_rosbags_reads_every_dds_message_byte_identical(
    round_trip: tuple[Path, dict[str, list[bytes]]],
) -> None:
    """Each message is in the bag with exactly the CDR bytes another DDS subscriber got."""
    bag, sent = round_trip
    got: dict[str, list[bytes]] = {t: [] for t in sent}
    with AnyReader([bag]) as reader:
        for connection, _t, data in reader.messages():
            got[connection.topic].append(bytes(data))
    assert got == sent


def test_mcap_ros2_decodes_every_dds_message(
    round_trip: tuple[Path, dict[str, list[bytes]]],
) -> None:
    """mcap-ros2-support decodes all 80 messages; field values survive the trip."""
    bag, _sent = round_trip
    (mcap,) = bag.glob("*.mcap")
    with mcap.open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        decoded = [(c.topic, m) for _s, c, _r, m in reader.iter_decoded_messages()]
    assert len(decoded) == 80
    sent = _messages(20)
    joints = [m for t, m in decoded if t == "/rt/joints"]
    assert [m.header.stamp.sec for m in joints] == list(range(100, 120))
    assert [list(m.position) for m in joints] == [list(m.position) for m in sent["/rt/joints"]]
    images = [m for t, m in decoded if t == "/rt/image"]
    assert [bytes(m.data) for m in images] == [bytes(m.data) for m in sent["/rt/image"]]
    strings = [m.data for t, m in decoded if t == "/rt/string"]
    assert strings == [m.data for m in sent["/rt/string"]]


def test_round_trip_bag_passes_check(round_trip: tuple[Path, dict[str, list[bytes]]]) -> None:
    """The recorded bag has no defect and metadata.yaml matches the files."""
    bag, _sent = round_trip
    report = check_bag(bag)
    assert report.ok, report.defects


def test_foxglove_decodes_every_dds_message(
    round_trip: tuple[Path, dict[str, list[bytes]]],
) -> None:
    """Foxglove's own reader decodes every message the recorder took off DDS."""
    bag, sent = round_trip
    assert assert_foxglove_reads(bag) == {topic: len(data) for topic, data in sent.items()}


def test_channel_metadata_has_qos_and_type_hash(
    round_trip: tuple[Path, dict[str, list[bytes]]],
) -> None:
    """Each topic records the publishers' QoS and a RIHS01 type hash, as rosbag2 does."""
    bag, _sent = round_trip
    topic = read_bag(bag).topic("/rt/image")
    assert topic.type_description_hash.startswith("RIHS01_")
    assert topic.offered_qos_profiles[0].reliability == "reliable"


def test_services_and_annotations_reach_the_episode(tmp_path: Path, peer: Peer) -> None:
    """start, annotation, mark_success and stop produce a closed bag with that metadata,
    named after its station."""
    profile = _profile(tmp_path, [{"name": "/recorder/annotation", "type": "std_msgs/msg/String"}])
    node = _start_node(tmp_path, profile, auto_start=False, station="Bay 07/east")
    try:
        started = peer.trigger("/recorder/start_episode")
        assert started.success and started.message.endswith(".partial")
        pub = peer.node.create_publisher(String, "/recorder/annotation", 10)
        _wait_matched(peer, [pub])
        pub.publish(String(data="grasp"))
        peer.wait_written(1)
        assert peer.call(SetBool, "/recorder/mark_success", SetBool.Request(data=True)).success
        stopped = peer.trigger("/recorder/stop_episode")
        assert stopped.success, stopped.message
        again = peer.trigger("/recorder/stop_episode")
    finally:
        _stop_node(node)
    assert not again.success and "no episode" in again.message
    bag = read_bag(Path(stopped.message))
    custom = bag.metadata.custom_data
    assert (custom["outcome"], custom["task"]) == ("success", "stack the cubes")
    assert custom["station"] == "Bay 07/east"
    assert Path(stopped.message).parent == tmp_path / "bags"
    assert Path(stopped.message).name.startswith("Bay-07-east_"), stopped.message
    assert [a["text"] for a in json.loads(custom["annotations"])] == ["grasp"]
    assert bag.counts["/recorder/annotation"] == 1


def test_latched_topic_is_in_every_episode(tmp_path: Path, peer: Peer) -> None:
    """A transient-local message published once before the recorder starts is in each episode."""
    pub = peer.node.create_publisher(String, "/robot_description", LATCHED)
    description = String(data="<robot name='r'/>")
    pub.publish(description)
    profile = _profile(tmp_path, [{"name": "/robot_description", "type": "std_msgs/msg/String"}])
    node = _start_node(tmp_path, profile, auto_start=False)
    bags = []
    try:
        # The services can answer before the late-joining reader got the writer's history.
        _wait_matched(peer, [pub])
        assert pub.wait_for_all_acked(rclpy.duration.Duration(seconds=30))
        for _ in range(2):
            assert peer.trigger("/recorder/start_episode").success
            bags.append(Path(peer.trigger("/recorder/stop_episode").message))
    finally:
        _stop_node(node)
    for bag in bags:
        got = [deserialize_message(m.data, String) for m in iter_messages(bag)]
        assert got == [description]


def test_sigkill_loses_at_most_one_second_and_recover_restores(tmp_path: Path, peer: Peer) -> None:
    """After SIGKILL, `recover` yields a valid bag holding all but the last ≤1 s of messages."""
    profile = _profile(tmp_path, [{"name": "/rt/string", "type": "std_msgs/msg/String"}])
    node = _start_node(tmp_path, profile, auto_start=True)
    pub = peer.node.create_publisher(String, "/rt/string", 100)
    _wait_matched(peer, [pub])
    sent_at: list[float] = []
    stop = threading.Event()

    def publish() -> None:
        i = 0
        while not stop.is_set():
            pub.publish(String(data=f"m{i}"))
            sent_at.append(time.time())
            i += 1
            time.sleep(0.005)

    thread = threading.Thread(target=publish)
    thread.start()
    peer.wait_written(300)
    time.sleep(1.0)
    killed_at = time.time()  # taken first: anything sent after it is not counted as lost
    node.send_signal(signal.SIGKILL)
    node.wait(30)
    stop.set()
    thread.join()
    (partial,) = (tmp_path / "bags").iterdir()
    assert partial.name.endswith(".partial")
    recovered = recover_bag(partial)
    assert check_bag(recovered.path).ok, check_bag(recovered.path).defects
    assert_foxglove_reads(recovered.path)
    kept = [deserialize_message(m.data, String).data for m in iter_messages(recovered.path)]
    assert kept == [f"m{i}" for i in range(len(kept))]
    lost_s = killed_at - sent_at[len(kept) - 1]
    assert lost_s <= 1.0, f"the bag ends {lost_s:.2f} s before the kill"


def test_robot_adds_its_sensor_and_command_topics() -> None:
    """robot=g1 adds joint states, cameras, wrenches and controller commands with their types."""
    from humanoid_teleop.nodes.recorder_node import robot_topics

    rules, model_hash = robot_topics("g1")
    types = {rule.name: rule.type for rule in rules}
    assert types["/joint_states"] == "sensor_msgs/msg/JointState"
    assert "sensor_msgs/msg/Image" in types.values()
    assert "geometry_msgs/msg/WrenchStamped" in types.values()
    assert model_hash.startswith("sha256:")


def _bounded_profile(tmp_path: Path) -> Path:
    """Records /q/* (not named in the profile), depth 500, reader history limit 1 MiB."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "include": ["^/q/"],
                "robot_sensors": False,
                "latched": [],
                "sync_reference": None,
                "default_depth": 500,
                "storage": {"flush_period_s": 0.2, "chunk_size_mib": 1},
                "limits": {
                    "min_free_mib": 1,
                    "warn_free_mib": 1,
                    "reserve_mib": 0.1,
                    "reader_queue_mib": 1,
                },
            }
        )
    )
    return profile


def _payload_counters(bag: Path, topic: str) -> list[str]:
    return [deserialize_message(m.data, String).data[:6] for m in iter_messages(bag, [topic])]


def test_large_messages_get_a_byte_bounded_reader_without_losing_any(
    tmp_path: Path, peer: Peer
) -> None:
    """A topic matched by `include` (not in the profile) whose messages are large gets a
    reader history of at most limits.reader_queue_mib; the handover loses and repeats none."""
    big = peer.node.create_publisher(String, "/q/big", 100)
    small = peer.node.create_publisher(String, "/q/small", 100)
    node = _start_node(tmp_path, _bounded_profile(tmp_path), auto_start=True)
    count = 150
    try:
        _wait_matched(peer, [big, small])
        for i in range(count):  # 3 s at 50 Hz: the reader is replaced meanwhile
            big.publish(String(data=f"{i:06d}" + "x" * 100_000))
            small.publish(String(data=f"{i:06d}"))
            peer.executor.spin_once(timeout_sec=0.02)
        for pub in (big, small):
            assert pub.wait_for_all_acked(Duration(seconds=30))
        peer.wait_written(2 * count)
    finally:
        out = _stop_node(node)
    assert node.returncode == 0, out
    # 100 kB messages and a 1 MiB limit: depth 10 instead of the profile's 500.
    assert (
        "/q/big: new reader (reliable, volatile, depth 10; was reliable, volatile, depth 500" in out
    ), out
    assert "/q/small: new reader" not in out
    (bag,) = (tmp_path / "bags").iterdir()
    for topic in ("/q/big", "/q/small"):
        assert _payload_counters(bag, topic) == [f"{i:06d}" for i in range(count)], topic
    loss = read_bag(bag).custom_json("loss")["topics"]["/q/big"]
    assert (loss["received"], loss["sequence_gaps"]) == (count, 0), loss


def test_new_transient_local_reader_does_not_record_the_history_twice(
    tmp_path: Path, peer: Peer
) -> None:
    """When a transient-local topic's reader is replaced, the history the publisher replays
    to the new reader is not recorded a second time."""
    latched = QoSProfile(depth=50, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    pub = peer.node.create_publisher(String, "/q/latched_big", latched)
    node = _start_node(tmp_path, _bounded_profile(tmp_path), auto_start=True)
    count = 100
    try:
        _wait_matched(peer, [pub])
        for i in range(count):
            pub.publish(String(data=f"{i:06d}" + "x" * 100_000))
            peer.executor.spin_once(timeout_sec=0.02)
        assert pub.wait_for_all_acked(Duration(seconds=30))
        peer.wait_written(count)
        time.sleep(1.5)  # the replaced reader is gone and the new one got the replay
    finally:
        out = _stop_node(node)
    assert node.returncode == 0, out
    assert "/q/latched_big: new reader (reliable, transient_local, depth 10" in out, out
    (bag,) = (tmp_path / "bags").iterdir()
    assert _payload_counters(bag, "/q/latched_big") == [f"{i:06d}" for i in range(count)]


def test_robot_cameras_carry_their_frame_size() -> None:
    """robot=g1: each camera rule knows its frame size, so its reader is bounded at once."""
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.nodes.recorder_node import robot_topics

    rules, _hash = robot_topics("g1")
    sizes = {rule.name: rule.expected_bytes for rule in rules}
    for camera in load_robot("g1").sensors.cameras:
        assert sizes[camera.topic] == camera.width * camera.height * 3  # rgb8
        assert sizes[camera.info_topic] == 0
