"""Per-part freshness and rejection through InputGuard + TeleopPipeline, as teleop_node runs
them (raw CDR bytes -> CdrPartReader -> InputGuard -> pipeline step), without DDS.

The property tests send one input part bad (stale, future-stamped, far-past-stamped,
non-finite or malformed) while the others stay fresh, over 10,000 sequences in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import HumanFrame, Input, Pose
from humanoid_teleop.core.motion.messages import CdrPartReader
from humanoid_teleop.core.retarget.input_guard import (
    FUTURE_STAMP,
    MALFORMED,
    InputGuard,
    Rejection,
)
from humanoid_teleop.core.retarget.pipeline import PipelineOutput, TeleopPipeline
from humanoid_teleop.core.retarget.profile import load_profile
from humanoid_teleop.core.robot import RobotModel

from .conftest import model_of

EPOCH_S = 1_700_000_000.0  # a ROS clock of today: stamps carry its float resolution
PERIOD_S = 0.004
KINDS = ("stale", "future", "far_past", "non_finite", "malformed")
JOY_DEADMAN = 4
HAND_REST = np.random.default_rng(0).normal(0.0, 0.03, (25, 3)) + np.array([0.3, 0.0, 1.0])


def _stamp(t_s: float) -> tuple[int, int]:
    ns = round(t_s * 1e9)
    return ns // 1_000_000_000, ns % 1_000_000_000


def message(which: Input, t_s: float, stamp_s: float, names: tuple[str, ...]) -> bytes:
    """The CDR bytes a fresh, plausible device would send for ``which`` at time ``t_s``."""
    sec, nanosec = _stamp(stamp_s)
    wave = 0.05 * math.sin(2 * math.pi * 0.5 * (t_s - EPOCH_S))
    if which in (Input.HEAD, Input.LEFT_WRIST, Input.RIGHT_WRIST):
        y = {Input.HEAD: 0.0, Input.LEFT_WRIST: 0.2, Input.RIGHT_WRIST: -0.2}[which]
        z = 1.6 if which is Input.HEAD else 1.0
        pose = (0.3 + wave, y, z + wave, 0.0, 0.0, math.sin(wave / 2), math.cos(wave / 2))
        return cdr.encode_pose_stamped(sec, nanosec, "operator", pose)
    if which in (Input.LEFT_HAND, Input.RIGHT_HAND):
        poses = np.zeros((25, 7))
        poses[:, :3] = HAND_REST + wave
        poses[:, 6] = 1.0
        return cdr.encode_pose_array(sec, nanosec, "operator", poses)
    if which is Input.JOY:
        buttons = [0] * 11
        buttons[JOY_DEADMAN] = 1
        return cdr.encode_joy(sec, nanosec, "pad", [wave * 10, 0.0, 0.5, 0.0, 0, 0, 0, 0], buttons)
    positions = [0.1 + wave] * len(names)
    return cdr.JointStateEncoder(names).encode(sec, nanosec, positions)


def bad_message(
    which: Input, kind: str, t_s: float, amount: float, timeout_s: float, names: tuple[str, ...]
) -> bytes:
    """A message of ``which`` made bad the way ``kind`` says (``amount`` in [0, 1] sizes it)."""
    if kind == "stale":
        return message(which, t_s, t_s - timeout_s - 0.001 - 10.0 * amount, names)
    if kind == "future":
        return message(which, t_s, t_s + 0.051 + 1e6 * amount**4, names)
    if kind == "far_past":
        return message(which, t_s, 1.0 + amount, names)  # 1970 + 1 s
    data = message(which, t_s, t_s, names)
    if kind == "malformed":
        return data[: int(len(data) * amount * 0.9)] if amount < 1 else data[:4] + b"\xff" * 3
    bad = [math.nan, math.inf, -math.inf][int(amount * 2.999)]
    values = bytearray(data)
    # A pose ends in its qw (float64); Joy ends in int32 buttons (write into the first axis),
    # a hand's joints are read for their positions only, a JointState ends in two lengths.
    if which is Input.JOY:
        offset = data.index(b"pad\x00") + 4
        offset += -offset % 4 + 4  # aligned axes length, then the first float32
        values[offset : offset + 4] = np.float32(bad).tobytes()
    elif which in (Input.HEAD, Input.LEFT_WRIST, Input.RIGHT_WRIST) and amount > 0.5:
        values[-32:] = bytes(32)  # quaternion (0, 0, 0, 0): no direction
    elif which in (Input.LEFT_HAND, Input.RIGHT_HAND):
        values[-56:-48] = np.float64(bad).tobytes()  # x of the last joint (hands use positions)
    elif which is Input.LEADER:
        values[-16:-8] = np.float64(bad).tobytes()  # the last position, before 2 empty lengths
    else:
        values[-8:] = np.float64(bad).tobytes()
    return bytes(values)


@dataclass
class Loop:
    """teleop_node's input path without DDS: bytes -> reader -> guard -> pipeline step."""

    pipeline: TeleopPipeline
    guard: InputGuard
    readers: dict[Input, CdrPartReader]

    @classmethod
    def of(cls, pipeline: TeleopPipeline) -> Loop:
        readers = {w: CdrPartReader(w.value, f"/operator/{w.value}") for w in pipeline.inputs}
        return cls(pipeline, InputGuard(pipeline.profile.safety), readers)

    def receive(self, which: Input, data: bytes, now_s: float) -> Rejection | None:
        try:
            stamp_s, part = self.readers[which].read(data)
        except ValueError as err:
            return Rejection(MALFORMED, str(err))
        return self.guard.admit(which, stamp_s, part, now_s)

    def step(self, q: np.ndarray, now_s: float) -> PipelineOutput:
        frame, stamps = self.guard.frame()
        return self.pipeline.step(frame, q, now_s, stamps)


