"""Reading a source's numeric streams in one piece: the same numbers as message by message,
and message by message whenever a stream's layout changes; the MCAP files it read."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.reader import iter_messages, mcap_files, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.cdr import (
    JointStateDecoder,
    JointStateEncoder,
    JointTrajectoryEncoder,
    decode_joint_trajectory,
    encode_forward_command,
    encode_pose_array,
    encode_pose_stamped,
    pose_array_values,
    pose_stamped_values,
)
from humanoid_teleop.core.motion.rotation import quat_to_matrix
from humanoid_teleop.core.motion.topics import ENGAGED_TOPIC
from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter, arm_geometry
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.errors import PortInputError
from humanoid_teleop.portability.port import target_pipeline
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.source import (
    OBJECTS_TOPIC,
    Float64ArrayDecoder,
    Samples,
    _alike_rows,
    _laid_out_alike,
    decode_float64_array,
    read_source,
    scene_in_metadata,
)
from humanoid_teleop.portability.writer import EpisodeOutput
from test.portability.conftest import copy_changing, copy_without, nan_wrist_copy, recentred_copy

RNG = np.random.default_rng(4)
POSE = "/teleop/ee_target/right"
HAND = "/teleop/intent/right_hand"
COMMAND = "/right_arm_controller/commands"


def _rows(topic: str, datas: list[bytes]) -> np.ndarray | None:
    commands = {COMMAND: Float64ArrayDecoder(COMMAND)}
    return _alike_rows(topic, datas, "/joint_states", JointStateDecoder("j"), {COMMAND: "arm"},
                       commands)  # fmt: skip


def test_pose_streams_read_in_one_piece_equal_each_message() -> None:
    """PoseStamped and PoseArray streams of one layout: every row is the message's own."""
    poses = [encode_pose_stamped(i, 7 * i, "base", RNG.normal(size=7)) for i in range(50)]
    hands = [encode_pose_array(i, 3, "operator", RNG.normal(size=(25, 7))) for i in range(50)]
    got = _rows(POSE, poses)
    assert got is not None
    np.testing.assert_array_equal(got, [pose_stamped_values(d, POSE) for d in poses])
    got = _rows(HAND, hands)
    assert got is not None
    np.testing.assert_array_equal(got, [pose_array_values(d, HAND) for d in hands])
    assert got.dtype == np.float64 and got.flags.writeable  # as the decoders' rows


def test_command_streams_read_in_one_piece_equal_each_message() -> None:
    """A forward command stream of one length: every row is the message's own values."""
    datas = [encode_forward_command(RNG.normal(size=7)) for _ in range(50)]
    got = _rows(COMMAND, datas)
    assert got is not None
    np.testing.assert_array_equal(got, [decode_float64_array(d, COMMAND) for d in datas])


def test_a_stream_whose_layout_changes_is_left_to_the_message_decoders() -> None:
    """A frame id of another length or the same length, or another value count: no rows
    in one piece (the caller decodes each message)."""
    same = [encode_pose_stamped(i, 0, "base", RNG.normal(size=7)) for i in range(5)]
    assert _rows(POSE, [*same, encode_pose_stamped(9, 0, "base_link", np.zeros(7))]) is None
    assert _rows(POSE, [*same, encode_pose_stamped(9, 0, "bask", np.zeros(7))]) is None
    commands = [encode_forward_command(np.ones(7)) for _ in range(5)]
    assert _rows(COMMAND, [*commands, encode_forward_command(np.ones(6))]) is None


def test_one_byte_outside_the_values_differing_leaves_the_stream_to_the_decoders() -> None:
    """Every byte but the values (16-32), the stamp (4-12) when stamped and the tail (32-40)
    when free must equal the first message's: one flipped byte anywhere else is None."""
    first = bytes(range(40))

    def flipped(at: int) -> bytes:
        data = bytearray(first)
        data[at] ^= 1
        return bytes(data)

    def rows(at: int, stamped: bool, free_tail: bool) -> np.ndarray | None:
        return _laid_out_alike([first, flipped(at), first], 16, 32, "<f8", stamped, free_tail)

    for at in (0, 3, 4, 11, 12, 15, 32, 39):
        assert rows(at, False, False) is None, at
    for at in (0, 3, 12, 15):
        assert rows(at, True, True) is None, at
    for at in (4, 11, 16, 31):
        assert rows(at, True, False) is not None, at
    for at in (16, 31, 32, 39):
        got = rows(at, False, True)
        assert got is not None, at
        np.testing.assert_array_equal(got[1], np.frombuffer(flipped(at)[16:32], "<f8"))


