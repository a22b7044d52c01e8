"""Safety settings (one block of a teleop profile)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

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
        engage_speed_rad_s: Top joint speed while ramping to the first target after engage
            [rad/s].
        engage_tolerance_rad: The ramp ends once every joint is this close to its target [rad].
        deadman_button: Gamepad button index that must be held for motion, or None when the
            device has no deadman.
    """

    position_margin_rad: float = 0.02
    velocity_scale: float = 1.0
    acceleration_scale: float = 1.0
    max_step_s: float = 0.05
    stale_timeout_s: float = 0.25
    future_tolerance_s: float = 0.05
    engage_speed_rad_s: float = 0.5
    engage_tolerance_rad: float = 0.05
    deadman_button: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<safety>") -> SafetyConfig:
        """Build from a mapping; unknown keys and bad values raise naming ``source`` and key."""
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise SafetyConfigError(
                f"{source}: unknown key(s) {unknown} in safety; allowed: {sorted(allowed)}"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "deadman_button":
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                    raise SafetyConfigError(
                        f"{source}: safety.deadman_button = {value!r}: need an integer or null"
                    )
                if value is not None and value < 0:
                    raise SafetyConfigError(f"{source}: safety.deadman_button = {value}: need >= 0")
                values[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SafetyConfigError(f"{source}: safety.{key} = {value!r}: need a number")
            values[key] = float(value)
        config = cls(**values)
        config._check(source)
        return config

    def _check(self, source: str) -> None:
        positive = (
            "max_step_s",
            "stale_timeout_s",
            "future_tolerance_s",
            "engage_speed_rad_s",
            "engage_tolerance_rad",
        )
        for key in positive:
            value = getattr(self, key)
            if not (math.isfinite(value) and value > 0.0):
                raise SafetyConfigError(f"{source}: safety.{key} = {value}: need a number > 0")
        for key in ("velocity_scale", "acceleration_scale"):
            value = getattr(self, key)
            if not 0.0 < value <= 1.0:
                raise SafetyConfigError(f"{source}: safety.{key} = {value}: need 0 < value <= 1")
        if not (math.isfinite(self.position_margin_rad) and self.position_margin_rad >= 0.0):
            raise SafetyConfigError(
                f"{source}: safety.position_margin_rad = {self.position_margin_rad}: need >= 0"
            )