@dataclass(frozen=True)
class Case:
    bad: int  # index into the pipeline's sorted inputs
    kind: str
    amount: float
    warmup_s: tuple[float, ...]  # step intervals with every part fresh
    bad_s: tuple[float, ...]  # step intervals with the bad part bad
    fresh_after: bool  # a good message of the bad part follows each bad one


cases = st.builds(
    Case,
    bad=st.integers(0, 6),
    kind=st.sampled_from(KINDS),
    amount=st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0])),
    warmup_s=st.lists(st.sampled_from([PERIOD_S, 0.02]), min_size=0, max_size=3).map(tuple),
    bad_s=st.lists(
        st.one_of(st.sampled_from([PERIOD_S, PERIOD_S, 0.02, 0.1, 0.3]), st.floats(1e-4, 0.5)),
        min_size=1,
        max_size=8,
    ).map(tuple),
    fresh_after=st.booleans(),
)


def property_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        # No shrinking: a failing case is reported as found.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def run_case(pipeline: TeleopPipeline, case: Case) -> None:
    """Play ``case`` and check every step (see the module docstring)."""
    model: RobotModel = pipeline.model
    safety = pipeline.profile.safety
    inputs = sorted(pipeline.inputs, key=lambda w: w.value)
    bad = inputs[case.bad % len(inputs)]
    driven = pipeline.groups_of_input.get(bad, ())
    names = tuple(f"leader_{i}" for i in range(7))
    lo, hi = pipeline.limits.inner_bounds(safety.position_margin_rad)
    loop = Loop.of(pipeline)
    now = EPOCH_S
    q = model.home_positions()
    pipeline.engage(q, now)
    previous: np.ndarray | None = None
    previous_now = now

    def check(out: PipelineOutput, elapsed: float) -> None:
        assert np.all(np.isfinite(out.q))
        assert np.all(out.q >= lo - 1e-12) and np.all(out.q <= hi + 1e-12)
        if previous is not None:
            allowed = pipeline.limits.velocity * elapsed * (1 + 1e-9) + 1e-12
            assert np.all(np.abs(out.q - previous) <= allowed)

    for dt in case.warmup_s:
        now += dt
        for which in inputs:
            loop.receive(which, message(which, now, now, names), now)
        out = loop.step(q, now)
        check(out, now - previous_now)
        previous, previous_now, q = out.q, now, out.q

    for dt in case.bad_s:
        now += dt
        for which in inputs:
            if which is not bad:
                loop.receive(which, message(which, now, now, names), now)
        before = dict(loop.guard.stamps)
        data = bad_message(bad, case.kind, now, case.amount, safety.stale_timeout_s, names)
        rejection = loop.receive(bad, data, now)
        if case.kind in ("stale", "far_past"):
            # An old stamp is accepted (and stale) unless older than the part's last one.
            stamp, _part = loop.readers[bad].read(data)
            assert (rejection is None) == (bad not in before or stamp >= before[bad])
            assert rejection is not None or now - loop.guard.stamps[bad] > safety.stale_timeout_s
        else:
            # A refused message moves no clock: every stamp is as before.
            assert rejection is not None
            assert loop.guard.stamps == before
        out = loop.step(q, now)
        check(out, now - previous_now)
        last_good = loop.guard.stamps.get(bad)
        if previous is not None and (last_good is None or now - last_good > safety.stale_timeout_s):
            # The bad part gives nothing usable: the groups it drives do not move.
            for group in driven:
                idx = model.group_indices(group)
                assert np.abs(out.q[idx] - previous[idx]).max() <= 1e-12, group
                # A part never received is absent, not faulty: its groups keep their target.
                assert group in out.held or last_good is None
        previous, previous_now, q = out.q, now, out.q
        if case.fresh_after and rejection is not None and rejection.reason == FUTURE_STAMP:
            # Fresh input right after a future-stamped message is followed within a period.
            now += PERIOD_S
            for which in inputs:
                assert loop.receive(which, message(which, now, now, names), now) is None
            out = loop.step(q, now)
            check(out, now - previous_now)
            assert abs(loop.guard.stamps[bad] - now) < 1e-6  # this very message is the input
            assert bad not in out.faults
            assert not set(driven) & set(out.held)
            previous, previous_now, q = out.q, now, out.q


