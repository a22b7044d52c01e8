"""Property test of the whole pipeline: hostile operator input never yields an unsafe command."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame, Pose
from humanoid_teleop.core.motion.rotation import quat_to_matrix
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.retarget.profile import load_profile

from .conftest import model_of

SPECIAL = [math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0]
coordinate = st.one_of(st.floats(-1.5, 1.5), st.sampled_from(SPECIAL))
quaternion = st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(
    lambda q: sum(v * v for v in q) > 1e-3
)


@st.composite
def poses(draw: st.DrawFn) -> Pose | None:
    """A wrist or head pose: plausible, absurd, NaN, or absent."""
    if draw(st.integers(0, 5)) == 0:
        return None
    position = np.array([draw(coordinate) for _ in range(3)])
    rotation = quat_to_matrix(np.array(draw(quaternion)))
    if draw(st.integers(0, 9)) == 0:
        rotation = np.full((3, 3), math.nan)
    return Pose(position, rotation)


@st.composite
def hands(draw: st.DrawFn) -> HandSkeleton | None:
    """A 25-joint hand: random points around the wrist, collapsed, NaN, or absent."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    seed = draw(st.integers(0, 2**16))
    points = np.random.default_rng(seed).normal(0.0, 0.05, (25, 3)) + np.array([0.3, 0.0, 1.0])
    if kind == 1:
        points[:] = points[0]
    elif kind == 2:
        points[draw(st.integers(0, 24))] = draw(st.sampled_from(SPECIAL))
    return HandSkeleton(points)


steps = st.lists(
    st.tuples(
        poses(),
        poses(),
        poses(),
        hands(),
        hands(),
        st.one_of(st.floats(-0.02, 0.05), st.sampled_from([0.0, -1.0, 2.0])),
        st.one_of(st.floats(0.0, 0.3), st.sampled_from([math.nan, -0.5, 5.0])),
        st.sampled_from(["none", "none", "none", "estop", "reset", "engage", "recalibrate"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=200,
    # No shrinking: a failing case is reported as found (shrinking these takes minutes).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@pytest.mark.filterwarnings("error::RuntimeWarning")
@given(sequence=steps)
def test_pipeline_commands_respect_limits_for_any_input(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
    """Robot g1 + vr profile: NaN/huge/absent poses and hands, reversed time, e-stops."""
    pipeline = TeleopPipeline(model_of("g1"), load_profile("vr"))
    lo, hi = pipeline.limits.inner_bounds(pipeline.profile.safety.position_margin_rad)
    q = pipeline.model.home_positions()
    t = 0.0
    pipeline.engage(q, t)
    previous, previous_t = None, t
    for head, left, right, lhand, rhand, dt, age, event in sequence:
        if event == "estop":
            pipeline.estop()
        elif event == "reset":
            pipeline.reset_estop()
        elif event == "engage" and not pipeline.estopped:
            pipeline.engage(q, previous_t)
        elif event == "recalibrate":
            pipeline.recalibrate()
        t += dt
        frame = HumanFrame(t - age, head, left, right, lhand, rhand)
        out = pipeline.step(frame, q, t)
        assert np.all(np.isfinite(out.q))
        assert np.all(out.q >= lo - 1e-12) and np.all(out.q <= hi + 1e-12)
        if previous is not None:
            elapsed = t - previous_t
            if elapsed <= 0:
                assert np.array_equal(out.q, previous)
            else:
                allowed = pipeline.limits.velocity * elapsed * (1 + 1e-9) + 1e-12
                assert np.all(np.abs(out.q - previous) <= allowed)
        previous, q = out.q, out.q
        previous_t = max(previous_t, t)
        t = previous_t
