"""BagRecorder writes episodes that readers we did not write read back byte-identical."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.highlevel import AnyReader

from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.metadata import read_metadata_yaml
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.reader import iter_messages, read_bag, summarize_mcap
from humanoid_teleop.core.bag.recorder import (
    BagRecorder,
    EpisodeInfo,
    RecorderConfig,
    episode_prefix,
)

from .conftest import LATCHED, joint_state, now_ns, string_msg
from .foxglove import assert_foxglove_reads

Make = Callable[..., BagRecorder]


def _record(recorder: BagRecorder, texts: list[str]) -> Path:
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(task="pick up the cup", operator="op7"))
    for i, text in enumerate(texts):
        recorder.submit("/chatter", string_msg(text), now_ns(), now_ns(), i + 1)
    return recorder.stop_episode().path


def test_rosbags_reads_back_every_message_byte_identical(make_recorder: Make) -> None:
    """rosbags' rosbag2 reader returns exactly the CDR bytes that were submitted."""
    texts = [f"message {i}" for i in range(50)]
    path = _record(make_recorder(), texts)
    with AnyReader([path]) as reader:
        raw = [data for _c, _t, data in reader.messages()]
    assert raw == [string_msg(t) for t in texts]
    assert assert_foxglove_reads(path) == {"/chatter": 50}


def test_foxglove_decodes_every_message_of_an_episode(make_recorder: Make) -> None:
    """Foxglove's own stack decodes messages whose schemas have dependencies (Header, Time)."""
    recorder = make_recorder()
    recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    for i in range(30):
        t = now_ns()
        recorder.submit("/joint_states", joint_state(t, [0.1 * i, 0.2]), t)
        recorder.submit("/chatter", string_msg(str(i)), t)
    path = recorder.stop_episode().path
    assert assert_foxglove_reads(path) == {"/joint_states": 30, "/chatter": 30}


def test_mcap_ros2_decodes_every_message(make_recorder: Make) -> None:
    """mcap-ros2-support decodes each message with the schema stored in the file."""
    texts = [f"m{i}" for i in range(20)]
    path = _record(make_recorder(), texts)
    (mcap,) = path.glob("*.mcap")
    with mcap.open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        decoded = [m.data for _s, _c, _m, m in reader.iter_decoded_messages()]
    assert decoded == texts


def test_episode_is_renamed_from_partial_on_clean_close(make_recorder: Make) -> None:
    """While recording the directory ends in .partial; after stop it has the final name."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    partial = recorder.start_episode(EpisodeInfo(), name="ep1")
    assert partial.name == "ep1.partial" and partial.is_dir()
    final = recorder.stop_episode().path
    assert final.name == "ep1" and not partial.exists()


def test_metadata_yaml_matches_the_files(make_recorder: Make) -> None:
    """metadata.yaml counts, files and topic types agree with what the MCAP holds."""
    path = _record(make_recorder(), ["a", "b", "c"])
    meta = read_metadata_yaml(path)
    assert meta.version == 9
    assert meta.message_count == 3
    assert [f.path for f in meta.files] == [p.name for p in sorted(path.glob("*.mcap"))]
    (topic,) = meta.topics
    assert (topic.name, topic.type, topic.message_count) == ("/chatter", "std_msgs/msg/String", 3)
    assert topic.type_description_hash.startswith("RIHS01_")


def test_episode_metadata_is_in_custom_data(make_recorder: Make) -> None:
    """Task, operator, outcome and annotations land in metadata.yaml custom_data."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(task="fold towel", operator="ana", custom={"shift": "a"}))
    recorder.annotate("grasp", 123)
    recorder.mark_outcome(False)
    path = recorder.stop_episode().path
    bag = read_bag(path)
    custom = bag.metadata.custom_data
    assert (custom["task"], custom["operator"], custom["outcome"]) == (
        "fold towel",
        "ana",
        "failure",
    )
    assert custom["custom.shift"] == "a"
    assert bag.custom_json("annotations") == [{"time_ns": 123, "text": "grasp"}]


