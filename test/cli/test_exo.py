"""``humanoid-teleop exo calibrate`` against a simulated Dynamixel bus."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from humanoid_teleop.cli.main import main
from humanoid_teleop.devices.dynamixel.leader import LeaderArmConfig
from test.devices.dynamixel.sim_bus import SimulatedBus


@pytest.fixture
def sim() -> Iterator[SimulatedBus]:
    # Horns mounted: servo 1 at its centre, servo 2 a quarter turn on, servo 3 half a turn.
    bus = SimulatedBus({1: 2048 + 20, 2: 3072 - 15, 3: 0 + 10})
    yield bus
    bus.close()


def _config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "exo.yaml"
    joints = [
        {"name": "a", "id": 1},
        {"name": "b", "id": 2, "sign": -1},
        {"name": "c", "id": 3},
    ]
    pose = {"c": 0.0}
    # A generous timeout: a loaded test machine must not turn a slow reply into a timeout.
    data = {"port": port, "timeout_s": 0.5, "joints": joints, "calibration_pose_rad": pose}
    path.write_text(yaml.safe_dump(data))
    return path


def test_calibrate_writes_quarter_turn_offsets(
    sim: SimulatedBus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offsets 0, +π/2 (sign -1) and +π are written; the old file is kept as .bak."""
    path = _config(tmp_path, sim.port)
    assert main(["exo", "calibrate", "--config", str(path), "--samples", "3"]) == 0
    config = LeaderArmConfig.load(path)
    offsets = [j.offset_rad for j in config.joints]
    assert offsets == pytest.approx([0.0, math.pi / 2, math.pi])
    assert [j.sign for j in config.joints] == [1, -1, 1]
    assert (tmp_path / "exo.yaml.bak").is_file()
    assert f"wrote {path}" in capsys.readouterr().out


def test_calibrate_refuses_a_pose_far_from_the_target(
    sim: SimulatedBus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Servo 1 held 0.4 rad off with tolerance 0.2 exits 2 naming joint a, file untouched."""
    sim.positions[1] = 2048 + 261  # 0.4 rad
    path = _config(tmp_path, sim.port)
    before = path.read_text()
    code = main(["exo", "calibrate", "--config", str(path), "--tolerance-rad", "0.2"])
    assert code == 2
    assert "a off by 0.400 rad" in capsys.readouterr().err
    assert path.read_text() == before


def test_calibrate_with_silent_bus_reports_timeout(
    sim: SimulatedBus, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the chain unpowered the command fails with the serial timeout message."""
    sim.silent = True
    code = main(["exo", "calibrate", "--config", str(_config(tmp_path, sim.port))])
    assert code == 2
    assert "no reply to SYNC_READ" in capsys.readouterr().err
