"""Seeded corruption fuzz of recorded episodes: check never passes damage, recover loses none.

Each case truncates a recorded file at a random offset, flips random bytes, overwrites a
random range (random bytes or zeros) or combines a cut with flips. Then:

- ``bag check`` reports ok only if every message still reads (CRC-validated) identically;
- after ``bag recover`` every message of every chunk left intact in the damaged file (with
  its channel still defined by an intact record) is present byte-identical, nothing else is,
  and the file reads with the sequential CRC-validating reader, the indexed reader and
  rosbags (and, for a sample batched into one node process, Foxglove's reader);
- recovering again changes nothing.

The default run has 500 cases; ``-m exhaustive`` runs 5000 more.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig
from humanoid_teleop.core.bag.recover import recover_mcap, scan_mcap

from .conftest import joint_state, string_msg
from .foxglove import foxglove_decode
from .readers import Message, read_indexed, read_rosbags, read_sequential

SEED = 14
FOXGLOVE_EVERY = 5  # every 5th recovered file also goes through Foxglove's reader
ROSBAGS_EVERY = 3


@dataclass(frozen=True)
class Original:
    """A recorded file and what each of its chunks holds."""

    data: bytes
    messages: list[Message]
    chunks: list[tuple[int, int, list[Message], set[int]]]  # start, end, messages, defines
    channel_of: dict[str, int]
    summary_start: int


def _record(root: Path, compression: str) -> Path:
    recorder = BagRecorder(
        RecorderConfig(
            bag_dir=root,
            files=FileOptions(compression=compression, chunk_size_bytes=2048, reserve_bytes=0),
            warn_free_bytes=0,
            min_free_bytes=0,
        )
    )
    recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(task="fuzz"), name=compression)
    t0 = 1_700_000_000_000_000_000
    for i in range(120):
        t = t0 + i * 10_000_000
        recorder.submit("/joint_states", joint_state(t, [0.01 * i] * 6), t)
        if i % 2:
            recorder.submit("/chatter", string_msg(f"note {i} " + "x" * (i % 40)), t + 1)
    path = recorder.stop_episode().path
    recorder.close()
    (mcap,) = path.glob("*.mcap")
    return mcap


def _original(mcap: Path) -> Original:
    scan = scan_mcap(mcap)
    messages = read_sequential(mcap)
    channel_of = {c.topic: c.id for c in scan.channels.values()}
    chunks = []
    position = 0
    for chunk in scan.chunks:
        count = sum(chunk.counts.values())
        chunks.append(
            (
                chunk.start,
                chunk.start + chunk.length,
                messages[position : position + count],
                {c.id for c in chunk.channels},
            )
        )
        position += count
    data = mcap.read_bytes()
    summary_start = int.from_bytes(data[-8 - 29 + 9 : -8 - 29 + 17], "little")
    return Original(data, messages, chunks, channel_of, summary_start)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> list[Original]:
    root = tmp_path_factory.mktemp("fuzz_originals")
    return [_original(_record(root, compression)) for compression in ("zstd", "none")]


def _damage(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    out = bytearray(data)
    kind = rng.choice(["cut", "flip", "range", "cut+flip"])
    if kind in ("flip", "cut+flip"):
        for _ in range(rng.randint(1, 3)):
            out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    if kind == "range":
        start = rng.randrange(len(out))
        length = rng.randint(1, 2000)
        fill = bytes(length) if rng.random() < 0.3 else rng.randbytes(length)
        out[start : start + length] = fill[: len(out) - start]
    if kind in ("cut", "cut+flip"):
        del out[rng.randrange(1, len(out)) :]
    return kind, bytes(out)


def _expected(original: Original, damaged: bytes) -> Counter[Message]:
    """Messages of chunks left intact whose channel an intact record still defines."""
    intact = [c for c in original.chunks if damaged[c[0] : c[1]] == original.data[c[0] : c[1]]]
    defined = {i for c in intact for i in c[3]}
    if damaged[original.summary_start :] == original.data[original.summary_start :]:
        defined |= set(original.channel_of.values())
    return Counter(m for c in intact for m in c[2] if original.channel_of[m[0]] in defined)


def _run_case(
    original: Original, case: int, work: Path, foxglove: list[tuple[Path, list[Message]]]
) -> None:
    rng = random.Random(SEED * 1_000_003 + case)
    kind, damaged = _damage(original.data, rng)
    path = work / f"case{case}.mcap"
    path.write_bytes(damaged)
    where = f"case {case} ({kind})"
    if check_bag(path).ok:
        assert read_sequential(path) == original.messages, f"{where}: check passed damage"
    try:
        recover_mcap(path, keep_damaged=False)
    except BagFormatError as err:
        assert "not an MCAP file" in str(err), where
        assert not _expected(original, damaged), f"{where}: refused a file with valid chunks"
        return
    got = read_sequential(path)
    assert Counter(got) >= _expected(original, damaged), f"{where}: lost a valid chunk"
    assert set(got) <= set(original.messages), f"{where}: messages that were never recorded"
    assert sorted(read_indexed(path)) == sorted(got), where
    if case % ROSBAGS_EVERY == 0:
        assert sorted(read_rosbags(path)) == sorted(got), where
    before = path.read_bytes()
    assert recover_mcap(path).was_complete and path.read_bytes() == before, f"{where}: again"
    if case % FOXGLOVE_EVERY == 0:
        keep = work / "foxglove" / path.name
        shutil.copy(path, keep)
        foxglove.append((keep, got))


def _fuzz(originals: list[Original], cases: range, work: Path) -> None:
    (work / "foxglove").mkdir()
    foxglove: list[tuple[Path, list[Message]]] = []
    for case in cases:
        _run_case(originals[case % len(originals)], case, work, foxglove)
        for leftover in work.glob("case*"):
            leftover.unlink()
    results = foxglove_decode([p for p, _got in foxglove], timeout_s=600)
    for path, got in foxglove:
        result = results[str(path)]
        assert result["ok"], f"Foxglove cannot read {path.name}: {result['error']}"
        assert result["messages"] == result["stream_messages"] == len(got), path.name


def test_fuzz_500_damaged_files(originals: list[Original], tmp_path: Path) -> None:
    """500 seeded cuts, flips and overwritten ranges: check and recover hold their promises."""
    _fuzz(originals, range(500), tmp_path)


@pytest.mark.exhaustive
def test_fuzz_5000_more_damaged_files(originals: list[Original], tmp_path: Path) -> None:
    """5000 further seeded cases (deselected by default; run with -m exhaustive)."""
    _fuzz(originals, range(500, 5500), tmp_path)