def test_episode_states_its_format_version(make_recorder: Make) -> None:
    """Every episode says which version of docs/episode-format.md it follows, in both places."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(task="t"))
    path = recorder.stop_episode().path
    bag = read_bag(path)
    assert bag.metadata.custom_data["episode_format"] == "1"
    (mcap,) = path.glob("*.mcap")
    assert summarize_mcap(mcap).custom_data["episode_format"] == "1"


def test_latched_message_is_written_into_every_episode(make_recorder: Make) -> None:
    """A transient-local message received once before recording appears in each episode."""
    recorder = make_recorder()
    recorder.add_topic("/robot_description", "std_msgs/msg/String", [LATCHED])
    recorder.submit("/robot_description", string_msg("<robot/>"), now_ns())
    paths = []
    for name in ("one", "two"):
        recorder.start_episode(EpisodeInfo(), name=name)
        paths.append(recorder.stop_episode().path)
    for path in paths:
        assert [m.data for m in iter_messages(path)] == [string_msg("<robot/>")]


def test_latched_message_is_repeated_in_every_split_file(make_recorder: Make) -> None:
    """With a small split size each file starts with the latched message."""
    recorder = make_recorder(files=FileOptions(split_max_bytes=2000, chunk_size_bytes=512))
    recorder.add_topic("/robot_description", "std_msgs/msg/String", [LATCHED])
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.submit("/robot_description", string_msg("<robot/>"), now_ns())
    recorder.start_episode(EpisodeInfo())
    for i in range(200):
        recorder.submit("/chatter", string_msg("x" * 100 + str(i)), now_ns())
    path = recorder.stop_episode().path
    files = sorted(path.glob("*.mcap"))
    assert len(files) > 2
    for file in files:
        topics = [m.topic for m in iter_messages(file)]
        assert topics.count("/robot_description") == 1, file
    assert assert_foxglove_reads(files)["/chatter"] == 200


def test_split_files_together_hold_every_message(make_recorder: Make) -> None:
    """Splitting by size loses nothing: rosbags reads all messages across the files."""
    recorder = make_recorder(files=FileOptions(split_max_bytes=4000, chunk_size_bytes=1024))
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    sent = [string_msg("y" * 50 + str(i)) for i in range(300)]
    for data in sent:
        recorder.submit("/chatter", data, now_ns())
    path = recorder.stop_episode().path
    with AnyReader([path]) as reader:
        assert [data for _c, _t, data in reader.messages()] == sent
    assert assert_foxglove_reads(path) == {"/chatter": 300}


def test_discard_deletes_the_episode(make_recorder: Make) -> None:
    """discard_episode removes the partial directory and leaves no bag behind."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    partial = recorder.start_episode(EpisodeInfo())
    recorder.submit("/chatter", string_msg("x"), now_ns())
    recorder.discard_episode()
    assert not partial.exists()
    assert list(partial.parent.iterdir()) == []


def test_second_start_while_recording_is_refused(make_recorder: Make) -> None:
    """Starting an episode while one runs raises and keeps the running one."""
    recorder = make_recorder()
    recorder.start_episode(EpisodeInfo(), name="first")
    with pytest.raises(BagError, match="first is already being recorded"):
        recorder.start_episode(EpisodeInfo())
    assert recorder.stop_episode().path.name == "first"


def test_full_queue_drops_and_counts_instead_of_growing(make_recorder: Make) -> None:
    """Beyond the queue bound messages are refused and reported as dropped in the loss summary."""
    recorder = make_recorder(queue_max_bytes=0)
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    accepted = [recorder.submit("/chatter", string_msg("z"), now_ns()) for _ in range(5)]
    path = recorder.stop_episode().path
    assert accepted == [False] * 5
    loss = read_bag(path).custom_json("loss")
    assert loss["topics"]["/chatter"]["dropped"] == 5


