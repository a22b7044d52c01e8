"""The episode writer's batch path writes the files its per-message path writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.episode import (
    CachedMessage,
    EpisodeWriter,
    FileOptions,
    RecordedTopic,
)
from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource
from humanoid_teleop.core.bag.qos import QosProfile

from .conftest import LATCHED, joint_state, string_msg

_START_NS = 1_700_000_000_000_000_000


def _messages(count: int) -> list[tuple[str, int, int, int, bytes]]:
    """(topic, receive, publish [ns], sequence, data): joint states at 250 Hz with a
    description now and then."""
    rng = np.random.default_rng(3)
    messages = []
    for k in range(count):
        t_ns = _START_NS + 4_000_000 * k
        if k % 97 == 5:
            text = string_msg(f"model {k}")
            messages.append(("/robot_description", t_ns, t_ns, k // 97 + 1, text))
        positions = rng.normal(size=int(rng.integers(1, 9))).tolist()
        state = joint_state(t_ns, positions)
        messages.append(("/joint_states", t_ns + 300_000, t_ns, k + 1, state))
    return messages


def _episode(root: Path, options: FileOptions, batches: list[int] | None) -> Path:
    """An episode of :func:`_messages`, written one :meth:`write` each (``batches`` None) or
    in batches of those sizes (the latched description kept after each batch)."""
    definitions = MessageDefinitionSource()
    writer = EpisodeWriter(root, "episode", options, {"task": "push"})
    writer.add_topic(
        RecordedTopic(
            "/robot_description", definitions.get("std_msgs/msg/String"), (LATCHED,), True
        )
    )
    writer.add_topic(
        RecordedTopic(
            "/joint_states", definitions.get("sensor_msgs/msg/JointState"), (QosProfile(),), False
        )
    )
    messages = _messages(400)
    latched: dict[str, list[CachedMessage]] = {}

    def latched_now() -> dict[str, list[CachedMessage]]:
        return latched

    def keep_latched(batch: list[tuple[str, int, int, int, bytes]]) -> None:
        for topic, receive_ns, publish_ns, sequence, data in batch:
            if topic == "/robot_description":
                latched[topic] = [CachedMessage(receive_ns, publish_ns, sequence, data)]

    if batches is None:
        for message in messages:
            writer.write(*message, latched_now)
            keep_latched([message])
    else:
        at = 0
        for size in batches:
            writer.write_batch(messages[at : at + size], latched_now)
            keep_latched(messages[at : at + size])
            at += size
        assert at == len(messages)
    return writer.close({"outcome": "success"})


@pytest.mark.parametrize(
    "options",
    [
        FileOptions(reserve_bytes=0),
        FileOptions(reserve_bytes=0, chunk_size_bytes=900, compression="lz4"),
        FileOptions(reserve_bytes=0, chunk_size_bytes=1, compression="none"),
    ],
)
def test_a_batch_writes_the_files_of_one_write_each(tmp_path: Path, options: FileOptions) -> None:
    one_each = _episode(tmp_path / "one_each", options, None)
    batched = _episode(tmp_path / "batched", options, [1, 0, 250, 154])
    names = sorted(p.name for p in one_each.iterdir())
    assert names == sorted(p.name for p in batched.iterdir())
    assert "episode_0.mcap" in names and "metadata.yaml" in names
    for name in names:
        assert (one_each / name).read_bytes() == (batched / name).read_bytes(), name


def test_a_batch_with_a_split_limit_writes_one_message_at_a_time(tmp_path: Path) -> None:
    """With a split limit a batch is written message by message: the same files, split
    where one write each splits them (the latched description re-written in each)."""
    options = FileOptions(reserve_bytes=0, chunk_size_bytes=600, split_max_bytes=3000)
    one_each = _episode(tmp_path / "one_each", options, None)
    # each batch ends with a description (the latched message a new file starts with)
    ends = [i + 1 for i, m in enumerate(_messages(400)) if m[0] == "/robot_description"]
    sizes = np.diff([0, *ends, 405]).tolist()
    batched = _episode(tmp_path / "batched", options, sizes)
    names = sorted(p.name for p in one_each.iterdir())
    assert "episode_1.mcap" in names
    assert names == sorted(p.name for p in batched.iterdir())
    for name in names:
        assert (one_each / name).read_bytes() == (batched / name).read_bytes(), name
