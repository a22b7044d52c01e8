"""``humanoid-teleop record``: run the recorder standalone, like ``ros2 bag record``.

Records one episode from start until Ctrl-C / SIGTERM, which close the bag cleanly (exit 0).
If the episode stops with an error (e.g. the disk is full), it says what was kept where and
exits 2 (so does a bad argument). Run it in the isolated network:
``humanoid-teleop isolated -- humanoid-teleop record -o bags /topic``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from humanoid_teleop.core.resources import RECORD_PROFILES


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
        "--profile",
        default="",
        metavar="NAME|FILE",
        help="recording profile: a shipped name (default, station) or a YAML path "
        "(default: default)",
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
        "profile": str(RECORD_PROFILES.find(args.profile).resolve()) if args.profile else "",
        "robot": args.robot,
        "task": args.task,
        "operator": args.operator,
        "station": args.station,
        "device": args.device,
        "auto_start_episode": True,
        "exit_on_episode_error": True,
        "console_status": not args.quiet,
    }
    if args.topics:
        params["topics"] = list(args.topics)
    return params


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse a bad profile or an output folder that cannot be created before ROS starts.

    Raises ProfileError (naming the profile file) or BagError (naming the folder and the
    operating system's reason, e.g. permission denied).
    """
    from humanoid_teleop.core.bag.errors import BagError
    from humanoid_teleop.core.bag.profile import RecordingProfile

    if args.profile:
        RecordingProfile.load(RECORD_PROFILES.find(args.profile))
    output = Path(args.output)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BagError(f"{output}: cannot create the output folder: {err.strerror or err}") from err
    if not os.access(output, os.W_OK | os.X_OK):
        raise BagError(f"{output}: no permission to write episodes into this folder")


def _run(args: argparse.Namespace) -> int:
    from humanoid_teleop.nodes.recorder_node import run

    check_arguments(args)
    with tempfile.TemporaryDirectory(prefix="humanoid_teleop_record_") as tmp:
        params_file = Path(tmp) / "params.yaml"
        params_file.write_text(
            yaml.safe_dump({"recorder": {"ros__parameters": node_parameters(args)}}),
            encoding="utf-8",
        )
        return run(["humanoid-teleop-record", "--ros-args", "--params-file", str(params_file)])
