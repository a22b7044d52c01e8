"""/teleop/state's content (humanoid_teleop/core/retarget/teleop_state.py): keys, levels and
the bytes, shared by the teleop node and the offline writer of ported episodes."""

from __future__ import annotations

from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.motion.cdr import DIAGNOSTIC_ERROR, DIAGNOSTIC_OK, DIAGNOSTIC_WARN
from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.core.retarget.input_guard import STALE, PartFault
from humanoid_teleop.core.retarget.teleop_state import (
    STATE_TYPE,
    ClampTally,
    encode_teleop_state,
    teleop_status,
)
from humanoid_teleop.core.safety.filter import SafetyReport

STORE = get_typestore(Stores.ROS2_JAZZY)


def _report(hold: str | None = None) -> SafetyReport:
    return SafetyReport(
        engaged=True, estopped=False, ramping=False, hold_reason=hold, input_age_s=0.012,
        velocity_clamped=("elbow", "wrist"),
    )  # fmt: skip


def _tally(*reports: SafetyReport) -> ClampTally:
    tally = ClampTally()
    for report in reports:
        tally.add(report)
    return tally


def test_following_status_lists_the_live_keys_in_order() -> None:
    """An engaged pipeline following its input is OK and lists every key of the last step."""
    report = _report()
    status = teleop_status(
        "g1", engaged=True, estopped=False, steps=42, joint_states=True, report=report,
        faults={}, held={}, clamps=_tally(report), step_times_s=[0.001, 0.002, 0.003],
    )  # fmt: skip
    assert (status.level, status.message, status.name, status.hardware_id) == (
        DIAGNOSTIC_OK, "engaged", "teleop", "g1",
    )  # fmt: skip
    assert dict(status.values) == {
        "engaged": "true",
        "estopped": "false",
        "steps": "42",
        "joint_states": "true",
        "step_ms_p50": "2.000",
        "step_ms_p99": "2.980",
        "hold_reason": "",
        "input_age_s": "0.0120",
        "clamped_velocity": "elbow,wrist",
        "steps_clamped": "1",
    }


def test_holds_and_faults_warn_and_name_their_reason() -> None:
    """A safety hold warns with its reason; a stale part is listed under its topic."""
    fault = PartFault(STALE, 0.5, "0.500 s old")
    status = teleop_status(
        "g1", engaged=True, estopped=False, steps=1, joint_states=True,
        report=_report("input stale"), faults={Input.RIGHT_WRIST: fault},
        held={"right_arm": "right_wrist stale"}, clamps=_tally(),
    )  # fmt: skip
    values = dict(status.values)
    assert (status.level, status.message) == (DIAGNOSTIC_WARN, "holding: input stale")
    assert values["hold_reason"] == "input stale"
    assert values[f"{STALE} /operator/right_wrist"] == "0.500 s old"
    assert values["held_groups"] == "right_arm (right_wrist stale)"
    assert "step_ms_p50" not in values  # not timed: no step times


def test_latched_estop_is_an_error() -> None:
    """A latched e-stop is an ERROR whatever else holds."""
    status = teleop_status(
        "g1", engaged=False, estopped=True, steps=3, joint_states=True,
        report=_report("estop"), faults={}, held={"right_arm": "x"}, clamps=_tally(),
        rejections={("/operator/joy", "ahead"): (2, "1.0 s ahead")},
    )  # fmt: skip
    assert (status.level, status.message) == (DIAGNOSTIC_ERROR, "e-stop latched")
    assert dict(status.values)["rejected /operator/joy: ahead"] == "2 (last: 1.0 s ahead)"


def test_encoded_state_decodes_with_rosbags() -> None:
    """The message bytes decode as one DiagnosticArray status with the same fields."""
    status = teleop_status(
        "alex", engaged=False, estopped=False, steps=0, joint_states=False, report=None,
        faults={}, held={}, clamps=_tally(),
    )  # fmt: skip
    message = STORE.deserialize_cdr(encode_teleop_state(7, 8, status), STATE_TYPE)
    assert (message.header.stamp.sec, message.header.stamp.nanosec) == (7, 8)
    (decoded,) = message.status
    assert (decoded.level, decoded.message, decoded.hardware_id) == (0, "disengaged", "alex")
    assert [(v.key, v.value) for v in decoded.values] == list(status.values)


def test_state_lists_the_clamps_of_every_step_since_the_last_one() -> None:
    """A state lists each joint any step clamped since the previous state (a 10 Hz state of a
    250 Hz loop would otherwise show one step in 25) and how many steps clamped; the next
    state starts over."""
    tally = ClampTally()
    reports = [
        SafetyReport(True, False, False, None, 0.01, velocity_clamped=("elbow",)),
        SafetyReport(True, False, False, None, 0.01),
        SafetyReport(
            True,
            False,
            False,
            None,
            0.01,
            position_clamped=("wrist",),
            velocity_clamped=("shoulder", "elbow"),
        ),
        SafetyReport(True, False, False, None, 0.01),
    ]
    for report in reports:
        tally.add(report)
    status = teleop_status(
        "g1", engaged=True, estopped=False, steps=4, joint_states=True, report=reports[-1],
        faults={}, held={}, clamps=tally,
    )  # fmt: skip
    values = dict(status.values)
    assert values["clamped_velocity"] == "elbow,shoulder"
    assert values["clamped_position"] == "wrist"
    assert values["steps_clamped"] == "2"
    tally.add(reports[1])
    again = dict(
        teleop_status(
            "g1", engaged=True, estopped=False, steps=5, joint_states=True, report=reports[1],
            faults={}, held={}, clamps=tally,
        ).values
    )  # fmt: skip
    assert again["steps_clamped"] == "0"
    assert not any(k.startswith("clamped_") for k in again)
