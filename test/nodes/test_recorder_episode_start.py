"""recorder_node over real DDS: an episode started mid-stream holds every message from its first.

A 200 Hz publisher runs in another process with a writer history deep enough (10 s) that DDS
can always repair a sample lost in transport, so any gap in the bag is the recorder's own doing
(start service blocking the executor, re-subscribing, accounting reset, submit/episode race).
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import WrenchStamped  # noqa: E402
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from rclpy.serialization import deserialize_message  # noqa: E402

from humanoid_teleop.core.bag.check import check_bag  # noqa: E402
from humanoid_teleop.core.bag.reader import iter_messages, read_bag  # noqa: E402

from ..core.bag.foxglove import assert_foxglove_reads  # noqa: E402
from .test_recorder_node import Peer, _profile, _start_node, _stop_node  # noqa: E402

pytestmark = pytest.mark.ros
TOPIC = "/rt/start_wrench"
RATE_HZ = 200.0
EPISODE_S = 1.5
EPISODES = 2
WRITER_DEPTH = 2000
"""Samples the publisher keeps for repair: 10 s at 200 Hz."""


def _publish_stream(stop: Any) -> None:
    """In another process: publish wrenches at 200 Hz (force.x = 1, 2, ...) until ``stop``."""
    rclpy.init()
    node = rclpy.create_node("start_gap_publisher")
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=WRITER_DEPTH, reliability=ReliabilityPolicy.RELIABLE
    )
    pub = node.create_publisher(WrenchStamped, TOPIC, qos)
    period_s = 1.0 / RATE_HZ
    next_t = time.monotonic()
    i = 0
    while not stop.is_set():
        i += 1
        msg = WrenchStamped()
        msg.wrench.force.x = float(i)
        pub.publish(msg)
        next_t += period_s
        time.sleep(max(0.0, next_t - time.monotonic()))
    node.destroy_node()
    rclpy.shutdown()


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Path]]:
    """Two episodes started and stopped by service while the 200 Hz stream runs."""
    tmp_path = tmp_path_factory.mktemp("start_gap")
    profile = _profile(tmp_path, [{"name": TOPIC, "type": "geometry_msgs/msg/WrenchStamped"}])
    node = _start_node(tmp_path, profile, auto_start=False)
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    publisher = ctx.Process(target=_publish_stream, args=(stop,))
    publisher.start()
    peer = Peer()
    paths: list[Path] = []
    try:
        sub = peer.node.create_subscription(WrenchStamped, TOPIC, lambda _m: None, 10)
        peer.spin_until(lambda: sub.get_publisher_count() > 0, 30, "the 200 Hz publisher")
        peer.spin_until(
            lambda: int(peer.status.get("messages_written", "-1")) == 0, 30, "recorder status"
        )
        time.sleep(1.0)  # the recorder has matched and is receiving (and not recording)
        for _ in range(EPISODES):
            started = peer.trigger("/recorder/start_episode")
            assert started.success, started.message
            time.sleep(EPISODE_S)
            stopped = peer.trigger("/recorder/stop_episode")
            assert stopped.success, stopped.message
            paths.append(Path(stopped.message))
            time.sleep(0.3)
    finally:
        stop.set()
        publisher.join(30)
        peer.close()
        out = _stop_node(node)
    assert node.returncode == 0, out
    yield paths


def _counters(bag: Path) -> list[int]:
    return [
        int(deserialize_message(m.data, WrenchStamped).wrench.force.x)
        for m in iter_messages(bag, topics=[TOPIC])
    ]


@pytest.mark.parametrize("index", range(EPISODES))
def test_episode_holds_every_published_message_from_its_first(
    episodes: list[Path], index: int
) -> None:
    """The payload counters of an episode started mid-stream are contiguous from its first."""
    counters = _counters(episodes[index])
    assert len(counters) >= RATE_HZ * EPISODE_S * 0.5, f"only {len(counters)} messages"
    missing = sorted(set(range(counters[0], counters[-1] + 1)) - set(counters))
    assert missing == [], f"episode {index}: {len(missing)} missing, first {missing[:10]}"


@pytest.mark.parametrize("index", range(EPISODES))
def test_episode_sequence_numbers_are_contiguous(episodes: list[Path], index: int) -> None:
    """The DDS publication sequence numbers stored in the bag have no gap."""
    seqs = [m.sequence for m in iter_messages(episodes[index], topics=[TOPIC])]
    gaps = [(a, b) for a, b in itertools.pairwise(seqs) if b != a + 1]
    assert gaps == [], f"episode {index}: gaps {gaps[:10]}"


def test_each_episode_checks_clean_with_zero_loss(episodes: list[Path]) -> None:
    """`bag check` finds no defect, and the loss summary counts 0 gaps and 0 drops."""
    for bag in episodes:
        report = check_bag(bag)
        assert report.ok, [d.__dict__ for d in report.defects]
        assert_foxglove_reads(bag)
        loss = read_bag(bag).custom_json("loss")
        assert loss is not None
        stats = loss["topics"][TOPIC]
        assert (stats["sequence_gaps"], stats["dropped"]) == (0, 0), stats