def test_loss_reported_by_dds_is_counted_per_topic(make_recorder: Make) -> None:
    """Samples DDS reports lost during an episode appear as lost_in_transport of their topic."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    recorder.submit("/chatter", string_msg("a"), now_ns(), 0, 1)
    recorder.note_lost("/chatter", 2)
    recorder.submit("/chatter", string_msg("d"), now_ns(), 0, 4)
    loss = read_bag(recorder.stop_episode().path).custom_json("loss")
    stats = loss["topics"]["/chatter"]
    assert (stats["lost_in_transport"], stats["sequence_gaps"], loss["received"]) == (2, 2, 2)


def test_loss_reported_by_dds_between_episodes_is_not_counted(make_recorder: Make) -> None:
    """A DDS loss report while no episode records does not reach the next episode."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.note_lost("/chatter", 5)
    recorder.start_episode(EpisodeInfo())
    recorder.submit("/chatter", string_msg("a"), now_ns(), 0, 1)
    loss = read_bag(recorder.stop_episode().path).custom_json("loss")
    assert loss["topics"]["/chatter"]["lost_in_transport"] == 0


def test_skew_against_reference_is_summarized(make_recorder: Make) -> None:
    """Header-stamped streams get a skew [ms] against the reference stream's stamps."""
    recorder = make_recorder(sync_reference="/joint_states")
    recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
    recorder.add_topic("/other_joints", "sensor_msgs/msg/JointState", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    base = now_ns()
    for i in range(20):
        recorder.submit("/joint_states", joint_state(base + i * 10_000_000, [0.0]), now_ns())
        recorder.submit(
            "/other_joints", joint_state(base + i * 10_000_000 + 3_000_000, [1.0]), now_ns()
        )
    path = recorder.stop_episode().path
    sync = json.loads(read_bag(path).metadata.custom_data["sync"])
    assert sync["reference"] == "/joint_states"
    assert sync["skew"]["/other_joints"]["max_ms"] == pytest.approx(3.0)


def test_split_by_duration_starts_a_new_file(make_recorder: Make) -> None:
    """With a 2.5 s split duration, ten messages 1 s apart land in four files."""
    recorder = make_recorder(files=FileOptions(split_max_duration_ns=2_500_000_000))
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo())
    start = now_ns()
    for i in range(10):
        recorder.submit("/chatter", string_msg(str(i)), start + i * 1_000_000_000)
    path = recorder.stop_episode().path
    meta = read_metadata_yaml(path)
    assert len(meta.files) == 4
    assert sum(f.message_count for f in meta.files) == 10
    assert assert_foxglove_reads(path) == {"/chatter": 10}


def test_low_disk_is_flagged_in_status(make_recorder: Make) -> None:
    """Below the warning threshold the status says LOW DISK with the free space."""
    recorder = make_recorder(warn_free_bytes=1 << 62)
    status = recorder.status()
    assert status.low_disk
    assert "LOW DISK" in status.console_line()


def test_refuses_to_start_below_minimum_free_space(tmp_path: Path) -> None:
    """An episode does not start when free space is under the minimum; nothing is created."""
    recorder = BagRecorder(RecorderConfig(bag_dir=tmp_path / "b", min_free_bytes=1 << 62))
    try:
        with pytest.raises(BagError, match="MiB free, need"):
            recorder.start_episode(EpisodeInfo())
    finally:
        recorder.close()
    assert not (tmp_path / "b").exists()


def test_unusable_bag_folder_reports_the_operating_system_error(tmp_path: Path) -> None:
    """A bag folder that cannot be created is refused with the OS reason, not as low space."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    recorder = BagRecorder(RecorderConfig(bag_dir=blocker / "bags", min_free_bytes=0))
    try:
        with pytest.raises(BagError, match=r"file/bags: cannot create the bag folder: Not a dir"):
            recorder.start_episode(EpisodeInfo())
    finally:
        recorder.close()


def test_a_bag_folder_that_is_a_file_is_named_as_a_file(tmp_path: Path) -> None:
    """--bag-dir naming a file said "File exists"; now that the path is a file."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    recorder = BagRecorder(RecorderConfig(bag_dir=blocker, min_free_bytes=0))
    try:
        with pytest.raises(BagError) as err:
            recorder.start_episode(EpisodeInfo())
        assert str(err.value) == (
            f"{blocker}: cannot create the bag folder: {blocker} is a file, not a folder"
        )
    finally:
        recorder.close()


