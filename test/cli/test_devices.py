"""``humanoid-teleop devices check`` listening to real operator topics over DDS."""

from __future__ import annotations

import subprocess
import sys

import pytest

from test.devices.ros_helpers import Listener

pytestmark = pytest.mark.ros


def _run_check(*extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "devices", "check", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_check_prints_counts_rate_and_last_value() -> None:
    """A head pose published at 50 Hz shows with its rate and position; silent topics say so."""
    from geometry_msgs.msg import PoseStamped

    publisher_side = Listener({})
    pub = publisher_side.node.create_publisher(PoseStamped, "/operator/head", 10)
    msg = PoseStamped()
    msg.pose.position.z = 1.6
    msg.pose.orientation.w = 1.0
    publisher_side.node.create_timer(0.02, lambda: pub.publish(msg))
    check = _run_check("--duration", "3")
    try:
        publisher_side.spin_until(lambda: check.poll() is not None, 30)
        out, err = check.communicate(timeout=10)
    finally:
        publisher_side.close()
    assert check.returncode == 0, out + err
    head = next(line for line in out.splitlines() if line.startswith("/operator/head"))
    assert "(+0.000, +0.000, +1.600) m" in head
    rate = float(head.split()[2])
    assert 35 < rate < 65
    joy = next(line for line in out.splitlines() if line.startswith("/operator/joy"))
    assert joy.endswith("nothing received")


def test_check_with_nothing_publishing_exits_1() -> None:
    """With no device running the check says nothing was received and exits 1."""
    check = _run_check("--duration", "0.5", "--topic", "/operator/leader_joints")
    out, err = check.communicate(timeout=30)
    assert check.returncode == 1, out + err
    assert "no operator topic received anything" in out


def test_unknown_topic_is_refused_listing_the_operator_topics() -> None:
    """--topic /foo exits 2 and lists the operator topics."""
    check = _run_check("--topic", "/foo")
    out, _ = check.communicate(timeout=30)
    assert check.returncode == 2
    assert "/operator/right_hand" in out
