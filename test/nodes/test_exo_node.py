"""exo_node over real DDS against a simulated Dynamixel bus behind a pseudo-terminal."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from test.devices.dynamixel.sim_bus import SimulatedBus
from test.devices.ros_helpers import PUBLISH_STAMP_SLACK_S, Listener, start_node, stop_node

pytestmark = pytest.mark.ros
TOPIC = "/operator/leader_joints"


@pytest.fixture
def sim() -> Iterator[SimulatedBus]:
    bus = SimulatedBus({1: 2048, 2: 3072})
    yield bus
    bus.close()


def _config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "exo.yaml"
    joints = [
        {"name": "leader_a", "id": 1},
        {"name": "leader_b", "id": 2, "sign": -1, "offset_rad": math.pi / 2},
    ]
    # Timeouts with headroom for a loaded machine; the silent-bus test waits longer than both.
    data = {"port": port, "rate_hz": 50.0, "timeout_s": 0.1, "stale_after_s": 0.3}
    path.write_text(yaml.safe_dump({**data, "joints": joints}))
    return path


@pytest.fixture
def listener() -> Iterator[Listener]:
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import JointState

    listener = Listener({TOPIC: JointState, "/diagnostics": DiagnosticArray})
    yield listener
    listener.close()


def _exo_status(listener: Listener) -> str:
    for _, array in reversed(listener.messages["/diagnostics"]):
        for status in array.status:
            if status.name == "exo":
                return f"{status.level!r}:{status.message}"
    return ""


def test_publishes_calibrated_leader_joints(
    sim: SimulatedBus, listener: Listener, tmp_path: Path
) -> None:
    """Servo ticks 2048 and 3072 with sign -1, offset π/2 are published as 0 and 0 rad."""
    node = start_node("exo_node", {"config": str(_config(tmp_path, sim.port))})
    try:
        assert listener.spin_until(lambda: len(listener.messages[TOPIC]) >= 5, 15)
        msg = listener.messages[TOPIC][-1][1]
        assert list(msg.name) == ["leader_a", "leader_b"]
        assert list(msg.position) == pytest.approx([0.0, 0.0], abs=1e-9)
    finally:
        code, output = stop_node(node)
    assert code == 0, output


def test_silent_bus_stops_publishing_and_reports_then_recovers(
    sim: SimulatedBus, listener: Listener, tmp_path: Path
) -> None:
    """A serial timeout publishes nothing (no frozen values), reports an error, and recovers."""
    node = start_node("exo_node", {"config": str(_config(tmp_path, sim.port))})
    try:
        assert listener.spin_until(lambda: len(listener.messages[TOPIC]) >= 5, 15)
        sim.silent = True
        t_cut = time.time()
        assert listener.spin_until(lambda: "no reply to SYNC_READ" in _exo_status(listener), 10)
        listener.spin_for(1.0)  # a node still publishing (frozen values) would be heard by now
        late = listener.stamped_after(TOPIC, t_cut + PUBLISH_STAMP_SLACK_S)
        assert late == [], f"{len(late)} leader joint states stamped after the bus fell silent"
        sim.positions[1] = 2048 + 1024
        t_back = time.time()
        sim.silent = False
        assert listener.spin_until(lambda: len(listener.stamped_after(TOPIC, t_back)) >= 3, 10)
        assert listener.stamped_after(TOPIC, t_back)[-1].position[0] == pytest.approx(math.pi / 2)
    finally:
        code, output = stop_node(node)
    assert code == 0, output
    assert "leader arm stale" in output


def test_missing_port_reports_and_publishes_nothing(listener: Listener, tmp_path: Path) -> None:
    """An unplugged adapter (no such port) keeps the node alive, silent, reporting the port."""
    node = start_node("exo_node", {"config": str(_config(tmp_path, "/dev/ttyNOPE7"))})
    try:
        assert listener.spin_until(lambda: "ttyNOPE7" in _exo_status(listener), 10)
        assert listener.messages[TOPIC] == []
    finally:
        code, output = stop_node(node)
    assert code == 0, output


def test_unknown_config_name_exits_listing_the_shipped_ones() -> None:
    """config:=nope makes the node exit 2, naming the shipped leader configs."""
    node = start_node("exo_node", {"config": "nope"})
    out, _ = node.communicate(timeout=30)
    assert node.returncode == 2, out
    assert "no leader-arm config 'nope' (exo_nope.yaml); available: gello_7dof" in out


def test_failed_reads_are_counted_and_logged_once_a_second(
    sim: SimulatedBus, listener: Listener, tmp_path: Path
) -> None:
    """3 s of unanswered reads are counted on /diagnostics and give at most one log line per
    second, with the count since the last one."""
    node = start_node("exo_node", {"config": str(_config(tmp_path, sim.port))})

    def timeouts() -> int:
        for _, array in reversed(listener.messages["/diagnostics"]):
            for status in array.status:
                if status.name == "exo":
                    values = {kv.key: kv.value for kv in status.values}
                    return int(values.get("rejected timeout", "0 ").split()[0])
        return 0

    try:
        assert listener.spin_until(lambda: len(listener.messages[TOPIC]) >= 5, 15)
        sim.silent = True
        silenced = time.monotonic()
        assert listener.spin_until(lambda: timeouts() >= 10, 10)
        listener.spin_for(max(0.0, 3.0 - (time.monotonic() - silenced)))
        silent_s = time.monotonic() - silenced
        sim.silent = False
        assert listener.spin_until(lambda: len(listener.messages[TOPIC]) >= 10, 10)
    finally:
        code, output = stop_node(node)
    assert code == 0, output
    lines = [line for line in output.splitlines() if f"rejected {sim.port}: timeout" in line]
    assert 1 <= len(lines) <= silent_s + 2, lines
    assert "since the last line" in lines[-1]