def test_joint_states_read_in_one_piece_equal_each_message() -> None:
    """A joint-state stream with fixed names: every row is the message's positions."""
    encoder = JointStateEncoder(("a", "bb", "ccc"))
    datas = [encoder.encode(i, 11 * i, RNG.normal(size=3)) for i in range(50)]
    got = _alike_rows("/joint_states", datas, "/joint_states", JointStateDecoder("j"), {}, {})
    assert got is not None
    want = [JointStateDecoder("j").decode(d)[2] for d in datas]
    np.testing.assert_array_equal(got, want)


def _named(topic: str, datas: list[bytes], group: tuple[str, ...], kind: str) -> np.ndarray | None:
    return _alike_rows(topic, datas, "/joint_states", JointStateDecoder("j"), {}, {},
                       {topic: (group, kind)})  # fmt: skip


def test_trajectory_and_joint_state_commands_read_in_one_piece_in_the_groups_order() -> None:
    """A trajectory (TALOS') or JointState command stream with fixed names in another order
    than the group's: every row is the message's positions put in the group's order, as
    the message-by-message reader puts them; another layout within the stream: None."""
    names, group = ("c", "a", "b"), ("a", "b", "c")
    trajectory = JointTrajectoryEncoder(names, 0, 4_000_000)
    datas = [trajectory.encode(i, 13 * i, RNG.normal(size=3)) for i in range(40)]
    got = _named("/arm/joint_trajectory", datas, group, "trajectory")
    assert got is not None
    order = [names.index(n) for n in group]
    np.testing.assert_array_equal(got, [decode_joint_trajectory(d, "t")[1][order] for d in datas])
    later = JointTrajectoryEncoder(names, 0, 8_000_000).encode(99, 0, np.zeros(3))
    assert _named("/arm/joint_trajectory", [*datas, later], group, "trajectory") is None
    joint_state = JointStateEncoder(names)
    datas = [joint_state.encode(i, 0, RNG.normal(size=3)) for i in range(40)]
    got = _named("/arm/command", datas, group, "joint_state")
    assert got is not None
    np.testing.assert_array_equal(got, [JointStateDecoder("j").decode(d)[2][order] for d in datas])
    renamed = JointStateEncoder(("c", "b", "a")).encode(99, 0, np.zeros(3))
    assert _named("/arm/command", [*datas, renamed], group, "joint_state") is None


def test_samples_look_up_the_newest_sample_as_searchsorted_does() -> None:
    """Samples.at and index give np.searchsorted(side="right")'s sample, the first before
    the stream starts, at, between and after sample times."""
    t = np.array([0.0, 0.004, 0.004, 0.008, 0.5])
    samples = Samples(t, np.arange(5.0))
    for when in (-1.0, 0.0, 0.002, 0.004, 0.0041, 0.008, 0.3, 0.5, 9.0):
        expected = max(int(np.searchsorted(t, when, side="right")) - 1, 0)
        assert samples.index(when) == expected and samples.at(when) == expected


def test_pose_rotations_equal_each_rows_quaternion_matrix() -> None:
    """Samples.rotation_at is quat_to_matrix of the sample's quaternion, bit for bit; with a
    quaternion of no direction in the stream only that row raises."""
    values = np.hstack([RNG.normal(size=(30, 3)), RNG.normal(size=(30, 4))])
    samples = Samples(np.arange(30) * 0.01, values)
    for i in range(30):
        expected = quat_to_matrix(values[i, 3:7])
        assert samples.rotation_at(i * 0.01).tobytes() == expected.tobytes()
    values[7, 3:7] = 0.0
    broken = Samples(np.arange(30) * 0.01, values)
    assert broken.rotation_at(0.05).tobytes() == quat_to_matrix(values[5, 3:7]).tobytes()
    with pytest.raises(ValueError, match="no direction"):
        broken.rotation_at(0.07)


def test_a_source_keeps_the_mcap_files_its_metadata_lists(sources: list[Path]) -> None:
    """A read source names its MCAP files as mcap_files lists them."""
    files = read_source(sources[0]).files
    assert files and list(files) == mcap_files(sources[0])


