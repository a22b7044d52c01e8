"""Safety settings (one block of a teleop profile)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.safety.errors import SafetyConfigError


@dataclass(frozen=True)
class SafetyConfig:
    """How the safety filter limits commands.

    Attributes:
        position_margin_rad: Distance kept inside each position limit [rad].
        velocity_scale: Fraction of each joint's velocity limit that commands may use, (0, 1].
        acceleration_scale: Fraction of each joint's acceleration limit, (0, 1].
        max_step_s: Longest time step used to size one command step [s]; a longer gap between
            commands (a stall) still moves at most this much worth of motion.
        stale_timeout_s: Input older than this [s] makes the filter hold; an input part
            (one wrist, the head, ...) older than this holds the groups it drives.
        future_tolerance_s: An input message stamped more than this [s] ahead of the
            controller clock is rejected (a drifting device clock, a bridge bug, an attacker).
        engage_speed_rad_s: Speed at which each joint closes its gap to the target while
            ramping after engage [rad/s], relative to the target's own motion (a still target
            is approached at this speed, a moving one is caught in about gap / this speed;
            the velocity limit still applies).
        engage_tolerance_rad: The ramp ends once every joint is this close to its target [rad].
    """

    position_margin_rad: float = 0.02
    velocity_scale: float = 1.0
    acceleration_scale: float = 1.0
    max_step_s: float = 0.05
    stale_timeout_s: float = 0.25
    future_tolerance_s: float = 0.05
    engage_speed_rad_s: float = 0.5
    engage_tolerance_rad: float = 0.05

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<safety>") -> SafetyConfig:
        """Build from a mapping (a profile's ``safety`` block); see :meth:`from_field`."""
        return cls.from_field(Field.of(data, source, ("safety",), SafetyConfigError))

    @classmethod
    def from_field(cls, block: Field) -> SafetyConfig:
        """Build from a ``safety`` block; unknown keys and bad values raise
        :class:`SafetyConfigError` naming ``file:line: safety.key``."""
        block = Field(block.file, block.keys, block.value, block.line, SafetyConfigError)
        config = cls(**block.as_fields_of(cls))

        def bad(key: str, need: str) -> ConfigError:
            where = block.child(key) if block.has(key) else block
            return where.error(f"{getattr(config, key)}: need {need}")

        positive = (
            "max_step_s",
            "stale_timeout_s",
            "future_tolerance_s",
            "engage_speed_rad_s",
            "engage_tolerance_rad",
        )
        for key in positive:
            if not getattr(config, key) > 0.0:
                raise bad(key, "a number > 0")
        for key in ("velocity_scale", "acceleration_scale"):
            if not 0.0 < getattr(config, key) <= 1.0:
                raise bad(key, "0 < value <= 1")
        if not config.position_margin_rad >= 0.0:
            raise bad("position_margin_rad", ">= 0")
        return config
