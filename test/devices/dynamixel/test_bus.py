"""The Dynamixel bus and leader arm against a simulated bus behind a pseudo-terminal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.devices.dynamixel.bus import DynamixelBus
from humanoid_teleop.devices.dynamixel.leader import LeaderArm, LeaderArmConfig, find_leader_config
from humanoid_teleop.devices.errors import DeviceDisconnected, DeviceTimeout
from test.devices.dynamixel.sim_bus import MODEL_XL330, SimulatedBus

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def sim() -> Iterator[SimulatedBus]:
    bus = SimulatedBus({1: 2048, 2: 3072, 3: 1024})
    yield bus
    bus.close()


@pytest.fixture
def bus(sim: SimulatedBus) -> Iterator[DynamixelBus]:
    bus = DynamixelBus(sim.port, 1_000_000, timeout_s=0.5)
    yield bus
    bus.close()


def _arm(port: str, **extra: object) -> LeaderArmConfig:
    joints = [{"name": f"j{i}", "id": i} for i in (1, 2, 3)]
    return LeaderArmConfig.from_dict({"port": port, "joints": joints, **extra}, source="t.yaml")


def test_ping_returns_model_number(bus: DynamixelBus) -> None:
    """PING over the pty returns the simulated XL330's model number."""
    assert bus.ping(2) == MODEL_XL330


def test_sync_read_returns_every_servo(bus: DynamixelBus) -> None:
    """One SYNC_READ of Present Position returns the 4-byte positions of all three servos."""
    data = bus.sync_read([1, 2, 3], 132, 4)
    assert {i: int.from_bytes(v, "little", signed=True) for i, v in data.items()} == {
        1: 2048,
        2: 3072,
        3: 1024,
    }


def test_leader_reads_angles_with_signs_and_offsets(sim: SimulatedBus) -> None:
    """Ticks map to rad around 2048; sign -1 and offset π/2 are applied per joint."""
    config = _arm(sim.port).with_calibration(
        np.array([1, -1, 1]), np.array([0.0, 0.0, math.pi / 2])
    )
    arm = LeaderArm(config, DynamixelBus(sim.port, 1_000_000, 0.5))
    try:
        np.testing.assert_allclose(arm.read_rad(), [0.0, -math.pi / 2, 0.0], atol=1e-12)
    finally:
        arm.bus.close()


def test_silent_bus_times_out_naming_port_ids_and_timeout(
    sim: SimulatedBus, bus: DynamixelBus
) -> None:
    """When no servo answers, the read fails after the timeout naming port, IDs and 50 ms."""
    sim.silent = True
    bus.timeout_s = 0.05
    with pytest.raises(DeviceTimeout, match=rf"{sim.port}: .*ID\(s\) \[1, 2, 3\] within 50 ms"):
        bus.sync_read([1, 2, 3], 132, 4)


def test_one_missing_servo_fails_the_whole_read(sim: SimulatedBus, bus: DynamixelBus) -> None:
    """A partial answer is not a reading: the mute servo is named in the timeout."""
    sim.mute_ids = {2}
    with pytest.raises(DeviceTimeout, match=r"ID\(s\) \[2\]"):
        bus.sync_read([1, 2, 3], 132, 4)


def test_bus_recovers_after_a_timeout(sim: SimulatedBus, bus: DynamixelBus) -> None:
    """After the chain answers again, the next read succeeds."""
    sim.silent = True
    with pytest.raises(DeviceTimeout):
        bus.sync_read([1], 132, 4)
    sim.silent = False
    assert set(bus.sync_read([1, 2], 132, 4)) == {1, 2}


def test_missing_port_is_a_clear_disconnect() -> None:
    """Opening a serial port that does not exist names it."""
    with pytest.raises(DeviceDisconnected, match="cannot open serial port /dev/ttyNOPE0"):
        DynamixelBus("/dev/ttyNOPE0", 1_000_000, 0.5)


def test_duplicate_ids_are_a_config_error() -> None:
    """Two joints on the same servo ID are refused, naming the ID."""
    joints = [{"name": "a", "id": 1}, {"name": "b", "id": 1}]
    with pytest.raises(ConfigError, match=r"t\.yaml: joints: duplicate joint id"):
        LeaderArmConfig.from_dict({"port": "/dev/x", "joints": joints}, source="t.yaml")


def test_bad_sign_is_a_config_error() -> None:
    """A sign of 2 is refused with the key path joints[0].sign."""
    joints = [{"name": "a", "id": 1, "sign": 2}]
    with pytest.raises(ConfigError, match=r"joints\[0\]\.sign: must be 1 or -1"):
        LeaderArmConfig.from_dict({"port": "/dev/x", "joints": joints}, source="t.yaml")


def test_config_round_trips_through_yaml(tmp_path: Path, sim: SimulatedBus) -> None:
    """save() then load() gives back the same config."""
    config = _arm(sim.port, calibration_pose_rad={"j2": 0.5})
    path = tmp_path / "exo.yaml"
    config.save(path)
    assert LeaderArmConfig.load(path) == config


@pytest.mark.parametrize("path", sorted((REPO / "config" / "devices").glob("exo_*.yaml")))
def test_shipped_exo_configs_load(path: Path) -> None:
    """Every shipped leader-arm config is valid."""
    assert LeaderArmConfig.load(path).joints


def test_shipped_leader_config_is_found_by_name() -> None:
    """'gello_7dof' resolves to config/devices/exo_gello_7dof.yaml."""
    assert find_leader_config("gello_7dof").name == "exo_gello_7dof.yaml"


def test_missing_leader_config_path_is_named(tmp_path: Path) -> None:
    """A YAML path that does not exist is an error naming it."""
    with pytest.raises(ConfigError, match=r"nope\.yaml: leader-arm config file not found"):
        find_leader_config(str(tmp_path / "nope.yaml"))


def test_nan_offset_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    """offset_rad: .nan is refused naming file:line and joints[0].offset_rad."""
    path = tmp_path / "exo.yaml"
    path.write_text("port: /dev/x\njoints:\n  - name: a\n    id: 1\n    offset_rad: .nan\n")
    with pytest.raises(
        ConfigError, match=r"exo\.yaml:5: joints\[0\]\.offset_rad: expected a finite number"
    ):
        LeaderArmConfig.load(path)


def test_infinite_rate_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    """rate_hz: .inf is refused naming file:line and rate_hz."""
    path = tmp_path / "exo.yaml"
    path.write_text("port: /dev/x\nrate_hz: .inf\njoints:\n  - {name: a, id: 1}\n")
    with pytest.raises(
        ConfigError, match=r"exo\.yaml:2: rate_hz: expected a finite number, got inf"
    ):
        LeaderArmConfig.load(path)
