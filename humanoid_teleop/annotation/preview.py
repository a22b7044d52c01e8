"""The constant-frame-rate preview video of an episode for annotators: every camera of the
robot tiled side by side, with the episode time, the frame number and the episode name burnt
in. Frame ``k`` (1-based, as Label Studio counts) shows each camera's latest image captured at
or before episode time ``(k - 1) * period`` (see :mod:`.label_studio` for the exact
conversion): images are placed at their sample times (:mod:`humanoid_teleop.core.bag.clock`:
the header stamp), as the annotation signals are, not when the recorder received them (a
loaded host delivers them late and in bursts). The video is written as the bag is read, in
the order the recorder logged the images: one received after a later-captured image of
another camera shows from the next frame not yet written."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.stores.ros2_jazzy import sensor_msgs__msg__Image as RosImage

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.reader import iter_messages
from humanoid_teleop.core.robot import CameraSpec

from .errors import AnnotationError
from .signals import read_summary, robot_description

_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
TILE_HEIGHT = 240
"""Height of each camera's tile in the preview [px]."""
Image = npt.NDArray[np.uint8]


def frame_period_ns(fps: int) -> int:
    """The frame period [ns] of ``fps``; it must divide 10^9 so frame times are exact."""
    if fps <= 0 or 1_000_000_000 % fps:
        raise AnnotationError(
            f"--fps {fps}: must divide 1000000000 so frame times are whole nanoseconds "
            "(e.g. 10, 20, 25, 40, 50)"
        )
    return 1_000_000_000 // fps


def frame_count(duration_ns: int, fps: int) -> int:
    """Frames of the preview of an episode lasting ``duration_ns``: 0 .. duration, inclusive."""
    return duration_ns // frame_period_ns(fps) + 1


def write_preview(episode: Path, out: Path, fps: int) -> int:
    """Write the preview MP4 (H.264, yuv420p, constant ``fps``) of ``episode``; returns the
    number of frames."""
    summary = read_summary(episode)
    custom = summary.metadata.custom_data
    cameras: tuple[CameraSpec, ...] = ()
    if custom.get("robot"):
        cameras = robot_description(custom["robot"]).sensors.cameras
    counts = summary.counts
    topics = [c.topic for c in cameras if counts.get(c.topic)]
    names = {c.topic: c.name for c in cameras}
    period = frame_period_ns(fps)
    start = summary.metadata.starting_time_ns
    total = frame_count(summary.metadata.duration_ns, fps)
    latest: dict[str, Image] = {}
    tile_w = {t: TILE_HEIGHT * 4 // 3 for t in topics}  # every camera shown 4:3
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with av.open(str(out), mode="w") as container:
        width = max(480, sum(tile_w.values()))
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width + width % 2, TILE_HEIGHT + 40
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast", "g": str(fps), "threads": "1"}

        def emit_until(t_ns: int) -> None:
            nonlocal written
            while written < total and written * period <= t_ns:
                canvas = _canvas(stream.width, stream.height, topics, latest, tile_w, names)
                _timecode(canvas, written * period, written + 1, episode.name)
                frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
                frame.pts = written
                for packet in stream.encode(frame):
                    container.mux(packet)
                written += 1

        try:
            for raw in iter_messages(episode, topics=topics):
                emit_until(raw.sample_time_ns - start - 1)
                msg = _TYPESTORE.deserialize_cdr(raw.data, raw.type)
                image = _rgb(msg)
                if image is not None:
                    tile = cv2.resize(image, (tile_w[raw.topic], TILE_HEIGHT))
                    latest[raw.topic] = tile.astype(np.uint8, copy=False)
        except BagFormatError as err:
            raise AnnotationError(f"{episode}: {err}") from err
        emit_until(summary.metadata.duration_ns)
        for packet in stream.encode():
            container.mux(packet)
    return written


def _rgb(msg: object) -> Image | None:
    """The RGB pixels of an rgb8 or bgr8 image message; None for any other message."""
    if not isinstance(msg, RosImage) or msg.encoding not in ("rgb8", "bgr8"):
        return None
    h, w = msg.height, msg.width
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    frame = data.reshape(h, msg.step)[:, : w * 3].reshape(h, w, 3)
    return frame[:, :, ::-1] if msg.encoding == "bgr8" else frame


def _canvas(
    width: int, height: int, topics: list[str], latest: dict[str, Image],
    tile_w: dict[str, int], names: dict[str, str],
) -> Image:  # fmt: skip
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x = 0
    for topic in topics:
        w = tile_w[topic]
        image = latest.get(topic)
        if image is not None:
            canvas[:TILE_HEIGHT, x : x + w] = image
        cv2.putText(canvas, names.get(topic, topic), (x + 6, 18), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (255, 255, 0), 1, cv2.LINE_AA)  # fmt: skip
        x += w
    return canvas


def _timecode(canvas: Image, t_ns: int, frame: int, name: str) -> None:
    text = f"t {t_ns / 1e9:8.3f} s   frame {frame:5d}   {name}"
    cv2.putText(canvas, text, (8, canvas.shape[0] - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
