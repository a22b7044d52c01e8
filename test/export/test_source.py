"""Reading an episode for export: sparse decoding gives the same frames; the bag is untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.reader import bag_content_hash
from humanoid_teleop.export.errors import ExportInputError
from humanoid_teleop.export.layout import build_frames, cameras
from humanoid_teleop.export.runner import ExportRequest, export
from humanoid_teleop.export.shard import robot_model
from humanoid_teleop.export.source import port_provenance, read_episode
from test.export.helpers import Episode

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.parametrize("layout", ["robot", "canonical"])
def test_decoding_only_the_samples_frames_use_gives_the_same_frames(
    episodes: list[Episode], layout: str
) -> None:
    """Frames from the sparse read (fps given) equal those from decoding every message."""
    for episode in episodes[:2]:
        model = robot_model(episode.robot)
        keys = tuple(sorted(cameras(model)))
        every = read_episode(episode.path, model.description)
        sparse = read_episode(episode.path, model.description, fps=30)
        a = build_frames(model, every, layout, 30, keys, "task")  # type: ignore[arg-type]
        b = build_frames(model, sparse, layout, 30, keys, "task")  # type: ignore[arg-type]
        assert a.columns.keys() == b.columns.keys()
        for key in a.columns:
            np.testing.assert_array_equal(a.columns[key], b.columns[key], err_msg=key)
        for key in keys:
            assert all(
                np.array_equal(x, y) for x, y in zip(a.images[key], b.images[key], strict=True)
            )


def test_export_leaves_the_recorded_episode_untouched(
    episodes: list[Episode], tmp_path: Path
) -> None:
    """No recorded data is lost or changed: the bag's content hash is the same after export."""
    before = bag_content_hash(episodes[0].path)
    files_before = sorted(p.name for p in episodes[0].path.iterdir())
    export(ExportRequest(sources=(episodes[0].path,), output=tmp_path / "ds", include_failed=True))
    assert bag_content_hash(episodes[0].path) == before
    assert sorted(p.name for p in episodes[0].path.iterdir()) == files_before


def test_eef_pose_is_forward_kinematics_of_the_measured_joints(episodes: list[Episode]) -> None:
    """Robot layout: each frame's tool poses are FK of the bag's joint states at that time."""
    from rosbags.typesys import Stores, get_typestore

    from humanoid_teleop.core.bag.reader import iter_messages
    from humanoid_teleop.core.motion.rotation import matrix_to_quat

    store = get_typestore(Stores.ROS2_JAZZY)
    episode = episodes[1]
    model = robot_model(episode.robot)
    data = read_episode(episode.path, model.description, fps=30)
    frames = build_frames(model, data, "robot", 30, tuple(sorted(cameras(model))), "task")
    states = [
        store.deserialize_cdr(m.data, m.type)
        for m in iter_messages(episode.path, topics=[model.description.sensors.joint_state_topic])
    ]
    t = np.array([s.header.stamp.sec * 10**9 + s.header.stamp.nanosec for s in states])
    order = np.argsort(t)
    names = list(states[0].name)
    positions = np.array([s.position for s in states])[order]
    for i in range(0, len(frames.grid_ns), 17):
        q = model.home_positions()
        for j, name in enumerate(model.joint_names):
            if name in names:
                # Times relative to the first sample: absolute ns (~1.8e18) lose ~256 ns to float64.
                q[j] = np.interp(
                    frames.grid_ns[i] - t[order][0],
                    t[order] - t[order][0],
                    positions[:, names.index(name)],
                )
        for k, side in enumerate(("left", "right")):
            rotation, position = model.fk(q, model.description.arms[side].ee_frame)
            expected = np.concatenate([position, matrix_to_quat(rotation)])
            got = frames.columns["observation.eef_pose"][i, 7 * k : 7 * k + 7]
            np.testing.assert_allclose(got[:3], expected[:3], rtol=0, atol=1e-7)  # [m]
            # The export converts rotations to quaternions in a batch, the reference one by one:
            # the two algorithms differ by up to ~2e-7 per component (1e-6 is ~6e-5 degrees).
            np.testing.assert_allclose(got[3:], expected[3:], rtol=0, atol=1e-6)


def _hand_episode(folder: Path, name: str, topic: str) -> tuple[Path, list[int]]:
    """A G1 episode of 1 s: joint states and a still right hand on ``topic``, each hand
    published 7 ms after its stamp; returns it and the stamps [ns]."""
    from humanoid_teleop.core.bag.recorder import EpisodeInfo
    from humanoid_teleop.core.motion import cdr
    from humanoid_teleop.portability.scripted import START_NS
    from humanoid_teleop.portability.writer import EpisodeOutput

    model = robot_model("g1")
    output = EpisodeOutput(folder, name, EpisodeInfo(robot="g1"), START_NS)
    joint_topic = model.description.sensors.joint_state_topic
    output.topic(joint_topic, "sensor_msgs/msg/JointState")
    output.topic(topic, "geometry_msgs/msg/PoseArray")
    joints = np.tile([0.3, -0.2, 1.0, 0.0, 0.0, 0.0, 1.0], (25, 1))
    stamps = [START_NS + k * 20_000_000 for k in range(50)]
    for t_ns in stamps:
        output.joint_state(joint_topic, t_ns, model.joint_names, model.home_positions())
        sec, nanosec = divmod(t_ns, 1_000_000_000)
        output.raw(topic, t_ns + 7_000_000, cdr.encode_pose_array(sec, nanosec, "op", joints))
    return output.close("success", stamps[-1]), stamps


def test_operator_input_the_teleop_node_republished_counts_when_a_step_used_it(
    tmp_path: Path,
) -> None:
    """An intent hand republished 7 ms after its stamp (a live teleop node uses a hand that
    came just after its wrist at its next step) is read at its publish time, as the port
    reads it and as the commands it made are; a device's own hand topic at its stamps."""
    from humanoid_teleop.core.motion.topics import INTENT_PREFIX, OPERATOR_PREFIX

    description = robot_model("g1").description
    for prefix, late_ns in ((INTENT_PREFIX, 7_000_000), (OPERATOR_PREFIX, 0)):
        path, stamps = _hand_episode(tmp_path, prefix.strip("/").replace("/", "_"),
                                     prefix + "right_hand")  # fmt: skip
        hand = read_episode(path, description).intent_hands["right_hand"]
        np.testing.assert_array_equal(hand.t_ns, np.array(stamps) + late_ns, err_msg=prefix)


def test_port_provenance_reads_the_port_keys_and_names_a_broken_report(tmp_path: Path) -> None:
    """A ported episode's ``custom.port.*`` keys without their prefix, the report parsed;
    nothing for a native episode; a report that is no JSON object names its key."""
    native = {"robot": "g1", "custom.scene": "push"}
    assert port_provenance(tmp_path, native) == {}
    ported = {
        **native,
        "custom.port.source_robot": "alex",
        "custom.port.report": '{"target_robot": "g1"}',
    }
    assert port_provenance(tmp_path, ported) == {
        "source_robot": "alex",
        "report": {"target_robot": "g1"},
    }
    for text in ("{not json", "[1, 2]"):
        with pytest.raises(ExportInputError, match=r"custom_data\.custom\.port\.report"):
            port_provenance(tmp_path, {**ported, "custom.port.report": text})
