"""recover_mcap / recover_bag turn a bag cut short into a valid bag in place."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from rosbags.highlevel import AnyReader

from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo
from humanoid_teleop.core.bag.recover import recover_bag, recover_mcap, scan_mcap

from .conftest import now_ns, string_msg

Make = Callable[..., BagRecorder]
SENT = [string_msg(f"payload {i:04d} " + "p" * 200) for i in range(400)]


def _bag(make: Make) -> Path:
    recorder = make(files=FileOptions(chunk_size_bytes=8 * 1024, reserve_bytes=0))
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(task="t"), name="ep")
    for data in SENT:
        recorder.submit("/chatter", data, now_ns())
    return recorder.stop_episode().path


def _cut(path: Path, keep_bytes: int, into: Path) -> Path:
    """Copy the episode as a .partial directory whose MCAP is cut after ``keep_bytes``."""
    target = into / "ep.partial"
    target.mkdir()
    (mcap,) = path.glob("*.mcap")
    (target / mcap.name).write_bytes(mcap.read_bytes()[:keep_bytes])
    return target


def _read_all(bag: Path) -> list[bytes]:
    with AnyReader([bag]) as reader:
        return [data for _c, _t, data in reader.messages()]


def test_complete_file_is_left_untouched(make_recorder: Make) -> None:
    """A file with a valid footer is reported complete and not rewritten."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    before = mcap.read_bytes()
    report = recover_mcap(mcap)
    assert report.was_complete and mcap.read_bytes() == before


@pytest.mark.parametrize("fraction", [0.35, 0.6, 0.9, 0.999])
def test_cut_bag_is_recovered_readable_by_rosbags(
    make_recorder: Make, tmp_path: Path, fraction: float
) -> None:
    """A bag cut anywhere reads back as a prefix of what was sent, all complete chunks kept."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, int(mcap.stat().st_size * fraction), tmp_path)
    final = recover_bag(cut).path
    assert final.name == "ep"
    got = _read_all(final)
    assert got == SENT[: len(got)]
    assert len(got) >= len(SENT) * fraction - 60  # at most one 8 KiB chunk lost


def test_recovered_file_scans_complete(make_recorder: Make, tmp_path: Path) -> None:
    """After recovery a second scan finds a complete file with all kept messages."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, mcap.stat().st_size // 2, tmp_path)
    recover_bag(cut, rename=False)
    (fixed,) = cut.glob("*.mcap")
    scan = scan_mcap(fixed)
    assert scan.healthy and scan.message_count > 0


def test_recovered_metadata_keeps_episode_fields(make_recorder: Make, tmp_path: Path) -> None:
    """The task written at episode start survives into the recovered metadata.yaml."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, mcap.stat().st_size // 2, tmp_path)
    meta = recover_bag(cut).metadata
    assert meta.custom_data["task"] == "t"
    assert meta.custom_data["outcome"] == "incomplete"
    assert meta.custom_data["recovered"] == "true"


def test_not_an_mcap_file_is_rejected(tmp_path: Path) -> None:
    """A file without the MCAP magic gives an error naming it."""
    bad = tmp_path / "x.mcap"
    bad.write_bytes(b"hello world")
    with pytest.raises(BagFormatError, match=r"x\.mcap: not an MCAP file"):
        recover_mcap(bad)


def test_bag_without_files_is_rejected(tmp_path: Path) -> None:
    """Recovering a directory with no MCAP file says so."""
    with pytest.raises(BagFormatError, match=r"no \.mcap files"):
        recover_bag(tmp_path)


def test_recovering_twice_changes_nothing(make_recorder: Make, tmp_path: Path) -> None:
    """Recovery is idempotent: a second run leaves the repaired file byte-identical."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, mcap.stat().st_size // 3, tmp_path)
    final = recover_bag(cut).path
    (fixed,) = final.glob("*.mcap")
    before = fixed.read_bytes()
    shutil.copy(fixed, tmp_path / "copy.mcap")
    recover_bag(final)
    assert fixed.read_bytes() == before
