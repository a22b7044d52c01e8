"""Capture stamps of headset frames: client time plus the smallest recent one-way delay."""

from __future__ import annotations

import itertools

import numpy as np

from humanoid_teleop.devices.webxr.capture_clock import CaptureClock

MS = 1_000_000  # ns
#: Client times are f64 ms since the epoch: ~0.25 us resolution today.
TOL_NS = 1000
#: The headset's clock runs 3 h 7 ms behind this host's.
SKEW_NS = -(3 * 3600 * 1000 + 7) * MS


def _arrive(clock: CaptureClock, capture_ns: int, delay_ns: int) -> int:
    """Stamp of a frame captured at ``capture_ns`` (host clock) arriving ``delay_ns`` later."""
    return clock.stamp((capture_ns + SKEW_NS) / MS, capture_ns + delay_ns)


def test_jittered_delays_give_capture_times_plus_the_smallest_delay() -> None:
    """Frames every 10 ms with 2–30 ms transport jitter are stamped 10 ms apart (+2 ms)."""
    clock = CaptureClock()
    start = 1_800_000_000_000 * MS
    delays = [30, 2, 11, 25, 4, 17, 2, 29, 8, 13]
    stamps = [_arrive(clock, start + i * 10 * MS, d * MS) for i, d in enumerate(delays)]
    # the first frame only knows its own delay; from the second on the minimum is 2 ms
    expected = [start + i * 10 * MS + 2 * MS for i in range(1, 10)]
    np.testing.assert_allclose(stamps[1:], expected, rtol=0, atol=TOL_NS)


def test_a_stalled_burst_is_stamped_at_capture_not_on_arrival() -> None:
    """Frames held up 1.1 s and delivered together keep their capture spacing."""
    clock = CaptureClock()
    start = 1_800_000_000_000 * MS
    for i in range(50):
        _arrive(clock, start + i * 10 * MS, 3 * MS)
    burst_at = start + 60 * 10 * MS + 1100 * MS
    stamps = [
        clock.stamp((start + i * 10 * MS + SKEW_NS) / MS, burst_at + i * 1000)
        for i in range(50, 60)
    ]
    expected = [start + i * 10 * MS + 3 * MS for i in range(50, 60)]
    np.testing.assert_allclose(stamps, expected, rtol=0, atol=TOL_NS)
    assert clock.lag_ns > 1000 * MS


def test_stamps_never_pass_arrival_and_never_go_back() -> None:
    """A headset clock stepped back 2 s: stamps stay after the last one and before arrival."""
    clock = CaptureClock()
    start = 1_800_000_000_000 * MS
    arrivals, stamps = [], []
    for i in range(100):
        capture = start + i * 10 * MS - (2000 * MS if i >= 50 else 0)
        arrival = start + i * 10 * MS + 5 * MS
        arrivals.append(arrival)
        stamps.append(clock.stamp((capture + SKEW_NS) / MS, arrival))
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert all(s <= a for s, a in zip(stamps, arrivals, strict=True))


def test_the_offset_follows_the_clock_after_the_window() -> None:
    """After a headset clock step forward of 1 s, stamps are capture + delay again at once;
    after one stepped back, once the window has passed."""
    clock = CaptureClock(window_s=1.0)
    start = 1_800_000_000_000 * MS
    stamps = {}
    for i in range(400):  # 4 s at 100 Hz; the headset clock goes back 500 ms at 1 s
        capture = start + i * 10 * MS
        step = -500 * MS if i >= 100 else 0
        stamps[i] = clock.stamp((capture + step + SKEW_NS) / MS, capture + 4 * MS)
    # more than a window after the step, the minimum delay seen is the new clock's
    assert abs(stamps[399] - (start + 399 * 10 * MS + 4 * MS)) < TOL_NS
    # within the window after the step back the old offset stays: stamps wait just after the
    # last one until the stepped clock catches up (0.5 s), then run 0.5 s early
    assert stamps[120] - stamps[119] < MS
    assert abs(stamps[180] - (start + 180 * 10 * MS - 496 * MS)) < TOL_NS
