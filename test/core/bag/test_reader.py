"""iter_messages in stored order walks indexed chunks itself, matching the mcap reader;
episodes are found under folders and named by the content hash of their MCAP files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from mcap.reader import make_reader
from mcap.records import ChunkIndex
from mcap.writer import CompressionType, IndexType, Writer

from humanoid_teleop.core.bag.errors import BagError, BagFormatError
from humanoid_teleop.core.bag.metadata import write_metadata_yaml
from humanoid_teleop.core.bag.reader import (
    bag_content_hash,
    find_episodes,
    gather_messages,
    iter_messages,
    mcap_files,
    metadata_from_files,
    read_bag,
    summarize_mcap,
)

TOPICS = ("/a", "/b", "/c")


def _write(
    path: Path,
    compression: CompressionType,
    chunk_size: int = 256,
    index_types: IndexType = IndexType.ALL,
) -> None:
    with path.open("wb") as stream:
        writer = Writer(
            stream, chunk_size=chunk_size, compression=compression, index_types=index_types
        )
        writer.start(profile="ros2", library="test")
        schema = writer.register_schema("std_msgs/msg/String", "ros2msg", b"string data")
        ids = [writer.register_channel(t, "cdr", schema) for t in TOPICS]
        for i in range(200):
            channel = ids[i % 3] if i < 150 else ids[0]
            data = bytes([i % 256]) * (1 + i % 37)
            writer.add_message(channel, log_time=1000 - i, data=data, publish_time=i, sequence=i)
        writer.finish()


def _reference(path: Path, topics: list[str] | None) -> list[tuple[object, ...]]:
    with path.open("rb") as stream:
        return [
            (c.topic, s.name, m.log_time, m.publish_time, m.sequence, bytes(m.data))
            for s, c, m in make_reader(stream).iter_messages(topics=topics, log_time_order=False)
        ]


def _ours(path: Path, topics: list[str] | None) -> list[tuple[object, ...]]:
    return [
        (m.topic, m.type, m.log_time_ns, m.publish_time_ns, m.sequence, m.data)
        for m in iter_messages(path, topics=topics, log_time_order=False)
    ]


@pytest.mark.parametrize(
    "compression", [CompressionType.ZSTD, CompressionType.LZ4, CompressionType.NONE]
)
def test_stored_order_matches_the_mcap_reader(tmp_path: Path, compression: CompressionType) -> None:
    """Every message, its times, sequence and bytes, in the mcap reader's stored order."""
    path = tmp_path / "x.mcap"
    _write(path, compression)
    assert _ours(path, None) == _reference(path, None)


def test_topic_filter_matches_the_mcap_reader(tmp_path: Path) -> None:
    """Asking for some topics gives exactly the mcap reader's messages of those topics."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.ZSTD)
    wanted = ["/b", "/c"]
    ours = _ours(path, wanted)
    assert ours == _reference(path, wanted)
    assert {row[0] for row in ours} == set(wanted)


def _one_chunk(path: Path) -> ChunkIndex:
    """Write the test episode at ``path`` uncompressed in one chunk; its chunk index."""
    _write(path, CompressionType.NONE, chunk_size=1 << 20)
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None
    return summary.chunk_indexes[0]


def _grouped(path: Path, topics: list[str] | None) -> dict[str, tuple[str, list[int], list[bytes]]]:
    """iter_messages' stored order, grouped per topic as gather_messages gives it."""
    grouped: dict[str, tuple[str, list[int], list[bytes]]] = {}
    for m in iter_messages(path, topics=topics, log_time_order=False):
        entry = grouped.setdefault(m.topic, (m.type, [], []))
        entry[1].append(m.log_time_ns)
        entry[2].append(m.data)
    return grouped


