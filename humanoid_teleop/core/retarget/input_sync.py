"""When new operator input should start a pipeline step at once, instead of waiting for the timer.

A device sends its trigger inputs (both wrists of a headset, say) together, stamped with the
same frame time. Stepping on the first of them would leave the others for the next period;
stepping when each streaming trigger merely has *some* sample newer than the last step can
pair one frame's left wrist with the previous frame's late right wrist, and once that happens
it repeats every frame, adding a whole input period of latency. So a set is complete when
every streaming trigger has a sample newer than the last step *from the same device frame*
(stamps within ``frame_window_s``). Triggers that stopped streaming (a hand out of view) do
not hold the step back, and the caller's timer still steps at its rate regardless.

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
    ) -> None:
        self.triggers = frozenset(triggers)
        self.min_spacing_s = min_spacing_s
        self.streaming_window_s = streaming_window_s
        self.frame_window_s = frame_window_s
        self.last_step_s = float("-inf")
        self.last_input_step_s = float("-inf")
        self._seen_s: dict[Input, float] = {}  # arrival time per trigger
        self._fresh: dict[Input, float] = {}  # triggers new since the last step -> stamp

    def arrived(self, which: Input, stamp_s: float, now_s: float) -> bool:
        """Record a sample; True when it completes a frame and a step should run now.

        Inputs that are not triggers (head, hands) never start a step. A step is also held
        back if the last input step ran less than ``min_spacing_s`` ago (caps bursts).
        """
        if which not in self.triggers:
            return False
        self._seen_s[which] = now_s
        self._fresh[which] = stamp_s
        # Only the newest frame's samples count: older ones wait for their partner's next frame.
        newest = max(self._fresh.values())
        self._fresh = {w: s for w, s in self._fresh.items() if newest - s <= self.frame_window_s}
        streaming = {w for w, t in self._seen_s.items() if now_s - t <= self.streaming_window_s}
        due = now_s - self.last_input_step_s >= self.min_spacing_s
        return due and streaming <= self._fresh.keys()

    def stepped(self, now_s: float, on_input: bool) -> None:
        """A step ran at ``now_s``: ``on_input`` when :meth:`arrived` started it (it used the
        frame), else on the timer (the frame's samples stay fresh)."""
        self.last_step_s = now_s
        if on_input:
            self.last_input_step_s = now_s
            self._fresh.clear()
