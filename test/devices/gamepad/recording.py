"""A recorded Xbox pad session as raw ``struct input_event`` bytes (what /dev/input gives).

Dead man (LB) pressed, left stick pushed fully left then up, right trigger pulled, A pressed,
dead man released; one SYN_DROPPED burst in the middle, as the kernel sends on overflow.
"""

from __future__ import annotations

from humanoid_teleop.devices.gamepad.evdev import (
    CODES,
    EV_ABS,
    EV_KEY,
    EV_SYN,
    SYN_DROPPED,
    SYN_REPORT,
    pack_event,
)


def report(t_s: float, *changes: tuple[int, str, int]) -> bytes:
    """Events for ``changes`` (type, code name, value) followed by SYN_REPORT at ``t_s``."""
    out = b"".join(pack_event(etype, CODES[name], value, t_s) for etype, name, value in changes)
    return out + pack_event(EV_SYN, SYN_REPORT, 0, t_s)


DEADMAN_DOWN = report(0.00, (EV_KEY, "BTN_TL", 1))
STICK_LEFT = report(0.02, (EV_ABS, "ABS_X", -32768))
STICK_UP = report(0.04, (EV_ABS, "ABS_X", 0), (EV_ABS, "ABS_Y", -32768))
# The kernel's buffer overflowed: everything up to and including the next SYN_REPORT is void.
DROPPED = (
    pack_event(EV_ABS, CODES["ABS_Y"], 12345, 0.05)
    + pack_event(EV_SYN, SYN_DROPPED, 0, 0.05)
    + report(0.05, (EV_ABS, "ABS_Y", 999))
)
TRIGGER_AND_A = report(0.06, (EV_ABS, "ABS_RZ", 1023), (EV_KEY, "BTN_SOUTH", 1))
DEADMAN_UP = report(0.08, (EV_KEY, "BTN_TL", 0))

SESSION = DEADMAN_DOWN + STICK_LEFT + STICK_UP + DROPPED + TRIGGER_AND_A + DEADMAN_UP