def test_the_metadata_tells_the_scene_read_source_gives_where_it_can(
    sources: list[Path], tmp_path: Path
) -> None:
    """scene_in_metadata: the episode's custom.scene, "" for an episode without objects,
    None where only its decoded object names tell, as read_source then finds it."""
    scene = read_source(sources[0]).scene
    assert scene and scene_in_metadata(read_bag(sources[0])) == scene
    unnamed = copy_without(sources[0], tmp_path / "unnamed", lambda t: False, {"scene": ""})
    assert scene_in_metadata(read_bag(unnamed)) is None and read_source(unnamed).scene == scene
    bare = copy_without(
        sources[0], tmp_path / "bare", lambda t: t.startswith("/sim/"), {"scene": ""}
    )
    assert scene_in_metadata(read_bag(bare)) == read_source(bare).scene == ""


def test_an_object_count_that_changes_is_refused(sources: list[Path], tmp_path: Path) -> None:
    """A copy whose /sim/objects message in the middle lists one object more: its rows are
    decoded one by one (the layout changes) and the changing count is refused; the
    unchanged copy's rows, read as one array, pass."""
    source = sources[0]
    metadata = read_bag(source).metadata
    poses = [m for m in iter_messages(source, [OBJECTS_TOPIC])]
    assert len(poses) > 2
    cut = poses[len(poses) // 2]
    for name, change in (("same", False), ("more", True)):
        output = EpisodeOutput(tmp_path, name, EpisodeInfo(robot=metadata.custom_data["robot"]),
                               START_NS)  # fmt: skip
        for topic in metadata.topics:
            output.topic(topic.name, topic.type)
        for message in iter_messages(source):
            data = message.data
            if change and message.topic == OBJECTS_TOPIC and message.log_time_ns == cut.log_time_ns:
                values = pose_array_values(data, OBJECTS_TOPIC)
                data = encode_pose_array(0, 0, "pelvis", np.vstack([values, values[:1]]))
            output.raw(message.topic, message.log_time_ns, data)
        output.close("success", START_NS + metadata.duration_ns)
    assert read_source(tmp_path / "same").objects is not None
    with pytest.raises(PortInputError, match="the number of objects changes"):
        read_source(tmp_path / "more")


def test_messages_received_late_are_read_at_their_sample_times(
    sources: list[Path], tmp_path: Path
) -> None:
    """A copy whose object poses, joint states and arm commands of one second reached the
    recorder in a burst 1.5 s late (their log times; stamps and publish times as sampled),
    as a live recording's did on a loaded host, reads as the on-time source: every stream's
    times and values equal (by log time the object would hover while the hand set it down)."""
    source = sources[0]
    metadata = read_bag(source).metadata
    late_topics = {OBJECTS_TOPIC, "/joint_states", COMMAND}
    assert late_topics <= {t.name for t in metadata.topics}
    first_ns = min(m.log_time_ns for m in iter_messages(source))
    burst = (first_ns + 1_000_000_000, first_ns + 2_000_000_000)
    output = EpisodeOutput(tmp_path, "late", EpisodeInfo(robot=metadata.custom_data["robot"]),
                           START_NS)  # fmt: skip
    latched = {"/robot_description", "/tf_static", "/sim/object_names", "/sim/task/outcome"}
    for topic in metadata.topics:
        output.topic(topic.name, topic.type, latched=topic.name in latched)
    held = []
    for message in iter_messages(source):
        t_ns = message.log_time_ns
        if message.topic in late_topics and burst[0] <= t_ns < burst[1]:
            held.append(message)
            continue
        if held and t_ns >= burst[1] + 500_000_000:
            for late in held:  # received now: logged at the running newest time
                output.raw(late.topic, late.log_time_ns, late.data)
            held = []
        output.raw(message.topic, t_ns, message.data)
    output.close("success", START_NS + metadata.duration_ns)
    late_path = tmp_path / "late"
    # the burst is in the copy's log times: no object pose logged within the burst's second
    logged = [m.log_time_ns for m in iter_messages(late_path, [OBJECTS_TOPIC])]
    assert max(np.diff(logged)) >= 900_000_000
    on_time, late = read_source(source), read_source(late_path)
    assert late.engage_ns == on_time.engage_ns
    for got, expected in ((late.joints, on_time.joints), (late.objects, on_time.objects)):
        assert got is not None and expected is not None
        np.testing.assert_array_equal(got.t_s, expected.t_s)
        np.testing.assert_array_equal(got.values, expected.values)
    for group, expected in on_time.commands.items():
        np.testing.assert_array_equal(late.commands[group].t_s, expected.t_s)
        np.testing.assert_array_equal(late.commands[group].values, expected.values)


def test_a_stream_stamped_by_an_unsynchronised_clock_is_one_line_naming_it(
    sources: list[Path], tmp_path: Path
) -> None:
    """Joint states stamped an hour ahead of the recorder's clock: refused, naming the file,
    the topic and how far its stamps lie outside the recorded span."""

    def ahead(topic: str, t_ns: int, data: bytes) -> tuple[int, bytes]:
        if topic != "/joint_states":
            return t_ns, data
        sec = struct.unpack_from("<i", data, 4)[0] + 3600
        return t_ns, data[:4] + struct.pack("<i", sec) + data[8:]

    copy = copy_changing(sources[0], tmp_path, "ahead", ahead)
    with pytest.raises(PortInputError) as err:
        read_source(copy)
    assert str(err.value).startswith(
        f"{copy}: /joint_states: its header stamps lie 3600.0 s after the span the recorder "
        "logged the episode in: stamped by a clock not synchronised"
    )


def test_intent_is_read_when_the_teleop_node_used_it(sources: list[Path], tmp_path: Path) -> None:
    """A copy whose intent hand was republished 7 ms after its stamp (a live teleop node
    uses a hand that came just after its wrist at its next step) reads that hand 7 ms
    later, when the commands followed it: at its publish time, as the unstamped commands
    are; the wrist, the commands and the joints as before, every value the same."""
    hand_topic = "/teleop/intent/right_hand"

    def used_later(topic: str, t_ns: int, data: bytes) -> tuple[int, bytes]:
        return (t_ns + 7_000_000 if topic == hand_topic else t_ns), data

    copy = copy_changing(sources[0], tmp_path, "later", used_later)
    stamps = [m.sample_time_ns for m in iter_messages(copy, [hand_topic])]
    assert stamps == [m.sample_time_ns for m in iter_messages(sources[0], [hand_topic])]
    on_time, later = read_source(sources[0]), read_source(copy)
    assert later.intent_source == on_time.intent_source == "/teleop/intent/"
    np.testing.assert_allclose(
        later.hands["right"].t_s, on_time.hands["right"].t_s + 0.007, rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(later.hands["right"].values, on_time.hands["right"].values)
    np.testing.assert_array_equal(later.wrists["right"].t_s, on_time.wrists["right"].t_s)
    for group, expected in on_time.commands.items():
        np.testing.assert_array_equal(later.commands[group].t_s, expected.t_s)
    np.testing.assert_array_equal(later.joints.t_s, on_time.joints.t_s)


def test_an_episode_started_while_engaged_counts_from_its_start(
    sources: list[Path], tmp_path: Path
) -> None:
    """The latched engage of an operator engaged before the episode began (published a
    minute before it, logged at its start): the episode's times count from its start, as
    for the same episode engaged at its start."""

    def engaged_earlier(topic: str, t_ns: int, data: bytes) -> tuple[int, bytes]:
        return (t_ns - 60_000_000_000 if topic == ENGAGED_TOPIC else t_ns), data

    on_time = read_source(sources[0])
    assert on_time.engage_ns == read_bag(sources[0]).metadata.starting_time_ns
    copy = copy_changing(sources[0], tmp_path, "engaged_before", engaged_earlier)
    earlier = read_source(copy)
    assert next(m.publish_time_ns for m in iter_messages(copy, [ENGAGED_TOPIC])) < START_NS
    assert earlier.engage_ns == on_time.engage_ns
    np.testing.assert_array_equal(earlier.joints.t_s, on_time.joints.t_s)


def test_a_recorded_calibration_that_is_not_a_pose_names_its_topic(sources: list[Path]) -> None:
    """The calibration in effect is read from the first EE target and the wrist it was
    mapped from: a target whose quaternion is zero is refused in one line naming it."""
    source = read_source(sources[0])
    wrist, target = source.first_mapped_wrist("right") or (None, None)
    assert wrist is not None and target is not None
    targets = source.ee_targets["right"]
    values = targets.values.copy()
    values[0, 3:7] = 0.0
    source.ee_targets["right"] = Samples(targets.t_s, values)
    with pytest.raises(PortInputError, match=r"/teleop/ee_target/right at 0\.004 s: .* not a pose"):
        source.first_mapped_wrist("right")


@pytest.mark.parametrize("by_engage", [False, True], ids=["calibrated", "engaged_again"])
def test_input_after_a_recentre_reads_in_the_first_calibration(
    sources: list[Path], tmp_path: Path, models: Callable[[str], RobotModel], by_engage: bool
) -> None:
    """An operator who re-centred 2 s in with the hand 10 cm away and the controller turned
    0.5 rad (marked on /teleop/intent/calibrated, or, recorded before it, by a disengage and
    an engage): the episode names the time, and its input read in the first calibration
    is the input of the episode that never re-centred, to rounding."""
    shift = np.array([0.06, -0.05, 0.06])
    turn = quat_to_matrix(np.array([0.0, np.sin(0.25), 0.0, np.cos(0.25)]))
    copy, at_ns = recentred_copy(sources[0], tmp_path, "recentred", 2.0, shift, turn, by_engage)
    original, recentred = read_source(sources[0]), read_source(copy)
    assert original.recalibrations_s == ()
    assert recentred.recalibrations_s == pytest.approx(((at_ns - original.engage_ns) / 1e9,))
    wrists = recentred.wrists["right"].values
    assert np.abs(wrists[-1, :3] - original.wrists["right"].values[-1, :3]).max() > 0.05
    rebased = recentred.in_first_calibration("right", _scale(models("g1")))
    np.testing.assert_allclose(rebased.wrists["right"].values[:, :3],
                               original.wrists["right"].values[:, :3], atol=1e-9)  # fmt: skip
    for got, expected in zip(rebased.wrists["right"].values, original.wrists["right"].values,
                             strict=True):  # fmt: skip
        np.testing.assert_allclose(quat_to_matrix(got[3:7]), quat_to_matrix(expected[3:7]),
                                   atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(rebased.hands["right"].values, original.hands["right"].values,
                               atol=1e-9)  # fmt: skip


def test_raw_device_input_sent_during_a_pause_is_not_read(
    sources: list[Path], tmp_path: Path, models: Callable[[str], RobotModel]
) -> None:
    """Raw device input only (/operator/*, no intent topics): the operator paused 1 s before
    engaging again 2 s in, the device sending on and the hand 10 cm away from the pause on.
    The pause's wrist and hand samples are not read (its robot held), and the rest, read in
    the first calibration, is the input of the episode without the pause."""
    shift = np.array([0.06, -0.05, 0.06])
    copy, at_ns = recentred_copy(sources[0], tmp_path, "raw", 2.0, shift, np.eye(3),
                                 raw_input_pause_s=1.0)  # fmt: skip
    original, raw = read_source(sources[0]), read_source(copy)
    assert raw.intent_source == "/operator/"
    paused_s = ((at_ns - 1_000_000_000 - raw.engage_ns) / 1e9, (at_ns - raw.engage_ns) / 1e9)
    # a sample at the disengage or at the engage is read, those between are not (samples
    # 4 ms apart: 1 us tells them from the bounds' rounding)
    paused_s = (paused_s[0] + 1e-6, paused_s[1] - 1e-6)
    assert raw.recalibrations_s == pytest.approx((paused_s[1],), abs=1e-5)
    for stream, recorded in ((raw.wrists, original.wrists), (raw.hands, original.hands)):
        t = recorded["right"].t_s
        kept = (t <= paused_s[0]) | (t >= paused_s[1])
        assert 200 < (~kept).sum() < 300  # 1 s at 250 Hz
        np.testing.assert_array_equal(stream["right"].t_s, t[kept])
    rebased = raw.in_first_calibration("right", _scale(models("g1")))
    t = original.wrists["right"].t_s
    kept = (t <= paused_s[0]) | (t >= paused_s[1])
    np.testing.assert_allclose(rebased.wrists["right"].values[:, :3],
                               original.wrists["right"].values[kept, :3], atol=1e-9)  # fmt: skip
    t = original.hands["right"].t_s
    kept = (t <= paused_s[0]) | (t >= paused_s[1])
    np.testing.assert_allclose(rebased.hands["right"].values,
                               original.hands["right"].values[kept], atol=1e-9)  # fmt: skip


def test_a_recentre_without_recorded_targets_is_one_line_naming_the_topic(
    sources: list[Path], tmp_path: Path
) -> None:
    """Without EE targets the new calibration cannot be read: refused, naming the topic."""
    turn = np.eye(3)
    copy, _ = recentred_copy(sources[0], tmp_path, "recentred", 2.0, np.full(3, 0.05), turn)
    source = read_source(copy)
    del source.ee_targets["right"]
    with pytest.raises(PortInputError, match=r"calibrated anew at 2\.\d+ s, but no "
                       r"/teleop/ee_target/right targets"):  # fmt: skip
        source.in_first_calibration("right", 1.0)


def _scale(model: RobotModel) -> float:
    """The position scale of the right arm's calibration in the port's profile."""
    pipeline = target_pipeline(model)
    arm_ik = next(r for r in pipeline.retargeters if isinstance(r, ArmIkRetargeter))
    length_m = arm_geometry(model, "right", model.home_positions())[0]
    return arm_ik.calibration_config.scale_for(length_m)


def test_a_later_calibration_that_is_not_a_pose_names_its_topic(
    sources: list[Path], tmp_path: Path
) -> None:
    """A later calibration is read as the first is: a target there whose quaternion is zero
    is refused in one line naming it and its time (not rebased into non-finite input)."""
    copy, _ = recentred_copy(sources[0], tmp_path, "recentred", 2.0, np.full(3, 0.05),
                             np.eye(3))  # fmt: skip
    source = read_source(copy)
    targets = source.ee_targets["right"]
    j = int(np.searchsorted(targets.t_s, source.recalibrations_s[0]))
    values = targets.values.copy()
    values[j, 3:7] = 0.0
    source.ee_targets["right"] = Samples(targets.t_s, values)
    with pytest.raises(PortInputError, match=rf"/teleop/ee_target/right at "
                       rf"{targets.t_s[j]:.3f} s: .* not a pose"):  # fmt: skip
        source.in_first_calibration("right", 1.0)


def test_a_wrist_that_holds_a_nan_is_left_out_and_named(
    sources: list[Path], tmp_path: Path
) -> None:
    """One intent wrist message with a NaN: read without it (every other sample as it was),
    and ``left_out`` names the topic, the count and when the first was."""
    copy, messages = nan_wrist_copy(sources[0], tmp_path)
    clean, read = read_source(sources[0]), read_source(copy)
    assert clean.left_out == ()
    (line,) = read.left_out
    assert line.startswith(f"/teleop/intent/right_wrist: 1 of {messages} messages hold a NaN")
    kept = np.delete(np.arange(len(clean.wrists["right"].t_s)), 299)
    np.testing.assert_array_equal(read.wrists["right"].t_s, clean.wrists["right"].t_s[kept])
    np.testing.assert_array_equal(read.wrists["right"].values, clean.wrists["right"].values[kept])
    assert np.isfinite(read.wrists["right"].values).all()


def test_a_stream_without_a_finite_message_is_one_line_naming_it(
    sources: list[Path], tmp_path: Path
) -> None:
    copy, _ = nan_wrist_copy(sources[0], tmp_path, every=1)
    with pytest.raises(PortInputError, match="right_wrist: no message without a NaN") as err:
        read_source(copy)
    assert str(copy) in str(err.value)


def test_an_unknown_robot_or_scene_in_the_metadata_is_one_line_naming_the_episode(
    sources: list[Path], tmp_path: Path
) -> None:
    """An episode whose metadata names a robot or a scene this install does not have is
    one line naming the episode and the key (it named only the robot or scene)."""
    import shutil

    from .conftest import copy_without

    robotless = Path(shutil.copytree(sources[0], tmp_path / "robot" / sources[0].name))
    metadata = robotless / "metadata.yaml"
    text = metadata.read_text()
    assert "\n    robot: g1\n" in text
    metadata.write_text(text.replace("\n    robot: g1\n", "\n    robot: nosuchbot\n"))
    with pytest.raises(PortInputError) as err:
        read_source(robotless)
    line = str(err.value)
    assert line.startswith(f"{robotless}: metadata.yaml custom_data robot: no robot 'nosuchbot'")
    assert line.endswith("(or name it with --from ROBOT)") and "\n" not in line
    sceneless = copy_without(sources[0], tmp_path / "scene", lambda t: False, {"scene": "nope"})
    with pytest.raises(PortInputError) as err:
        read_source(sceneless)
    line = str(err.value)
    assert line.startswith(f"{sceneless}: metadata.yaml custom_data custom.scene: no scene 'nope'")
    assert "\n" not in line