# One pipeline per profile, re-engaged for each case (building one compiles and loads).
_PIPELINES: dict[str, TeleopPipeline] = {}


def _pipeline(robot: str, profile: str) -> TeleopPipeline:
    key = f"{robot}/{profile}"
    if key not in _PIPELINES:
        _PIPELINES[key] = TeleopPipeline(model_of(robot), load_profile(profile))
    return _PIPELINES[key]


# 10,000 cases in all, more where a case is cheap (no IK): about 20 s on an idle core.
@property_settings(2000)
@given(case=cases)
def test_vr_one_bad_part_never_moves_its_group(case: Case) -> None:
    """alex + vr (head, wrists, hands): any one bad part holds its groups, limits hold."""
    run_case(_pipeline("alex", "vr"), case)


@property_settings(4000)
@given(case=cases)
def test_exo_bad_leader_never_moves_the_arm(case: Case) -> None:
    """g1 + exo (leader joints): a bad leader message holds the right arm, limits hold."""
    run_case(_pipeline("g1", "exo"), case)


@property_settings(4000)
@given(case=cases)
def test_gamepad_bad_joy_never_moves_the_arms(case: Case) -> None:
    """g1 + gamepad (joy with deadman): a bad joy message holds every group, limits hold."""
    run_case(_pipeline("g1", "gamepad"), case)


# -- single behaviours --------------------------------------------------------------------


