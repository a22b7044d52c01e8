"""``humanoid-teleop exo calibrate``: find a leader arm's joint offsets (π/2 search).

The operator holds the leader in the config's ``calibration_pose_rad`` (0 rad for unnamed
joints); the command averages a few readings, picks for each joint the multiple of π/2 that
brings ``sign * raw + offset`` to the pose, and writes signs and offsets back to the YAML
(the previous file is kept as ``<name>.bak``).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from humanoid_teleop.cli.options import positive_float
from humanoid_teleop.devices.dynamixel.bus import DynamixelBus
from humanoid_teleop.devices.dynamixel.calibration import quarter_turn_offsets
from humanoid_teleop.devices.dynamixel.leader import (
    LeaderArm,
    LeaderArmConfig,
    find_leader_config,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("exo", help="leader arm / exoskeleton tools")
    sub = parser.add_subparsers(dest="exo_command", metavar="COMMAND", required=True)
    cal = sub.add_parser(
        "calibrate",
        help="write joint offsets (automatic π/2 search) for the held calibration pose",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cal.add_argument(
        "--config", required=True, help="leader-arm YAML path, or a shipped name (gello_7dof)"
    )
    cal.add_argument("--port", help="serial port (overrides the config)")
    cal.add_argument("--output", type=Path, help="where to write (default: the config file)")
    cal.add_argument("--samples", type=int, default=10, help="readings averaged (default 10)")
    cal.add_argument(
        "--tolerance-rad",
        type=positive_float,
        default=0.5,
        help="largest accepted distance from the pose [rad] (default 0.5)",
    )
    cal.set_defaults(func=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    path = find_leader_config(args.config)
    config = LeaderArmConfig.load(path)
    if args.port:
        config = dataclasses.replace(config, port=args.port)
    arm = LeaderArm(config, DynamixelBus(config.port, config.baudrate, config.timeout_s))
    try:
        raw = np.mean([arm.read_raw_rad() for _ in range(max(1, args.samples))], axis=0)
    finally:
        arm.bus.close()
    pose = config.calibration_pose_rad or {}
    target = np.array([pose.get(name, 0.0) for name in config.names])
    signs = np.array([j.sign for j in config.joints], dtype=np.float64)
    offsets = quarter_turn_offsets(raw, target, signs, config.names, args.tolerance_rad)
    calibrated = config.with_calibration(signs, offsets)
    output = args.output or path
    if output.exists():
        shutil.copyfile(output, output.with_name(output.name + ".bak"))
    calibrated.save(output)
    width = max(len(n) for n in config.names)
    print(
        f"{'joint':<{width}}  {'id':>3}  {'raw rad':>8}  {'sign':>4}  {'offset':>8}  {'angle':>8}"
    )
    for joint, r, t in zip(calibrated.joints, raw, target, strict=True):
        angle = joint.sign * r + joint.offset_rad
        print(
            f"{joint.name:<{width}}  {joint.servo_id:>3}  {r:>8.3f}  {joint.sign:>4}  "
            f"{joint.offset_rad:>8.4f}  {angle:>8.3f}  (target {t:.3f})"
        )
    print(f"wrote {output}")
    return 0
