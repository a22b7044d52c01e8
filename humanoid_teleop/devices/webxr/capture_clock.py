"""Stamp headset frames with their capture time on this host's clock.

Each pose frame carries the page's clock at capture (``t_ms``, ms since the Unix epoch by the
headset's clock, which is not this host's). Stamping on arrival would put network and
browser stalls into the data: a frame held up 1 s in the headset's WebSocket buffer would
be stamped 1 s late, on a pose of 1 s ago. Instead each frame is stamped

    capture = client time + offset,   offset = min over the last ``window_s`` of
                                       (arrival - client time)

the smallest one-way delay seen recently (the headset's clock offset plus the fastest
transport), a running minimum that follows clock drift. A stamp is never later than the
frame's arrival and never earlier than or equal to the previous stamp of the connection.
A stall delays arrivals but not their stamps. A headset clock stepped forward is followed at
once; one stepped back by X keeps the old offset for a window: stamps wait just after the
last one until the stepped clock has caught up (X), then run X early until the window has
passed (never backwards, never after arrival).
"""

from __future__ import annotations

import collections

#: Length [s] of the running minimum of the one-way delay.
WINDOW_S = 5.0


class CaptureClock:
    """Client capture times [ms, client clock] -> stamps [ns, this host's wall clock]; one
    per operator connection (a new connection may be another headset, another clock)."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window_ns = int(window_s * 1e9)
        # (arrival ns, delay ns) with increasing delays: the window's minimum is first
        self._delays: collections.deque[tuple[int, int]] = collections.deque()
        self._last_ns = 0
        #: Arrival minus stamp [ns] of the last frame: how late it arrived.
        self.lag_ns = 0

    def stamp(self, client_ms: float, received_ns: int) -> int:
        """The capture stamp [ns] of a frame sent at ``client_ms`` that arrived at
        ``received_ns`` (finite ``client_ms``; the protocol refuses others)."""
        client_ns = round(client_ms * 1e6)
        delay = received_ns - client_ns
        delays = self._delays
        while delays and delays[-1][1] >= delay:
            delays.pop()
        delays.append((received_ns, delay))
        while delays[0][0] < received_ns - self._window_ns:
            delays.popleft()
        stamp = min(max(client_ns + delays[0][1], self._last_ns + 1), received_ns)
        self._last_ns = stamp
        self.lag_ns = received_ns - stamp
        return stamp
