"""A ported episode is a complete episode: /tf and /tf_static as the simulator node publishes
them (links from the target's measured joints, scene objects as ``sim/<object>``) and
/teleop/state as the teleop node writes it, readable by rosbags and Foxglove's libraries."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import iter_messages, read_bag
from humanoid_teleop.core.motion.cdr import pose_array_values
from humanoid_teleop.core.motion.rotation import quat_to_matrix
from humanoid_teleop.core.motion.topics import STATE_TOPIC
from humanoid_teleop.core.retarget.teleop_state import STATE_TYPE
from humanoid_teleop.core.robot import RobotModel, find_robot_file, load_robot
from humanoid_teleop.core.sim.robot_scene import RobotScene
from humanoid_teleop.portability.port import PortOptions, PortResult, port_episode
from humanoid_teleop.portability.report import FREE_P95_M
from humanoid_teleop.portability.scripted import record_scripted_episode
from humanoid_teleop.portability.source import read_source
from humanoid_teleop.portability.writer import TF, TF_RATE_HZ
from test.core.bag.foxglove import assert_foxglove_reads
from test.portability.conftest import PAIR, RATE_HZ

STORE = get_typestore(Stores.ROS2_JAZZY)
#: The keys the teleop node writes on every /teleop/state once it has stepped (the step
#: time percentiles aside: a port has no robot-time step cost).
STATE_KEYS = {"engaged", "estopped", "steps", "joint_states", "hold_reason", "input_age_s"}


def _decoded(episode: Path, topic: str, type_name: str) -> list[tuple[int, Any]]:
    """(log time [ns], message decoded by rosbags) of every message on ``topic``."""
    return [
        (m.log_time_ns, STORE.deserialize_cdr(m.data, type_name))
        for m in iter_messages(episode, [topic])
    ]


def _stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _transform(t: Any) -> tuple[np.ndarray, np.ndarray]:
    """(rotation 3x3, translation [m]) of a TransformStamped."""
    r, v = t.transform.rotation, t.transform.translation
    return quat_to_matrix(np.array([r.x, r.y, r.z, r.w])), np.array([v.x, v.y, v.z])


def _port_first_source(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    out_dir: Path,
    options: PortOptions,
    target: str = PAIR[2],
) -> PortResult:
    """PAIR's first episode ported to ``target`` (PAIR's by default) with ``options``."""
    source_robot = PAIR[1]
    return port_episode(
        read_source(sources[0]), models(source_robot), models(target), out_dir, options
    )


@pytest.fixture(scope="module")
def kinematic(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> PortResult:
    """PAIR's first episode ported to the target without physics."""
    out_dir = tmp_path_factory.mktemp("kinematic")
    return _port_first_source(sources, models, out_dir, PortOptions(sim=False))


