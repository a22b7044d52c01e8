"""A talker or listener process for the two-process DDS test (run as a script)."""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from std_msgs.msg import String

QOS = QoSProfile(
    depth=100,
    reliability=QoSReliabilityPolicy.RELIABLE,
    durability=QoSDurabilityPolicy.TRANSIENT_LOCAL,
)


def talk(topic: str, count: int, linger_s: float) -> int:
    node = rclpy.create_node("dds_peer_talker")
    pub = node.create_publisher(String, topic, QOS)
    for i in range(count):
        pub.publish(String(data=f"msg {i}"))
    deadline = time.monotonic() + linger_s  # stay up so a late subscriber gets the history
    announced = False
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
        if not announced and pub.get_subscription_count() > 0:
            print("subscribed", flush=True)  # a reader matched: it is being sent the history
            announced = True
    node.destroy_node()
    return 0


def listen(topic: str, count: int, timeout_s: float) -> int:
    node = rclpy.create_node("dds_peer_listener")
    got: list[str] = []
    node.create_subscription(String, topic, lambda m: got.append(m.data), QOS)
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    node.destroy_node()
    print("\n".join(got))
    return 0 if got == [f"msg {i}" for i in range(count)] else 1


if __name__ == "__main__":
    role, topic, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    rclpy.init()
    try:
        sys.exit(talk(topic, count, seconds) if role == "talk" else listen(topic, count, seconds))
    finally:
        rclpy.try_shutdown()
