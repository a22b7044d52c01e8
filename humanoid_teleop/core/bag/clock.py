"""The time a recorded message stands for: one rule for every reader of episodes.

A message's *sample time* [ns] is its header stamp when its type is stamped (its definition
starts with a ``std_msgs/Header``, or it is one: :func:`.msgdefs.is_stamped`, asked of the
bag's own schema) and the stamp is positive (when the joints were sampled, the image
captured, the pose measured); else its publish time (the publisher's DDS source timestamp,
which the recorder stores with each message: commands are ``Float64MultiArray`` without a
header); else, for a file without publish times, its log time (when the recorder received
it).

Log times carry the transport's delays. In a live demo recording on a loaded 2-core host
(2026-12-06) the recorder received ``/sim/objects`` in a burst up to 1.8 s after it was
published, joint states up to 0.25 s and arm commands up to 0.13 s late, while stamps and
publish times stayed within 0.15 s of one sample per period: aligned by log time, the cube
seemed to hover over the table while the hand set it down. Episodes written offline (ports,
scripted sources) have all three times equal.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .accounting import header_stamp_ns

_STAMP_BYTES = np.arange(12)
"""A stamped message's first 12 bytes: encapsulation (4), stamp sec (int32), nanosec (uint32)."""


def sample_time_ns(stamped: bool, data: bytes, publish_ns: int, log_ns: int) -> int:
    """The sample time [ns] of one message (the module's rule) of a type that is ``stamped``
    or not."""
    if stamped:
        stamp = header_stamp_ns(data)
        if stamp is not None and stamp > 0:
            return stamp
    return publish_ns if publish_ns > 0 else log_ns


def sample_times_ns(
    stamped: bool,
    buffer: NDArray[np.uint8],
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
    publish_ns: NDArray[np.uint64],
    log_ns: NDArray[np.uint64],
) -> NDArray[np.int64]:
    """:func:`sample_time_ns` of many messages of one type at once, the same numbers: their
    data are ``buffer[starts[i]:ends[i]]``; ``publish_ns`` and ``log_ns`` their times."""
    times: NDArray[np.int64] = np.where(publish_ns > 0, publish_ns, log_ns).astype(np.int64)
    if not stamped or not len(starts):
        return times
    long_enough = (ends - starts) >= len(_STAMP_BYTES)
    heads = buffer[starts[long_enough, None] + _STAMP_BYTES]
    little = (heads[:, 1] & 1).astype(bool)
    stamp_bytes = np.ascontiguousarray(heads[:, 4:12])
    sec = np.where(little, stamp_bytes.view("<i4")[:, 0], stamp_bytes.view(">i4")[:, 0])
    nanosec = np.where(little, stamp_bytes.view("<u4")[:, 1], stamp_bytes.view(">u4")[:, 1])
    stamps = sec.astype(np.int64) * 1_000_000_000 + nanosec.astype(np.int64)
    times[long_enough] = np.where(stamps > 0, stamps, times[long_enough])
    return times
