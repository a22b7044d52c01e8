"""``humanoid-teleop retarget``: run the teleop pipeline offline on a motion file and report.

::

    humanoid-teleop retarget --robot g1 --motion clip.bvh|bag/|bag.mcap [--profile vr]
                             [--out q.csv|q.mcap] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any

from mcap.writer import MCAP0_MAGIC

from humanoid_teleop.cli.options import positive_float
from humanoid_teleop.core.errors import ConfigError, EnvironmentProblem
from humanoid_teleop.core.motion.bag_input import motion_from_bag
from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh
from humanoid_teleop.core.retarget.offline import OfflineRun, run_offline
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, load_robot


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "retarget",
        help="retarget a motion file (BVH) offline: tracking, limits, timing",
        description=(
            "Drive the full teleop pipeline (calibration, retargeters, safety) with a motion "
            "file and report wrist tracking error, joint-limit violations, peak joint "
            "velocity against its limit and time per frame."
        ),
    )
    parser.add_argument("--robot", required=True, help="robot name or path to robot.yaml")
    parser.add_argument(
        "--motion",
        required=True,
        type=Path,
        help="motion: BVH file, or a recorded bag (folder or .mcap) with operator input",
    )
    parser.add_argument(
        "--bag-rate-hz", type=positive_float, default=100.0, help="sampling rate of bag input [Hz]"
    )
    parser.add_argument("--profile", default="vr", help="teleop profile name or path (vr)")
    parser.add_argument(
        "--skip-frames", type=int, default=5, help="leading BVH frames to drop (T-pose blend)"
    )
    parser.add_argument(
        "--stride", type=int, default=1, help="use every Nth frame (e.g. 4: 120 Hz -> 30 Hz)"
    )
    parser.add_argument(
        "--follow-hips",
        action="store_true",
        help="express the mocap relative to the performer's hips (as if standing in place)",
    )
    parser.add_argument("--out", type=Path, help="write the joint trajectory (.csv or .mcap)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    motion_path: Path = args.motion
    is_bag = motion_path.is_dir() or motion_path.suffix.lower() == ".mcap"
    if motion_path.suffix.lower() != ".bvh" and not is_bag:
        raise ConfigError(
            f"{motion_path}: unsupported motion format {motion_path.suffix!r}; supported: "
            ".bvh, a bag folder or .mcap"
        )
    if args.out is not None and args.out.suffix.lower() not in (".csv", ".mcap"):
        raise ConfigError(f"{args.out}: --out must end in .csv or .mcap")
    if args.stride < 1 or args.skip_frames < 0:
        raise ConfigError(f"--stride ({args.stride}) must be >= 1, --skip-frames >= 0")
    if is_bag:
        check_bag_files(motion_path)
    elif not motion_path.is_file():
        raise ConfigError(f"{motion_path}: --motion file not found")
    description = load_robot(args.robot)
    model = RobotModel(description)
    pipeline = TeleopPipeline.create(description, model, args.profile)
    recalibrations_s: tuple[float, ...] = ()
    if is_bag:
        recorded = motion_from_bag(motion_path, args.bag_rate_hz)
        frames, recalibrations_s = recorded.frames, recorded.recalibrations_s
    else:
        motion = human_frames_from_bvh(
            read_bvh(motion_path), skip_frames=args.skip_frames, follow_hips=args.follow_hips
        )
        pipeline.set_operator_arm_length(motion.operator_arm_length_m)
        frames = list(motion.frames)
    result = run_offline(pipeline, frames[:: args.stride], recalibrations_s)
    if args.out is not None:
        write_trajectory(result, args.out)
    summary = result.summary()
    summary["motion"] = str(motion_path)
    summary["profile"] = pipeline.profile.name
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_summary(summary, result))
    return 0


def check_bag_files(path: Path) -> None:
    """Refuse a ``--motion`` bag whose files are missing or are not MCAP, before any work.

    Checks each ``.mcap`` file (``path`` itself, or those of a bag folder) starts with the
    MCAP magic bytes; raises ConfigError naming the file and what is wrong.
    """
    if not path.exists():
        raise ConfigError(f"{path}: --motion bag not found")
    files = [path] if path.is_file() else sorted(path.glob("*.mcap"))
    if not files:
        raise ConfigError(f"{path}: --motion folder holds no .mcap file")
    for file in files:
        try:
            with file.open("rb") as stream:
                head = stream.read(len(MCAP0_MAGIC))
        except OSError as err:
            raise ConfigError(f"{file}: cannot read: {err.strerror or err}") from err
        if not head:
            raise ConfigError(f"{file}: empty file, not an MCAP bag")
        if head != MCAP0_MAGIC:
            raise ConfigError(f"{file}: not an MCAP file (it does not start with the MCAP magic)")


def _fmt(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value * scale:.{digits}f}"


def format_summary(summary: dict[str, Any], result: OfflineRun) -> str:
    """Human-readable report."""
    lines = [
        f"robot {summary['robot']}, profile {summary['profile']}, {summary['frames']} frames "
        f"of {summary['motion']}",
        f"joint-limit violations: {summary['limit_violations']} (frames x joints)",
        f"peak joint velocity / limit: {summary['max_velocity_ratio']:.3f}",
        "wrist tracking     p50      p95      max",
    ]
    for side in ("left", "right"):
        pos = summary["wrist_position_error_m"][side]
        ori = summary["wrist_orientation_error_deg"][side]
        lines.append(
            f"  {side:5s} [mm]  {_fmt(pos['p50'], 1e3):>7s}  {_fmt(pos['p95'], 1e3):>7s}  "
            f"{_fmt(pos['max'], 1e3):>7s}"
        )
        lines.append(
            f"  {side:5s} [deg] {_fmt(ori['p50']):>7s}  {_fmt(ori['p95']):>7s}  "
            f"{_fmt(ori['max']):>7s}"
        )
    t = summary["time_per_frame_ms"]
    lines.append(
        f"time per frame: p50 {_fmt(t['p50'], digits=3)} ms, p99 {_fmt(t['p99'], digits=3)} ms"
    )
    lines.append(f"frames holding (safety): {result.holds}")
    return "\n".join(lines)


def write_trajectory(result: OfflineRun, path: Path) -> None:
    """Write ``t_s`` + joint positions as CSV, or ``/joint_states`` JointState messages as MCAP."""
    try:
        if path.suffix.lower() == ".csv":
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["t_s", *result.joint_names])
                for t, q in zip(result.t_s, result.q, strict=True):
                    writer.writerow([f"{t:.6f}", *(f"{v:.9f}" for v in q)])
        else:
            _write_mcap(result, path)
    except OSError as err:
        raise EnvironmentProblem(f"{path}: cannot write trajectory: {err}") from err


def _write_mcap(result: OfflineRun, path: Path) -> None:
    from mcap_ros2.writer import Writer

    from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource

    definition = MessageDefinitionSource().get("sensor_msgs/msg/JointState")
    with path.open("wb") as handle:
        writer = Writer(handle)
        schema = writer.register_msgdef(definition.type_name, definition.text)
        names = list(result.joint_names)
        for t, q in zip(result.t_s, result.q, strict=True):
            ns = round(float(t) * 1e9)
            message = {
                "header": {
                    "stamp": {"sec": ns // 1_000_000_000, "nanosec": ns % 1_000_000_000},
                    "frame_id": "",
                },
                "name": names,
                "position": [float(v) for v in q],
                "velocity": [],
                "effort": [],
            }
            writer.write_message("/joint_states", schema, message, log_time=ns, publish_time=ns)
        writer.finish()  # type: ignore[no-untyped-call]  # mcap_ros2's finish() is unannotated
