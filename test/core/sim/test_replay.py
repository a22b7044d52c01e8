"""Replay scheduling: frames at the clip's rate × rate_scale, skipping, looping, ending."""

from __future__ import annotations

import pytest

from humanoid_teleop.core.sim import ReplaySchedule, SimConfigError
from humanoid_teleop.core.sim.replay import TimelineSchedule


def test_frames_come_at_the_clip_rate() -> None:
    """Polling every 1 ms for 100 ms of a 100 Hz clip yields frames 0..10, each once."""
    schedule = ReplaySchedule(frame_count=50, frame_time_s=0.01)
    frames = [schedule.due(ms / 1000.0) for ms in range(101)]
    assert [f for f in frames if f is not None] == list(range(11))
    assert schedule.skipped == 0


def test_a_jittery_timer_still_plays_every_frame_once() -> None:
    """Ticks up to 40 % of a period early or late give consecutive frames, none skipped."""
    schedule = ReplaySchedule(frame_count=50, frame_time_s=0.01)
    jitter = [0.0, -0.004, 0.004, -0.003, 0.0, 0.004, -0.004, 0.002]
    frames = [schedule.due(i * 0.01 + j) for i, j in enumerate(jitter)]
    assert frames == list(range(len(jitter)))
    assert schedule.skipped == 0


def test_rate_scale_speeds_playback_up() -> None:
    """At rate_scale 2 a 100 Hz clip advances one frame every 5 ms."""
    schedule = ReplaySchedule(frame_count=50, frame_time_s=0.01, rate_scale=2.0)
    assert schedule.period_s == pytest.approx(0.005)
    assert schedule.due(0.0) == 0
    assert schedule.due(0.0024) is None
    assert schedule.due(0.005) == 1


def test_a_late_caller_gets_the_newest_frame_and_a_skip_count() -> None:
    """Polling 35 ms after frame 0 gives frame 3 and counts frames 1 and 2 as skipped."""
    schedule = ReplaySchedule(frame_count=50, frame_time_s=0.01)
    assert schedule.due(0.0) == 0
    assert schedule.due(0.032) == 3
    assert schedule.skipped == 2


def test_looping_clip_restarts_at_frame_zero() -> None:
    """After its last frame a looping 4-frame clip plays frame 0 again and counts a pass."""
    schedule = ReplaySchedule(frame_count=4, frame_time_s=0.1)
    played = [schedule.due(t / 10.0) for t in range(6)]
    assert played == [0, 1, 2, 3, 0, 1]
    assert schedule.passes(0.55) == 1


def test_non_looping_clip_stops_on_its_last_frame() -> None:
    """Without loop the last frame is played once and then nothing more is due."""
    schedule = ReplaySchedule(frame_count=4, frame_time_s=0.1, loop=False)
    played = [schedule.due(t / 10.0) for t in range(8)]
    assert played == [0, 1, 2, 3, None, None, None, None]
    assert schedule.finished(0.8)


def test_zero_rate_scale_is_refused() -> None:
    """rate_scale must be positive; the error names the parameter."""
    with pytest.raises(SimConfigError, match=r"rate_scale=0\.0 must be"):
        ReplaySchedule(frame_count=4, frame_time_s=0.1, rate_scale=0.0)


def test_timeline_releases_messages_at_their_recorded_times() -> None:
    """Messages at 0, 0.1 and 0.25 s are due in order as time passes, each once."""
    timeline = TimelineSchedule((0.0, 0.1, 0.25), loop=False)
    assert timeline.due(0.0) == [0]
    assert timeline.due(0.05) == []
    assert timeline.due(0.3) == [1, 2]
    assert timeline.due(1.0) == []
    assert timeline.finished()


def test_timeline_rate_scale_halves_the_waits() -> None:
    """At rate_scale 2 the message recorded at 0.2 s is due after 0.1 s."""
    timeline = TimelineSchedule((0.0, 0.2), rate_scale=2.0, loop=False)
    assert timeline.due(0.09) == [0]
    assert timeline.due(0.1) == [1]


def test_timeline_loops_after_a_gap() -> None:
    """A looping 0.2 s recording with a 0.1 s gap starts its second pass at 0.3 s."""
    timeline = TimelineSchedule((5.0, 5.2), loop=True, gap_s=0.1)
    assert timeline.due(0.25) == [0, 1]
    assert timeline.due(0.29) == []
    assert timeline.due(0.31) == [0]
    assert timeline.passes_done == 1


def test_empty_timeline_is_refused() -> None:
    """A recording without any message to play is a configuration error."""
    with pytest.raises(SimConfigError, match="no messages to play"):
        TimelineSchedule(())
