"""A TFMessage talker or listener process for test_tf2_msgs.py (run as a script).

talk TOPIC TRANSFORMS_JSON LINGER_S: publish one TFMessage (latched, like /tf_static) built from
    the JSON list, then stay up LINGER_S seconds so a late subscriber still gets it.
listen TOPIC TIMEOUT_S: wait for one TFMessage; print as JSON what arrived, the topic's type
    name and the publisher's type hash as DDS discovery reported them. Exit 1 on timeout.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import rclpy
from geometry_msgs.msg import TransformStamped
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from tf2_msgs.msg import TFMessage

QOS = QoSProfile(
    depth=10,
    reliability=QoSReliabilityPolicy.RELIABLE,
    durability=QoSDurabilityPolicy.TRANSIENT_LOCAL,
)


def to_msg(transforms: list[dict[str, Any]]) -> TFMessage:
    msg = TFMessage()
    for t in transforms:
        ts = TransformStamped()
        ts.header.stamp.sec, ts.header.stamp.nanosec = t["stamp"]
        ts.header.frame_id = t["parent"]
        ts.child_frame_id = t["child"]
        v, q = ts.transform.translation, ts.transform.rotation
        v.x, v.y, v.z = t["translation_m"]
        q.x, q.y, q.z, q.w = t["rotation_xyzw"]
        msg.transforms.append(ts)
    return msg


def to_json(msg: TFMessage) -> list[dict[str, Any]]:
    out = []
    for ts in msg.transforms:
        v, q = ts.transform.translation, ts.transform.rotation
        out.append(
            {
                "parent": ts.header.frame_id,
                "child": ts.child_frame_id,
                "stamp": [ts.header.stamp.sec, ts.header.stamp.nanosec],
                "translation_m": [v.x, v.y, v.z],
                "rotation_xyzw": [q.x, q.y, q.z, q.w],
            }
        )
    return out


def talk(node: Node, topic: str, transforms: list[dict[str, Any]], linger_s: float) -> int:
    node.create_publisher(TFMessage, topic, QOS).publish(to_msg(transforms))
    deadline = time.monotonic() + linger_s
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    return 0


def listen(node: Node, topic: str, timeout_s: float) -> int:
    got: list[TFMessage] = []
    node.create_subscription(TFMessage, topic, got.append, QOS)
    deadline = time.monotonic() + timeout_s
    while not got and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    if not got:
        print(f"no TFMessage on {topic} within {timeout_s} s", file=sys.stderr)
        return 1
    publishers = node.get_publishers_info_by_topic(topic)
    report = {
        "transforms": to_json(got[0]),
        "topic_types": dict(node.get_topic_names_and_types()).get(topic, []),
        "publisher_type_hashes": [str(p.topic_type_hash) for p in publishers],
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    rclpy.init()
    peer = rclpy.create_node(f"tf2_msgs_peer_{sys.argv[1]}")
    try:
        if sys.argv[1] == "talk":
            code = talk(peer, sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]))
        else:
            code = listen(peer, sys.argv[2], float(sys.argv[3]))
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0  # the test stops the talker with SIGTERM once the listener is done
    finally:
        peer.destroy_node()
        rclpy.try_shutdown()
    sys.exit(code)
