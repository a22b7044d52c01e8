"""Loss and synchronization accounting of one episode.

Per topic: messages received by the recorder, written to the bag (in the closed files), dropped
in the recorder (write queue full), lost on an episode error (accepted for writing but not in
the files once they were closed or repaired: the chunk torn by a full disk, the queue at that
moment), publisher sequence gaps (counted only while a single publisher's
sequence numbers are seen: they are per publisher), header-stamp gaps (an interval longer than
twice the mean period) and stamps going backwards, receive rate [Hz] and jitter [ms]
(standard deviation of receive intervals), and latency (receive time − header stamp) [ms].
Samples DDS itself reports lost before they reached the recorder (its ``message_lost`` event:
the publisher's history no longer held them when the reader asked for a repair) are counted
separately as ``lost_in_transport``: they are the same samples the sequence gaps count, so this
says where a loss happened and adds nothing to it.
Cross-stream skew: for every stamped message, the distance [ms] from its header stamp to the
nearest header stamp of the reference stream (e.g. a camera frame vs ``/joint_states``).
"""

from __future__ import annotations

import bisect
import math
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_GAP_FACTOR = 2.0
_MIN_FOR_GAPS = 10
_REFERENCE_WINDOW = 4096
_MAX_PENDING = 1000


#: A Header's stamp (sec int32, nanosec uint32), indexed by the low bit of the CDR
#: encapsulation's second byte (0 big, 1 little endian); compiled once (about half the
#: messages a recorder or a port writes are stamped).
_STAMP_BY_ORDER = (struct.Struct(">iI"), struct.Struct("<iI"))


def header_stamp_ns(data: bytes) -> int | None:
    """The ``header.stamp`` [ns] of a CDR message whose first field is a std_msgs/Header."""
    if len(data) < 12:
        return None
    sec, nanosec = _STAMP_BY_ORDER[data[1] & 0x01].unpack_from(data, 4)
    stamp: int = sec * 1_000_000_000 + nanosec
    return stamp


