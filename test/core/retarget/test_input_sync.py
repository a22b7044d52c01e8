"""InputSync: a step starts when one device frame's trigger inputs are all in."""

from __future__ import annotations

from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.core.retarget.input_sync import InputSync

L, R = Input.LEFT_WRIST, Input.RIGHT_WRIST
PERIOD_S = 0.004


def _sync() -> InputSync:
    return InputSync({L, R, Input.JOY}, min_spacing_s=0.5 * PERIOD_S)


def _frame(sync: InputSync, stamp_s: float, now_s: float) -> bool:
    """Both wrists of one frame, left first; True if the right one starts a step."""
    sync.arrived(L, stamp_s, now_s)
    return sync.arrived(R, stamp_s, now_s)


def test_a_frame_steps_on_its_last_trigger_not_its_first() -> None:
    sync = _sync()
    _frame(sync, 1.0, now_s=10.0)  # its left wrist steps alone: nothing else streamed yet
    sync.stepped(10.0002, on_input=True)
    assert not sync.arrived(L, 1.004, now_s=10.004)
    assert sync.arrived(R, 1.004, now_s=10.0041)


def test_non_trigger_inputs_never_step() -> None:
    sync = _sync()
    assert not sync.arrived(Input.HEAD, 1.0, now_s=10.0)
    assert not sync.arrived(Input.LEFT_HAND, 1.0, now_s=10.0)


def test_a_late_sample_does_not_pair_with_the_next_frame() -> None:
    """Right wrist of frame k arrives after frame k+1's left wrist: they do not form a set;
    the step waits for frame k+1's right wrist."""
    sync = _sync()
    now = 10.0
    for k in range(3):  # both wrists streaming, in order
        assert _frame(sync, 1.0 + k * PERIOD_S, now)
        sync.stepped(now + 0.0002, on_input=True)
        now += PERIOD_S
    stamp = 1.0 + 3 * PERIOD_S
    assert not sync.arrived(L, stamp + PERIOD_S, now)  # frame 4's left overtook frame 3's right
    assert not sync.arrived(R, stamp, now + 0.0001)  # frame 3's right + frame 4's left: no
    assert sync.arrived(R, stamp + PERIOD_S, now + 0.0002)  # frame 4 complete


def test_a_timer_step_between_a_frames_wrists_does_not_hold_the_second_back() -> None:
    """The timer steps after frame k's left wrist: its right wrist still completes frame k."""
    sync = _sync()
    assert _frame(sync, 1.0, now_s=10.0)
    sync.stepped(10.0002, on_input=True)
    assert not sync.arrived(L, 1.004, now_s=10.004)
    sync.stepped(10.0041, on_input=False)
    assert sync.arrived(R, 1.004, now_s=10.0042)


def test_a_timer_tick_just_before_each_frame_does_not_delay_it() -> None:
    """Timer and input at the same rate, the tick 0.3 ms before each frame: every frame still
    steps as soon as it is complete (the old rule made each wait for the next tick)."""
    sync = _sync()
    now = 10.0
    for k in range(5):
        sync.stepped(now - 0.0003, on_input=False)
        assert _frame(sync, 1.0 + k * PERIOD_S, now)
        sync.stepped(now + 0.0002, on_input=True)
        now += PERIOD_S


def test_an_out_of_order_older_sample_does_not_complete_a_newer_frame() -> None:
    sync = _sync()
    sync.arrived(L, 1.004, now_s=10.0)
    assert not sync.arrived(R, 1.000, now_s=10.0001)
    assert sync.arrived(R, 1.004, now_s=10.0002)


def test_a_trigger_that_stopped_streaming_does_not_hold_the_step_back() -> None:
    sync = _sync()
    assert _frame(sync, 1.0, now_s=10.0)
    sync.stepped(10.0002, on_input=True)
    # The left hand leaves the view: after the streaming window the right wrist steps alone.
    assert sync.arrived(R, 1.1, now_s=10.1)


def test_bursts_are_capped_by_the_minimum_spacing() -> None:
    sync = _sync()
    assert _frame(sync, 1.0, now_s=10.0)
    sync.stepped(10.0, on_input=True)
    assert not _frame(sync, 1.001, now_s=10.001)  # 1 ms after a step: < 2 ms spacing
    assert sync.arrived(R, 1.001, now_s=10.003)


RH = Input.RIGHT_HAND


def _with_hands() -> InputSync:
    return InputSync(
        {L, R}, min_spacing_s=0.5 * PERIOD_S, followers={Input.HEAD, Input.LEFT_HAND, RH}
    )


