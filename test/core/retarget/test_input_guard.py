"""The stamp rules and the rate-limited rejection log of core.retarget.input_guard."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, Input, JoyState, LeaderJoints, Pose
from humanoid_teleop.core.retarget.input_guard import (
    AHEAD,
    BAD_STAMP,
    FUTURE_STAMP,
    MISSING,
    NON_FINITE,
    STALE,
    STAMP_BACKWARDS,
    InputGuard,
    RejectionLog,
    check_message,
    missing_parts,
    non_finite_detail,
    part_faults,
)
from humanoid_teleop.core.safety import SafetyConfig

CONFIG = SafetyConfig(stale_timeout_s=0.25, future_tolerance_s=0.05)
TOLERANCE_S = CONFIG.future_tolerance_s
NOW = 1_700_000_000.0
POSE = Pose.identity()


def test_a_fresh_message_is_accepted() -> None:
    """A finite part stamped a little before the clock passes."""
    assert check_message(NOW - 0.01, NOW - 0.02, NOW, POSE, TOLERANCE_S) is None


def test_a_stamp_within_the_future_tolerance_is_accepted() -> None:
    """A device clock a few ms ahead of ours is tolerated."""
    assert check_message(NOW + 0.04, None, NOW, POSE, TOLERANCE_S) is None


def test_a_future_stamp_beyond_the_tolerance_is_rejected() -> None:
    """A stamp 1e6 s ahead is rejected, and the detail says by how much."""
    rejection = check_message(NOW + 1e6, None, NOW, POSE, TOLERANCE_S)
    assert rejection is not None and rejection.reason == FUTURE_STAMP
    assert "1000000.000 s ahead" in rejection.detail


def test_a_stamp_older_than_the_previous_message_is_rejected() -> None:
    """A message stamped before the last accepted one of its part is refused."""
    rejection = check_message(NOW - 10.0, NOW - 0.01, NOW, POSE, TOLERANCE_S)
    assert rejection is not None and rejection.reason == STAMP_BACKWARDS


def test_a_non_finite_stamp_is_rejected() -> None:
    """A NaN stamp cannot be judged for freshness: rejected."""
    rejection = check_message(math.nan, None, NOW, POSE, TOLERANCE_S)
    assert rejection is not None and rejection.reason == BAD_STAMP


def test_a_nan_position_is_rejected_naming_it() -> None:
    """A pose with a NaN coordinate is rejected as non-finite."""
    pose = Pose(np.array([0.1, math.nan, 0.0]), np.eye(3))
    rejection = check_message(NOW, None, NOW, pose, TOLERANCE_S)
    assert rejection is not None and rejection.reason == NON_FINITE
    assert "position" in rejection.detail


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (HandSkeleton(np.where(np.arange(75).reshape(25, 3) == 12, np.inf, 0.0)), "thumb-tip"),
        (JoyState((0.0, math.nan), (0,)), "axis 1"),
        (LeaderJoints(("a", "b"), np.array([0.0, -math.inf])), "'b'"),
        (Pose(np.zeros(3), np.full((3, 3), math.nan)), "quaternion"),
    ],
)
def test_non_finite_detail_names_the_bad_number(part: object, expected: str) -> None:
    """Each part kind says which of its numbers is NaN/inf."""
    detail = non_finite_detail(part)  # type: ignore[arg-type]
    assert detail is not None and expected in detail


def test_the_guard_records_only_accepted_stamps() -> None:
    """A future-stamped message leaves the part's stamp where the last good one put it."""
    guard = InputGuard(CONFIG)
    assert guard.admit(Input.RIGHT_WRIST, NOW - 0.01, POSE, NOW) is None
    assert guard.admit(Input.RIGHT_WRIST, NOW + 1e6, POSE, NOW) is not None
    assert guard.stamps == {Input.RIGHT_WRIST: NOW - 0.01}
    assert guard.admit(Input.RIGHT_WRIST, NOW + 0.001, POSE, NOW + 0.004) is None
    assert guard.stamps == {Input.RIGHT_WRIST: NOW + 0.001}


