"""Retargeting speed and tracking per shipped robot, side by side with a pink solve; the
dexterous hands' retargeting quality, side by side with an earlier tree.

    .venv/bin/python bench/retarget.py [--robots g1,talos] [--frames 843]
    .venv/bin/python bench/retarget.py --hands-only [--before TREE]

Prints three tables (pure Python + pinocchio, no ROS):

1. **Time per frame** of the full upper body (both arms by IK + both hands + head + safety),
   i.e. ``TeleopPipeline.step`` with the ``vr`` profile on the CMU "unscrew cap, drink soda"
   clip with the recorded MediaPipe hand (dex-retargeting's profiling clip) attached to both
   wrists, as wall-clock and as thread CPU time (the machine is shared); then the arms alone
   (``DifferentialIk.solve``, two EE frames, CPU time) and the same two EE targets through a
   straightforward pink solve (FrameTask per EE + PostureTask, OSQP, one solve per step) when
   ``pin-pink`` is installed (``requirements/bench.txt``).
2. **Tracking** of reachable trajectories: arm joints move smoothly (sinusoids around the
   middle of their ranges) and their FK gives 100 Hz EE targets; one solve per step;
   position / orientation error p95 of both EEs, ours and pink.
3. **Dexterous hands** (every shipped robot's, both sides), each hand's solver alone as a
   step calls it: the closure (``ArmTool.closure``: 0 open, 1 closed) a held flat open hand
   and a held fist settle to; the largest joint step [rad] after 100 steps on a still hand
   (open, half closed, pinch, fist); the largest difference [rad] between those settled
   from the open hand and from the closed hand; on the recorded MediaPipe clip at three
   steps per 30 Hz frame (mirrored for a left hand), the largest joint step per step (p50,
   p95, max) and, holding every 4th frame 40 steps, the last step's largest change and how
   many frames settle > 0.05 rad away from a fresh solve's; and the solve's median time
   [us] (thread CPU time per call on the clip). With ``--before TREE`` (a copy of the
   project at an earlier commit, e.g. ``git archive BASE | tar -x -C TREE``) the same
   poses go through that tree's solver in a subprocess, printed above this one's.

dex-retargeting is not compared: it imports torch (~750 MB), which this project does not
install.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# ``--tree DIR`` (internal: the --before run) imports the project from that tree instead.
sys.path.insert(
    0,
    sys.argv[sys.argv.index("--tree") + 1]
    if "--tree" in sys.argv
    else str(Path(__file__).resolve().parents[1]),
)

from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh
from humanoid_teleop.core.motion.frame import HumanFrame
from humanoid_teleop.core.motion.hands import load_mediapipe_right_hand_mano, skeleton_in_world
from humanoid_teleop.core.motion.rotation import rotation_angle
from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
from humanoid_teleop.core.retarget.ik_config import IkConfig
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.retarget.profile import load_profile
from humanoid_teleop.core.retarget.reference_motion import reachable_arm_trajectory
from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIP = DATA / "mocap" / "cmu_14_05_unscrew_cap_drink_soda.bvh"
HANDS = DATA / "hands" / "dex_retargeting_human_joint_right.npy"

try:
    import pink
    from pink.tasks import FrameTask, PostureTask

    HAVE_PINK = True
    # qpsolvers converts pink's dense matrices for OSQP on every solve and says so.
    warnings.filterwarnings("ignore", message="Converted matrix", module="qpsolvers")
except ImportError:  # optional bench extra
    HAVE_PINK = False


def operator_frames(count: int) -> list[HumanFrame]:
    """Head + wrists from the BVH clip with the recorded right hand on both wrists (mirrored)."""
    motion = human_frames_from_bvh(read_bvh(CLIP))
    hands = load_mediapipe_right_hand_mano(str(HANDS))
    mirror = np.diag([1.0, -1.0, 1.0])
    frames = []
    for i, frame in enumerate(motion.frames[:count]):
        hand = hands[(i // 4) % len(hands)]  # 120 Hz mocap, 30 Hz hand video
        assert frame.left_wrist is not None and frame.right_wrist is not None
        right = skeleton_in_world(hand, frame.right_wrist.position_m, frame.right_wrist.rotation)
        left = skeleton_in_world(
            hand @ mirror, frame.left_wrist.position_m, frame.left_wrist.rotation
        )
        frames.append(dataclasses.replace(frame, left_hand=left, right_hand=right))
    return frames


def percentiles_ms(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1e3
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def pipeline_times(model: RobotModel, frames: list[HumanFrame]) -> tuple[list[float], list[float]]:
    """Wall-clock and thread CPU time of each ``TeleopPipeline.step`` [s]."""
    pipeline = TeleopPipeline(model, load_profile("vr"))
    q = model.home_positions()
    pipeline.engage(q, frames[0].t_s - 0.01)
    wall, cpu = [], []
    for frame in frames:
        start, start_cpu = time.perf_counter(), time.thread_time()
        out = pipeline.step(frame, q, frame.t_s)
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
        q = out.q
    return wall, cpu


def track_ours(ik: DifferentialIk, trajectory: list[np.ndarray]) -> dict[str, Any]:
    q = ik.home.copy()
    pos, ori, times = [], [], []
    for q_true in trajectory:
        targets = ik.forward(q_true)
        start = time.thread_time()
        q = ik.solve(q, targets)
        times.append(time.thread_time() - start)
        for want, got in zip(targets, ik.forward(q), strict=True):
            pos.append(float(np.linalg.norm(want.position_m - got.position_m)))
            ori.append(float(np.degrees(rotation_angle(want.rotation.T @ got.rotation))))
    return {"pos": pos, "ori": ori, "times": times}


def track_pink(
    model: RobotModel, ik: DifferentialIk, trajectory: list[np.ndarray]
) -> dict[str, Any]:
    """One pink solve per 100 Hz step toward the same EE targets (world frame)."""
    import pinocchio as pin

    pm = model.pin_model
    data = pm.createData()
    frames = [t.frame for t in ik.tasks]
    tasks = [FrameTask(f, position_cost=1.0, orientation_cost=0.5) for f in frames]
    posture = PostureTask(cost=1e-3)
    posture.set_target(model.to_pinocchio(ik.home))
    q = model.to_pinocchio(ik.home)
    configuration = pink.Configuration(pm, data, q)
    pos, ori, times = [], [], []
    dt = 0.01
    for q_true in trajectory:
        ref = pm.createData()
        pin.framesForwardKinematics(pm, ref, model.to_pinocchio(q_true))
        targets = [ref.oMf[pm.getFrameId(f)].copy() for f in frames]
        for task, target in zip(tasks, targets, strict=True):
            task.set_target(target)
        start = time.thread_time()
        velocity = pink.solve_ik(
            configuration, [*tasks, posture], dt, solver="osqp", safety_break=False
        )
        configuration.integrate_inplace(velocity, dt)
        times.append(time.thread_time() - start)
        for f, target in zip(frames, targets, strict=True):
            got = configuration.get_transform_frame_to_world(f)
            pos.append(float(np.linalg.norm(target.translation - got.translation)))
            ori.append(
                float(np.degrees(rotation_angle(np.asarray(target.rotation).T @ got.rotation)))
            )
    return {"pos": pos, "ori": ori, "times": times}


def hand_poses() -> dict[str, np.ndarray]:
    """The operator hands of the hand table (hand frame, right hands; left = mirrored)."""
    from humanoid_teleop.devices.scripted.hand_model import fist_points, hand_points

    return {
        "open": hand_points("right", 0.0),
        "half": hand_points("right", 0.5),
        "pinch": hand_points("right", 1.0),
        "fist": fist_points("right"),
        "clip": load_mediapipe_right_hand_mano(str(HANDS)),
    }


def hand_rows(names: list[str], poses: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The hand table's rows for every dexterous hand of ``names`` (see the module docstring),
    through the public API only, so an earlier tree's code runs it as well."""
    from humanoid_teleop.core.motion.frame import HandSkeleton
    from humanoid_teleop.core.retarget.base import RetargetContext
    from humanoid_teleop.core.retarget.hand import HandRetargeter
    from humanoid_teleop.portability.tool import ArmTool

    rows = []
    for name in names:
        model = RobotModel(load_robot(name))
        for side, spec in model.description.hands.items():
            if spec.kind != "dexterous" or spec.group is None:
                continue
            idx = model.group_indices(spec.group)
            tool = ArmTool(model, side)
            mirror = np.array([1.0, -1.0, 1.0]) if side == "left" else np.ones(3)

            def solver() -> Any:
                context = RetargetContext(model, (spec.group,))  # noqa: B023
                return HandRetargeter(context).dexterous[side]  # noqa: B023

            def held(s: Any, points: np.ndarray, steps: int) -> np.ndarray:
                skeleton = HandSkeleton(points * mirror)  # noqa: B023
                return np.array([s.solve(skeleton) for _ in range(steps)])

            def closure(q_hand: np.ndarray) -> float:
                q = model.home_positions()  # noqa: B023
                q[idx] = q_hand  # noqa: B023
                return tool.closure(q)  # noqa: B023

            row: dict[str, Any] = {"robot": name, "side": side, "jitter": 0.0, "start": 0.0}
            for pose in ("open", "half", "pinch", "fist"):
                from_open = held(solver(), poses[pose], 200)
                row[pose] = closure(from_open[-1])
                row["jitter"] = max(
                    row["jitter"], float(np.abs(np.diff(from_open[100:], axis=0)).max())
                )
                closed = solver()
                closed.q_hand = np.array(spec.closed_positions, dtype=np.float64)
                row["start"] = max(
                    row["start"],
                    float(np.abs(held(closed, poses[pose], 200)[-1] - from_open[-1]).max()),
                )
            clip = poses["clip"]
            s = solver()
            steps = np.concatenate([held(s, points, 3) for points in clip])
            change = np.abs(np.diff(steps, axis=0)).max(axis=1)
            row["clip"] = [
                float(np.percentile(change, 50)),
                float(np.percentile(change, 95)),
                float(change.max()),
            ]
            s, fresh = solver(), solver()
            settle, apart = 0.0, 0
            for points in clip[::4]:
                led = held(s, points, 40)
                settle = max(settle, float(np.abs(led[-1] - led[-2]).max()))
                fresh.restart()
                apart += int(np.abs(held(fresh, points, 40)[-1] - led[-1]).max() > 0.05)
            row["settle"], row["apart"], row["frames"] = settle, apart, len(clip[::4])
            s = solver()
            skeletons = [HandSkeleton(points * mirror) for points in clip]
            times = []
            for _ in range(3):
                for skeleton in skeletons:
                    start = time.thread_time()
                    s.solve(skeleton)
                    times.append(time.thread_time() - start)
            row["us"] = float(np.median(times) * 1e6)
            rows.append(row)
    return rows