@dataclass(slots=True)
class _Running:
    """Running count, mean, standard deviation and maximum (Welford)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    maximum: float = 0.0

    def add(self, value: float) -> None:
        # several per written message: slots, and max() spelled out (it keeps the earlier
        # value on a tie or a NaN, as this does)
        count = self.count = self.count + 1
        mean = self.mean
        delta = value - mean
        mean = self.mean = mean + delta / count
        self.m2 += delta * (value - mean)
        if count == 1 or value > self.maximum:
            self.maximum = value

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0


@dataclass(slots=True)  # updated once per written message: slots read and write faster
class TopicStats:
    """Counters of one topic in one episode (times in [ns])."""

    received: int = 0
    written: int = 0
    dropped: int = 0
    lost_on_error: int = 0
    sequence_gaps: int = 0
    lost_in_transport: int = 0
    stamp_gaps: int = 0
    stamps_backwards: int = 0
    first_receive_ns: int = 0
    last_receive_ns: int = 0
    last_sequence: dict[str, int] = field(default_factory=dict)
    several_publishers: bool = False
    last_stamp_ns: int | None = None
    receive_intervals_ms: _Running = field(default_factory=_Running)
    stamp_intervals_ms: _Running = field(default_factory=_Running)
    latency_ms: _Running = field(default_factory=_Running)
    skew_ms: _Running = field(default_factory=_Running)

    def on_written(
        self, receive_ns: int, sequence: int, stamp_ns: int | None, publisher: str = ""
    ) -> None:
        """Account one message that reached the bag (``publisher``: its id, if known)."""
        self.written += 1
        if self.first_receive_ns == 0:
            self.first_receive_ns = receive_ns
        elif receive_ns >= self.last_receive_ns:
            self.receive_intervals_ms.add((receive_ns - self.last_receive_ns) / 1e6)
        self.last_receive_ns = receive_ns
        if sequence > 0 and not self.several_publishers:
            last = self.last_sequence.get(publisher)
            if last is not None and sequence <= last:
                # Sequence numbers are per publisher; without its id we cannot tell them apart.
                self.several_publishers = True
                self.sequence_gaps = 0
            elif last is not None and sequence > last + 1:
                self.sequence_gaps += sequence - last - 1
            self.last_sequence[publisher] = sequence
        if stamp_ns is None:
            return
        self.latency_ms.add((receive_ns - stamp_ns) / 1e6)
        if self.last_stamp_ns is not None:
            step_ms = (stamp_ns - self.last_stamp_ns) / 1e6
            if step_ms < 0:
                self.stamps_backwards += 1
            else:
                mean = self.stamp_intervals_ms.mean
                if self.stamp_intervals_ms.count >= _MIN_FOR_GAPS and step_ms > _GAP_FACTOR * mean:
                    self.stamp_gaps += 1
                self.stamp_intervals_ms.add(step_ms)
        self.last_stamp_ns = stamp_ns

    def settle_written(self, written: int) -> None:
        """After a write error: ``written`` messages are in the closed files; every other
        message accepted for writing (received, not dropped) is lost on the error."""
        self.written = written
        self.lost_on_error = max(0, self.received - self.dropped - written)

    def summary(self) -> dict[str, Any]:
        """Plain numbers for metadata and status (rates in [Hz], times in [ms])."""
        span_s = (self.last_receive_ns - self.first_receive_ns) / 1e9
        rate = (self.written - 1) / span_s if self.written > 1 and span_s > 0 else 0.0
        out: dict[str, Any] = {
            "received": self.received,
            "written": self.written,
            "dropped": self.dropped,
            "lost_on_error": self.lost_on_error,
            "sequence_gaps": self.sequence_gaps,
            "lost_in_transport": self.lost_in_transport,
            "stamp_gaps": self.stamp_gaps,
            "stamps_backwards": self.stamps_backwards,
            "rate_hz": round(rate, 3),
            "jitter_ms": round(self.receive_intervals_ms.std, 3),
        }
        if self.latency_ms.count:
            out["latency_mean_ms"] = round(self.latency_ms.mean, 3)
            out["latency_max_ms"] = round(self.latency_ms.maximum, 3)
        if self.skew_ms.count:
            out["skew_mean_ms"] = round(self.skew_ms.mean, 3)
            out["skew_max_ms"] = round(self.skew_ms.maximum, 3)
        return out


class EpisodeAccounting:
    """All topics of one episode plus the skew against a reference stream."""

    def __init__(self, sync_reference: str | None) -> None:
        self.sync_reference = sync_reference
        self.topics: dict[str, TopicStats] = {}
        self._reference: deque[int] = deque(maxlen=_REFERENCE_WINDOW)
        self._pending: list[tuple[str, int]] = []

    def topic(self, name: str) -> TopicStats:
        stats = self.topics.get(name)
        if stats is None:
            stats = self.topics[name] = TopicStats()
        return stats

    def on_written(
        self,
        topic: str,
        receive_ns: int,
        sequence: int,
        stamp_ns: int | None,
        publisher: str = "",
    ) -> None:
        """Account one written message and update the cross-stream skew."""
        stats = self.topics.get(topic) or self.topic(topic)
        stats.on_written(receive_ns, sequence, stamp_ns, publisher)
        if stamp_ns is None or self.sync_reference is None:
            return
        reference = self._reference
        if topic == self.sync_reference:
            if not reference or stamp_ns >= reference[-1]:
                reference.append(stamp_ns)
            self._settle()
        elif not self._pending and reference and stamp_ns <= reference[-1]:
            # what _settle does with this one pending stamp, without the list round trip
            # (and _nearest_ms's usual case, stamped with the newest reference message, inline)
            stats.skew_ms.add(0.0 if stamp_ns == reference[-1] else self._nearest_ms(stamp_ns))
        else:
            self._pending.append((topic, stamp_ns))
            self._settle()

    def _settle(self) -> None:
        """Measure pending stamps once the reference stream has passed them (or never will)."""
        if not self._pending:  # the usual case: every reference message settles nothing
            return
        if not self._reference:
            del self._pending[:-_MAX_PENDING]  # no reference yet: keep memory bounded
            return
        newest = self._reference[-1]
        keep = []
        for topic, stamp in self._pending:
            if stamp <= newest or len(self._pending) > _MAX_PENDING:
                self.topics[topic].skew_ms.add(self._nearest_ms(stamp))
            else:
                keep.append((topic, stamp))
        self._pending = keep

    def _nearest_ms(self, stamp: int) -> float:
        ref = self._reference
        if stamp == ref[-1]:  # the usual case: stamped with the newest reference message
            return 0.0
        i = bisect.bisect_left(ref, stamp)
        best = min(abs(ref[j] - stamp) for j in (i - 1, i) if 0 <= j < len(ref))
        return best / 1e6

    def loss_summary(self) -> dict[str, Any]:
        """Per-topic counters, plus totals."""
        topics = {name: stats.summary() for name, stats in sorted(self.topics.items())}
        return {
            "received": sum(s.received for s in self.topics.values()),
            "written": sum(s.written for s in self.topics.values()),
            "dropped": sum(s.dropped for s in self.topics.values()),
            "lost_on_error": sum(s.lost_on_error for s in self.topics.values()),
            "topics": topics,
        }

    def sync_summary(self) -> dict[str, Any]:
        """Skew of each stamped topic against the reference stream [ms]."""
        skews = {
            name: {"mean_ms": round(s.skew_ms.mean, 3), "max_ms": round(s.skew_ms.maximum, 3)}
            for name, s in sorted(self.topics.items())
            if s.skew_ms.count
        }
        return {"reference": self.sync_reference or "", "skew": skews}
