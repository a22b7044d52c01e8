"""A leader arm / exoskeleton made of Dynamixel servos: config, reading joint angles.

Joint angle [rad] = ``sign * (ticks - center) * 2π / ticks_per_turn + offset_rad``; the signs
and offsets come from ``humanoid-teleop exo calibrate``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.resources import LEADER_ARMS
from humanoid_teleop.devices import config as cfg
from humanoid_teleop.devices.dynamixel.bus import DynamixelBus

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LeaderJoint:
    """One servo: the joint name published, its bus ID, direction and offset [rad]."""

    name: str
    servo_id: int
    sign: int = 1
    offset_rad: float = 0.0


@dataclass(frozen=True)
class LeaderArmConfig:
    """Port, timing and joints of a leader arm (``config/devices/exo_*.yaml``)."""

    port: str
    joints: tuple[LeaderJoint, ...]
    baudrate: int = 1_000_000
    protocol: int = 2
    rate_hz: float = 100.0
    #: Longest wait for all servos to answer one read [s].
    timeout_s: float = 0.02
    #: With no complete read for this long the node publishes nothing and reports an error [s].
    stale_after_s: float = 0.1
    #: Control-table address and size of Present Position (X series: 132, 4 bytes).
    position_address: int = 132
    position_bytes: int = 4
    ticks_per_turn: int = 4096
    center_ticks: int = 2048
    #: Pose [rad] the operator holds during calibration (joints not named: 0).
    calibration_pose_rad: Mapping[str, float] | None = None

    KEYS = (
        "port",
        "joints",
        "baudrate",
        "protocol",
        "rate_hz",
        "timeout_s",
        "stale_after_s",
        "position_address",
        "position_bytes",
        "ticks_per_turn",
        "center_ticks",
        "calibration_pose_rad",
    )
    JOINT_KEYS = ("name", "id", "sign", "offset_rad")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> LeaderArmConfig:
        """Build from a mapping; every error names ``source`` and the key path."""
        cfg.reject_unknown(data, cls.KEYS, source)
        if "port" not in data:
            raise ConfigError(f"{cfg.at(source, data, 'port')}: required (e.g. /dev/ttyUSB0)")
        raw_joints = data.get("joints")
        if not isinstance(raw_joints, list) or not raw_joints:
            raise ConfigError(
                f"{cfg.at(source, data, 'joints')}: must be a non-empty list of joints"
            )
        joints: list[LeaderJoint] = []
        for i, item in enumerate(raw_joints):
            where = f"joints[{i}]."
            if not isinstance(item, Mapping):
                raise ConfigError(f"{cfg.at(source, data, 'joints')}[{i}]: must be a mapping")
            cfg.reject_unknown(item, cls.JOINT_KEYS, source, where)
            if "name" not in item or "id" not in item:
                raise ConfigError(
                    f"{cfg.at(source, item, '', where)}: 'name' and 'id' are required"
                )
            sign = cfg.integer(item, "sign", 1, source, where)
            if sign not in (1, -1):
                raise ConfigError(
                    f"{cfg.at(source, item, 'sign', where)}: must be 1 or -1, got {sign}"
                )
            servo_id = cfg.integer(item, "id", 0, source, where, minimum=0)
            if servo_id > 252:
                raise ConfigError(
                    f"{cfg.at(source, item, 'id', where)}: must be 0-252, got {servo_id}"
                )
            joints.append(
                LeaderJoint(
                    name=cfg.string(item, "name", "", source, where),
                    servo_id=servo_id,
                    sign=sign,
                    offset_rad=cfg.number(item, "offset_rad", 0.0, source, where),
                )
            )
        for field_name, values in (
            ("name", [j.name for j in joints]),
            ("id", [str(j.servo_id) for j in joints]),
        ):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ConfigError(
                    f"{cfg.at(source, data, 'joints')}: duplicate joint {field_name}(s): "
                    f"{', '.join(dupes)}"
                )
        pose = data.get("calibration_pose_rad")
        if pose is not None:
            if not isinstance(pose, Mapping):
                raise ConfigError(
                    f"{cfg.at(source, data, 'calibration_pose_rad')}: must map joint → rad"
                )
            unknown = sorted(set(pose) - {j.name for j in joints})
            if unknown:
                raise ConfigError(
                    f"{cfg.at(source, data, 'calibration_pose_rad')}: names unknown joint(s) "
                    f"{unknown}"
                )
            pose = {k: cfg.number(pose, k, 0.0, source, "calibration_pose_rad.") for k in pose}
        protocol_version = cfg.integer(data, "protocol", 2, source)
        if protocol_version != 2:
            raise ConfigError(
                f"{cfg.at(source, data, 'protocol')}: is {protocol_version}; only 2 is supported"
            )
        position_bytes = cfg.integer(data, "position_bytes", 4, source)
        if position_bytes not in (2, 4):
            raise ConfigError(
                f"{cfg.at(source, data, 'position_bytes')}: must be 2 or 4, got {position_bytes}"
            )
        return cls(
            port=cfg.string(data, "port", "", source),
            joints=tuple(joints),
            baudrate=cfg.integer(data, "baudrate", 1_000_000, source, minimum=1200),
            protocol=protocol_version,
            rate_hz=cfg.number(data, "rate_hz", 100.0, source, minimum=1.0),
            timeout_s=cfg.number(data, "timeout_s", 0.02, source, minimum=0.001),
            stale_after_s=cfg.number(data, "stale_after_s", 0.1, source, minimum=0.001),
            position_address=cfg.integer(data, "position_address", 132, source, minimum=0),
            position_bytes=position_bytes,
            ticks_per_turn=cfg.integer(data, "ticks_per_turn", 4096, source, minimum=1),
            center_ticks=cfg.integer(data, "center_ticks", 2048, source),
            calibration_pose_rad=pose,
        )

    @classmethod
    def load(cls, path: Path) -> LeaderArmConfig:
        """Read a leader-arm YAML file."""
        return cls.from_dict(cfg.load_yaml_mapping(path), source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """The YAML form :meth:`from_dict` reads back."""
        out: dict[str, Any] = {
            "port": self.port,
            "baudrate": self.baudrate,
            "protocol": self.protocol,
            "rate_hz": self.rate_hz,
            "timeout_s": self.timeout_s,
            "stale_after_s": self.stale_after_s,
            "position_address": self.position_address,
            "position_bytes": self.position_bytes,
            "ticks_per_turn": self.ticks_per_turn,
            "center_ticks": self.center_ticks,
            "joints": [
                {"name": j.name, "id": j.servo_id, "sign": j.sign, "offset_rad": j.offset_rad}
                for j in self.joints
            ],
        }
        if self.calibration_pose_rad is not None:
            out["calibration_pose_rad"] = dict(self.calibration_pose_rad)
        return out

    def save(self, path: Path) -> None:
        """Write as YAML (used by ``exo calibrate``)."""
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")

    def with_calibration(self, signs: FloatArray, offsets_rad: FloatArray) -> LeaderArmConfig:
        """A copy with new per-joint signs and offsets [rad]."""
        joints = tuple(
            replace(j, sign=int(s), offset_rad=float(o))
            for j, s, o in zip(self.joints, signs, offsets_rad, strict=True)
        )
        return replace(self, joints=joints)

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def ids(self) -> list[int]:
        return [j.servo_id for j in self.joints]


def find_leader_config(name_or_path: str) -> Path:
    """A leader-arm YAML by path, or by name (``gello_7dof``: ``exo_gello_7dof.yaml``).

    Raises:
        ResourceNotFoundError: listing the shipped leader configs and where they were looked for.
    """
    return LEADER_ARMS.find(name_or_path)


class LeaderArm:
    """Reads calibrated joint angles [rad] from the servos of a :class:`LeaderArmConfig`."""

    def __init__(self, config: LeaderArmConfig, bus: DynamixelBus) -> None:
        self.config = config
        self.bus = bus
        self._signs = np.array([j.sign for j in config.joints], dtype=np.float64)
        self._offsets = np.array([j.offset_rad for j in config.joints], dtype=np.float64)
        self._format = "<i" if config.position_bytes == 4 else "<h"

    def read_raw_rad(self) -> FloatArray:
        """Servo angles [rad] around ``center_ticks``, before signs and offsets."""
        c = self.config
        data = self.bus.sync_read(c.ids, c.position_address, c.position_bytes)
        ticks = np.array([struct.unpack(self._format, data[i])[0] for i in c.ids], dtype=np.float64)
        return (ticks - c.center_ticks) * (2.0 * math.pi / c.ticks_per_turn)

    def read_rad(self) -> FloatArray:
        """Calibrated joint angles [rad], in ``config.joints`` order."""
        return self._signs * self.read_raw_rad() + self._offsets
