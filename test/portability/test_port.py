"""Porting recorded episodes to another robot: the reduced matrix, joint-only episodes, and
a ported episode treated like a native one (bag check, Foxglove, export lerobot)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import bag_content_hash, iter_messages, read_bag
from humanoid_teleop.core.motion.rotation import quat_to_matrix
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.sim.scene import Scene, load_scene
from humanoid_teleop.devices.scripted.hand_model import hand_points
from humanoid_teleop.portability.errors import PortInputError
from humanoid_teleop.portability.goal import GRASP_FAR_M, GRASP_NEAR_M
from humanoid_teleop.portability.matrix import summarize
from humanoid_teleop.portability.port import (
    GOAL_BEYOND_COMMAND_M,
    PortOptions,
    PortResult,
    _push_start,
    _replay_start,
    port_episode,
    target_pipeline,
    task_origin,
)
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.source import read_source
from humanoid_teleop.portability.tool import ArmTool
from humanoid_teleop.portability.track import SourceTrack
from test.core.bag.foxglove import assert_foxglove_reads
from test.export.helpers import load_with_lerobot
from test.portability.conftest import PAIR, copy_without, recentred_copy

LENIENT_QC = (
    "schema_version: 1\nmax_loss_ratio: 1.0\nmax_sync_skew_ms: 1000000.0\n"
    "max_missing_image_ratio: 1.0\nmax_saturated_ratio: 1.0\nmax_estops: 1000\n"
)
"""QC rules for the export test, which is about the format, not the quality gates (a scripted
hand at its open limit counts as saturated)."""


def _port(
    source: Path, target: str, out: Path, models: Callable[[str], RobotModel], **options: object
) -> PortResult:
    episode = read_source(source)
    return port_episode(
        episode,
        models(episode.robot),
        models(target),
        out,
        PortOptions(**options),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def matrix_pair(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[PortResult], list[PortResult]]:
    """PAIR's episodes ported to the target and (self-replay) to the source robot, in physics
    (each with a fresh pipeline, as a recording starts with one)."""
    _, source_robot, target = PAIR
    out = tmp_path_factory.mktemp("ported")
    results: dict[str, list[PortResult]] = {source_robot: [], target: []}
    for robot in (target, source_robot):
        for path in sources:
            episode = read_source(path)
            results[robot].append(
                port_episode(
                    episode,
                    models(source_robot),
                    models(robot),
                    out / robot,
                    PortOptions(sim=True, cameras=False),
                )
            )
    return results[target], results[source_robot]


@pytest.fixture(scope="module")
def ported(
    sources: list[Path],
    models: Callable[[str], RobotModel],
    tmp_path_factory: pytest.TempPathFactory,
) -> PortResult:
    """PAIR's first episode ported to the target in physics."""
    return _port(sources[0], PAIR[2], tmp_path_factory.mktemp("one"), models, cameras=False)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_self_replay_reproduces_the_sources_and_meets_the_issue_thresholds(
    matrix_pair: tuple[list[PortResult], list[PortResult]],
) -> None:
    """Ported to its own robot in physics, every source episode ends as it was recorded (its
    object within 1 mm of the recorded one's path through the contact phases) and the pair
    (>= 3 episodes, at least one success) meets the issue's thresholds."""
    _, self_replay = matrix_pair
    task, source, _ = PAIR
    reports = [r.report for r in self_replay]
    details = "\n".join(r.text() for r in reports)
    assert [r.outcome for r in reports] == [r.source_outcome for r in reports], details
    assert all(r.contact_steps and r.objects_apart_p95_m <= 0.001 for r in reports), details
    pair = summarize(task, source, source, reports, reports)
    assert pair.episodes >= 3 and pair.self_successes >= 1, details
    assert pair.below_target() == [], details
    assert pair.transfer_ratio == 1.0, details


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_reduced_matrix_pair_meets_the_issue_thresholds(
    matrix_pair: tuple[list[PortResult], list[PortResult]],
) -> None:
    """One pair (g1 -> alex push), >= 3 episodes: reachable, transfer ratio >= 0.8, contact
    p95 <= 2 cm, free p95 <= 5 cm, grasp events within 150 ms and none spurious (the issue's
    reduced test; 2026-12-05: 3 of 3, contact p95 up to 1.7 cm, free 4.1 cm)."""
    ported, self_replay = matrix_pair
    task, source, target = PAIR
    pair = summarize(
        task, source, target, [r.report for r in ported], [r.report for r in self_replay]
    )
    details = "\n".join(r.report.text() for r in ported + self_replay)
    assert pair.episodes >= 3
    assert pair.below_target() == [], details
    assert pair.transfer_ratio is not None and pair.transfer_ratio >= 0.8, details


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ported_episode_records_provenance(ported: PortResult, sources: list[Path]) -> None:
    """The ported episode names its source (content hash as the export computes it), the
    source robot, the tool version, the target robot and its simulated outcome."""
    result = ported
    custom = read_bag(result.path).metadata.custom_data
    assert custom["custom.port.source_content_hash"] == bag_content_hash(sources[0])
    assert custom["custom.port.source_robot"] == PAIR[1]
    assert custom["custom.port.tool_version"].startswith("humanoid_teleop ")
    assert custom["robot"] == PAIR[2]
    assert custom["outcome"] == result.report.outcome
    assert json.loads(custom["custom.port.report"])["target_robot"] == PAIR[2]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ported_episode_passes_bag_check(ported: PortResult) -> None:
    """`bag check` finds no defect in a ported episode."""
    report = check_bag(ported.path)
    assert report.ok, report.defects


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ported_episode_decodes_with_foxglove(ported: PortResult) -> None:
    """Foxglove's MCAP readers and ROS 2 decoder read every message of a ported episode."""
    assert_foxglove_reads(ported.path)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ported_episode_with_cameras_exports_to_lerobot(
    sources: list[Path], models: Callable[[str], RobotModel], lerobot_python: Path, tmp_path: Path
) -> None:
    """A ported episode with rendered cameras exports with `export lerobot` like a native one,
    lerobot loads the dataset, and its episode row names where the episode was ported from
    (`ported_from_robot`; `port`: the provenance and the port's report)."""
    result = _port(sources[0], PAIR[2], tmp_path / "ported", models, camera_rate_hz=10.0)
    qc = tmp_path / "qc.yaml"
    qc.write_text(LENIENT_QC)
    done = subprocess.run(
        [
            sys.executable, "-m", "humanoid_teleop.cli.main", "export", "lerobot",
            str(result.path), "-o", str(tmp_path / "dataset"), "--fps", "10", "--qc", str(qc),
            "--json",
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["episodes"] == 1
    loaded = load_with_lerobot(lerobot_python, tmp_path / "dataset", tmp_path)
    assert loaded.meta["num_episodes"] == 1
    assert loaded.meta["episode_ported_from_robot"] == [PAIR[1]]
    port = json.loads(loaded.meta["episode_port"][0])
    assert port["source_episode"] == sources[0].name and port["source_robot"] == PAIR[1]
    assert port["source_content_hash"] == bag_content_hash(sources[0])
    assert port["physics"] == "mujoco" and port["intent"] == "/teleop/intent/"
    assert port["report"] == json.loads(result.report.to_json())


def test_kinematic_port_exports_as_a_state_only_dataset(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A kinematic port renders no camera: `export lerobot` names the camera it lacks, and
    exports it with `--cameras none` (test/export loads such a dataset with lerobot)."""
    result = _port(sources[0], PAIR[2], tmp_path / "ported", models, sim=False)
    qc = tmp_path / "qc.yaml"
    qc.write_text(LENIENT_QC)
    command = [
        sys.executable, "-m", "humanoid_teleop.cli.main", "export", "lerobot", str(result.path),
        "--fps", "10", "--qc", str(qc), "--video-codec", "h264", "--json",
    ]  # fmt: skip
    refused = subprocess.run(
        [*command, "-o", str(tmp_path / "refused")], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "no images of camera" in refused.stderr and "--cameras none" in refused.stderr
    done = subprocess.run(
        [*command, "-o", str(tmp_path / "dataset"), "--cameras", "none"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["episodes"] == 1
    assert not (tmp_path / "dataset" / "videos").exists()


@pytest.mark.parametrize("scene_name", ["push", "pick_and_place"])
def test_task_frame_puts_objects_where_each_robots_layout_does(
    scene_name: str, models: Callable[[str], RobotModel]
) -> None:
    """An object at a source robot's scene start maps (through the two task origins) to the
    same start in every other robot's scene, iCub's own layout (table lower, objects 17 cm
    nearer) included: what the porter does with the recorded object poses and tool path."""
    config = load_scene(scene_name)
    names = ("g1", "alex", "talos", "romeo", "icub")
    starts = {n: Scene(config, models(n)).start_positions(seed=3)[0] for n in names}
    origins = {n: task_origin(models(n), config.hand, scene_name) for n in names}
    for source in names:
        for target in names:
            mapped = origins[target] + (starts[source] - origins[source])
            assert np.allclose(mapped, starts[target], atol=1e-9), (source, target)
    # without the scene, the origin is the arm's EE at home (no layout to follow)
    icub = models("icub")
    home = ArmTool(icub, config.hand).ee(icub.home_positions())[1]
    assert np.allclose(task_origin(icub, config.hand, ""), home)
    assert not np.allclose(origins["icub"], home)


def test_joint_only_episode_ports_through_fk_intent(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Without intent or command topics the intent comes from the source model's FK: the
    ported tool point follows the source's measured one (kinematic self-port: within 1 cm on
    90% of the steps; elsewhere it lags a fast source motion)."""
    joint_only = copy_without(
        sources[0],
        tmp_path / "joint_only",
        lambda t: t.startswith(("/teleop/", "/operator/")) or t.endswith("/commands"),
    )
    episode = read_source(joint_only)
    assert episode.intent_source == "" and not episode.wrists and not episode.commands
    model = models(episode.robot)
    result = port_episode(episode, model, model, tmp_path / "out", PortOptions(sim=False))
    assert "joint-only" in " ".join(result.report.notes)
    # no command recorded: the report says its track is the source's measured path
    assert "no command for its arm" in " ".join(result.report.notes)
    tool = ArmTool(model, result.report.side)
    ported = read_source(result.path)
    source_p = np.array([tool.tool(q).position_m for q in episode.joints.values])
    ported_p = np.array([tool.tool(q).position_m for q in ported.joints.values])
    expected = np.column_stack(
        [np.interp(ported.joints.t_s, episode.joints.t_s, source_p[:, k]) for k in range(3)]
    )
    error = np.linalg.norm(ported_p - expected, axis=1)
    assert np.percentile(error, 90) <= 0.01, np.percentile(error, [50, 90, 95])


def test_port_into_another_robot_starts_on_the_sources_path(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """The port engages the target where the source's path starts and waits out its engage
    ramp before the source's clock runs: the first ported step's tool point is the source's
    (task frame, within 5 mm; following from home it was 2 cm off and then lagged)."""
    episode = read_source(sources[0])
    result = _port(sources[0], PAIR[2], tmp_path, models, sim=False)
    ported = read_source(result.path)
    first = []
    for robot, q in ((episode.robot, episode.joints.values[0]), (PAIR[2], ported.joints.values[0])):
        tool = ArmTool(models(robot), result.report.side)
        origin = tool.ee(models(robot).home_positions())[1]
        first.append(tool.tool(q).position_m - origin)
    assert np.linalg.norm(first[1] - first[0]) <= 0.005, first


def test_port_aims_the_tool_point_of_the_hand_its_motor_closes(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Into a gripper whose fingers follow its motor through URDF mimics (Romeo), the port
    puts the tool point of the hand with its fingers where the motor puts them (as the sim
    has them) on the source's path, not that of the commands' fingers left at the open
    hand's: within 1.2 cm of the source's (task frame, kinematic port, at the first, 100th
    and middle step: 0.7-0.8 cm, the IK's trade; 1.8-2.2 cm when it aimed the commands')."""
    episode = read_source(sources[0])
    result = _port(sources[0], "romeo", tmp_path, models, sim=False)
    ported = read_source(result.path)
    romeo, source = models("romeo"), models(episode.robot)
    assert romeo.mimics
    tools = [ArmTool(m, result.report.side) for m in (source, romeo)]
    origins = [t.ee(m.home_positions())[1] for t, m in zip(tools, (source, romeo), strict=True)]
    for row in (0, 100, len(ported.joints.t_s) // 2):
        t = float(ported.joints.t_s[row])
        at_source = tools[0].tool(episode.joints.at(t)).position_m - origins[0]
        q = romeo.apply_mimic(ported.joints.values[row])
        at_target = tools[1].tool(q).position_m - origins[1]
        assert np.linalg.norm(at_target - at_source) <= 0.012, (row, at_target, at_source)


def test_pick_into_another_robot_aims_its_grasp_point_near_the_object_its_tool_point_away(
    models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Picking into another robot (G1 -> Romeo, kinematic), the target's grasp point goes on
    the source's where the source's was within GRASP_NEAR_M of its cube (so it pinches
    there: median 1.3 cm apart, the IK's trade and Romeo's gripper closing past the cube
    that is not there; the tool points 2.3 cm), and its tool point on the source's beyond
    GRASP_FAR_M within the report's contact distance (median 0.7 cm). G1's tool point, its
    three fingertips' mean, lies 2-3 cm from its pinch, Romeo's is its pinch: with the grasp
    points together everywhere, the approach's tool points were 2.7 cm apart (median)."""
    from humanoid_teleop.portability.scripted import record_scripted_episode

    path = record_scripted_episode(models("g1"), "pick_and_place", 1, tmp_path / "source")
    episode = read_source(path)
    result = _port(path, "romeo", tmp_path / "ported", models, sim=False)
    ported = read_source(result.path)
    side = result.report.side
    source, romeo = models("g1"), models("romeo")
    points = []  # (tool points, grasp points) per robot, task frame, at the source's times
    for model, joints in ((source, episode.joints), (romeo, ported.joints)):
        tool = ArmTool(model, side)
        q = np.array([model.apply_mimic(joints.at(t)) for t in episode.joints.t_s.tolist()])
        tool_p = tool.frames_rows(q)[2] - task_origin(model, side, episode.scene)
        points.append((tool_p, tool_p + tool.grasp_offsets(q)))
    assert episode.objects is not None
    cube = episode.objects.interpolated(episode.joints.t_s)[:, 0, :3] - task_origin(
        source, side, episode.scene
    )
    distance = np.linalg.norm(points[0][1] - cube, axis=1)
    near = distance <= GRASP_NEAR_M
    away = (distance >= GRASP_FAR_M) & (distance <= 0.1)  # the report's contact phase
    assert near.sum() > 100 and away.sum() > 100
    grasp_gap = np.linalg.norm(points[1][1] - points[0][1], axis=1)
    tool_gap = np.linalg.norm(points[1][0] - points[0][0], axis=1)
    assert np.median(grasp_gap[near]) <= 0.015 < np.median(tool_gap[near])
    assert np.median(tool_gap[away]) <= 0.012


def test_push_into_another_robot_holds_the_source_hands_closure(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Into another robot, a hand that holds nothing (the scene's task is a push) is the
    synthetic operator hand closed as the source's hand was when it began to push the object,
    from the first step (not the source's engage ramp, nor the recorded operator hand: the
    shape its operator held for the source robot's hand)."""
    episode = read_source(sources[0])
    result = _port(sources[0], PAIR[2], tmp_path, models, sim=False)
    ported = read_source(result.path)
    side = result.report.side
    track = SourceTrack(episode, models(episode.robot), side, measured_too=False)
    assert episode.objects is not None
    touch = _push_start(episode.objects.interpolated(track.t_s)[:, 0, :3])
    assert touch is not None and track.closure_cmd[0] < track.closure_cmd[touch] - 0.2
    synthetic = hand_points(side, float(track.closure_cmd[touch]))
    hands, wrists = ported.hands[side], ported.wrists[side]
    for row in (0, len(hands.t_s) // 2):
        t = float(hands.t_s[row])
        local = (hands.values[row] - wrists.at(t)[:3]) @ wrists.rotation_at(t)
        np.testing.assert_allclose(local, synthetic, atol=1e-12)
    t = float(hands.t_s[len(hands.t_s) // 2])
    recorded, operator_wrists = episode.hands[side], episode.wrists[side]
    operator = (recorded.at(t) - operator_wrists.at(t)[:3]) @ operator_wrists.rotation_at(t)
    assert np.abs(operator - synthetic).max() > 0.005  # the recorded hand: its thumb spread


def test_push_goal_is_held_near_the_source_commands(
    sources: list[Path], models: Callable[[str], RobotModel]
) -> None:
    """A push's goal lies at most GOAL_BEYOND_COMMAND_M from the source's commanded tool
    point: where the source's IK stopped short of its EE target the goal is the command
    plus 2 cm toward the target; within 2 cm the target is kept as recorded."""
    episode = read_source(sources[0])
    track = SourceTrack(episode, models(episode.robot), "right", measured_too=False)
    gap = np.linalg.norm(track.goal_p - track.commanded_p, axis=1)
    assert gap.max() < GOAL_BEYOND_COMMAND_M  # G1's IK reaches its push targets
    recorded = track.goal_p.copy()
    far = np.zeros_like(recorded)
    far[::2, 1] = 0.05  # every other sample's target 5 cm beside the command
    track.goal_p = track.commanded_p + far
    track.hold_goal_near_commands(GOAL_BEYOND_COMMAND_M)
    np.testing.assert_allclose(track.goal_p[::2, 1] - track.commanded_p[::2, 1], 0.02)
    np.testing.assert_array_equal(track.goal_p[1::2], track.commanded_p[1::2])
    track.goal_p = recorded
    track.hold_goal_near_commands(GOAL_BEYOND_COMMAND_M)
    np.testing.assert_array_equal(track.goal_p, recorded)


def test_port_into_another_robot_holds_the_hand_as_the_source_did(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Into another robot of the same grasp posture (G1 -> Alex), the target's hand frame
    turns as the source's did from where the source's was held: the first ported command's
    hand frame is the source's at its first joint state (within 2 deg: the IK puts position
    first), where from the target's own home hand it was ~8 deg off."""
    episode = read_source(sources[0])
    result = _port(sources[0], PAIR[2], tmp_path, models, sim=False)
    ported = read_source(result.path)
    side = result.report.side
    source_hand = ArmTool(models(episode.robot), side).tool(episode.joints.values[0]).rotation
    target_hand = ArmTool(models(PAIR[2]), side).tool(ported.joints.values[0]).rotation
    cos = (np.trace(source_hand.T @ target_hand) - 1.0) / 2.0
    assert np.degrees(np.arccos(min(1.0, cos))) <= 2.0


def test_kinematic_port_is_deterministic(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Porting the same episode twice gives byte-identical files (no wall clock inside)."""
    first = _port(sources[0], PAIR[2], tmp_path / "a", models, sim=False)
    second = _port(sources[0], PAIR[2], tmp_path / "b", models, sim=False)
    assert bag_content_hash(first.path) == bag_content_hash(second.path)
    # the source's commands were recorded: the report compares with them, no note
    assert not any("no command" in note for note in first.report.notes)


def test_port_leaves_the_source_untouched(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """The source episode's files are the same bytes after a port."""
    before = bag_content_hash(sources[1])
    _port(sources[1], PAIR[2], tmp_path, models, sim=False)
    assert bag_content_hash(sources[1]) == before


def test_source_goal_path_is_each_targets_row_formula(
    sources: list[Path], models: Callable[[str], RobotModel]
) -> None:
    """The goal path, taken with stacked products, is each recorded EE target's row formula
    bit for bit: target + R_target (R_cmd^T (tool point - EE)), the command's frames those
    of the step before (q0's before the first)."""

    source = read_source(sources[0])
    model = models(source.robot)
    track = SourceTrack(source, model, "right", measured_too=False)
    targets = source.ee_targets["right"]
    n = len(track.t_s)
    rng = np.random.default_rng(2)
    frames = (
        np.array([quat_to_matrix(q) for q in rng.normal(size=(n, 4))]),
        rng.normal(size=(n, 3)),
        rng.normal(size=(n, 3)),
    )
    q0 = model.home_positions()
    goal_p, goal_r = track._targets(targets, q0, frames)
    steps = np.clip(np.searchsorted(targets.t_s, track.t_s, side="right") - 1, 0, None)
    previous = [track.tool.frames(q0)] + [
        (frames[0][i].copy(), frames[1][i].copy(), frames[2][i].copy()) for i in range(n - 1)
    ]
    rows = targets.values[steps]
    for i, (row, (r_cmd, p_cmd, point)) in enumerate(zip(rows, previous, strict=True)):
        r_ee = quat_to_matrix(row[3:7])
        expected = row[:3] + r_ee @ (r_cmd.T @ (point - p_cmd))
        assert goal_p[i].tobytes() == (expected - track.origin).tobytes()
        assert goal_r[i].tobytes() == (r_ee @ track.tool.hand_rotation).tobytes()


@pytest.mark.parametrize("robot", ["g1", "icub"])
def test_self_replay_in_physics_reproduces_the_recorded_joints_and_object(
    robot: str, models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A scripted episode ported to its own robot in physics replays what was recorded:
    the same joint states and object path (to 1e-9), through the hand's first push (iCub:
    a base frame turned from MuJoCo's world, where the recorded poses are a rounding off)."""
    from humanoid_teleop.portability.scripted import record_scripted_episode

    # 5 s: past the hand's first touch of the puck (G1 ~3.9 s, iCub ~4.0 s), where a replay
    # that differed by a last bit anywhere grew to millimetres
    path = record_scripted_episode(models(robot), "push", 1, tmp_path / "source", max_s=5.0)
    source = read_source(path)
    replay = read_source(_port(path, robot, tmp_path / "replay", models, cameras=False).path)
    assert source.objects is not None and replay.objects is not None
    n = len(source.joints.t_s)  # a replay may settle on after the source's end
    assert np.array_equal(replay.joints.t_s[:n], source.joints.t_s)
    assert np.abs(replay.joints.values[:n] - source.joints.values).max() <= 1e-9
    # the recording's objects start at engage (t = 0), the replay's at its first step
    objects = source.objects.values[1:]
    assert np.array_equal(replay.objects.t_s[: len(objects)], source.objects.t_s[1:])
    assert np.abs(replay.objects.values[: len(objects)] - objects).max() <= 1e-9


def test_port_of_a_source_shorter_than_one_step_says_so(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A source whose recorded motion is shorter than one step at the asked rate has no step
    to compare with: one clear line naming the file, not a failure in the report."""
    first_ns = min(m.log_time_ns for m in iter_messages(sources[0]))
    short = copy_without(
        sources[0], tmp_path / "short", lambda _: False, None, first_ns + 12_000_000
    )
    with pytest.raises(
        PortInputError, match=r"ms of recorded motion is shorter than one step at 20 Hz"
    ):
        _port(short, PAIR[2], tmp_path / "ported", models, sim=False, rate_hz=20.0)


#: How far [m] (p95) a kinematic self-port of an episode that did not start at home may
#: lie from its recorded commands: the calibration is the recorded one (the EE targets equal
#: to 1e-16 m), but the IK starts from the recorded command without its solver's and the
#: safety filter's state, and where its targets lie beyond its reach it settles elsewhere
#: along them (g1 push cut at 2 s: 0.3 mm; g1 -> talos -> talos: 1.4 mm; Alex's IK, which
#: misses its push targets by 4-8 mm, 5.4 mm). Replayed from home: 9-14 cm.
SELF_PORT_P95_M = 0.005


def _engaged_episode(source: Path, out: Path, after_s: float) -> Path:
    """``source`` as the recorder writes an episode it started ``after_s`` [s] (plus 1 ms,
    between two steps) into its operator's engagement: a live episode 2."""
    from_ns = START_NS + round(after_s * 1e9) + 1_000_000
    return copy_without(source, out, lambda _: False, None, None, from_ns)


def test_self_port_starts_at_home_only_for_an_episode_that_engaged_there(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A recording that engaged at home replays from home (None); one begun 2 s into the
    engagement from its first joint state, the pipeline from its first commands."""
    model = models(PAIR[1])
    pipeline = target_pipeline(model)
    recorded = read_source(sources[0])
    track = SourceTrack(recorded, model, "right", measured_too=False)
    assert _replay_start(recorded, track, model, pipeline, recorded.command_rate_hz) is None
    cut = read_source(_engaged_episode(sources[0], tmp_path, 2.0))
    cut_track = SourceTrack(cut, model, "right", measured_too=False)
    start = _replay_start(cut, cut_track, model, pipeline, cut.command_rate_hz)
    assert start is not None
    measured, commanded = start
    order = [cut.joint_names.index(name) for name in model.joint_names]
    np.testing.assert_array_equal(measured, cut.joints.values[cut.joints.index(0.0), order])
    group = model.description.arms["right"].group
    np.testing.assert_array_equal(
        commanded[model.group_indices(group)], cut.commands[group].values[0]
    )


@pytest.mark.parametrize("sim", [False, True])
def test_self_port_of_an_episode_begun_while_engaged_reproduces_it(
    sim: bool, sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """An episode the recorder started 2 s into its operator's engagement (the arm 1 rad
    from home) ported to its own robot follows its recorded path: kinematic within
    SELF_PORT_P95_M of its commands, in physics its recorded outcome within 1 cm (from
    home, 9.4 cm free p95 kinematic, 11 cm contact p95 in physics)."""
    cut = _engaged_episode(sources[0], tmp_path / "cut", 2.0)
    report = _port(cut, PAIR[1], tmp_path / "self", models, sim=sim, cameras=False).report
    assert report.free_p95_m <= (0.01 if sim else SELF_PORT_P95_M), report.text()
    assert report.contact_p95_m <= 0.01, report.text()
    assert report.outcome == (report.source_outcome if sim else None), report.text()


#: The re-centre of the tests below: 2 s in, the operator's hand 10 cm from where it was
#: (the robot's targets went on from where they were), the controller turned 0.5 rad.
RECENTRE_SHIFT_M = np.array([0.06, -0.05, 0.06])
RECENTRE_TURN = quat_to_matrix(np.array([0.0, np.sin(0.25), 0.0, np.cos(0.25)]))


@pytest.mark.parametrize("sim", [False, True])
def test_self_port_of_an_episode_recentred_midway_reproduces_it(
    sim: bool, sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """An episode whose operator re-centred 2 s in (/teleop/intent/calibrated) ported to its
    own robot follows its recorded path as the episode without the re-centre does: within
    SELF_PORT_P95_M of its commands kinematic, in physics its recorded outcome within 1 cm
    (read through the first calibration: free p95 12.8 cm kinematic, contact p95 12.9 cm in
    physics, the hand turned 29 deg off)."""
    copy, _ = recentred_copy(sources[0], tmp_path, "recentred", 2.0, RECENTRE_SHIFT_M,
                             RECENTRE_TURN)  # fmt: skip
    report = _port(copy, PAIR[1], tmp_path / "self", models, sim=sim, cameras=False).report
    assert report.free_p95_m <= (0.01 if sim else SELF_PORT_P95_M), report.text()
    assert report.contact_p95_m <= 0.01, report.text()
    assert report.outcome == (report.source_outcome if sim else None), report.text()


def test_port_into_another_robot_of_an_episode_recentred_midway_turns_the_hand_as_before(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Into another robot the hand is turned by the operator's recorded wrist: after a
    re-centre with the controller turned 0.5 rad, as without it (within 0.01 rad p95, its
    tool path within 1 mm); read through the first calibration, orientation p95 0.49 rad
    where the episode without the re-centre gives 0.21 (G1 -> Alex push)."""
    copy, _ = recentred_copy(sources[0], tmp_path, "recentred", 2.0, RECENTRE_SHIFT_M,
                             RECENTRE_TURN)  # fmt: skip
    plain = _port(sources[0], PAIR[2], tmp_path / "plain", models, sim=False).report
    recentred = _port(copy, PAIR[2], tmp_path / "recentred_out", models, sim=False).report
    assert recentred.orientation_p95_rad <= plain.orientation_p95_rad + 0.01, recentred.text()
    assert recentred.free_p95_m <= plain.free_p95_m + 0.001, recentred.text()
    assert recentred.contact_p95_m <= plain.contact_p95_m + 0.001, recentred.text()


def test_kinematic_self_port_of_a_port_into_another_robot_reproduces_it(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A port into another robot begins once the target's arm has come to the source's first
    goal, calibrated against its home: ported again to that robot it follows its recorded
    commands within SELF_PORT_P95_M and its hand closes when it did (from home: free p95
    13.8 cm, its grasp 0.44 s late)."""
    ported = _port(sources[0], "talos", tmp_path / "talos", models, sim=False).path
    report = _port(ported, "talos", tmp_path / "again", models, sim=False).report
    assert report.free_p95_m <= SELF_PORT_P95_M, report.text()
    assert report.missed_events == report.spurious_events == 0, report.text()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_self_port_in_physics_of_a_port_into_another_robot_ends_as_recorded(
    sources: list[Path], models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """g1 push -> talos in physics, ported again to talos in physics, ends as it was
    recorded within the issue's thresholds (from home: a failure, contact p95 14 cm)."""
    ported = _port(sources[0], "talos", tmp_path / "talos", models, cameras=False)
    report = _port(ported.path, "talos", tmp_path / "again", models, cameras=False).report
    assert report.outcome == report.source_outcome == ported.report.outcome, report.text()
    assert report.below_target() == [], report.text()