@pytest.mark.parametrize(
    "compression", [CompressionType.ZSTD, CompressionType.LZ4, CompressionType.NONE]
)
@pytest.mark.parametrize("topics", [None, ["/b", "/c"]])
def test_gather_messages_groups_the_stored_order_per_topic(
    tmp_path: Path, compression: CompressionType, topics: list[str] | None
) -> None:
    """Through the message indexes: per topic, its type, log times and bytes in stored
    order (log times falling: not sorted by them)."""
    path = tmp_path / "x.mcap"
    _write(path, compression)
    wanted = list(TOPICS) if topics is None else topics
    gathered = gather_messages(path, wanted)
    assert gathered == _grouped(path, topics)
    assert set(gathered) == set(wanted)
    assert all(type(d) is bytes for _, _, datas in gathered.values() for d in datas)


def test_gather_messages_reads_a_file_without_message_indexes(tmp_path: Path) -> None:
    """A file whose chunks carry no message indexes is walked record by record instead."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.ZSTD, index_types=IndexType.CHUNK)
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None and not summary.chunk_indexes[0].message_index_offsets
    assert gather_messages(path, ["/a", "/b"]) == _grouped(path, ["/a", "/b"])


def test_gather_messages_keeps_stored_order_whatever_the_index_order(tmp_path: Path) -> None:
    """A message index may list its entries in any order (some writers sort them by log
    time): the messages come in stored order all the same."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.NONE, chunk_size=1 << 20)
    expected = _grouped(path, ["/a"])
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None
    at = summary.chunk_indexes[0].message_index_offsets[1]  # channel 1 = /a
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[at + 11 : at + 15], "little")
    pairs = [bytes(data[i : i + 16]) for i in range(at + 15, at + 15 + size, 16)]
    data[at + 15 : at + 15 + size] = b"".join(reversed(pairs))
    path.write_bytes(bytes(data))
    assert gather_messages(path, ["/a"]) == expected


def test_gather_messages_walks_a_file_whose_index_leaves_messages_out(tmp_path: Path) -> None:
    """A message index listing fewer messages than the file's statistics count (here
    channel 1's emptied) is not trusted: the file is walked record by record."""
    path = tmp_path / "x.mcap"
    at = _one_chunk(path).message_index_offsets[1]  # channel 1 = /a
    expected = _grouped(path, ["/a", "/b"])
    data = bytearray(path.read_bytes())
    data[at + 11 : at + 15] = (0).to_bytes(4, "little")  # no entries (the rest left as is)
    path.write_bytes(bytes(data))
    assert gather_messages(path, ["/a", "/b"]) == expected


def test_gather_messages_refuses_an_index_that_misses_its_records(tmp_path: Path) -> None:
    """A message index entry pointing into another record raises BagFormatError naming
    the file (not an exception of the arrays, nor wrong messages)."""
    path = tmp_path / "x.mcap"
    index = _one_chunk(path)
    at = index.message_index_offsets[1]  # channel 1's index: opcode, length, id, size, pairs
    data = bytearray(path.read_bytes())
    first_offset = at + 1 + 8 + 2 + 4 + 8
    data[first_offset : first_offset + 8] = (3).to_bytes(8, "little")  # inside a record
    path.write_bytes(bytes(data))
    with pytest.raises(BagFormatError, match=r"x\.mcap: a message index"):
        gather_messages(path, ["/a"])


def test_damaged_chunk_raises_bag_format_error(tmp_path: Path) -> None:
    """A chunk whose bytes were overwritten raises BagFormatError naming the file."""
    path = tmp_path / "x.mcap"
    index = _one_chunk(path)
    data = bytearray(path.read_bytes())
    start = index.chunk_start_offset + index.chunk_length - 40
    data[start : start + 8] = b"\xff" * 8  # a record length far past the chunk's end
    path.write_bytes(bytes(data))
    with pytest.raises(BagFormatError, match=r"x\.mcap"):
        list(iter_messages(path, log_time_order=False))


