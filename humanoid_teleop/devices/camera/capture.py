"""OpenCV capture for stations without a vendor camera driver: a UVC webcam or a video file.

:class:`FrameGrabber` reads frames in a background thread as they come (a webcam delivers at its
own rate; a file is paced at ``rate_hz``) and keeps only the newest, stamped at capture. A frame
replaced before anyone took it counts as dropped, so a consumer slower than the camera is
visible in the numbers rather than silently lagging.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.devices import config as cfg
from humanoid_teleop.devices.errors import DeviceDisconnected

log = logging.getLogger(__name__)
Image = npt.NDArray[np.uint8]
REOPEN_PERIOD_S = 1.0


class VideoSource(Protocol):
    """The part of ``cv2.VideoCapture`` the grabber uses."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)

    def read(self) -> tuple[bool, Any]: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class CameraConfig:
    """What to capture and how often (ROS parameters of ``camera_node``)."""

    #: A device index ("0"), a /dev/video* path, or a video file path.
    source: str = "0"
    width: int = 640
    height: int = 480
    rate_hz: float = 30.0
    #: "raw" (sensor_msgs/Image), "compressed" (JPEG CompressedImage) or "both".
    publish: str = "both"
    jpeg_quality: int = 80
    #: Horizontal field of view used for camera_info when no calibration is given [deg].
    fov_deg: float = 90.0
    frame_id: str = "camera_optical_frame"
    #: Restart a video file at its end (a webcam ignores this).
    loop: bool = True

    KEYS = (
        "source",
        "width",
        "height",
        "rate_hz",
        "publish",
        "jpeg_quality",
        "fov_deg",
        "frame_id",
        "loop",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> CameraConfig:
        """Build from a mapping; errors name ``source``, the key and allowed values."""
        cfg.reject_unknown(data, cls.KEYS, source)
        d = cls()
        fov = cfg.number(data, "fov_deg", d.fov_deg, source, minimum=1.0)
        if fov >= 180.0:
            raise ConfigError(f"{cfg.at(source, data, 'fov_deg')}: must be < 180, got {fov}")
        quality = cfg.integer(data, "jpeg_quality", d.jpeg_quality, source, minimum=1)
        if quality > 100:
            raise ConfigError(
                f"{cfg.at(source, data, 'jpeg_quality')}: must be 1-100, got {quality}"
            )
        loop = data.get("loop", d.loop)
        if not isinstance(loop, bool):
            raise ConfigError(
                f"{cfg.at(source, data, 'loop')}: must be true or false, got {loop!r}"
            )
        return cls(
            source=str(data.get("source", d.source)),
            width=cfg.integer(data, "width", d.width, source, minimum=1),
            height=cfg.integer(data, "height", d.height, source, minimum=1),
            rate_hz=cfg.number(data, "rate_hz", d.rate_hz, source, minimum=0.1),
            publish=cfg.string(
                data, "publish", d.publish, source, choices=("raw", "compressed", "both")
            ),
            jpeg_quality=quality,
            fov_deg=fov,
            frame_id=cfg.string(data, "frame_id", d.frame_id, source),
            loop=loop,
        )

    @property
    def is_file(self) -> bool:
        """True when ``source`` is a video file (not a device index or /dev/video*)."""
        return not self.source.isdigit() and not self.source.startswith("/dev/")


def pinhole_intrinsics(width: int, height: int, fov_deg: float) -> npt.NDArray[np.float64]:
    """3x3 camera matrix K of an ideal pinhole with horizontal field of view ``fov_deg``."""
    fx = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[fx, 0.0, (width - 1) / 2.0], [0.0, fx, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Frame:
    """One captured image (BGR, ``height x width x 3``) and its capture time [ns, wall clock]."""

    image: Image
    stamp_ns: int
    index: int


@dataclass(frozen=True)
class CaptureStats:
    captured: int
    taken: int
    dropped: int
    read_failures: int
    connected: bool
    error: str


def open_capture(config: CameraConfig) -> VideoSource:
    """``cv2.VideoCapture`` for the config's source, with the requested size and rate."""
    import cv2

    source: int | str = int(config.source) if config.source.isdigit() else config.source
    if config.is_file and not Path(config.source).expanduser().is_file():
        raise DeviceDisconnected(f"video file {config.source} does not exist")
    capture: VideoSource = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise DeviceDisconnected(f"cannot open camera {config.source!r} with OpenCV")
    if not config.is_file:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)
        capture.set(cv2.CAP_PROP_FPS, config.rate_hz)
    return capture


class FrameGrabber:
    """Background capture keeping the newest frame; ``open`` is injectable for tests."""

    def __init__(
        self,
        config: CameraConfig,
        open_source: Callable[[CameraConfig], VideoSource] = open_capture,
    ) -> None:
        self.config = config
        self._open = open_source
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._captured = 0
        self._taken = 0
        self._dropped = 0
        self._failures = 0
        self._error = ""
        self._connected = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera_grabber", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def take(self) -> Frame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            frame, self._latest = self._latest, None
            if frame is not None:
                self._taken += 1
            return frame

    def stats(self) -> CaptureStats:
        with self._lock:
            return CaptureStats(
                self._captured,
                self._taken,
                self._dropped,
                self._failures,
                self._connected,
                self._error,
            )

    def _fail(self, message: str) -> None:
        with self._lock:
            self._failures += 1
            if message != self._error:
                log.error("camera: %s", message)
            self._error = message
            self._connected = False
            self._latest = None  # never hand out a frame from before the failure

    def _run(self) -> None:
        capture: VideoSource | None = None
        period = 1.0 / self.config.rate_hz
        next_s = time.monotonic()
        while not self._stop.is_set():
            if capture is None:
                try:
                    capture = self._open(self.config)
                except DeviceDisconnected as err:
                    self._fail(str(err))
                    self._stop.wait(REOPEN_PERIOD_S)
                    continue
                with self._lock:
                    self._connected, self._error = True, ""
            if self.config.is_file:  # a file has no clock of its own: pace it
                next_s += period
                delay = next_s - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_s = time.monotonic()
            ok, image = capture.read()
            stamp_ns = time.time_ns()
            if not ok or image is None:
                capture.release()
                capture = None
                if self.config.is_file and self.config.loop:
                    continue  # reopen: the file starts again
                self._fail(f"camera {self.config.source!r} stopped delivering frames")
                self._stop.wait(REOPEN_PERIOD_S)
                continue
            image = self._resize(image)
            with self._lock:
                if self._latest is not None:
                    self._dropped += 1
                self._captured += 1
                self._latest = Frame(image, stamp_ns, self._captured)
        if capture is not None:
            capture.release()

    def _resize(self, image: Image) -> Image:
        import cv2

        if image.shape[1] == self.config.width and image.shape[0] == self.config.height:
            return image
        resized = cv2.resize(image, (self.config.width, self.config.height))
        return np.asarray(resized, dtype=np.uint8)
