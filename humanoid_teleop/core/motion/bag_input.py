"""Operator input recorded in a bag (rosbag2 MCAP) -> :class:`HumanFrame` samples.

Reads the operator intent the teleop node used (``/teleop/intent/*``), or the raw
``/operator/*`` topics when the bag has no intent topics: ``head``, ``left_wrist``,
``right_wrist`` (PoseStamped), ``left_hand``, ``right_hand`` (PoseArray, 25 WebXR joints),
``joy`` (Joy), ``leader_joints`` (JointState). Frames are sampled on a fixed-rate grid over the
recording, each holding the newest value of every part; ``t_s`` is the grid time relative to
the first message [s].
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from humanoid_teleop.core.bag.reader import mcap_files
from humanoid_teleop.core.motion.errors import MotionFileError
from humanoid_teleop.core.motion.frame import HumanFrame
from humanoid_teleop.core.motion.messages import part_from_message
from humanoid_teleop.core.motion.topics import INPUT_NAMES, RECORDED_PREFIXES

PREFIXES = RECORDED_PREFIXES
#: Topic suffix -> HumanFrame field.
PARTS = {name: part.value for part, name in INPUT_NAMES.items()}


def _decoded(path: Path, topics: list[str]) -> Iterator[tuple[int, str, Any]]:
    for file in mcap_files(path):
        try:
            with file.open("rb") as handle:
                reader = make_reader(handle, decoder_factories=[DecoderFactory()])
                for _schema, channel, message, decoded in reader.iter_decoded_messages(
                    topics=topics, log_time_order=True
                ):
                    yield message.log_time, channel.topic, decoded
        except (OSError, McapError, ValueError) as err:
            raise MotionFileError(f"{file}: cannot read operator input: {err}") from err


def human_frames_from_bag(path: Path, rate_hz: float = 100.0) -> list[HumanFrame]:
    """Frames at ``rate_hz`` [Hz] from the operator input recorded in a bag folder or .mcap."""
    if not rate_hz > 0:
        raise MotionFileError(f"{path}: rate {rate_hz} Hz must be > 0")
    messages: list[tuple[int, str, Any]] = []
    for prefix in PREFIXES:
        messages = list(_decoded(path, [prefix + suffix for suffix in PARTS]))
        if messages:
            break
    if not messages:
        wanted = ", ".join(p + s for p in PREFIXES for s in PARTS)
        raise MotionFileError(f"{path}: no operator input in the bag (looked for {wanted})")
    messages.sort(key=lambda item: item[0])
    start_ns = messages[0][0]
    period_ns = round(1e9 / rate_hz)
    frames: list[HumanFrame] = []
    latest: dict[str, Any] = {}  # HumanFrame field -> part
    grid_ns = start_ns
    for log_ns, topic, msg in messages:
        while grid_ns < log_ns:
            if latest:
                frames.append(replace(HumanFrame(t_s=(grid_ns - start_ns) * 1e-9), **latest))
            grid_ns += period_ns
        field = PARTS[topic.rsplit("/", 1)[1]]
        try:
            latest[field] = part_from_message(field, msg, f"{path}: {topic}")
        except ValueError as err:
            raise MotionFileError(str(err)) from err
    frames.append(replace(HumanFrame(t_s=(grid_ns - start_ns) * 1e-9), **latest))
    return frames
