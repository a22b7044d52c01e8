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
from .foxglove import assert_foxglove_reads
from .readers import assert_all_readers_agree, read_sequential

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
    got = [data for _topic, _time, data in assert_all_readers_agree(final.glob("*.mcap"))]
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


def _chunks(mcap: Path) -> list[tuple[int, int, int]]:
    """(start, end, message count) of each chunk record in a healthy file."""
    return [(c.start, c.start + c.length, sum(c.counts.values())) for c in scan_mcap(mcap).chunks]


def _single(make: Make, tmp_path: Path) -> tuple[Path, list[tuple[str, int, bytes]]]:
    (mcap,) = _bag(make).glob("*.mcap")
    (tmp_path / "work").mkdir()
    copy = tmp_path / "work" / "one.mcap"
    shutil.copy(mcap, copy)
    return copy, read_sequential(copy)


def test_cut_between_a_chunk_and_its_indexes_keeps_the_chunk(
    make_recorder: Make, tmp_path: Path
) -> None:
    """Cut right after a chunk: its messages are kept and every reader opens the result."""
    path, sent = _single(make_recorder, tmp_path)
    _start, end, _n = _chunks(path)[3]
    kept = sum(n for _s, _e, n in _chunks(path)[:4])
    path.write_bytes(path.read_bytes()[:end])
    report = recover_mcap(path)
    assert report.in_place and report.messages == kept
    assert assert_all_readers_agree([path]) == sent[:kept]


def test_flipped_byte_in_first_chunk_keeps_every_other_chunk(
    make_recorder: Make, tmp_path: Path
) -> None:
    """A damaged first chunk loses only its own messages; the rest are kept byte-identical."""
    path, sent = _single(make_recorder, tmp_path)
    _start, end, lost = _chunks(path)[0]
    data = bytearray(path.read_bytes())
    data[end - 20] ^= 0x40
    path.write_bytes(bytes(data))
    report = recover_mcap(path)
    assert assert_all_readers_agree([path]) == sent[lost:]
    assert (report.in_place, report.messages) == (False, len(sent) - lost)
    (topic,) = report.topics
    assert (topic.kept_messages, topic.dropped_messages) == (len(sent) - lost, lost)


def test_repair_beside_keeps_the_original_bytes(make_recorder: Make, tmp_path: Path) -> None:
    """A repair that skips a damaged region keeps the original as <name>.damaged."""
    path, _sent = _single(make_recorder, tmp_path)
    start, _end, _n = _chunks(path)[1]
    data = bytearray(path.read_bytes())
    data[start + 60] ^= 0xFF
    path.write_bytes(bytes(data))
    report = recover_mcap(path)
    assert report.kept_aside == path.with_name("one.mcap.damaged")
    assert report.kept_aside.read_bytes() == bytes(data)


