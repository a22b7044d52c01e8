"""``humanoid-teleop devices check``: print what the operator devices are publishing.

Listens for ``--duration`` seconds to the operator topics (/operator/head, wrists, hands, joy,
leader joints) and to the device statuses on /diagnostics, then prints per topic how many
messages came, their rate and the last value. Run it inside the isolated network next to the
device node (``humanoid-teleop isolated -- humanoid-teleop devices check``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from humanoid_teleop.cli.options import positive_float

DEVICE_STATUS_NAMES = ("vr_bridge", "gamepad", "exo", "camera")


DISCOVERY_TIMEOUT_S = 3.0
"""How long [s] to wait for a publisher on any listened topic before the window starts."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("devices", help="operator device tools")
    sub = parser.add_subparsers(dest="devices_command", metavar="COMMAND", required=True)
    check = sub.add_parser(
        "check",
        help="print what the device nodes publish on the operator topics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--duration", type=positive_float, default=5.0, help="how long to listen [s] (default 5)"
    )
    check.add_argument(
        "--topic",
        action="append",
        dest="topics",
        metavar="TOPIC",
        help="only this operator topic (repeatable; default: all)",
    )
    check.set_defaults(func=_check)


@dataclass
class TopicLog:
    count: int = 0
    first_s: float = 0.0
    last_s: float = 0.0
    last: str = ""

    def add(self, summary: str) -> None:
        now = time.monotonic()
        if not self.count:
            self.first_s = now
        self.count += 1
        self.last_s = now
        self.last = summary

    @property
    def rate_hz(self) -> float:
        span = self.last_s - self.first_s
        return (self.count - 1) / span if self.count > 1 and span > 0 else 0.0


def _xyz(p: Any) -> str:
    return f"({p.x:+.3f}, {p.y:+.3f}, {p.z:+.3f}) m"


def _topics() -> dict[str, tuple[Any, Any]]:
    """Operator topic → (message type, summary function), from the one operator-topic table."""
    from geometry_msgs.msg import PoseArray, PoseStamped
    from sensor_msgs.msg import JointState, Joy

    from humanoid_teleop.nodes.operator_topics import OPERATOR_PREFIX, OPERATOR_TOPICS

    def pose(m: Any) -> str:
        return f"position {_xyz(m.pose.position)}"

    def hand(m: Any) -> str:
        if not m.poses:
            return "0 joints"
        return f"{len(m.poses)} joints, wrist {_xyz(m.poses[0].position)}"

    def joy(m: Any) -> str:
        axes = ", ".join(f"{a:+.2f}" for a in m.axes)
        return f"axes [{axes}] buttons {list(m.buttons)}"

    def joints(m: Any) -> str:
        return ", ".join(f"{n}={p:+.3f}" for n, p in zip(m.name, m.position, strict=False))

    summaries = {PoseStamped: pose, PoseArray: hand, Joy: joy, JointState: joints}
    return {
        OPERATOR_PREFIX + name: (msg_type, summaries[msg_type])
        for name, msg_type in OPERATOR_TOPICS.items()
    }


def _check(args: argparse.Namespace) -> int:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor

    known = _topics()
    wanted = args.topics or list(known)
    unknown = [t for t in wanted if t not in known]
    if unknown:
        print(f"unknown topic(s) {unknown}; operator topics: {', '.join(known)}")
        return 2
    logs = {topic: TopicLog() for topic in wanted}
    statuses: dict[str, str] = {}
    levels = {0: "OK", 1: "WARN", 2: "ERROR", 3: "STALE"}

    def on_diagnostics(msg: Any) -> None:
        for status in msg.status:
            if status.name in DEVICE_STATUS_NAMES:
                level = levels.get(int.from_bytes(bytes(status.level), "little"), "?")
                values = " ".join(f"{kv.key}={kv.value}" for kv in status.values)
                statuses[status.name] = f"{level:<5} {status.message}  [{values}]"

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("devices_check", context=context)
        for topic in wanted:
            msg_type, summary = known[topic]
            node.create_subscription(
                msg_type, topic, lambda m, t=topic, s=summary: logs[t].add(s(m)), 10
            )
        node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            # Let DDS discovery find the devices first, so the window measures their streams.
            found_by = time.monotonic() + DISCOVERY_TIMEOUT_S
            while time.monotonic() < found_by and not any(
                node.count_publishers(topic) for topic in wanted
            ):
                executor.spin_once(timeout_sec=0.05)
            print(f"listening {args.duration:.1f} s on {len(wanted)} operator topic(s)...")
            end = time.monotonic() + args.duration
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.05)
        except KeyboardInterrupt:
            pass
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
        context.destroy()  # the DDS participant goes now, not whenever the GC gets to it

    width = max(len(t) for t in wanted)
    print(f"{'topic':<{width}}  {'msgs':>6}  {'rate Hz':>7}  last")
    for topic, log in logs.items():
        rate = f"{log.rate_hz:7.1f}" if log.count > 1 else f"{'-':>7}"
        print(f"{topic:<{width}}  {log.count:>6}  {rate}  {log.last or 'nothing received'}")
    print("device status (/diagnostics):")
    for name in DEVICE_STATUS_NAMES:
        if name in statuses:
            print(f"  {name:<10} {statuses[name]}")
    if not statuses:
        print("  none received")
    received = any(log.count for log in logs.values())
    print("devices publish" if received else "no operator topic received anything")
    return 0 if received else 1