@pytest.fixture(scope="module")
def physics(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> PortResult:
    """PAIR's first episode ported to the target in physics (cameras off)."""
    out_dir = tmp_path_factory.mktemp("physics")
    return _port_first_source(sources, models, out_dir, PortOptions(sim=True, cameras=False))


def test_kinematic_port_tf_equals_fk_of_its_joint_states(
    kinematic: PortResult, models: Callable[[str], RobotModel]
) -> None:
    """Each /tf message holds every moving link edge, stamped like a joint state, and its
    transforms are the target's FK (pinocchio, every frame) at that joint state."""
    model = models(PAIR[2])
    scene = RobotScene(model)
    joints = {
        _stamp_ns(msg.header): np.array(msg.position)
        for _, msg in _decoded(kinematic.path, "/joint_states", "sensor_msgs/msg/JointState")
    }
    tf = _decoded(kinematic.path, "/tf", TF)
    assert len(tf) >= 10
    edges = scene.moving_edges
    for log_ns, msg in tf:
        stamps = {_stamp_ns(t.header) for t in msg.transforms}
        assert stamps == {log_ns}, "one stamp per message: the joint sample's"
        assert [(t.header.frame_id, t.child_frame_id) for t in msg.transforms] == [
            (e.parent, e.child) for e in edges
        ]
        poses = model.fk_all(joints[log_ns])
        for t, (_, rotation, translation) in zip(
            msg.transforms, scene.transforms(poses, edges), strict=True
        ):
            got_r, got_p = _transform(t)
            np.testing.assert_allclose(got_r, rotation, atol=1e-9)
            np.testing.assert_allclose(got_p, translation, atol=1e-9)


def test_tf_is_written_at_the_simulator_rate(kinematic: PortResult) -> None:
    """/tf comes every 1 / TF_RATE_HZ of episode time (the sim node's tf_rate_hz) from the
    first joint state on."""
    times = np.array([t for t, _ in _decoded(kinematic.path, "/tf", TF)])
    assert times[0] == next(iter_messages(kinematic.path, ["/joint_states"])).log_time_ns
    np.testing.assert_array_equal(np.diff(times), round(1e9 / TF_RATE_HZ))


def test_tf_static_holds_the_fixed_frames_once_latched(
    kinematic: PortResult, models: Callable[[str], RobotModel]
) -> None:
    """One latched /tf_static message with every static edge (sensors, cameras) at the
    episode start, the transforms the simulator node publishes."""
    model = models(PAIR[2])
    scene = RobotScene(model)
    (only,) = _decoded(kinematic.path, "/tf_static", TF)
    _, msg = only
    assert [(t.header.frame_id, t.child_frame_id) for t in msg.transforms] == [
        (e.parent, e.child) for e in scene.static_edges
    ]
    reference = scene.transforms(model.fk_all(model.home_positions()), scene.static_edges)
    for t, (_, rotation, translation) in zip(msg.transforms, reference, strict=True):
        got_r, got_p = _transform(t)
        np.testing.assert_allclose(got_r, rotation, atol=1e-9)
        np.testing.assert_allclose(got_p, translation, atol=1e-9)
    qos = read_bag(kinematic.path).topic("/tf_static").offered_qos_profiles
    assert all(q.latched for q in qos)


def test_teleop_state_has_the_live_keys_at_10_hz(
    kinematic: PortResult, models: Callable[[str], RobotModel]
) -> None:
    """/teleop/state: the teleop node's status at 10 Hz, engaged, a step count that grows,
    its level and message agreeing with the hold reason, clamped joints by the target's
    names."""
    states = _decoded(kinematic.path, STATE_TOPIC, STATE_TYPE)
    first_joints = next(iter_messages(kinematic.path, ["/joint_states"])).log_time_ns
    times = np.array([t for t, _ in states])
    assert times[0] == first_joints
    np.testing.assert_array_equal(np.diff(times), 100_000_000)
    steps = []
    clamped = set()
    for log_ns, msg in states:
        assert _stamp_ns(msg.header) == log_ns
        (status,) = msg.status
        values = {kv.key: kv.value for kv in status.values}
        assert values.keys() >= STATE_KEYS, values
        assert (status.name, status.hardware_id, values["engaged"]) == ("teleop", PAIR[2], "true")
        if values["hold_reason"]:
            assert (status.level, status.message) == (1, f"holding: {values['hold_reason']}")
        else:
            assert (status.level, status.message) == (0, "engaged")
        steps.append(int(values["steps"]))
        clamped |= {j for k, v in values.items() if k.startswith("clamped_") for j in v.split(",")}
        assert 0 <= int(values["steps_clamped"]) <= 25  # of the 25 steps at 250 Hz per state
    assert steps == sorted(steps) and steps[0] >= 1
    assert clamped <= set(models(PAIR[2]).joint_names)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_physics_port_tf_carries_the_objects_as_the_simulator_names_them(
    physics: PortResult, models: Callable[[str], RobotModel]
) -> None:
    """In physics /tf also holds ``<base frame> -> sim/<object>`` at the /sim/objects poses
    of the same stamp, after the links, as the simulator node publishes them."""
    base = models(PAIR[2]).description.base_frame
    names = next(iter_messages(physics.path, ["/sim/object_names"]))
    object_names = STORE.deserialize_cdr(names.data, "std_msgs/msg/String").data.split(",")
    objects = {
        m.log_time_ns: pose_array_values(m.data, "/sim/objects")
        for m in iter_messages(physics.path, ["/sim/objects"])
    }
    tf = _decoded(physics.path, "/tf", TF)
    assert tf
    for log_ns, msg in tf:
        tail = msg.transforms[-len(object_names) :]
        assert [(t.header.frame_id, t.child_frame_id) for t in tail] == [
            (base, f"sim/{n}") for n in object_names
        ]
        for t, row in zip(tail, objects[log_ns], strict=True):
            got_r, got_p = _transform(t)
            np.testing.assert_allclose(got_p, row[:3], atol=1e-12)
            np.testing.assert_allclose(got_r, quat_to_matrix(row[3:7]), atol=1e-9)


def test_kinematic_port_with_the_new_topics_passes_bag_check_and_foxglove(
    kinematic: PortResult,
) -> None:
    """`bag check` finds no defect and Foxglove's libraries decode every message, /tf,
    /tf_static and /teleop/state included."""
    report = check_bag(kinematic.path)
    assert report.ok, report.defects
    counts = assert_foxglove_reads(kinematic.path)
    assert {"/tf", "/tf_static", STATE_TOPIC} <= counts.keys()


@pytest.fixture(scope="module")
def into_talos(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> PortResult:
    """PAIR's first episode ported without physics to TALOS, whose robot.yaml commands every
    group through a ``trajectory`` interface (JointTrajectory)."""
    out_dir = tmp_path_factory.mktemp("into_talos")
    return _port_first_source(sources, models, out_dir, PortOptions(sim=False), "talos")


def test_trajectory_commands_are_written_as_the_teleop_node_sends_them(
    into_talos: PortResult, models: Callable[[str], RobotModel]
) -> None:
    """The right arm's and hand's JointTrajectory topics: one message per step, stamped at its
    log time, the group's joints in group order, one point reached one step later; `bag
    check` and Foxglove read them; read_source reads them back as the episode's commands."""
    description = models("talos").description
    episode = into_talos.path
    report = check_bag(episode)
    assert report.ok, report.defects
    counts = assert_foxglove_reads(episode)
    ported = read_source(episode)
    steps = read_bag(episode).counts[description.sensors.joint_state_topic]
    groups = (description.arms["right"].group, description.hands["right"].group)
    horizon_ns = round(1e9 / RATE_HZ)  # one step: the teleop node's control period
    for group in groups:
        assert group is not None
        interface = description.interfaces[group]
        assert interface.kind == "trajectory"
        assert counts[interface.topic] == steps
        messages = _decoded(episode, interface.topic, "trajectory_msgs/msg/JointTrajectory")
        rows = []
        for t_ns, msg in messages:
            assert _stamp_ns(msg.header) == t_ns
            assert tuple(msg.joint_names) == description.groups[group]
            (point,) = msg.points
            assert (point.time_from_start.sec, point.time_from_start.nanosec) == (0, horizon_ns)
            assert len(point.velocities) == len(point.accelerations) == len(point.effort) == 0
            rows.append(point.positions)
        np.testing.assert_array_equal(ported.commands[group].values, np.array(rows))


def test_joint_state_commands_are_written_and_read_back_by_name(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A robot.yaml whose right arm and hand take ``joint_state`` commands (TALOS's, so
    changed): a JointState of the group's joints per step, read back as the commands."""
    _, source_robot, _ = PAIR
    folder = tmp_path / "talos"
    shutil.copytree(find_robot_file("talos").parent, folder)
    text = (folder / "robot.yaml").read_text()
    for group in ("right_arm", "right_hand"):
        text = text.replace(f"{group}: {{kind: trajectory,", f"{group}: {{kind: joint_state,")
    (folder / "robot.yaml").write_text(text)
    target = RobotModel(load_robot(folder))
    description = target.description
    assert description.interfaces["right_arm"].kind == "joint_state"
    source = read_source(sources[0])
    result = port_episode(
        source, models(source_robot), target, tmp_path / "out", PortOptions(sim=False)
    )
    ported = read_source(result.path, description)
    steps = read_bag(result.path).counts[description.sensors.joint_state_topic]
    for group in ("right_arm", "right_hand"):
        topic = description.interfaces[group].topic
        messages = _decoded(result.path, topic, "sensor_msgs/msg/JointState")
        assert len(messages) == steps
        assert all(tuple(m.name) == description.groups[group] for _, m in messages)
        rows = np.array([m.position for _, m in messages])
        np.testing.assert_array_equal(ported.commands[group].values, rows)


def test_a_scripted_talos_episode_ports_onto_itself_along_its_commands(
    models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A TALOS recording (in physics) now holds its commands: its kinematic port onto TALOS
    is compared with the commanded path, which it retraces within the free-space target
    (15.9 cm p95 when it was compared with the measured joints, 2.8 cm along the commands)."""
    talos = models("talos")
    recorded = record_scripted_episode(talos, "push", 1, tmp_path, rate_hz=RATE_HZ)
    source = read_source(recorded)
    assert {"right_arm", "right_hand"} <= source.commands.keys()
    along = port_episode(source, talos, talos, tmp_path / "along", PortOptions(sim=False))
    measured_only = dataclasses.replace(source, commands={})
    measured = port_episode(measured_only, talos, talos, tmp_path / "m", PortOptions(sim=False))
    assert along.report.free_p95_m <= FREE_P95_M < measured.report.free_p95_m
