"""The portability report's event detection, matching and target checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.motion.rotation import exp3, rotation_angle
from humanoid_teleop.core.safety.filter import SafetyReport
from humanoid_teleop.portability.errors import PortInputError
from humanoid_teleop.portability.matrix import (
    PairSummary,
    clamps_cell,
    summarize,
    summarize_archive,
)
from humanoid_teleop.portability.report import (
    ContactSplit,
    Event,
    PortReport,
    StepRecord,
    build_report,
    clamp_kinds,
    clamped_joints,
    contact_phase,
    contact_split,
    events,
    match_events,
)
from humanoid_teleop.portability.source import Samples, SourceEpisode
from humanoid_teleop.portability.track import recent_motion


def _report(**changes: object) -> PortReport:
    base: dict[str, object] = dict(
        source_episode="e", source_robot="a", target_robot="b", side="right", sim=True,
        steps=100, contact_steps=10, contact_p95_m=0.01, contact_max_m=0.01, free_p95_m=0.02,
        free_max_m=0.02, orientation_p95_rad=0.1, source_events=[], target_events=[],
        event_offsets_s=[], missed_events=0, spurious_events=0, reachability_pct=100.0,
        clamped_steps=0, clamped_joints={}, source_outcome="success", outcome="success",
    )  # fmt: skip
    base.update(changes)
    return PortReport(**base)  # type: ignore[arg-type]


def test_events_are_relative_to_the_hands_grip_closure() -> None:
    """A closure rising to 0.9 of the hand's grip closure is a grasp; falling below 0.6 of
    it after that is a release."""
    t = np.arange(8) * 0.1
    closure = np.array([0.0, 0.3, 0.48, 0.52, 0.4, 0.3, 0.4, 0.1])
    assert events(t, closure, 0.52) == [Event("grasp", 0.2), Event("release", 0.5)]


def test_a_gripper_stopped_by_the_object_grasps() -> None:
    """Jaws the cube stops at 0.27 of their travel (TALOS') grasp relative to their own grip
    closure, where a fixed 0.5 saw no grasp at all."""
    t = np.arange(6) / 10
    closure = np.array([0.0, 0.16, 0.2, 0.25, 0.27, 0.27])
    assert events(t, closure, 0.27) == [Event("grasp", 0.3)]
    assert events(t, closure, 1.0) == []


def test_preshape_and_push_hands_are_no_event() -> None:
    """A hand held in its pre-grasp shape (G1: 0.32) or its pushing shape (0.42) and opened
    again makes no event against its 0.52 grip."""
    t = np.arange(5) * 0.1
    assert events(t, np.array([0.0, 0.32, 0.42, 0.42, 0.0]), 0.52) == []


def test_a_hand_that_never_closes_misses_the_grasp() -> None:
    """The source's grasp and release are missed when the target's hand stays open."""
    t = np.arange(8) * 0.1
    source = events(t, np.array([0.0, 0.3, 0.5, 0.52, 0.52, 0.2, 0.0, 0.0]), 0.52)
    target = events(t, np.array([0.0, 0.1, 0.15, 0.2, 0.2, 0.1, 0.0, 0.0]), 0.27)
    assert [e.kind for e in source] == ["grasp", "release"]
    assert match_events(source, target) == ([], 2, 0)


def test_a_spurious_close_and_open_are_reported() -> None:
    """A target hand that closes and opens again where the source's hand held still
    shows two spurious events, whether or not it held anything."""
    t = np.arange(8) * 0.1
    source = events(t, np.array([0.0, 0.3, 0.52, 0.52, 0.52, 0.52, 0.52, 0.52]), 0.52)
    target = events(t, np.array([0.0, 0.3, 0.56, 0.56, 0.2, 0.56, 0.56, 0.56]), 0.56)
    offsets, missed, spurious = match_events(source, target)
    assert (len(offsets), missed, spurious) == (1, 0, 2)


def test_matching_reports_offsets_misses_and_spurious_events() -> None:
    """Events within 150 ms match (offset target - source); others are missed or spurious."""
    source = [Event("grasp", 1.0), Event("release", 3.0)]
    target = [Event("grasp", 1.1), Event("release", 3.4), Event("grasp", 5.0)]
    offsets, missed, spurious = match_events(source, target)
    assert np.allclose(offsets, [0.1])
    assert (missed, spurious) == (1, 2)


def test_low_reachability_is_the_only_reason_given() -> None:
    """Below 95% reachability the report names reachability, not the errors it causes."""
    report = _report(reachability_pct=60.0, free_p95_m=0.3)
    assert report.below_target() == ["reachability 60.0% < 95%"]


def test_reachable_episode_is_held_to_the_error_targets() -> None:
    """A reachable episode with a 3 cm contact p95 misses the 2 cm target."""
    assert _report(contact_p95_m=0.03).below_target() == ["contact EE p95 3.0 cm > 2 cm"]


def test_pair_without_a_successful_self_replay_has_no_transfer_ratio() -> None:
    """Transfer ratio is undefined when the source's own replay never succeeds."""
    pair = PairSummary(
        task="push", source="a", target="b", episodes=3, self_successes=0, successes=2,
        contact_p95_m=0.0, free_p95_m=0.0, orientation_p95_rad=0.0, max_event_offset_s=0.0,
        missed_events=0, spurious_events=0, reachability_pct=100.0, clamped_pct=0.0, notes=(),
    )  # fmt: skip
    assert pair.transfer_ratio is None
    assert pair.below_target() == ["source self-replay never succeeds"]


def test_contact_phase_ends_when_an_object_leaves_the_table() -> None:
    """The source's tool within 10 cm of its object is a contact phase until either object
    falls 5 cm below where it started (then the object frame means nothing: an object knocked
    to the floor made a report's contact p95 324 m); a lifted object stays in contact."""
    n = 6
    src_p = np.zeros((n, 3))
    src_o = np.tile([0.05, 0.0, 0.0], (n, 1))
    src_o[2:4, 2] = 0.08  # lifted: still in contact (the tool is 5-9 cm from it)
    tgt_o = np.zeros((n, 3))
    tgt_o[4:, 2] = [-0.06, -3.0]  # knocked off the table at step 4, on the floor after
    contact, fell_at = contact_phase(src_p, src_o, tgt_o)
    assert contact.tolist() == [True, True, True, True, False, False]
    assert fell_at == 4
    tgt_o[5, 2] = 0.0  # back at its height after falling is still fallen (no way back up)
    contact, fell_at = contact_phase(src_p, src_o, tgt_o)
    assert contact.tolist() == [True, True, True, True, False, False] and fell_at == 4
    contact, fell_at = contact_phase(src_p, src_o, np.zeros((n, 3)))
    assert contact.all() and fell_at is None


def test_contact_error_is_split_by_whether_the_object_moves() -> None:
    """A push along +x at 10 cm/s from 1 s to 2 s, sampled at 100 Hz: the target's object
    sits 1 cm further ahead of its tool and 0.5 cm to the motion's left than the source's
    while it moves; at rest the target's relation is off by 3 mm. The split says so: the
    moving steps' p95 and their seat along and across the motion, the resting steps' p95."""
    t = np.arange(0.0, 3.0, 0.01)
    src_o = np.zeros((len(t), 3))
    src_o[:, 0] = np.clip(t - 1.0, 0.0, 1.0) * 0.10
    src_p = src_o - np.array([0.04, 0.0, 0.0])  # the tool 4 cm behind the object
    moving = (t > 1.0) & (t < 2.2)  # still moving within REST_S of the push's end
    seat = np.where(moving[:, None], [0.01, 0.005, 0.0], [0.003, 0.0, 0.0])
    tgt_o = src_o + 0.02  # the target's own object, elsewhere
    tgt_p = tgt_o - (src_o - src_p) - seat
    error = np.linalg.norm((tgt_p - tgt_o) - (src_p - src_o), axis=1)
    contact = np.ones(len(t), dtype=bool)
    split = contact_split(contact, error, (src_p, src_o), (tgt_p, tgt_o), recent_motion(t, src_o))
    assert 100 <= split.moving_steps <= 120
    assert abs(split.seat_along_m - 0.01) < 1e-3 and abs(split.seat_across_m - 0.005) < 1e-3
    assert abs(split.moving_p95_m - np.hypot(0.01, 0.005)) < 1e-3
    assert abs(split.still_p95_m - 0.003) < 1e-3
    assert abs(split.objects_apart_p95_m - 0.02 * np.sqrt(3)) < 1e-9  # 2 cm off on each axis
    still = contact_split(contact, error, (src_p, src_o), (tgt_p, tgt_o), np.zeros((len(t), 2)))
    assert still.moving_steps == 0 and still.still_p95_m > 0.01  # nothing moved: all at rest


def test_a_contact_reason_says_where_the_error_comes_from() -> None:
    """With contact steps while the object moved, the episode's and the pair's reason say
    the moving and resting p95, the seat and how far apart the two objects were; the pair
    gives its worst episode's."""
    report = _report(
        contact_p95_m=0.043, contact_moving_steps=200, contact_moving_p95_m=0.045,
        contact_still_p95_m=0.019, seat_along_m=-0.001, seat_across_m=-0.013,
        objects_apart_p95_m=0.004,
    )  # fmt: skip
    expected = (
        "contact EE p95 4.3 cm > 2 cm (object moving: 4.5 cm, seated -0.1 cm along / -1.3 cm "
        "across its motion; at rest: 1.9 cm; the objects 0.4 cm apart)"
    )
    assert report.below_target() == [expected]
    assert "while the object moves 4.5 cm" in report.text()
    assert "the two objects p95 0.4 cm apart in the contact phases" in report.text()
    pair = summarize("push", "a", "b", [report, _report(contact_p95_m=0.03)], [_report()])
    assert pair.contact_split == report.split
    assert pair.below_target() == [expected.replace("contact EE p95", "contact p95")]
    assert summarize("push", "a", "b", [_report()], [_report()]).contact_split == ContactSplit()


def test_clamped_joints_are_each_limits_joints_once_sorted() -> None:
    """A step's clamped joints: every joint a position, velocity or acceleration limit
    changed, once each, sorted; none when no limit did."""
    report = SafetyReport(
        True, False, False, None, 0.0, position_clamped=("b",), velocity_clamped=("c", "a"),
        acceleration_clamped=("a",),
    )  # fmt: skip
    assert clamped_joints(report) == ("a", "b", "c")
    assert clamped_joints(SafetyReport(True, False, False, None, 0.0)) == ()
    assert clamp_kinds(report) == ("position", "velocity", "acceleration")
    assert clamp_kinds(SafetyReport(True, False, False, None, 0.0, velocity_clamped=("a",))) == (
        "velocity",
    )


def _clamp_source(n: int) -> SourceEpisode:
    return SourceEpisode(
        path=Path("e"), custom={}, robot="a", engage_ns=0, joint_names=(),
        joints=Samples(np.arange(n) * 0.1, np.zeros((n, 0))), commands={}, wrists={},
        hands={}, intent_source="/teleop/intent/", objects=None, object_names=(), scene="",
        outcome="",
    )  # fmt: skip


def test_clamped_steps_are_counted_per_kind_of_limit() -> None:
    """The report counts the steps each kind of limit clamped (a step in every kind that
    clamped), beside the steps any clamped; the text and the matrix cell show the split, and
    a report written before the split (no such key) reads back and shows none."""
    kinds = [(), ("acceleration",), ("velocity", "acceleration"), ("position",), ()]
    steps = [
        StepRecord(0.1 * i, i, np.zeros(3), np.eye(3), None, 0.0, True, ("j",) * bool(k), k)
        for i, k in enumerate(kinds)
    ]
    report = build_report(
        source=_clamp_source(5), source_robot="a", target_robot="b", side="right",
        track_t_s=np.arange(5) * 0.1, track_p=np.zeros((5, 3)),
        track_r=np.tile(np.eye(3), (5, 1, 1)), track_closure=np.zeros(5), track_objects=None,
        steps=steps, hand_rotation=np.eye(3), outcome=None, sim=False, target_has_hand=True,
    )  # fmt: skip
    assert report.clamped_steps == 3
    assert report.clamped_steps_by_kind == {"position": 1, "velocity": 1, "acceleration": 2}
    assert "safety clamps on 3 of 5 steps (position 1, velocity 1, acceleration 2)" in (
        report.text()
    )
    pair = summarize("push", "a", "b", [report], [report])
    assert pair.clamped_pct_by_kind == {"position": 20.0, "velocity": 20.0, "acceleration": 40.0}
    assert clamps_cell(pair) == "60 (20/20/40)"
    older = report.to_dict()
    del older["clamped_steps_by_kind"]
    read = PortReport.from_dict(older, "metadata.yaml:1")
    assert read.clamped_steps_by_kind == {}
    assert "safety clamps on 3 of 5 steps\n" in read.text()
    assert clamps_cell(summarize("push", "a", "b", [read, report], [report])) == "60"


def test_orientation_error_is_each_steps_angle_from_the_sample_it_stepped_from() -> None:
    """The report's orientation p95 is the 95th percentile of each step's angle between its
    tool rotation (its EE rotation @ the hand rotation) and the source sample the port
    stepped from (its ``src_index``), bit for bit: a step time a rounding below that
    sample's time (as ``k * dt`` can be below a recorded log time) is compared with that
    sample, not the one before it."""
    rng = np.random.default_rng(8)
    track_t = np.arange(40) * 0.1
    track_r = np.array([exp3(v) for v in rng.normal(size=(40, 3))])
    hand_rotation = exp3(rng.normal(size=3))
    times = np.arange(-2, 160) * 0.025
    times[2::4] = np.nextafter(track_t, -np.inf)  # each a rounding below a sample's time
    index = np.clip(np.searchsorted(track_t, times + 1e-6, "right") - 1, 0, None)
    steps = [
        StepRecord(float(t), int(k), np.zeros(3), exp3(v), None, 0.0, True, ())
        for t, k, v in zip(times, index, rng.normal(size=(162, 3)), strict=True)
    ]
    source = SourceEpisode(
        path=Path("e"), custom={}, robot="a", engage_ns=0, joint_names=(),
        joints=Samples(track_t, np.zeros((40, 0))), commands={}, wrists={}, hands={},
        intent_source="/teleop/intent/", objects=None, object_names=(), scene="", outcome="",
    )  # fmt: skip
    report = build_report(
        source=source, source_robot="a", target_robot="b", side="right", track_t_s=track_t,
        track_p=np.zeros((40, 3)), track_r=track_r, track_closure=np.zeros(40),
        track_objects=None, steps=steps, hand_rotation=hand_rotation, outcome=None,
        sim=False, target_has_hand=True,
    )  # fmt: skip
    compared = [s for s in steps if s.t_s <= track_t[-1] + 1e-9]
    angles = [rotation_angle(track_r[s.src_index].T @ (s.ee_r @ hand_rotation)) for s in compared]
    assert report.orientation_p95_rad == float(np.percentile(angles, 95))


def test_an_archive_run_is_summed_up_per_source_robot() -> None:
    """The summary of a port run: per source robot, target successes among the episodes
    whose source succeeded (a failed source's port does not count either way), episodes
    within reach and meeting every target, each target's misses, median and worst p95s;
    no transfer ratio without physics."""
    reports = [
        _report(contact_p95_m=0.03),  # below the contact target
        _report(source_outcome="failure", outcome="success", free_p95_m=0.06),
        _report(outcome="failure", contact_p95_m=0.01),
        _report(reachability_pct=90.0),
        _report(source_robot="c", sim=False),
    ]
    first, other = summarize_archive(reports)
    assert (first.source_robot, first.episodes, first.source_successes, first.successes) == (
        "a",
        4,
        3,
        2,
    )
    assert first.transfer_ratio == 2 / 3
    assert (first.reachable, first.meeting) == (3, 1)
    assert first.misses == {"contact": 1, "free space": 1, "reachability": 1}
    assert first.contact_p95_m == (0.01, 0.03) and first.free_p95_m == (0.02, 0.06)
    text = first.text().splitlines()
    assert text[0] == "summary: 4 episodes a -> b (physics)"
    assert text[1] == (
        "  task success: 2 of the 3 whose source succeeded (transfer ratio 0.67; target >= 0.8)"
    )
    assert text[3] == (
        "  episodes below target by: reachability 1, contact 1, free space 1, grasp timing 0, "
        "spurious events 0"
    )
    assert (other.source_robot, other.sim, other.transfer_ratio) == ("c", False, None)
    assert other.to_dict()["transfer_ratio"] is None
    (failed,) = summarize_archive([_report(source_outcome="failure")])
    assert failed.text().splitlines()[1] == (
        "  task success: no source episode succeeded (no transfer ratio)"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("reachability_pct", "abc", "report key reachability_pct 'abc': not a number"),
        ("steps", 1.5, "report key steps 1.5: not an integer"),
        ("event_offsets_s", 3, "report key event_offsets_s 3: not a list[float]"),
        ("contact_p95_m", "0.01", "report key contact_p95_m '0.01': not a number"),
        ("notes", "slipped", "report key notes 'slipped': not a list[str]"),
        ("sim", 1, "report key sim 1: not true or false"),
    ],
)
def test_a_report_key_of_the_wrong_type_is_one_line(key: str, value: object, expected: str) -> None:
    """A stored report (a kept port's metadata, a matrix's reports.jsonl) whose value has the
    wrong type is one line naming where and the key (it raised later, in a comparison or a
    format); the report as written reads back."""
    data = _report().to_dict()
    assert PortReport.from_dict(data, "m.yaml:3") == _report()
    with pytest.raises(PortInputError) as err:
        PortReport.from_dict({**data, key: value}, "m.yaml:3")
    assert str(err.value) == f"m.yaml:3: {expected}"
