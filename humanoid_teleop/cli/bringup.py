"""``humanoid-teleop bringup``: a whole session without the ROS launch system.

Same arguments as ``launch/teleop.launch.py``; each node runs as its own process, logs are
prefixed with the node name, Ctrl-C stops the nodes in order (recorder last), and if a node
dies the session stops cleanly with the recorder closing its bag.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.isolation.netns import is_isolated, isolated_command
from humanoid_teleop.session.plan import DEVICES, SessionArgs, session_plan
from humanoid_teleop.session.supervisor import SessionResult, Supervisor


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """The session arguments shared by ``bringup`` and ``demo`` (names as in the launch file)."""
    defaults = SessionArgs()
    parser.add_argument("--robot", default=defaults.robot, help="robot name (robots list)")
    parser.add_argument("--device", default=defaults.device, choices=DEVICES)
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--sim", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--profile", default="", help="teleop profile name or YAML path")
    parser.add_argument("--bag-dir", default=defaults.bag_dir, help="folder for episodes")
    parser.add_argument("--motion", default="", help="BVH clip or bag for --device replay")
    parser.add_argument("--task", default="", help="language instruction stored per episode")
    parser.add_argument("--operator", default="", help="operator id stored per episode")
    parser.add_argument(
        "--station",
        default="",
        help="station id stored per episode; episodes are named <station>_<UTC start>_<n>",
    )
    parser.add_argument("--rate-hz", type=float, default=defaults.rate_hz, help="command rate")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.add_argument(
        "--isolated",
        action="store_true",
        help="run the session in a private loopback-only network namespace (simulation, tests)",
    )


def session_args(args: argparse.Namespace, engage: bool, start_episode: bool) -> SessionArgs:
    return SessionArgs(
        robot=args.robot,
        device=args.device,
        record=args.record,
        sim=args.sim,
        profile=args.profile,
        bag_dir=args.bag_dir,
        motion=args.motion,
        task=args.task,
        operator=args.operator,
        station=args.station,
        rate_hz=args.rate_hz,
        engage=engage,
        start_episode=start_episode,
    )


def reexec_isolated_if_asked(args: argparse.Namespace) -> None:
    """With ``--isolated`` outside a namespace, re-run this command inside one (never returns)."""
    if not args.isolated or is_isolated():
        return
    argv = isolated_command([sys.executable, "-m", "humanoid_teleop.cli.main", *args.argv])
    os.execvp(argv[0], argv)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bringup",
        help="start a teleop session (robot, device, teleop, recorder) without ros2 launch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_session_arguments(parser)
    parser.add_argument("--engage", action="store_true", help="engage as soon as input arrives")
    parser.add_argument(
        "--start-episode", action="store_true", help="start recording an episode at once"
    )
    parser.set_defaults(func=_run)


def report(result: SessionResult, label: str = "bringup") -> int:
    """Print how the session ended; returns the command's exit code."""
    codes = ", ".join(f"{name}={code}" for name, code in result.exit_codes.items())
    if result.ok:
        print(f"{label}: session ended ({result.reason}); exit codes: {codes}")
        return 0
    culprit = f"node '{result.failed_node}' died" if result.failed_node else "a node failed"
    print(f"{label}: {culprit}, session stopped; exit codes: {codes}", file=sys.stderr)
    return 1


def check_duration(duration_s: float | None, flag: str = "--duration") -> None:
    """Refuse a session length [s] that is not a finite number > 0 (None: run until stopped)."""
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(
            f"{flag} {duration_s:g}: must be a finite number of seconds > 0 "
            "(leave it out to run until Ctrl-C)"
        )


def _run(args: argparse.Namespace) -> int:
    check_duration(args.duration)
    reexec_isolated_if_asked(args)
    plan = session_plan(session_args(args, args.engage, args.start_episode))
    with tempfile.TemporaryDirectory(prefix="humanoid_teleop_session_") as tmp:
        result = Supervisor(plan, Path(tmp)).run(args.duration)
    return report(result)
