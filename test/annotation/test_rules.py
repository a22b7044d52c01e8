"""Automatic pre-annotations from hand closure, wrist force and arm speed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.annotation.rules import pre_annotations
from humanoid_teleop.annotation.signals import EpisodeSignals, Series, read_summary
from test.annotation.helpers import record_synthetic

NS = 1_000_000_000
RATE = 100  # samples per second of the synthetic signals


@pytest.fixture
def episode(tmp_path: Path) -> Path:
    return record_synthetic(
        tmp_path / "bags", "ep", duration_s=10.0, robot="g1", operator="op7",
        live_labels=((2.0, "reach for the cup"),),
    )  # fmt: skip


def _series(values: np.ndarray) -> Series:
    return Series(np.arange(len(values), dtype=np.int64) * (NS // RATE), values)


def _steps(*parts: tuple[float, float]) -> np.ndarray:
    """A signal of (value, seconds) pieces."""
    return np.concatenate([np.full(int(s * RATE), v, dtype=np.float64) for v, s in parts])


def _signals(episode: Path, closure: np.ndarray, force: np.ndarray | None) -> EpisodeSignals:
    summary = read_summary(episode)
    signals = EpisodeSignals(episode, summary, 0, len(closure) * NS // RATE)
    signals.closure["right"] = _series(closure)
    if force is not None:
        signals.force_n["right"] = _series(force)
    return signals


def _found(records: list) -> list[tuple[str, str, float, float]]:
    """(kind, text, start or time, end) [s] to the 0.1 s the force filter (0.1 s median) allows."""
    return [
        (r.kind, r.text, _tenths((r.start_ns or r.time_ns) / NS), _tenths(r.end_ns / NS))
        for r in records
        if r.provenance.source == "rule"
    ]


def _tenths(t_s: float) -> float:
    return float(np.floor(t_s * 10 + 1e-9) / 10)


def test_grasp_needs_closure_and_wrist_force(episode: Path) -> None:
    """A closed hand under load is a grasp; opening it is a release; phases around them."""
    closure = _steps((0.0, 2), (0.8, 4), (0.0, 4))
    force = _steps((5.0, 3), (15.0, 3), (5.0, 4))
    records = pre_annotations(episode, signals=_signals(episode, closure, force))
    assert _found(records) == [
        ("span", "approach", 0.0, 3.0),
        ("event", "grasp", 3.0, 0.0),
        ("span", "transport", 3.0, 6.0),
        ("event", "release", 6.0, 0.0),
    ]


def test_closing_the_hand_on_nothing_is_no_grasp(episode: Path) -> None:
    """Closure without a wrist-force rise (an empty pinch) predicts no grasp."""
    closure = _steps((0.0, 2), (0.8, 4), (0.0, 4))
    force = _steps((5.0, 10))
    assert _found(pre_annotations(episode, signals=_signals(episode, closure, force))) == []


def test_a_load_transient_is_no_grasp(episode: Path) -> None:
    """A load shorter than contact_window_s on a closed hand (an impact) predicts no grasp."""
    closure = _steps((0.0, 2), (0.8, 8))
    force = _steps((5.0, 3), (15.0, 0.4), (5.0, 6.6))
    assert _found(pre_annotations(episode, signals=_signals(episode, closure, force))) == []


def test_a_load_before_the_hand_closes_is_no_grasp(episode: Path) -> None:
    """Pressing on the table, then closing the hand without a new load, predicts no grasp."""
    closure = _steps((0.0, 3), (0.8, 7))
    force = _steps((5.0, 2), (15.0, 8))
    assert _found(pre_annotations(episode, signals=_signals(episode, closure, force))) == []


def test_putting_the_object_down_is_a_release(episode: Path) -> None:
    """The force returning to its free level for 0.5 s releases a still-closed hand."""
    closure = _steps((0.0, 2), (0.8, 8))
    force = _steps((5.0, 3), (15.0, 3), (5.0, 4))
    found = _found(pre_annotations(episode, signals=_signals(episode, closure, force)))
    assert ("event", "release", 6.0, 0.0) in found


def test_still_arms_make_an_idle_span(episode: Path) -> None:
    """Arm speed below the threshold for over a second is an idle span."""
    signals = _signals(episode, _steps((0.0, 10)), None)
    signals.arm_speed = _series(_steps((1.0, 2), (0.0, 3), (1.0, 5)))
    assert _found(pre_annotations(episode, signals=signals)) == [("span", "idle", 2.0, 5.0)]


def test_every_pre_annotation_is_a_prediction(episode: Path) -> None:
    """Rules and the operator's live labels are all marked prediction: true."""
    closure = _steps((0.0, 2), (0.8, 4), (0.0, 4))
    force = _steps((5.0, 3), (15.0, 3), (5.0, 4))
    records = pre_annotations(episode, signals=_signals(episode, closure, force))
    assert records and all(r.prediction for r in records)