def test_discarding_the_damaged_copy_on_request(make_recorder: Make, tmp_path: Path) -> None:
    """keep_damaged=False leaves no copy of the original."""
    path, _sent = _single(make_recorder, tmp_path)
    start, _end, _n = _chunks(path)[1]
    data = bytearray(path.read_bytes())
    data[start + 60] ^= 0xFF
    path.write_bytes(bytes(data))
    assert recover_mcap(path, keep_damaged=False).kept_aside is None
    assert sorted(p.name for p in path.parent.iterdir()) == ["one.mcap"]


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_recovering_a_recovered_file_changes_nothing(
    make_recorder: Make, tmp_path: Path, damage: str
) -> None:
    """A second recover reports the file complete and leaves it byte-identical."""
    path, _sent = _single(make_recorder, tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "cut":
        del data[len(data) // 2 :]
    else:
        data[_chunks(path)[2][0] + 50] ^= 1
    path.write_bytes(bytes(data))
    recover_mcap(path)
    before = path.read_bytes()
    assert recover_mcap(path).was_complete
    assert path.read_bytes() == before


def test_in_place_repair_killed_anywhere_gives_the_same_file(
    make_recorder: Make, tmp_path: Path
) -> None:
    """A repair interrupted after writing any part of its tail, run again, converges."""
    path, _sent = _single(make_recorder, tmp_path)
    cut_file = path.read_bytes()[: int(path.stat().st_size * 0.6)]
    path.write_bytes(cut_file)
    recover_mcap(path)
    final = path.read_bytes()
    pairs = enumerate(zip(cut_file, final, strict=False))
    common = next((i for i, (a, b) in pairs if a != b), min(len(cut_file), len(final)))
    for written in range(common, len(final), max(1, (len(final) - common) // 40)):
        torn = final[:written] + cut_file[written:]
        path.write_bytes(torn)
        recover_mcap(path)
        assert path.read_bytes() == final, written


def test_repair_beside_killed_before_its_rename_gives_the_same_file(
    make_recorder: Make, tmp_path: Path
) -> None:
    """A half-written temp file and an existing .damaged link do not change the result."""
    path, _sent = _single(make_recorder, tmp_path)
    data = bytearray(path.read_bytes())
    data[_chunks(path)[1][0] + 50] ^= 1
    path.write_bytes(bytes(data))
    recover_mcap(path)
    final = path.read_bytes()
    path.write_bytes(bytes(data))
    path.with_name(".one.mcap.recovering").write_bytes(final[:1000])
    recover_mcap(path)
    assert path.read_bytes() == final
    assert sorted(p.name for p in path.parent.iterdir()) == ["one.mcap", "one.mcap.damaged"]


def test_report_counts_are_never_negative(make_recorder: Make, tmp_path: Path) -> None:
    """Kept and dropped messages and bytes stay >= 0 for cuts and flips alike."""
    path, _sent = _single(make_recorder, tmp_path)
    original = path.read_bytes()
    for offset in range(0, len(original), len(original) // 25):
        for damaged in (original[: offset + 9], _flip(original, offset)):
            path.write_bytes(damaged)
            try:
                report = recover_mcap(path, keep_damaged=False)
            except BagFormatError:
                continue  # the magic itself was hit
            assert report.bytes_dropped >= 0
            for topic in report.topics:
                counts = (topic.kept_messages, topic.kept_bytes)
                assert min(*counts, topic.dropped_messages, topic.dropped_bytes) >= 0


def _flip(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[min(offset, len(out) - 1)] ^= 0x10
    return bytes(out)


def test_recovered_flag_survives_a_rerun(make_recorder: Make, tmp_path: Path) -> None:
    """Killed after repairing the file but before metadata.yaml: a re-run still says recovered."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, mcap.stat().st_size // 2, tmp_path)
    recover_bag(cut, rename=False)
    (cut / "metadata.yaml").unlink()
    assert recover_bag(cut).metadata.custom_data["recovered"] == "true"


def test_recovered_bag_decodes_in_foxglove(make_recorder: Make, tmp_path: Path) -> None:
    """Foxglove's reader decodes every message of a recovered episode."""
    (mcap,) = _bag(make_recorder).glob("*.mcap")
    cut = _cut(mcap.parent, int(mcap.stat().st_size * 0.7), tmp_path)
    final = recover_bag(cut).path
    assert assert_foxglove_reads(final) == {"/chatter": len(_read_all(final))}


def test_a_folder_in_place_of_metadata_yaml_is_named(make_recorder: Make, tmp_path: Path) -> None:
    """A metadata.yaml that is a folder raises BagFormatError naming it (recover cannot
    rewrite it), not the IsADirectoryError of replacing it."""
    episode = tmp_path / "ep"
    shutil.copytree(_bag(make_recorder), episode)
    (episode / "metadata.yaml").unlink()
    (episode / "metadata.yaml").mkdir()
    with pytest.raises(BagFormatError, match=r"ep/metadata\.yaml: not a file; move it away"):
        recover_bag(episode)