def test_free_space_below_minimum_closes_the_episode_cleanly_as_error(
    make_recorder: Make,
) -> None:
    """Free space falling under the minimum mid-episode closes it intact with outcome error,
    `written` equal to the messages in its files."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(), name="low")
    for i in range(20):
        recorder.submit("/chatter", string_msg(f"m{i}"), now_ns(), 0, i + 1)
    # Let the writer thread take all 20 before the disk runs "full": raising the minimum earlier
    # makes the next check stop the episode with messages still queued (counted lost_on_error).
    deadline = time.monotonic() + 10
    while recorder.status().messages_written < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.status().messages_written == 20
    # The next disk check (every second) sees less free space than the minimum.
    recorder.config = replace(recorder.config, min_free_bytes=1 << 62)
    deadline = time.monotonic() + 10
    while recorder.last_result is None and time.monotonic() < deadline:
        time.sleep(0.05)
    result = recorder.last_result
    assert result is not None and result.outcome == "error" and "MiB free" in result.error
    bag = read_bag(result.path)
    loss = bag.custom_json("loss")
    assert bag.metadata.custom_data["outcome"] == "error"
    assert loss["written"] == sum(1 for _ in iter_messages(result.path)) == result.messages == 20
    assert recorder.status().state == "error"


def test_every_message_accepted_before_stop_is_in_the_files(make_recorder: Make) -> None:
    """Messages submitted while a stop waits in the queue are written: the loss summary's
    received equals written + dropped, and written equals the messages in the files."""
    recorder = make_recorder()
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    recorder.start_episode(EpisodeInfo(), name="busy")
    stop = threading.Event()

    def flood() -> None:
        i = 0
        while not stop.is_set():
            recorder.submit("/chatter", string_msg(f"m{i}"), now_ns(), 0, i + 1)
            i += 1

    thread = threading.Thread(target=flood)
    thread.start()
    time.sleep(0.05)
    try:
        path = recorder.stop_episode().path
    finally:
        stop.set()
        thread.join()
    loss = read_bag(path).custom_json("loss")["topics"]["/chatter"]
    assert loss["received"] == loss["written"] + loss["dropped"], loss
    assert loss["written"] == sum(1 for _ in iter_messages(path)), loss


@pytest.mark.parametrize(
    ("station", "prefix"),
    [
        ("", "episode"),
        ("bay07", "bay07"),
        ("Bay 07/east", "Bay-07-east"),
        ("../..", "episode"),
        ("  ", "episode"),
        ("s.1_a-b", "s.1_a-b"),
    ],
)
def test_episode_prefix_is_the_station_as_a_folder_name(station: str, prefix: str) -> None:
    """A station's id names its episodes with every character a folder name cannot safely
    hold replaced; no station (or nothing left of it) gives ``episode``."""
    assert episode_prefix(station) == prefix


def test_episodes_are_named_after_the_prefix(make_recorder: Make) -> None:
    """An episode's default name is ``<prefix>_<UTC start>_<n>``, counted per recorder."""
    recorder = make_recorder(episode_prefix="bay07")
    recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
    names = []
    for _ in range(2):
        recorder.start_episode(EpisodeInfo(station="bay07"))
        recorder.submit("/chatter", string_msg("x"), now_ns(), now_ns(), 1)
        names.append(recorder.stop_episode().path.name)
    assert [n.split("_")[0] for n in names] == ["bay07", "bay07"]
    assert [n.split("_")[2] for n in names] == ["0001", "0002"]


def test_a_restarted_recorder_names_its_episode_past_those_already_there(
    make_recorder: Make,
) -> None:
    """A new recorder (its count back at 1) starting within the second of an earlier one's
    episode names its episode with the next free count instead of failing on the name."""
    second_ns = 1_796_000_000_000_000_000  # one fixed UTC second for both recorders
    names = []
    for _ in range(2):
        recorder = make_recorder(episode_prefix="bay07", clock_ns=lambda: second_ns)
        recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
        recorder.start_episode(EpisodeInfo(station="bay07"))
        names.append(recorder.stop_episode().path.name)
        recorder.close()
    assert names == ["bay07_20261130T005320_0001", "bay07_20261130T005320_0002"]
