"""A node killed mid-session stops the whole session cleanly, leaving a valid bag."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.check import check_bag


def _child_pid(parent: int, module: str) -> int | None:
    """PID of the child of ``parent`` running ``python -m module``, from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        )
        if ppid == parent and module.encode() in cmdline:
            return int(entry.name)
    return None


@pytest.mark.ros
@pytest.mark.slow
def test_killed_sim_stops_session_and_recorder_closes_a_valid_bag(tmp_path: Path) -> None:
    """SIGKILL of the simulated robot: bringup reports it, stops all, and the bag checks valid."""
    command = [
        sys.executable, "-m", "humanoid_teleop.cli.main", "bringup", "--robot", "g1",
        "--engage", "--start-episode", "--duration", "120", "--bag-dir", str(tmp_path),
    ]  # fmt: skip
    bringup = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(4.0)  # let the episode collect data
        sim = _child_pid(bringup.pid, "humanoid_teleop.nodes.sim_robot_node")
        assert sim is not None, "sim_robot_node is not running"
        os.kill(sim, signal.SIGKILL)
        out, err = bringup.communicate(timeout=60)
    finally:
        if bringup.poll() is None:
            bringup.kill()
    assert bringup.returncode == 1, out[-2000:] + err[-2000:]
    assert "node 'sim_robot' died" in err
    bags = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(bags) == 1 and not bags[0].name.endswith(".partial"), bags
    report = check_bag(bags[0], max_loss_ratio=1.0)  # loss is expected: the sim died
    assert report.ok, [d.__dict__ for d in report.defects]
    assert report.messages > 100