@pytest.mark.parametrize("compression", [CompressionType.ZSTD, CompressionType.LZ4])
def test_undecompressible_chunk_raises_bag_format_error(
    tmp_path: Path, compression: CompressionType
) -> None:
    """A compressed chunk whose frame was overwritten raises BagFormatError naming the
    file and the chunk's offset (not the codec's own exception)."""
    path = tmp_path / "x.mcap"
    _write(path, compression, chunk_size=1 << 20)
    with path.open("rb") as stream:
        summary = make_reader(stream).get_summary()
    assert summary is not None
    index = summary.chunk_indexes[0]
    data = bytearray(path.read_bytes())
    codec = compression.name.lower()
    name = codec.encode()
    # opcode, record length, start/end times, uncompressed size, CRC, compression, records length
    body = index.chunk_start_offset + 1 + 8 + 8 + 8 + 8 + 4 + 4 + len(name) + 8
    data[body : body + 4] = b"\x5a" * 4  # the codec's frame magic
    path.write_bytes(bytes(data))
    at = f"chunk at byte {index.chunk_start_offset} does not decompress"
    with pytest.raises(BagFormatError, match=rf"x\.mcap: the {codec} {at}"):
        list(iter_messages(path, log_time_order=False))


def _episode(folder: Path) -> Path:
    """An episode folder: one MCAP file and the metadata.yaml built from it."""
    folder.mkdir(parents=True)
    _write(folder / "ep_0.mcap", CompressionType.ZSTD)
    write_metadata_yaml(folder, metadata_from_files(folder, [folder / "ep_0.mcap"]))
    return folder


def test_find_episodes_takes_an_episode_itself(tmp_path: Path) -> None:
    """A source that is an episode folder is that one episode."""
    episode = _episode(tmp_path / "ep")
    assert find_episodes([episode]) == [episode]


def test_find_episodes_finds_every_episode_under_a_folder_sorted(tmp_path: Path) -> None:
    """A folder gives every episode below it, at any depth, sorted by path."""
    deep = _episode(tmp_path / "day2" / "station" / "ep")
    first = _episode(tmp_path / "day1" / "ep")
    assert find_episodes([tmp_path]) == [first, deep]


def test_find_episodes_names_a_missing_source(tmp_path: Path) -> None:
    """A source that does not exist raises BagError naming it."""
    with pytest.raises(BagError, match=r"nothing: no such episode or folder"):
        find_episodes([tmp_path / "nothing"])


