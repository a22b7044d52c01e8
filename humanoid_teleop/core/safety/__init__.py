"""Safety layer: pure functions that turn any target into a command within limits."""

from humanoid_teleop.core.safety.config import SafetyConfig
from humanoid_teleop.core.safety.errors import SafetyConfigError, SafetyError
from humanoid_teleop.core.safety.filter import (
    SafetyFilter,
    SafetyReport,
    SafetyState,
    safety_disengage,
    safety_engage,
    safety_estop,
    safety_reset_estop,
    safety_step,
)

__all__ = [
    "SafetyConfig",
    "SafetyConfigError",
    "SafetyError",
    "SafetyFilter",
    "SafetyReport",
    "SafetyState",
    "safety_disengage",
    "safety_engage",
    "safety_estop",
    "safety_reset_estop",
    "safety_step",
]