def print_hand_rows(rows: list[dict[str, Any]], label: str) -> None:
    for r in rows:
        p50, p95, most = r["clip"]
        print(
            f"{label:6s} {r['robot']:6s} {r['side']:5s} {r['open']:5.2f} {r['half']:5.2f} "
            f"{r['pinch']:5.2f} {r['fist']:5.2f} | {r['jitter']:7.4f} {r['start']:6.3f} | "
            f"{p50:6.3f} {p95:6.3f} {most:5.2f} {r['settle']:7.4f} {r['apart']:3d}/{r['frames']} "
            f"| {r['us']:5.1f}"
        )


def hand_table(names: list[str], before: Path | None) -> None:
    """Print the dexterous hands' table (``before``: an earlier tree's rows above ours)."""
    import json
    import subprocess
    import tempfile

    poses = hand_poses()
    print("dexterous hands: closure of held poses (ArmTool.closure), still-hand step and")
    print("warm-start spread [rad], recorded clip at 3 steps per frame [rad], solve [us]")
    print(
        f"{'tree':6s} {'robot':6s} {'side':5s} {'open':>5s} {'half':>5s} {'pinch':>5s} "
        f"{'fist':>5s} | {'still':>7s} {'start':>6s} | {'p50':>6s} {'p95':>6s} {'max':>5s} "
        f"{'settle':>7s} {'apart':>7s} | {'us':>5s}"
    )
    if before is not None:
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "poses.npz", **poses)
            out = subprocess.run(
                [sys.executable, __file__, "--hand-json", str(Path(tmp) / "poses.npz"),
                 "--robots", ",".join(names), "--tree", str(before)],
                check=True, capture_output=True, text=True, cwd=tmp,
            )  # fmt: skip
        print_hand_rows(json.loads(out.stdout), "before")
    print_hand_rows(hand_rows(names, poses), "after" if before is not None else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robots", default="", help="comma-separated robot names (default all)")
    parser.add_argument("--frames", type=int, default=843, help="clip frames per robot")
    parser.add_argument("--seconds", type=float, default=6.0, help="tracking trajectory [s]")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per robot for the best-of CPU column"
    )
    parser.add_argument("--hands-only", action="store_true", help="only the dexterous hands")
    parser.add_argument(
        "--before", type=Path, default=None,
        help="an earlier tree (git archive BASE | tar -x -C TREE) for the hand table",
    )  # fmt: skip
    parser.add_argument("--hand-json", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not CLIP.exists() or not HANDS.exists():
        print(f"needs the shared data in {DATA}", file=sys.stderr)
        return 2
    names = [r for r in args.robots.split(",") if r] or [e.name for e in list_robots()]
    logging.disable(logging.WARNING)  # pink logs every tolerated limit overshoot; romeo's
    # fingers have no velocity limit in the model (said once per model)
    if args.hand_json is not None:  # the --before run, in the earlier tree
        import json

        with np.load(args.hand_json) as data:
            print(json.dumps(hand_rows(names, {k: data[k] for k in data.files})))
        return 0
    if args.before is not None and not (args.before / "humanoid_teleop").is_dir():
        print(f"--before {args.before}: not a project tree (no humanoid_teleop/)", file=sys.stderr)
        return 2
    if args.hands_only:
        hand_table(names, args.before)
        return 0
    frames = operator_frames(args.frames)
    print(f"time per frame [ms], {len(frames)} frames of {CLIP.name} + recorded hands")
    print("upper body: wall = elapsed time of run 1 (includes waiting for a shared CPU), cpu =")
    print("thread CPU time of run 1, best = per-frame minimum CPU time over --repeat runs")
    print(
        f"{'robot':8s} {'wall p50':>8s} {'p99':>6s} {'cpu p50':>8s} {'p99':>6s} "
        f"{'best p50':>8s} {'p99':>6s} | {'arms IK cpu p50':>15s} {'p99':>6s} | "
        f"{'pink arms cpu p50':>17s} {'p99':>6s}"
    )
    tracking_rows = []
    for name in names:
        model = RobotModel(load_robot(name))
        runs = [pipeline_times(model, frames) for _ in range(args.repeat)]
        wall_times, cpu_times = runs[0]
        full, full_cpu = percentiles_ms(wall_times), percentiles_ms(cpu_times)
        best = percentiles_ms(list(np.min([cpu for _wall, cpu in runs], axis=0)))
        ik = DifferentialIk(model, arm_tasks(model), IkConfig())
        trajectory = reachable_arm_trajectory(ik, args.seconds)
        ours = track_ours(ik, trajectory)
        arms = percentiles_ms(ours["times"])
        pink_row = "      (pin-pink not installed)"
        pink_result = None
        if HAVE_PINK:
            pink_result = track_pink(model, ik, trajectory)
            p = percentiles_ms(pink_result["times"])
            pink_row = f"{p[0]:17.3f} {p[1]:6.3f}"
        print(
            f"{name:8s} {full[0]:8.3f} {full[1]:6.3f} {full_cpu[0]:8.3f} {full_cpu[1]:6.3f} "
            f"{best[0]:8.3f} {best[1]:6.3f} | {arms[0]:15.3f} {arms[1]:6.3f} | " + pink_row
        )
        tracking_rows.append((name, ours, pink_result))
    print()
    print(f"tracking reachable FK trajectories, 100 Hz, one solve per step, {args.seconds:.0f} s")
    head = f"{'p95 [mm]':>9s} {'[deg]':>6s} {'max [mm]':>9s}"
    print(f"{'robot':8s} ours {head} | pink {head}")
    for name, ours, pink_result in tracking_rows:
        row = (
            f"{name:8s}      {np.percentile(ours['pos'], 95) * 1e3:9.2f} "
            f"{np.percentile(ours['ori'], 95):6.2f} {max(ours['pos']) * 1e3:9.1f} | "
        )
        if pink_result is not None:
            row += (
                f"     {np.percentile(pink_result['pos'], 95) * 1e3:9.2f} "
                f"{np.percentile(pink_result['ori'], 95):6.2f} {max(pink_result['pos']) * 1e3:9.1f}"
            )
        print(row)
    print()
    hand_table(names, args.before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
