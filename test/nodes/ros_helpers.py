"""Helpers for the teleop_node tests: the node in its own process, the test's session client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

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

    def close(self) -> None:
        import rclpy

        self.client.close()
        rclpy.shutdown(context=self.context)
        self.context.destroy()  # its DDS participant goes now, not during a later test
