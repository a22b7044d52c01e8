"""What ``/teleop/state`` says (diagnostic_msgs/DiagnosticArray): one home for the live teleop
node and the offline writer of ported episodes, so both write the same keys.

One status named ``teleop`` (hardware id: the robot), its level and message from the
pipeline's state (ERROR while the e-stop is latched, WARN while the safety filter or a stale
input part holds, else OK) and these values, in this order:

- ``engaged``, ``estopped`` (``true``/``false``), ``steps`` (pipeline steps so far),
  ``joint_states`` (``true`` once measured joints arrived);
- ``step_ms_p50``, ``step_ms_p99``: step compute time [ms] over the last steps (when timed:
  a live node; an offline port has no robot-time step cost to report);
- from the last step's safety report: ``hold_reason`` (empty while following) and
  ``input_age_s`` [s];
- ``clamped_<position|velocity|acceleration>``: comma-separated joints that limit changed at
  any step since the previous state (a :class:`ClampTally`: the state goes out at 10 Hz, the
  steps at up to 250 Hz), and ``steps_clamped``: at how many of those steps any limit did;
- ``<fault kind> /operator/<part>``: why the last step left an input part out;
- ``held_groups``: groups repeating their last command and why;
- ``rejected <topic>: <reason>``: messages the input guard rejected (count and last detail).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from humanoid_teleop.core.motion.cdr import (
    DIAGNOSTIC_ERROR,
    DIAGNOSTIC_OK,
    DIAGNOSTIC_WARN,
    DiagnosticStatusFields,
    encode_diagnostic_array,
)
from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.core.motion.topics import INPUT_NAMES, OPERATOR_PREFIX
from humanoid_teleop.core.retarget.input_guard import PartFault
from humanoid_teleop.core.safety.filter import CLAMP_KINDS, SafetyReport

STATE_TYPE = "diagnostic_msgs/msg/DiagnosticArray"
#: The rate [Hz] the teleop node publishes the state at (its ``state_rate_hz`` default).
STATE_RATE_HZ = 10.0


class ClampTally:
    """The safety filter's clamps over the steps since the last state: :meth:`add` each
    step's report, :meth:`take` when a state is written (it starts a new tally)."""

    __slots__ = ("_joints", "_steps")

    def __init__(self) -> None:
        self._joints: dict[str, dict[str, None]] = {kind: {} for kind in CLAMP_KINDS}
        self._steps = 0

    def add(self, report: SafetyReport | None) -> None:
        """Count one step's report (None: a step without one)."""
        if report is None:
            return
        clamps = report.clamps()
        if not clamps:
            return
        self._steps += 1
        for kind, joints in clamps.items():
            seen = self._joints[kind]
            for joint in joints:  # a key already seen keeps its place
                seen[joint] = None

    def take(self) -> tuple[dict[str, tuple[str, ...]], int]:
        """(limit kind -> joints it changed, in the order first seen; only non-empty kinds,
        steps with any clamp) since the last take; then starts over."""
        clamps = {kind: tuple(joints) for kind, joints in self._joints.items() if joints}
        steps = self._steps
        self._joints = {kind: {} for kind in CLAMP_KINDS}
        self._steps = 0
        return clamps, steps


def teleop_status(
    robot: str,
    *,
    engaged: bool,
    estopped: bool,
    steps: int,
    joint_states: bool,
    report: SafetyReport | None,
    faults: Mapping[Input, PartFault],
    held: Mapping[str, str],
    clamps: ClampTally,
    step_times_s: Sequence[float] = (),
    rejections: Mapping[tuple[str, str], tuple[int, str]] | None = None,
) -> DiagnosticStatusFields:
    """The ``teleop`` status of robot ``robot`` after the last step (see the module doc):
    ``report``, ``faults`` and ``held`` are that step's (None / empty before any),
    ``step_times_s`` [s] the recent step compute times, ``rejections`` the input guard's
    (topic, reason) -> (count, last detail), ``clamps`` the steps' clamps since the last
    state (taken: the tally starts over)."""
    values = {
        "engaged": str(engaged).lower(),
        "estopped": str(estopped).lower(),
        "steps": str(steps),
        "joint_states": str(joint_states).lower(),
    }
    if len(step_times_s):
        p50, p99 = np.percentile(step_times_s, [50, 99]) * 1e3
        values["step_ms_p50"], values["step_ms_p99"] = f"{p50:.3f}", f"{p99:.3f}"
    if report is not None:
        values["hold_reason"] = report.hold_reason or ""
        values["input_age_s"] = f"{report.input_age_s:.4f}"
    clamped, steps_clamped = clamps.take()
    for kind, joints in clamped.items():
        values[f"clamped_{kind}"] = ",".join(joints)
    values["steps_clamped"] = str(steps_clamped)
    for which, fault in faults.items():
        values[f"{fault.kind} {OPERATOR_PREFIX}{INPUT_NAMES[which]}"] = fault.detail
    held_text = ", ".join(f"{g} ({why})" for g, why in held.items())
    if held_text:
        values["held_groups"] = held_text
    for (topic, reason), (count, detail) in (rejections or {}).items():
        values[f"rejected {topic}: {reason}"] = f"{count} (last: {detail})"
    if estopped:
        level, message = DIAGNOSTIC_ERROR, "e-stop latched"
    elif report is not None and report.hold_reason:
        level, message = DIAGNOSTIC_WARN, f"holding: {report.hold_reason}"
    elif held_text and engaged:
        level, message = DIAGNOSTIC_WARN, f"holding {held_text}"
    else:
        level, message = DIAGNOSTIC_OK, "engaged" if engaged else "disengaged"
    return DiagnosticStatusFields(level, "teleop", message, robot, tuple(values.items()))


def encode_teleop_state(sec: int, nanosec: int, status: DiagnosticStatusFields) -> bytes:
    """The ``/teleop/state`` message (CDR bytes) of ``status`` stamped ``sec``/``nanosec``."""
    return encode_diagnostic_array(sec, nanosec, "", [status])