def _vr_step(
    pipeline: TeleopPipeline, stamps: dict[Input, float], now: float, right_z: float
) -> PipelineOutput:
    def pose(y: float, z: float) -> Pose:
        return Pose(np.array([0.3, y, z]), np.eye(3))

    frame = HumanFrame(
        t_s=max(stamps.values()),
        head=pose(0.0, 1.6),
        left_wrist=pose(0.2, 1.0),
        right_wrist=pose(-0.2, right_z),
    )
    return pipeline.step(frame, pipeline.model.home_positions(), now, stamps)


def test_a_stale_right_wrist_holds_the_right_arm_only() -> None:
    """Right wrist 10 s old and 25 cm up, the rest fresh: the right arm holds, the left
    arm keeps following, and the output names the stale part and its age."""
    pipeline = TeleopPipeline(model_of("g1"), load_profile("vr"))
    now = EPOCH_S
    pipeline.engage(pipeline.model.home_positions(), now)
    fresh = {Input.HEAD: now, Input.LEFT_WRIST: now, Input.RIGHT_WRIST: now}
    out = _vr_step(pipeline, fresh, now + PERIOD_S, 1.0)
    right = pipeline.model.group_indices("right_arm")
    first = out.q[right].copy()
    for i in range(2, 60):
        t = now + i * PERIOD_S
        stamps = {Input.HEAD: t, Input.LEFT_WRIST: t, Input.RIGHT_WRIST: t - 10.0}
        out = _vr_step(pipeline, stamps, t, 1.25)
        assert np.array_equal(out.q[right], first)
    assert out.held == {"right_arm": "right_wrist stale"}
    assert out.faults[Input.RIGHT_WRIST].age_s == pytest.approx(10.0)
    assert out.report.hold_reason is None  # the left arm still follows


def test_a_part_fresh_again_is_followed_again() -> None:
    """Once the right wrist is fresh again, its arm leaves the hold."""
    pipeline = TeleopPipeline(model_of("g1"), load_profile("vr"))
    now = EPOCH_S
    pipeline.engage(pipeline.model.home_positions(), now)
    stale = {Input.HEAD: now, Input.LEFT_WRIST: now, Input.RIGHT_WRIST: now - 1.0}
    assert "right_arm" in _vr_step(pipeline, stale, now, 1.0).held
    fresh = dict.fromkeys(stale, now + PERIOD_S)
    assert _vr_step(pipeline, fresh, now + PERIOD_S, 1.0).held == {}


def test_a_frame_without_stamps_uses_its_own_time_for_every_part() -> None:
    """Offline callers pass no stamps: a frame 1 s old holds every driven group."""
    pipeline = TeleopPipeline(model_of("g1"), load_profile("vr"))
    pipeline.engage(pipeline.model.home_positions(), EPOCH_S)
    frame = HumanFrame(t_s=EPOCH_S - 1.0, left_wrist=Pose.identity(), right_wrist=Pose.identity())
    out = pipeline.step(frame, pipeline.model.home_positions(), EPOCH_S + PERIOD_S)
    assert set(out.held) == {"left_arm", "right_arm"}
    assert out.report.hold_reason is not None and "stale" in out.report.hold_reason


def test_the_guard_frame_holds_the_newest_accepted_parts() -> None:
    """InputGuard.frame gives the accepted parts, stamped with the newest, and their stamps."""
    guard = InputGuard(load_profile("vr").safety)
    guard.admit(Input.HEAD, EPOCH_S - 0.1, Pose.identity(), EPOCH_S)
    guard.admit(Input.LEFT_WRIST, EPOCH_S, Pose.identity(), EPOCH_S)
    guard.admit(Input.LEFT_WRIST, EPOCH_S + 1e6, Pose(np.ones(3), np.eye(3)), EPOCH_S)
    frame, stamps = guard.frame()
    assert frame.t_s == EPOCH_S
    assert frame.left_wrist is not None and np.array_equal(frame.left_wrist.position_m, np.zeros(3))
    assert stamps == {Input.HEAD: EPOCH_S - 0.1, Input.LEFT_WRIST: EPOCH_S}
