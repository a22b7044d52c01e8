"""Run a session's nodes as child processes, forward their logs, stop them in order.

The supervisor is what ``ros2 launch`` would be without the launch system: one process per
node, each line of its output prefixed with ``[name]``, Ctrl-C / SIGTERM forwarded as SIGINT in
stop order (operator input first, the recorder last so it closes its bag), and if any node dies
the whole session stops cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from humanoid_teleop.session.plan import NodeSpec, params_file_text

_LOG = logging.getLogger(__name__)


@dataclass
class _Child:
    spec: NodeSpec
    process: subprocess.Popen[bytes]
    pump: threading.Thread


@dataclass(frozen=True)
class SessionResult:
    """How a session ended.

    Attributes:
        reason: ``duration``, ``stopped`` (signal / stop request) or ``node_died``.
        failed_node: Name of the node whose unexpected exit ended the session, if any.
        exit_codes: Exit code of each node after the stop.
    """

    reason: str
    failed_node: str | None
    exit_codes: Mapping[str, int]

    @property
    def ok(self) -> bool:
        return self.reason != "node_died"


class Supervisor:
    """Start, watch and stop the processes of one session.

    Args:
        specs: Nodes in start order.
        params_dir: Folder for the generated ROS parameters file.
        out: Where prefixed log lines go.
        stop_timeout_s: Grace period [s] per node after SIGINT before SIGTERM, then SIGKILL.
        env: Environment of the children (default: this process's).
    """

    def __init__(
        self,
        specs: Sequence[NodeSpec],
        params_dir: Path,
        out: TextIO = sys.stdout,
        stop_timeout_s: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._specs = tuple(specs)
        self._params_dir = params_dir
        self._out = out
        self._out_lock = threading.Lock()
        self._stop_timeout_s = stop_timeout_s
        self._env = dict(os.environ if env is None else env)
        self._children: list[_Child] = []
        self._stop_requested = threading.Event()
        self._last_lines: dict[str, str] = {}

    @property
    def params_file(self) -> Path:
        return self._params_dir / "session_params.yaml"

    def command_for(self, spec: NodeSpec) -> list[str]:
        """The argv that runs ``spec`` (``python -m <module> --ros-args ...``)."""
        return [
            sys.executable,
            "-m",
            spec.module,
            "--ros-args",
            "-r",
            f"__node:={spec.name}",
            "--params-file",
            str(self.params_file),
        ]

    def start(self) -> None:
        """Write the parameters file and start every node in order."""
        self._params_dir.mkdir(parents=True, exist_ok=True)
        self.params_file.write_text(
            yaml.safe_dump(params_file_text(self._specs), sort_keys=False), encoding="utf-8"
        )
        env = dict(self._env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("RCUTILS_COLORIZED_OUTPUT", "0")
        for spec in self._specs:
            process = subprocess.Popen(
                self.command_for(spec),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # Ctrl-C reaches us only; we forward it in stop order
            )
            pump = threading.Thread(
                target=self._pump, args=(spec.name, process), name=f"log-{spec.name}", daemon=True
            )
            pump.start()
            self._children.append(_Child(spec, process, pump))
            _LOG.info("started %s (pid %d)", spec.name, process.pid)

    def _pump(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._out_lock:
                print(f"[{name}] {line}", file=self._out, flush=True)
                if line.strip():
                    self._last_lines[name] = line.strip()

    def exited(self) -> dict[str, int]:
        """The nodes that have exited so far, with their exit codes (polled now)."""
        return {
            child.spec.name: code
            for child in self._children
            if (code := child.process.poll()) is not None
        }

    def last_line(self, name: str) -> str:
        """The last non-empty line node ``name`` printed ("" if none yet): a node that stops on
        bad input prints its one-line reason last. For a node that has exited, its output is
        read to the end first (up to 2 s): the line may still be in the pipe."""
        for child in self._children:
            if child.spec.name == name and child.process.poll() is not None:
                child.pump.join(timeout=2.0)
        with self._out_lock:
            return self._last_lines.get(name, "")

    def request_stop(self) -> None:
        """Ask :meth:`wait` to return (safe to call from a signal handler or another thread)."""
        self._stop_requested.set()

    def wait(self, duration_s: float | None = None, poll_s: float = 0.1) -> tuple[str, str | None]:
        """Block until a node exits, the duration passes or a stop is requested.

        Returns:
            (reason, name of the node that exited or None).
        """
        deadline = None if duration_s is None else time.monotonic() + duration_s
        while not self._stop_requested.wait(poll_s):
            for child in self._children:
                code = child.process.poll()
                if code is not None:
                    _LOG.error(
                        "node %s exited with code %d; stopping the session", child.spec.name, code
                    )
                    return "node_died", child.spec.name
            if deadline is not None and time.monotonic() >= deadline:
                return "duration", None
        return "stopped", None

    def stop(self) -> dict[str, int]:
        """SIGINT each node in stop order and wait for it; escalate to SIGTERM, then SIGKILL."""
        codes: dict[str, int] = {}
        for child in sorted(self._children, key=lambda c: c.spec.stop_rank):
            codes[child.spec.name] = self._stop_one(child)
        for child in self._children:
            child.pump.join(timeout=2.0)
        return codes

    def _stop_one(self, child: _Child) -> int:
        process = child.process
        for sig, timeout_s in (
            (signal.SIGINT, self._stop_timeout_s),
            (signal.SIGTERM, 3.0),
            (signal.SIGKILL, 3.0),
        ):
            if process.poll() is not None:
                break
            try:
                process.send_signal(sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _LOG.warning("%s did not stop after %s; escalating", child.spec.name, sig.name)
        return process.wait()

    def run(self, duration_s: float | None = None) -> SessionResult:
        """Start, wait, stop; SIGINT/SIGTERM to this process stop the session cleanly."""
        previous = {
            sig: signal.signal(sig, lambda _s, _f: self.request_stop())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.start()
            reason, failed = self.wait(duration_s)
        finally:
            codes = self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return SessionResult(reason, failed, codes)
