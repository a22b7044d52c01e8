"""Helpers for the teleop_node tests: the node in its own process, the test's session client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml


@contextmanager
def teleop_node_process(folder: Path, params: Mapping[str, object]) -> Iterator[Path]:
    """Run teleop_node (node name ``teleop``) with ``params`` from a parameter file in
    ``folder``; yield the log file its output goes to. Terminates the node on exit."""
    params_file = folder / "params.yaml"
    params_file.write_text(yaml.safe_dump({"teleop": {"ros__parameters": dict(params)}}))
    log_path = folder / "teleop_node.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "humanoid_teleop.nodes.teleop_node", "--ros-args",
             "-r", "__node:=teleop", "--params-file", str(params_file)],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )  # fmt: skip
        try:
            yield log_path
        finally:
            process.terminate()
            process.wait(timeout=10)


class SessionHarness:
    """The test process's side: its own rclpy context and a SessionClient node in it."""

    def __init__(self, node_name: str) -> None:
        import rclpy

        from humanoid_teleop.nodes.session_client import SessionClient

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.client = SessionClient(self.context, node_name)
        #: (receive time [s, monotonic], values) of every arm command recorded.
        self.commands: list[tuple[float, np.ndarray]] = []
        #: (the node's own stamp [s], key -> value) of every /teleop/state recorded.
        self.states: list[tuple[float, dict[str, str]]] = []

    def record_commands_and_state(self, command_topic: str) -> None:
        """Record ``command_topic`` (Float64MultiArray) into :attr:`commands` and
        /teleop/state into :attr:`states`. A state keeps the node's own stamp, not the
        receive time: a stalled test executor would deliver it late and make the node look
        slow."""
        import time

        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Float64MultiArray

        from humanoid_teleop.nodes.ros_conversions import time_to_s

        def on_state(msg: DiagnosticArray) -> None:
            values = {kv.key: kv.value for kv in msg.status[0].values}
            self.states.append((time_to_s(msg.header.stamp), values))

        node = self.client.node
        node.create_subscription(
            Float64MultiArray,
            command_topic,
            lambda m: self.commands.append((time.monotonic(), np.array(m.data))),
            100,
        )
        node.create_subscription(DiagnosticArray, "/teleop/state", on_state, 10)

    def close(self) -> None:
        import rclpy

        self.client.close()
        rclpy.shutdown(context=self.context)
        self.context.destroy()  # its DDS participant goes now, not during a later test
