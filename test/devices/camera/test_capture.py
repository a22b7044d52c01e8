"""Camera capture from a video file (the same OpenCV path a UVC webcam takes)."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.devices.camera.capture import (
    CameraConfig,
    Frame,
    FrameGrabber,
    pinhole_intrinsics,
)
from test.devices.camera.video import write_video


def _grabber(path: Path, **extra: object) -> FrameGrabber:
    values = {"source": str(path), "width": 64, "height": 48, "rate_hz": 100.0, **extra}
    return FrameGrabber(CameraConfig.from_dict(values, source="test"))


def _take_until(
    grabber: FrameGrabber, done: Callable[[list[Frame]], bool], timeout_s: float = 5.0
) -> list[Frame]:
    """Take frames until ``done(frames)`` or the timeout [s] (generous: a loaded host may stall
    the grabber thread); return the frames taken."""
    frames: list[Frame] = []
    end = time.monotonic() + timeout_s
    while not done(frames) and time.monotonic() < end:
        frame = grabber.take()
        if frame is not None:
            frames.append(frame)
        time.sleep(0.002)
    return frames


def test_file_frames_arrive_in_order_with_increasing_stamps(tmp_path: Path) -> None:
    """Frames of a 20-frame file come in file order (grey 0, 10, 20, ...) stamped increasingly.

    A slow consumer may miss frames (only the newest is kept), never see them out of order.
    """
    grabber = _grabber(write_video(tmp_path / "v.avi"), loop=False, rate_hz=50.0)
    grabber.start()
    try:
        # Until the whole file has been read (the grabber reopens it a second after its end).
        frames = _take_until(grabber, lambda _: grabber.stats().captured >= 20)
    finally:
        grabber.stop()
    levels = [round(float(f.image.mean()) / 10) for f in frames]
    assert len(levels) >= 5
    assert levels == sorted(set(levels)), levels
    stamps = [f.stamp_ns for f in frames]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_frames_are_resized_to_the_configured_resolution(tmp_path: Path) -> None:
    """A 64x48 file published at 32x24 gives 32x24 frames."""
    grabber = _grabber(write_video(tmp_path / "v.avi"), width=32, height=24)
    grabber.start()
    try:
        frames = _take_until(grabber, lambda taken: bool(taken))
    finally:
        grabber.stop()
    assert frames and frames[0].image.shape == (24, 32, 3)


def test_file_is_paced_at_the_configured_rate(tmp_path: Path) -> None:
    """At rate_hz 20 a file yields about 20 frames per second, not as fast as it decodes."""
    grabber = _grabber(write_video(tmp_path / "v.avi", frames=100), rate_hz=20.0)
    grabber.start()
    try:
        frames = _take_until(grabber, lambda taken: len(taken) > 20)
    finally:
        grabber.stop()
    assert len(frames) > 20
    # From capture stamps, not from when this test took the frames. Over all of them the file
    # never runs ahead of the rate (frames this test missed still count, through their index) ...
    span_s = (frames[-1].stamp_ns - frames[0].stamp_ns) * 1e-9
    assert (frames[-1].index - frames[0].index) / span_s <= 24
    # ... and as a stalled grabber thread only delays frames, the typical step between two
    # successive frames is still the configured period.
    pairs = itertools.pairwise(frames)
    steps_s = [(b.stamp_ns - a.stamp_ns) * 1e-9 for a, b in pairs if b.index == a.index + 1]
    assert steps_s and 12 <= 1 / statistics.median(steps_s) <= 24, steps_s


def test_slow_consumer_counts_dropped_frames(tmp_path: Path) -> None:
    """Taking one frame per 0.2 s from a 100 Hz source drops the frames in between."""
    grabber = _grabber(write_video(tmp_path / "v.avi"))
    grabber.start()
    try:
        for _ in range(3):
            time.sleep(0.2)
            grabber.take()
    finally:
        grabber.stop()
    stats = grabber.stats()
    assert stats.dropped > 10
    assert stats.captured == stats.taken + stats.dropped + (0 if grabber.take() is None else 1)


def test_looping_file_restarts_at_the_end(tmp_path: Path) -> None:
    """With loop true, a 5-frame file keeps delivering frames past its end."""
    grabber = _grabber(write_video(tmp_path / "v.avi", frames=5))
    grabber.start()
    try:
        frames = _take_until(grabber, lambda taken: len(taken) > 10)
    finally:
        grabber.stop()
    assert len(frames) > 10
    assert grabber.stats().connected


def test_missing_file_is_reported_and_yields_nothing(tmp_path: Path) -> None:
    """A video file that does not exist gives no frames and an error naming it."""
    grabber = _grabber(tmp_path / "missing.avi")
    grabber.start()
    try:
        reported = _take_until(grabber, lambda _: bool(grabber.stats().error))
        assert reported == [] and grabber.take() is None
    finally:
        grabber.stop()
    stats = grabber.stats()
    assert not stats.connected
    assert "missing.avi does not exist" in stats.error


def test_unknown_publish_mode_lists_the_allowed_ones() -> None:
    """publish: 'png' is refused, listing raw, compressed, both."""
    with pytest.raises(ConfigError, match="publish: got 'png'; allowed: raw, compressed, both"):
        CameraConfig.from_dict({"publish": "png"}, source="cam")


def test_pinhole_intrinsics_match_the_field_of_view() -> None:
    """A 90° horizontal FOV on a 640-wide image has fx = 320 and the centre mid-image."""
    k = pinhole_intrinsics(640, 480, 90.0)
    assert k[0, 0] == pytest.approx(320.0)
    np.testing.assert_allclose(k[:2, 2], [319.5, 239.5])


def test_shipped_parameter_file_builds_a_config() -> None:
    """config/devices/camera.yaml (minus image_topic) is a valid CameraConfig."""
    import yaml

    path = Path(__file__).resolve().parents[3] / "config" / "devices" / "camera.yaml"
    params = yaml.safe_load(path.read_text())["camera_node"]["ros__parameters"]
    params.pop("image_topic")
    assert CameraConfig.from_dict(params, source=str(path)).publish == "both"