def test_a_hand_sent_after_its_wrist_is_used_by_the_wrists_step() -> None:
    """A device that sends each frame's wrist, then its hand with the same stamp: once the
    hand is seen to share the wrist's frames, the frame steps on the hand, not the wrist
    (which would leave the hand to the next step)."""
    sync = InputSync({R}, min_spacing_s=0.5 * PERIOD_S, followers={RH})
    now = 10.0
    assert sync.arrived(R, 1.0, now)  # not known yet to share its frames: steps alone
    sync.stepped(now + 0.0001, on_input=True)
    assert not sync.arrived(RH, 1.0, now + 0.0002)  # that frame's step ran: nothing to complete
    for k in range(1, 4):
        now += PERIOD_S
        stamp = 1.0 + k * PERIOD_S
        assert not sync.arrived(R, stamp, now)  # waits for its hand
        assert sync.arrived(RH, stamp, now + 0.0002)
        sync.stepped(now + 0.0003, on_input=True)


def test_a_headset_frame_hands_first_steps_on_its_last_wrist() -> None:
    """The bridge's order (head, each side's hand then wrist): the frame steps on its right
    wrist with every part of it in."""
    sync = _with_hands()
    now = 10.0
    for part in (Input.HEAD, Input.LEFT_HAND, L, RH, R):  # the first: nothing streamed yet
        sync.arrived(part, 1.0, now)
    sync.stepped(now + 0.0002, on_input=True)
    for k in range(1, 4):
        now += PERIOD_S
        stamp = 1.0 + k * PERIOD_S
        assert not sync.arrived(Input.HEAD, stamp, now)
        assert not sync.arrived(Input.LEFT_HAND, stamp, now)
        assert not sync.arrived(L, stamp, now)
        assert not sync.arrived(RH, stamp, now)
        assert sync.arrived(R, stamp, now + 0.0001)
        sync.stepped(now + 0.0002, on_input=True)


def test_a_hand_on_its_own_clock_never_holds_a_step_back() -> None:
    """A glove stamped by its own clock (never a wrist's exact stamp, arriving between the
    wrists' frames): every frame steps on its wrists as without it."""
    sync = _with_hands()
    now = 10.0
    for k in range(5):
        stamp = 1.0 + k * PERIOD_S
        sync.arrived(RH, stamp - 0.0013, now - 0.001)
        assert _frame(sync, stamp, now)
        sync.stepped(now + 0.0002, on_input=True)
        sync.arrived(RH, stamp + 0.0017, now + 0.002)
        now += PERIOD_S


def test_a_hand_that_stopped_streaming_is_not_waited_for() -> None:
    sync = InputSync({R}, min_spacing_s=0.5 * PERIOD_S, followers={RH})
    sync.arrived(R, 1.0, 10.0)
    sync.stepped(10.0001, on_input=True)
    sync.arrived(RH, 1.0, 10.0002)  # shares the wrist's frames
    assert not sync.arrived(R, 1.004, 10.004)  # its hand is still streaming: waits
    # the hand leaves the view: after the streaming window the wrist steps alone
    assert sync.arrived(R, 1.1, 10.1)


def test_a_follower_never_starts_a_step_without_its_triggers() -> None:
    sync = _with_hands()
    assert not sync.arrived(RH, 1.0, 10.0)
    assert not sync.arrived(Input.HEAD, 1.0, 10.0)


def test_a_timer_tick_waits_for_a_frames_hand_not_for_a_lost_one() -> None:
    """Between a frame's wrist and its hand a timer tick would use the wrist and leave the
    hand to another step: the sync says to skip it, but not once the hand is overdue (the
    minimum spacing after the wrist) or has stopped streaming."""
    sync = InputSync({R}, min_spacing_s=0.5 * PERIOD_S, followers={RH})
    sync.arrived(R, 1.0, 10.0)
    sync.stepped(10.0001, on_input=True)
    sync.arrived(RH, 1.0, 10.0002)  # shares the wrist's frames
    assert not sync.awaiting_followers(10.003)  # nothing fresh
    sync.arrived(R, 1.004, 10.004)
    assert sync.awaiting_followers(10.0041)
    assert not sync.awaiting_followers(10.004 + 0.5 * PERIOD_S)  # overdue: the tick steps
    assert sync.arrived(RH, 1.004, 10.0042)
    sync.stepped(10.0043, on_input=True)
    assert not sync.awaiting_followers(10.0044)
    sync.arrived(R, 1.1, 10.1)  # the hand stopped streaming 100 ms ago: not awaited
    assert not sync.awaiting_followers(10.1001)
