"""Helpers for the device node tests: start a node process, listen to topics over real DDS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from humanoid_teleop.nodes.ros_conversions import time_to_s

ParamValue = str | int | float | bool | list[str]

PUBLISH_STAMP_SLACK_S = 0.25
"""How long after a device went away (unplugged pad, silent bus) its node may still stamp a
message [s]: a reading taken just before, and a node descheduled between reading and stamping
on a busy host. Far less than the seconds a test then watches for."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float) -> bool:
    """True once a server accepts TCP connections on 127.0.0.1:``port``, False after
    ``timeout_s`` [s] (a node process binds its port seconds after it starts on a busy host)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _param(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(f"'{v}'" for v in value) + "]"
    if isinstance(value, str):
        return f"'{value}'" if value else "''"
    return str(value)


def start_node(module: str, params: Mapping[str, ParamValue]) -> subprocess.Popen[str]:
    """Run ``humanoid_teleop.nodes.<module>`` with ROS parameters, in a separate process."""
    args = [sys.executable, "-m", f"humanoid_teleop.nodes.{module}", "--ros-args"]
    for key, value in params.items():
        args += ["-p", f"{key}:={_param(value)}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def stop_node(proc: subprocess.Popen[str], timeout_s: float = 10.0) -> tuple[int, str]:
    """SIGINT the node like Ctrl-C; return its exit code and output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return -9, out
    return proc.returncode, out


class Listener:
    """A node in the test process that records every message on the given topics."""

    def __init__(
        self, topics: Mapping[str, type], qos: Any = 10, qos_by_topic: Mapping[str, Any] = {}
    ) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(
            f"test_listener_{os.getpid()}_{time.monotonic_ns()}", context=self.context
        )
        self.messages: dict[str, list[tuple[float, Any]]] = {t: [] for t in topics}
        for topic, msg_type in topics.items():
            self.node.create_subscription(
                msg_type,
                topic,
                lambda m, t=topic: self.messages[t].append((time.time(), m)),
                qos_by_topic.get(topic, qos),
            )
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Spin until ``done()`` or the timeout [s]; return whether ``done()`` became true."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if done():
                return True
            self.executor.spin_once(timeout_sec=0.02)
        return done()

    def spin_for(self, duration_s: float) -> None:
        """Spin for ``duration_s`` [s]."""
        self.spin_until(lambda: False, duration_s)

    def stamped_after(self, topic: str, t_s: float) -> list[Any]:
        """The messages on ``topic`` whose header stamp is later than ``t_s`` [s, wall clock]:
        what the publisher stamped after a moment, however late this listener received it."""
        return [m for _, m in self.messages[topic] if time_to_s(m.header.stamp) > t_s]

    def clear(self) -> None:
        for messages in self.messages.values():
            messages.clear()

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self._rclpy.shutdown(context=self.context)
        self.context.destroy()  # its DDS participant goes now, not during a later test