def test_live_labels_become_operator_events(episode: Path) -> None:
    """The operator's /recorder/annotation labels are events in episode time with provenance."""
    records = pre_annotations(episode)
    live = [r for r in records if r.provenance.source == "operator-live"]
    assert [(r.kind, r.text, r.time_ns, r.provenance.who) for r in live] == [
        ("event", "reach for the cup", 2 * NS, "op7")
    ]


def test_rules_are_idempotent(episode: Path) -> None:
    """Running the rules twice gives the same record ids (so a re-run appends nothing)."""
    assert [r.id for r in pre_annotations(episode)] == [r.id for r in pre_annotations(episode)]


TOLERANCE_NS = 300_000_000
"""How far a predicted grasp/release may be from when the cube really leaves/reaches the
table [ns] (the force is read through a 0.3 s median)."""


@pytest.fixture(scope="module", params=[0, 1])
def offline_episode(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A G1 pick-and-place episode of the scripted demonstrator recorded offline (MuJoCo, the
    teleop pipeline; seed 1 sets the cube down, lifts it a little again and sets it down)."""
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from humanoid_teleop.portability.scripted import record_scripted_episode

    bag_dir = tmp_path_factory.mktemp(f"scripted_{request.param}")
    model = RobotModel(load_robot("g1"))
    return record_scripted_episode(model, "pick_and_place", request.param, bag_dir)


def _cube_truth(episode: Path) -> tuple[int, int]:
    """(lift-off, set-down) [ns episode time] of the cube from /sim/objects: lift-off is the
    start of the rise that takes it 1 cm above where it lay (the last sample within 1 mm of
    its lowest height in the second before); set-down is its last descent back within 1 cm."""
    from rosbags.typesys import Stores, get_typestore

    from humanoid_teleop.core.bag.reader import iter_messages

    typestore = get_typestore(Stores.ROS2_JAZZY)
    start = read_summary(episode).metadata.starting_time_ns
    t, z = [], []
    for raw in iter_messages(episode, topics=["/sim/objects"]):
        t.append(raw.log_time_ns - start)
        z.append(typestore.deserialize_cdr(raw.data, raw.type).poses[0].position.z)
    times, height = np.asarray(t), np.asarray(z) - z[0]
    up = int(np.argmax(height >= 0.01))
    before = int(np.searchsorted(times, times[up] - NS))
    lowest = height[before:up].min()
    lift = before + int(np.flatnonzero(height[before:up] <= lowest + 0.001)[-1])
    above = np.flatnonzero(height[up:] >= 0.01)
    down = up + int(above[-1]) + 1
    assert down < len(times), "the cube was never set down"
    return int(times[lift]), int(times[down])


def test_scripted_pick_has_one_grasp_and_one_release(offline_episode: Path) -> None:
    """On a recorded scripted pick-and-place, one grasp and one release, where the cube leaves
    and reaches the table (settling and set-down transients are no grasp)."""
    lift, down = _cube_truth(offline_episode)
    rules = [r for r in pre_annotations(offline_episode) if r.provenance.source == "rule"]
    events = [(r.text, r.arm, r.time_ns) for r in rules if r.kind == "event"]
    assert [(text, arm) for text, arm, _ in events] == [("grasp", "right"), ("release", "right")]
    assert abs(events[0][2] - lift) <= TOLERANCE_NS, (events[0][2], lift)
    assert abs(events[1][2] - down) <= TOLERANCE_NS, (events[1][2], down)
