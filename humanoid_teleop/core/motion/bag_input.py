"""Operator input recorded in a bag (rosbag2 MCAP) -> :class:`HumanFrame` samples.

Reads the operator intent the teleop node used (``/teleop/intent/*``), or the raw
``/operator/*`` topics when the bag has no intent topics: ``head``, ``left_wrist``,
``right_wrist`` (PoseStamped), ``left_hand``, ``right_hand`` (PoseArray, 25 WebXR joints),
``joy`` (Joy), ``leader_joints`` (JointState). Frames are sampled on a fixed-rate grid over the
recording, each holding the newest value of every part; ``t_s`` is the grid time relative to
the first message [s]. Messages are placed at their sample times
(:mod:`humanoid_teleop.core.bag.clock`: the header stamp, not when the recorder received
them), and the recording's later calibrations (an operator who re-centred or engaged anew)
are read with them, so a pipeline driven by the frames can re-calibrate where the recorded
one did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from humanoid_teleop.core.bag.clock import sample_time_ns
from humanoid_teleop.core.bag.reader import mcap_files, stamped_schema
from humanoid_teleop.core.motion.errors import MotionFileError
from humanoid_teleop.core.motion.frame import HumanFrame
from humanoid_teleop.core.motion.messages import part_from_message
from humanoid_teleop.core.motion.topics import (
    CALIBRATED_TOPIC,
    ENGAGED_TOPIC,
    INPUT_NAMES,
    OPERATOR_PREFIX,
    RECORDED_PREFIXES,
)
from humanoid_teleop.core.retarget.calibration import engaged_at, later_calibrations_ns

PREFIXES = RECORDED_PREFIXES
#: The recorded calibrations (std_msgs/Header) and engaged flags (std_msgs/Bool).
_MARKS = [CALIBRATED_TOPIC, ENGAGED_TOPIC]
#: Topic suffix -> HumanFrame field.
PARTS = {name: part.value for part, name in INPUT_NAMES.items()}


def _decoded(path: Path, topics: list[str]) -> Iterator[tuple[int, str, Any]]:
    for file in mcap_files(path):
        try:
            with file.open("rb") as handle:
                reader = make_reader(handle, decoder_factories=[DecoderFactory()])
                for schema, channel, message, decoded in reader.iter_decoded_messages(
                    topics=topics, log_time_order=True
                ):
                    t_ns = sample_time_ns(
                        stamped_schema(schema), message.data, message.publish_time,
                        message.log_time,
                    )  # fmt: skip
                    yield t_ns, channel.topic, decoded
        except (OSError, McapError, ValueError) as err:
            raise MotionFileError(f"{file}: cannot read operator input: {err}") from err


@dataclass(frozen=True)
class BagMotion:
    """The operator input of a recorded bag."""

    frames: list[HumanFrame]
    #: Times [s, the frames' clock] from which the recorded input went through a new
    #: calibration (a re-centre, an engage after a pause;
    #: :func:`~humanoid_teleop.core.retarget.calibration.later_calibrations_ns`).
    recalibrations_s: tuple[float, ...] = ()


def motion_from_bag(path: Path, rate_hz: float = 100.0) -> BagMotion:
    """Frames at ``rate_hz`` [Hz] from the operator input recorded in a bag folder or .mcap,
    with the times it was calibrated anew."""
    if not rate_hz > 0:
        raise MotionFileError(f"{path}: rate {rate_hz} Hz must be > 0")
    messages: list[tuple[int, str, Any]] = []
    # the calibrations and engages, read in the same pass as the first prefix's input
    marks: list[tuple[int, str, Any]] | None = None
    for prefix in PREFIXES:
        topics = [prefix + suffix for suffix in PARTS] + (_MARKS if marks is None else [])
        read = list(_decoded(path, topics))
        if marks is None:
            marks = [m for m in read if m[1] in _MARKS]
        messages = [m for m in read if m[1] not in _MARKS]
        if messages:
            break
    if not messages:
        wanted = ", ".join(p + s for p in PREFIXES for s in PARTS)
        raise MotionFileError(f"{path}: no operator input in the bag (looked for {wanted})")
    engaged = [(t, bool(msg.data)) for t, topic, msg in marks or () if topic == ENGAGED_TOPIC]
    if prefix == OPERATOR_PREFIX:  # raw device input: without what it sent during a pause
        kept = engaged_at([t for t, _, _ in messages], engaged)
        messages = [m for m, keep in zip(messages, kept, strict=True) if keep]
        if not messages:
            raise MotionFileError(
                f"{path}: no operator input while {ENGAGED_TOPIC} was true (all of it came "
                "while the teleop node held)"
            )
    messages.sort(key=lambda item: item[0])
    start_ns = messages[0][0]
    period_ns = round(1e9 / rate_hz)
    frames: list[HumanFrame] = []
    latest: dict[str, Any] = {}  # HumanFrame field -> part
    grid_ns = start_ns
    for t_ns, topic, msg in messages:
        while grid_ns < t_ns:
            if latest:
                frames.append(replace(HumanFrame(t_s=(grid_ns - start_ns) * 1e-9), **latest))
            grid_ns += period_ns
        field = PARTS[topic.rsplit("/", 1)[1]]
        try:
            latest[field] = part_from_message(field, msg, f"{path}: {topic}")
        except ValueError as err:
            raise MotionFileError(str(err)) from err
    frames.append(replace(HumanFrame(t_s=(grid_ns - start_ns) * 1e-9), **latest))
    calibrated = [t for t, topic, _ in marks or () if topic == CALIBRATED_TOPIC]
    engages = [t for t, on in engaged if on]
    later = later_calibrations_ns(calibrated, engages, start_ns)
    return BagMotion(frames, tuple((t - start_ns) * 1e-9 for t in later))
