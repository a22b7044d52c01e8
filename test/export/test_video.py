"""Camera frames encoded as the export encodes them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.export.video import CODECS, decode_all, encode


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling policies")
@pytest.mark.parametrize("codec", sorted(CODECS))
def test_encoding_keeps_the_threads_scheduling(codec: str, tmp_path: Path) -> None:
    """SVT-AV1 run as root turns the thread opening it real-time (SCHED_FIFO 99; as any
    other user it cannot, and this holds trivially): after an export's encode the thread
    is scheduled as before, so the export and what it starts next do not starve the
    machine (a test killing a recorder beside two CPU burners hung behind them)."""
    before = (os.sched_getscheduler(0), os.sched_getparam(0))
    frames = [np.full((32, 48, 3), 10 * i, dtype=np.uint8) for i in range(4)]
    (tmp_path / "video.mp4").write_bytes(encode(frames, 30, codec))
    assert (os.sched_getscheduler(0), os.sched_getparam(0)) == before
    assert len(decode_all(tmp_path / "video.mp4")) == len(frames)