def test_find_episodes_names_a_folder_without_episodes(tmp_path: Path) -> None:
    """A folder holding no episode raises BagError naming it."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(BagError, match=r"empty: no episode \(a folder with metadata.yaml\)"):
        find_episodes([tmp_path / "empty"])


def test_content_hash_changes_with_the_recorded_bytes(tmp_path: Path) -> None:
    """One changed byte in an MCAP file changes the bag's content hash."""
    episode = _episode(tmp_path / "ep")
    before = bag_content_hash(episode)
    data = bytearray((episode / "ep_0.mcap").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (episode / "ep_0.mcap").write_bytes(bytes(data))
    assert before.startswith("sha256:") and bag_content_hash(episode) != before


def test_content_hash_leaves_metadata_yaml_out(tmp_path: Path) -> None:
    """Rewriting metadata.yaml (as `bag recover` does) keeps the content hash."""
    episode = _episode(tmp_path / "ep")
    before = bag_content_hash(episode)
    metadata = metadata_from_files(episode, [episode / "ep_0.mcap"], custom_data={"a": "b"})
    write_metadata_yaml(episode, metadata)
    assert bag_content_hash(episode) == before


def test_content_hash_names_an_unreadable_file(tmp_path: Path) -> None:
    """An MCAP file that cannot be read raises BagError naming the bag and the file."""
    episode = _episode(tmp_path / "ep")
    gone = episode / "ep_1.mcap"
    with pytest.raises(BagError, match=r"ep: cannot read ep_1\.mcap"):
        bag_content_hash(episode, [episode / "ep_0.mcap", gone])


def test_summary_files_are_the_ones_metadata_lists(tmp_path: Path) -> None:
    """A bag summary's files are mcap_files of its folder."""
    episode = _episode(tmp_path / "ep")
    assert read_bag(episode).files == mcap_files(episode) == [episode / "ep_0.mcap"]


def test_iter_messages_reads_the_files_it_is_given(tmp_path: Path) -> None:
    """With ``files``, iter_messages reads those instead of listing the bag's."""
    episode = _episode(tmp_path / "ep")
    listed = list(iter_messages(episode, log_time_order=False))
    given = list(iter_messages(episode, log_time_order=False, files=[episode / "ep_0.mcap"]))
    assert len(listed) == 200 and given == listed
    assert list(iter_messages(episode, files=[])) == []


def _writer(
    stream: BinaryIO, index_types: IndexType, channels: dict[str, tuple[str, bytes]]
) -> tuple[Writer, dict[str, int]]:
    """An MCAP writer started on ``stream`` with a channel per topic of ``channels`` (topic
    -> its schema's name and ros2msg text); the channel ids by topic."""
    writer = Writer(stream, chunk_size=1 << 20, index_types=index_types)
    writer.start(profile="ros2", library="test")
    ids = {}
    for topic, (type_name, text) in channels.items():
        schema = writer.register_schema(type_name, "ros2msg", text)
        ids[topic] = writer.register_channel(topic, "cdr", schema)
    return writer, ids


def _stamp(t_ns: int) -> bytes:
    """A little-endian CDR message's first 12 bytes: encapsulation, then a stamp of ``t_ns``
    (< 1 s)."""
    return b"\0\1\0\0" + (0).to_bytes(4, "little") + t_ns.to_bytes(4, "little")


def _write_late(path: Path, index_types: IndexType) -> list[tuple[str, int]]:
    """JointStates stamped at 1..20 ms, published 1 ns later, and forward commands published
    at 1..20 ms, all logged in one burst at 50 ms (received late); their expected sample
    times (topic, ns), in stored order."""
    expected = []
    with path.open("wb") as stream:
        writer, ids = _writer(stream, index_types, {
            "/joint_states": ("sensor_msgs/msg/JointState", b""),
            "/commands": ("std_msgs/msg/Float64MultiArray", b""),
        })  # fmt: skip
        for k in range(1, 21):
            t_ns = k * 1_000_000
            stamp = _stamp(t_ns)
            writer.add_message(ids["/joint_states"], 50_000_000, stamp + b"\0" * 8, t_ns + 1)
            expected.append(("/joint_states", t_ns))
            writer.add_message(ids["/commands"], 50_000_000, b"\0\1\0\0" + b"\0" * 12, t_ns)
            expected.append(("/commands", t_ns))
        writer.finish()
    return expected


@pytest.mark.parametrize("index_types", [IndexType.ALL, IndexType.CHUNK])
def test_gather_messages_gives_sample_times_on_request(
    tmp_path: Path, index_types: IndexType
) -> None:
    """sample_times: each message's header stamp, else its publish time, not the log time
    of the burst it was received in (a topic asked for on the publish clock: its publish
    time); through the message indexes and walking the file."""
    path = tmp_path / "late.mcap"
    expected = _write_late(path, index_types)
    gathered = gather_messages(path, ["/joint_states", "/commands"], sample_times=True)
    for topic in ("/joint_states", "/commands"):
        assert gathered[topic][1] == [t for name, t in expected if name == topic]
    logged = gather_messages(path, ["/joint_states"])
    assert set(logged["/joint_states"][1]) == {50_000_000}
    published = gather_messages(
        path, ["/joint_states", "/commands"], sample_times=True, publish_clock=["/joint_states"]
    )  # a stamped topic on the publish clock: its publish times, 1 ns after the stamps
    assert published["/joint_states"][1] == [t + 1 for n, t in expected if n == "/joint_states"]
    assert published["/commands"] == gathered["/commands"]


@pytest.mark.parametrize("index_types", [IndexType.ALL, IndexType.CHUNK])
def test_a_type_no_definition_is_installed_for_is_read_by_the_bags_own(
    tmp_path: Path, index_types: IndexType
) -> None:
    """An integrator's stamped sensor type, installed nowhere here, whose schema in the bag
    starts with a Header: its messages are at their stamps (logged in a 50 ms burst); a
    type whose definition does not start with one, the same bytes, at its publish times."""
    path = tmp_path / "custom.mcap"
    header = b"\n" + b"=" * 80 + b"\nMSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\n"
    reading = b"# a reading\nstd_msgs/Header header\nfloat64 value" + header
    with path.open("wb") as stream:
        writer, ids = _writer(stream, index_types, {
            "/reading": ("my_sensors/msg/Reading", reading),
            "/level": ("my_sensors/msg/Level", b"float64 value\n"),
        })  # fmt: skip
        for k in range(1, 11):
            t_ns = k * 1_000_000
            for topic in ids:
                writer.add_message(ids[topic], 50_000_000, _stamp(t_ns) + b"\0" * 8, t_ns + 7)
        writer.finish()
    gathered = gather_messages(path, ["/reading", "/level"], sample_times=True)
    stamps = [k * 1_000_000 for k in range(1, 11)]
    assert gathered["/reading"][1] == stamps
    assert gathered["/level"][1] == [t + 7 for t in stamps]
    walked = {
        m.topic: m.sample_time_ns
        for m in iter_messages(path, ["/reading", "/level"])
        if m.log_time_ns == 50_000_000
    }  # the last of each
    assert walked == {"/reading": stamps[-1], "/level": stamps[-1] + 7}


@pytest.mark.parametrize("how", ["deleted", "a folder"])
def test_gather_messages_names_a_listed_file_that_cannot_be_opened(
    tmp_path: Path, how: str
) -> None:
    """An MCAP file metadata.yaml lists that was deleted (or is a folder) raises
    BagFormatError naming it and why."""
    episode = _episode(tmp_path / "ep")
    (episode / "ep_0.mcap").unlink()
    if how == "a folder":
        (episode / "ep_0.mcap").mkdir()
    reason = "No such file or directory" if how == "deleted" else "Is a directory"
    with pytest.raises(BagFormatError, match=rf"ep_0\.mcap: cannot open: {reason}"):
        gather_messages(episode, ["/a"])


@pytest.mark.parametrize(
    "read",
    [
        summarize_mcap,
        lambda path: gather_messages(path, ["/a"]),
        lambda path: list(iter_messages(path, log_time_order=False)),
        lambda path: list(iter_messages(path)),
    ],
    ids=["summarize_mcap", "gather_messages", "iter_messages stored", "iter_messages log time"],
)
def test_a_file_cut_to_ten_bytes_is_named(tmp_path: Path, read: Callable[[Path], object]) -> None:
    """An MCAP file cut to 10 bytes raises BagFormatError naming it (not the struct.error or
    the OSError of seeking before its start)."""
    path = tmp_path / "x.mcap"
    _write(path, CompressionType.ZSTD)
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(BagFormatError, match=r"x\.mcap: not an MCAP file \(10 bytes"):
        read(path)


def test_custom_json_names_the_file_and_key_of_text_that_is_not_json(tmp_path: Path) -> None:
    """A custom_data value that is not JSON raises BagFormatError naming metadata.yaml and
    the key."""
    episode = _episode(tmp_path / "ep")
    metadata = metadata_from_files(episode, [episode / "ep_0.mcap"], custom_data={"loss": "{"})
    write_metadata_yaml(episode, metadata)
    with pytest.raises(
        BagFormatError, match=r"ep/metadata\.yaml: custom_data\.loss: not JSON \(Expecting"
    ):
        read_bag(episode).custom_json("loss")
