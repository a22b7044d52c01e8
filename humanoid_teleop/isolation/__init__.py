"""Run processes inside a private network namespace so DDS never leaves this machine."""

from humanoid_teleop.isolation.netns import (
    OPT_IN_ENV,
    IsolationUnavailable,
    is_isolated,
    isolated_command,
)

__all__ = ["OPT_IN_ENV", "IsolationUnavailable", "is_isolated", "isolated_command"]
