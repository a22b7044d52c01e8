"""When new operator input should start a pipeline step at once, instead of waiting for the timer.

A device sends its trigger inputs (both wrists of a headset, say) together, stamped with the
same frame time. Stepping on the first of them would leave the others for the next period;
stepping when each streaming trigger merely has *some* sample newer than the last step can
pair one frame's left wrist with the previous frame's late right wrist, and once that happens
it repeats every frame, adding a whole input period of latency. So a set is complete when
every streaming trigger has a sample newer than the last step *from the same device frame*
(stamps within ``frame_window_s``). Triggers that stopped streaming (a hand out of view) do
not hold the step back, and the caller's timer still steps at its rate regardless.

Parts that are no triggers (the hands, the head: *followers*) never start a step alone, but
a follower stamped with exactly a trigger's stamp is sent by the same device in the same
frame (a headset's hand and wrist), so a frame also waits for those followers: a device
that publishes the wrist first and its hand 0.2 ms later has both used by one step, not the
hand by the next (a whole step later: the teleop node republished live hands 7 ms after
their stamps on the median, the wrists 1 ms). A follower on its own clock (a glove beside a
tracker) never has a trigger's exact stamp and is never waited for.

Steps on the timer neither consume a frame nor hold one back: the minimum spacing, which caps
bursts of input steps, counts only from the last *input* step. Otherwise a timer tick that
falls just before each frame (the same rate as the input, at an unlucky phase) would make
every frame wait for the next tick, adding up to a whole period, frame after frame; and a tick
between a frame's left and right wrist would leave the right one waiting too.
"""

from __future__ import annotations

from collections.abc import Iterable

from humanoid_teleop.core.motion.frame import Input

STREAMING_WINDOW_S = 0.05
"""A trigger input seen within this time [s] is streaming: a step waits for its new sample."""

FRAME_WINDOW_S = 0.001
"""Samples stamped within this time [s] of each other belong to one device frame."""


class InputSync:
    """Tracks trigger-input arrivals and says when they complete a device frame.

    Times: ``now_s`` is a monotonic clock [s]; ``stamp_s`` is the sample's header stamp [s]
    (or its arrival time when it has none).
    """

    def __init__(
        self,
        triggers: Iterable[Input],
        min_spacing_s: float,
        streaming_window_s: float = STREAMING_WINDOW_S,
        frame_window_s: float = FRAME_WINDOW_S,
        followers: Iterable[Input] = (),
    ) -> None:
        self.triggers = frozenset(triggers)
        self.followers = frozenset(followers) - self.triggers
        self.min_spacing_s = min_spacing_s
        self.streaming_window_s = streaming_window_s
        self.frame_window_s = frame_window_s
        self.last_step_s = float("-inf")
        self.last_input_step_s = float("-inf")
        self._seen_s: dict[Input, float] = {}  # arrival time per trigger
        self._fresh: dict[Input, float] = {}  # triggers new since the last step -> stamp
        self._trigger_stamp: dict[Input, float] = {}  # newest stamp per trigger
        self._follower_seen_s: dict[Input, float] = {}  # arrival time per follower
        self._follower_stamp: dict[Input, float] = {}  # newest stamp per follower
        self._in_frame: set[Input] = set()  # followers stamped as their triggers' frames

    def arrived(self, which: Input, stamp_s: float, now_s: float) -> bool:
        """Record a sample; True when it completes a frame and a step should run now.

        Other inputs than triggers and followers never start a step; a follower starts one
        only by completing a frame its triggers are already in. A step is also held back if
        the last input step ran less than ``min_spacing_s`` ago (caps bursts).
        """
        if which in self.followers:
            return self._follower_arrived(which, stamp_s, now_s)
        if which not in self.triggers:
            return False
        self._seen_s[which] = now_s
        self._fresh[which] = stamp_s
        self._trigger_stamp[which] = stamp_s
        # Only the newest frame's samples count: older ones wait for their partner's next frame.
        newest = max(self._fresh.values())
        self._fresh = {w: s for w, s in self._fresh.items() if newest - s <= self.frame_window_s}
        for follower, stamp in self._follower_stamp.items():
            if stamp == stamp_s:  # it came first: one device's frame (a headset's order)
                self._in_frame.add(follower)
        return self._complete(now_s)

    def _follower_arrived(self, which: Input, stamp_s: float, now_s: float) -> bool:
        self._follower_seen_s[which] = now_s
        self._follower_stamp[which] = stamp_s
        if stamp_s in self._trigger_stamp.values():
            self._in_frame.add(which)
        elif self._trigger_stamp and stamp_s < max(self._trigger_stamp.values()):
            # older than the triggers' newest frame and none of theirs: on its own clock (a
            # newer one may still be matched by its frame's triggers, which come next)
            self._in_frame.discard(which)
        return bool(self._fresh) and which in self._in_frame and self._complete(now_s)

    def _complete(self, now_s: float) -> bool:
        """Whether the fresh triggers and the followers of their frame are all in, and due."""
        return (
            self._triggers_in(now_s)
            and not self._follower_missing(now_s)
            and now_s - self.last_input_step_s >= self.min_spacing_s
        )

    def _triggers_in(self, now_s: float) -> bool:
        """Every streaming trigger has a fresh sample of the newest frame."""
        streaming = {w for w, t in self._seen_s.items() if now_s - t <= self.streaming_window_s}
        return bool(self._fresh) and streaming <= self._fresh.keys()

    def _follower_missing(self, now_s: float) -> bool:
        """A streaming follower stamped as the triggers' frames has no sample of this one yet
        (one that stopped, a hand out of view, is not waited for)."""
        newest = max(self._fresh.values())
        return any(
            now_s - self._follower_seen_s[f] <= self.streaming_window_s
            and abs(self._follower_stamp[f] - newest) > self.frame_window_s
            for f in self._in_frame
        )

    def awaiting_followers(self, now_s: float) -> bool:
        """Whether a frame's triggers are all in and it waits only for followers stamped as
        its frame, its last trigger having come less than ``min_spacing_s`` ago: a timer
        step now would use the wrist and leave its hand, due within a fraction of a
        millisecond, to another step; the caller skips that tick (the hand starts the step;
        one that does not come is left at the next tick)."""
        if not self._triggers_in(now_s):
            return False
        if now_s - max(self._seen_s[w] for w in self._fresh) >= self.min_spacing_s:
            return False
        return self._follower_missing(now_s)

    def stepped(self, now_s: float, on_input: bool) -> None:
        """A step ran at ``now_s``: ``on_input`` when :meth:`arrived` started it (it used the
        frame), else on the timer (the frame's samples stay fresh)."""
        self.last_step_s = now_s
        if on_input:
            self.last_input_step_s = now_s
            self._fresh.clear()