def test_a_stale_part_is_reported_with_its_age() -> None:
    """A part stamped 10 s ago is stale; the other, fresh part is not listed."""
    faults = part_faults({Input.RIGHT_WRIST: NOW - 10.0, Input.LEFT_WRIST: NOW}, NOW, CONFIG)
    assert list(faults) == [Input.RIGHT_WRIST]
    assert faults[Input.RIGHT_WRIST].kind == STALE
    assert faults[Input.RIGHT_WRIST].age_s == pytest.approx(10.0)


def test_a_part_that_never_arrived_is_missing_once_the_timeout_has_passed() -> None:
    """A part the pipeline reads with no message at all is named missing once
    ``stale_timeout_s`` has passed since the engage, with the time since it; the parts that
    delivered are not listed (stale ones are part_faults' to name)."""
    inputs = (Input.LEFT_WRIST, Input.RIGHT_WRIST, Input.RIGHT_HAND)
    stamps = {Input.LEFT_WRIST: NOW, Input.RIGHT_HAND: NOW - 10.0}
    assert missing_parts(stamps, inputs, NOW - 0.25, NOW, CONFIG) == {}  # not yet
    faults = missing_parts(stamps, inputs, NOW - 0.4, NOW, CONFIG)
    assert list(faults) == [Input.RIGHT_WRIST]
    assert faults[Input.RIGHT_WRIST].kind == MISSING
    assert faults[Input.RIGHT_WRIST].age_s == pytest.approx(0.4)
    assert faults[Input.RIGHT_WRIST].detail == (
        "no accepted message since the engage 0.400 s ago (timeout 0.25 s)"
    )


def test_a_part_ahead_of_a_clock_set_back_is_left_out() -> None:
    """A stamp more than the tolerance ahead of the step's clock is not used."""
    faults = part_faults({Input.JOY: NOW + 1.0}, NOW, CONFIG)
    assert faults[Input.JOY].kind == AHEAD


def test_the_log_writes_the_first_rejection_at_once() -> None:
    """The first rejection of a source and reason gives a line naming both."""
    log = RejectionLog()
    line = log.record("/operator/right_wrist", NON_FINITE, "position is not finite", 0.0)
    assert line is not None
    assert line.startswith("rejected /operator/right_wrist: non-finite: position is not finite")


def test_the_log_writes_at_most_one_line_per_second_per_key() -> None:
    """10,000 rejections over 5 s of one key give 5 lines whose counts add up."""
    log = RejectionLog()
    lines = [
        line
        for i in range(10_000)
        if (line := log.record("/operator/joy", NON_FINITE, "axis 0 is nan", i * 5e-4))
    ]
    lines += log.flush(5.0)
    assert len(lines) == 6
    counts = [int(line.split("(")[-1].split()[0]) for line in lines]
    assert sum(counts) == 10_000


def test_two_alternating_reasons_are_limited_separately() -> None:
    """Two bad messages alternating at 250 Hz for 3 s give 3 lines each, not 750."""
    log = RejectionLog()
    lines = []
    for i in range(750):
        reason = NON_FINITE if i % 2 else FUTURE_STAMP
        line = log.record("/operator/right_wrist", reason, "x", i * 0.004)
        if line:
            lines.append(line)
    assert len(lines) == 6


def test_flush_owes_nothing_once_every_count_was_logged() -> None:
    """After a line carried every rejection, flush has nothing to say."""
    log = RejectionLog()
    log.record("a", NON_FINITE, "x", 0.0)
    assert log.flush(10.0) == []


def test_counts_keep_the_total_and_the_last_detail() -> None:
    """counts() gives each key's total and its latest detail."""
    log = RejectionLog()
    log.record("a", NON_FINITE, "first", 0.0)
    log.record("a", NON_FINITE, "second", 0.1)
    assert log.counts() == {("a", NON_FINITE): (2, "second")}
    assert log.total() == 2
