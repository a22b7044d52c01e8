"""Input → joint command latency across processes, and command-rate jitter.

    .venv/bin/python bench/latency.py [--seconds 10] [--robot g1]

Runs inside the isolated-network wrapper (re-executes itself there). Prints one table, side
by side:

* ``echo hop``: a bare rclpy node in another process republishes each PoseStamped it gets —
  the floor any ROS 2 Python node pays for one hop (subscribe + publish, two DDS transfers).
* ``teleop``: ``teleop_node`` in another process (retargeting + safety on) receiving head and
  wrist poses at the given rate and joint states from this process. Latency is from publishing
  a right-wrist pose to receiving that same message back on ``/teleop/intent/right_wrist``,
  which the node publishes right after the joint commands of the step that used it (matched
  by header stamp: exact, one input at a time, not cut at one period).

``answered`` counts inputs that came back (the teleop node uses only the freshest input per
step, so an input overtaken by a newer one before a step is not answered). Missed periods are
intervals between received commands (echoes) longer than 1.5 periods, in percent.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.isolation.netns import is_isolated, isolated_command


@dataclass(frozen=True)
class Result:
    scenario: str
    rate_hz: float
    sent: int
    latencies_ms: np.ndarray
    intervals_s: np.ndarray

    def row(self) -> str:
        lat = self.latencies_ms
        period = 1.0 / self.rate_hz
        missed = (
            100.0 * float(np.mean(self.intervals_s > 1.5 * period))
            if len(self.intervals_s)
            else math.nan
        )
        p50, p99, worst = np.percentile(lat, [50, 99, 100]) if len(lat) else (math.nan,) * 3
        return (
            f"| {self.scenario:<10} | {self.rate_hz:>5.0f} | {self.sent:>6} | {len(lat):>6} | "
            f"{p50:>7.3f} | {p99:>7.3f} | {worst:>7.3f} | {missed:>7.2f} |"
        )


def _echo_main() -> int:
    """Role ``echo``: republish every /bench/input PoseStamped on /bench/output."""
    import rclpy
    from geometry_msgs.msg import PoseStamped

    rclpy.init()
    node = rclpy.create_node("bench_echo")
    pub = node.create_publisher(PoseStamped, "/bench/output", 10)
    node.create_subscription(PoseStamped, "/bench/input", pub.publish, 10)
    with contextlib.suppress(KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        rclpy.spin(node)
    rclpy.try_shutdown()
    return 0


def _pose(t: float, side: float):
    from geometry_msgs.msg import PoseStamped

    msg = PoseStamped()
    msg.header.frame_id = "operator"
    now_ns = time.time_ns()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now_ns, 1_000_000_000)
    msg.pose.position.x = 0.35 + 0.05 * math.sin(2 * math.pi * 0.5 * t)
    msg.pose.position.y = side * 0.2
    msg.pose.position.z = 1.1 + 0.05 * math.cos(2 * math.pi * 0.5 * t)
    msg.pose.orientation.w = 1.0
    return msg


def _stamp_key(msg) -> tuple[int, int]:
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


def _measure(
    scenario: str,
    rate_hz: float,
    seconds: float,
    match_topic: str,
    rate_topic: str,
    rate_type: type,
    publish_inputs,
) -> Result:
    """Publish inputs at ``rate_hz`` from a thread; time each one until it comes back.

    Latency is matched by header stamp on ``match_topic`` (the echo, or the teleop node's
    ``/teleop/intent/right_wrist``, published right after the commands of the step that used
    that input), so it is exact and not cut at one period. Intervals are measured between
    messages on ``rate_topic`` (the arm command topic for teleop).
    """
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from rclpy.executors import SingleThreadedExecutor

    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(f"bench_probe_{scenario.replace(' ', '_')}", context=context)
    returned: dict[tuple[int, int], float] = {}
    arrivals: list[float] = []
    node.create_subscription(
        PoseStamped,
        match_topic,
        lambda m: returned.setdefault(_stamp_key(m), time.monotonic()),
        100,
    )
    if rate_topic != match_topic:
        node.create_subscription(
            rate_type, rate_topic, lambda _m: arrivals.append(time.monotonic()), 100
        )
    send = publish_inputs(node)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    sent: dict[tuple[int, int], float] = {}
    stop = threading.Event()

    def pump() -> None:
        period = 1.0 / rate_hz
        warmup_end = time.monotonic() + 3.0
        start = time.monotonic()
        k = 0
        while not stop.is_set():
            delay = start + k * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            now = time.monotonic()
            key = send(now - start)
            if now >= warmup_end:
                sent[key] = now
            k += 1

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    deadline = time.monotonic() + 3.0 + seconds
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.01)
    stop.set()
    thread.join()
    end = time.monotonic() + 0.5  # let the last answers arrive
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)

    latencies = [(returned[key] - t) * 1e3 for key, t in sent.items() if key in returned]
    first = min(sent.values()) if sent else 0.0
    stamps = arrivals if rate_topic != match_topic else sorted(returned.values())
    window = np.array([t for t in stamps if t >= first])
    return Result(scenario, rate_hz, len(sent), np.array(latencies), np.diff(window))


def _run_echo(rate_hz: float, seconds: float) -> Result:
    from geometry_msgs.msg import PoseStamped

    echo = subprocess.Popen([sys.executable, __file__, "--role", "echo"])
    try:

        def inputs(node):
            pub = node.create_publisher(PoseStamped, "/bench/input", 10)

            def send(t: float) -> tuple[int, int]:
                msg = _pose(t, -1.0)
                pub.publish(msg)
                return _stamp_key(msg)

            return send

        return _measure(
            "echo hop", rate_hz, seconds, "/bench/output", "/bench/output", PoseStamped, inputs
        )
    finally:
        echo.terminate()
        echo.wait()


def _run_teleop(robot: str, rate_hz: float, seconds: float) -> Result:
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from humanoid_teleop.core.robot import RobotModel, load_robot

    description = load_robot(robot)
    model = RobotModel(description)
    home = model.home_positions()
    arm_topic = description.interfaces["right_arm"].topic
    with tempfile.TemporaryDirectory() as tmp:
        params = Path(tmp) / "params.yaml"
        params.write_text(
            yaml.safe_dump(
                {
                    "teleop": {
                        "ros__parameters": {
                            "robot": robot,
                            "device": "replay",
                            "rate_hz": rate_hz,
                            "auto_engage": True,
                        }
                    }
                }
            )
        )
        teleop = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "humanoid_teleop.nodes.teleop_node",
                "--ros-args",
                "-r",
                "__node:=teleop",
                "--params-file",
                str(params),
            ],
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        try:

            def inputs(node):
                head = node.create_publisher(PoseStamped, "/operator/head", 10)
                left = node.create_publisher(PoseStamped, "/operator/left_wrist", 10)
                right = node.create_publisher(PoseStamped, "/operator/right_wrist", 10)
                joints = node.create_publisher(
                    JointState, description.sensors.joint_state_topic, 10
                )
                state = JointState(name=list(model.joint_names), position=[float(v) for v in home])

                def send(t: float) -> tuple[int, int]:
                    joints.publish(state)
                    head_msg = _pose(t, 0.0)
                    head_msg.pose.position.z = 1.6
                    head.publish(head_msg)
                    left.publish(_pose(t, 1.0))
                    msg = _pose(t, -1.0)
                    right.publish(msg)
                    return _stamp_key(msg)

                return send

            return _measure(
                f"teleop {robot}",
                rate_hz,
                seconds,
                "/teleop/intent/right_wrist",
                arm_topic,
                Float64MultiArray,
                inputs,
            )
        finally:
            teleop.terminate()
            teleop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per row [s]")
    parser.add_argument("--robot", default="g1")
    parser.add_argument(
        "--role", choices=["probe", "echo"], default="probe", help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.role == "echo":
        return _echo_main()
    if not is_isolated():
        argv = isolated_command([sys.executable, __file__, *sys.argv[1:]])
        os.execvp(argv[0], argv)
    rows = [
        _run_echo(250.0, args.seconds),
        _run_teleop(args.robot, 250.0, args.seconds),
        _run_echo(500.0, args.seconds),
        _run_teleop(args.robot, 500.0, args.seconds),
    ]
    print(f"\ninput → command latency across processes ({os.cpu_count()} cores)")
    print("| scenario   | rate  |   sent | answered | p50 ms | p99 ms | max ms | missed % |")
    print("|------------|-------|--------|----------|--------|--------|--------|----------|")
    for row in rows:
        print(row.row())
    return 0


if __name__ == "__main__":
    sys.exit(main())
