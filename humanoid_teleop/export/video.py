"""Camera frames -> MP4 with PyAV, and per-episode MP4s joined by stream copy.

Encoding follows LeRobot's defaults: AV1 (libsvtav1), yuv420p, GOP 2, crf 30 (preset 12),
or H.264 (libx264, same GOP and crf). Frame ``i`` has pts ``i`` in a ``1/fps`` time base, so a
frame's time is exactly ``i / fps``; joining keeps each packet and shifts its time by the
frames before it, so episode ``k`` starts at ``from_timestamp`` = frames before it / fps.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from .errors import ExportError

CODECS = {"av1": "libsvtav1", "h264": "libx264"}
"""``--video-codec`` choice -> FFmpeg encoder."""
OPTIONS = {
    "libsvtav1": {"g": "2", "crf": "30", "preset": "12", "svtav1-params": "lp=1"},
    "libx264": {"g": "2", "crf": "30", "preset": "veryfast", "threads": "1"},
}
"""FFmpeg options per encoder: LeRobot's GOP and crf, its SVT-AV1 preset, one encoder thread
(an export runs one unit per core; threads add CPU time, not throughput)."""

logging.getLogger("libav").setLevel(logging.ERROR)
os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr unless told not to


def _open_keeping_scheduling(stream: av.VideoStream) -> None:
    """Open ``stream``'s encoder and keep this thread's scheduling as it was: SVT-AV1, run
    as root, makes the thread that opens it real-time (SCHED_FIFO, priority 99), and a
    real-time export worker (and every process it starts, which inherit it) starves the
    machine's other work of its cores."""
    if not hasattr(os, "sched_getscheduler"):  # not Linux: no such policy change
        stream.codec_context.open()
        return
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        stream.codec_context.open()
    finally:
        if (os.sched_getscheduler(0), os.sched_getparam(0)) != (policy, param):
            os.sched_setscheduler(0, policy, param)


def encode(frames: Sequence[npt.NDArray[np.uint8]], fps: int, codec: str) -> bytes:
    """MP4 bytes of RGB ``frames`` (each H×W×3 uint8) at ``fps`` [Hz] with ``codec``."""
    encoder = CODECS[codec]
    if not frames:
        raise ExportError("no frames to encode")
    height, width = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream(encoder, rate=fps, options=dict(OPTIONS[encoder]))
        if not isinstance(stream, av.VideoStream):
            raise ExportError(f"{encoder}: not a video encoder")
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        _open_keeping_scheduling(stream)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def concatenate(parts: Sequence[bytes], frame_counts: Sequence[int], fps: int, out: Path) -> None:
    """Join per-episode MP4s (same codec and size) into ``out``, without re-encoding."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".mp4.tmp")
    with av.open(str(tmp), mode="w", format="mp4") as target:
        out_stream: Any = None
        offset_s = Fraction(0)
        for data, count in zip(parts, frame_counts, strict=True):
            with av.open(io.BytesIO(data), mode="r") as source:
                in_stream = source.streams.video[0]
                if out_stream is None:
                    out_stream = target.add_stream_from_template(in_stream, opaque=True)
                    out_stream.time_base = in_stream.time_base
                tb = in_stream.time_base
                if tb is None:
                    raise ExportError(f"{out}: an episode's video has no time base")
                shift = int(offset_s / tb)
                if Fraction(shift) * tb != offset_s:
                    raise ExportError(f"{out}: time base {tb} cannot place frames at 1/{fps} s")
                for packet in source.demux(in_stream):
                    if packet.dts is None or packet.pts is None:
                        continue
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = out_stream
                    target.mux(packet)
            offset_s += Fraction(count, fps)
    tmp.replace(out)


def probe(path: Path) -> dict[str, Any]:
    """The ``info`` block LeRobot keeps for a video feature (read from the file's stream)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(stream.base_rate or stream.average_rate or 0),
            "video.channels": 3,
            "has_audio": False,
        }


def decode_times(path: Path) -> list[float]:
    """Presentation time [s] of every frame in ``path``, in decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        if base is None:
            raise ExportError(f"{path}: video stream has no time base")
        return [float(f.pts * base) for f in container.decode(stream) if f.pts is not None]


def decode_all(path: Path) -> list[npt.NDArray[np.uint8]]:
    """Every frame of ``path`` as RGB H×W×3 uint8."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [_rgb(f) for f in container.decode(stream)]


def _rgb(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """A decoded frame as RGB H×W×3 uint8."""
    return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
