"""Fixtures for bag tests: CDR bytes made by rosbags (a serializer we did not write)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, RecorderConfig

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
LATCHED = QosProfile(durability="transient_local", depth=1)


def cdr(type_name: str, **fields: Any) -> bytes:
    """Serialize a message of ``type_name`` built from ``fields`` with rosbags."""
    cls = TYPESTORE.types[type_name]
    return bytes(TYPESTORE.serialize_cdr(cls(**fields), type_name))


def string_msg(text: str) -> bytes:
    return cdr("std_msgs/msg/String", data=text)


def joint_state(stamp_ns: int, positions: list[float]) -> bytes:
    import numpy as np

    time_type = TYPESTORE.types["builtin_interfaces/msg/Time"]
    header_type = TYPESTORE.types["std_msgs/msg/Header"]
    stamp = time_type(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    header = header_type(stamp=stamp, frame_id="")
    names = [f"j{i}" for i in range(len(positions))]
    empty = np.zeros(0, dtype=np.float64)
    return cdr(
        "sensor_msgs/msg/JointState",
        header=header,
        name=names,
        position=np.array(positions, dtype=np.float64),
        velocity=empty,
        effort=empty,
    )


@pytest.fixture
def make_recorder(tmp_path: Path) -> Iterator[Callable[..., BagRecorder]]:
    """Build recorders writing under ``tmp_path/bags``; all are closed after the test."""
    made: list[BagRecorder] = []

    def make(
        files: FileOptions | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        **config: Any,
    ) -> BagRecorder:
        recorder = BagRecorder(
            RecorderConfig(
                bag_dir=tmp_path / "bags",
                files=files or FileOptions(reserve_bytes=4096),
                **{"warn_free_bytes": 0, "min_free_bytes": 0, **config},
            ),
            clock_ns=clock_ns,
        )
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.close()


def now_ns() -> int:
    return time.time_ns()
