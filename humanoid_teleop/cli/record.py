"""``humanoid-teleop record``: run the recorder standalone, like ``ros2 bag record``.

Records one episode from start until Ctrl-C / SIGTERM, which close the bag cleanly. Run it in
the isolated network: ``humanoid-teleop isolated -- humanoid-teleop record -o bags /topic``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import yaml


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record",
        help="record topics into a rosbag2 MCAP episode until Ctrl-C",
        description="Record topics (from a profile, a robot's sensors and/or the command line) "
        "into one episode under DIR; Ctrl-C or SIGTERM closes it cleanly.",
    )
    parser.add_argument("topics", nargs="*", metavar="TOPIC", help="extra topics to record")
    parser.add_argument(
        "-o", "--output", default="bags", metavar="DIR", help="folder receiving the episode"
    )
    parser.add_argument(
        "--profile", default="", metavar="FILE", help="recording profile (default: shipped)"
    )
    parser.add_argument("--robot", default="", help="add this robot's sensor and command topics")
    parser.add_argument("--task", default="", help="language instruction stored with the episode")
    parser.add_argument("--operator", default="", help="operator id stored with the episode")
    parser.add_argument("--station", default="", help="station id stored with the episode")
    parser.add_argument("--device", default="", help="input device stored with the episode")
    parser.add_argument("--quiet", action="store_true", help="no live status line")
    parser.set_defaults(func=_run)


def node_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """recorder_node parameters for these command-line arguments."""
    params: dict[str, Any] = {
        "bag_dir": str(Path(args.output).resolve()),
        "profile": str(Path(args.profile).resolve()) if args.profile else "",
        "robot": args.robot,
        "task": args.task,
        "operator": args.operator,
        "station": args.station,
        "device": args.device,
        "auto_start_episode": True,
        "console_status": not args.quiet,
    }
    if args.topics:
        params["topics"] = list(args.topics)
    return params


def _run(args: argparse.Namespace) -> int:
    from humanoid_teleop.nodes.recorder_node import run

    with tempfile.TemporaryDirectory(prefix="humanoid_teleop_record_") as tmp:
        params_file = Path(tmp) / "params.yaml"
        params_file.write_text(
            yaml.safe_dump({"recorder": {"ros__parameters": node_parameters(args)}}),
            encoding="utf-8",
        )
        return run(["humanoid-teleop-record", "--ros-args", "--params-file", str(params_file)])
