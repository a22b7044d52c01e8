"""``humanoid-teleop isolated -- CMD ...``: run CMD with loopback-only networking."""

from __future__ import annotations

import argparse
from typing import Any

from humanoid_teleop.isolation.__main__ import main as isolation_main


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "isolated",
        help="run a command in a private network namespace (only loopback, LOCALHOST DDS)",
        description="Run a command in a private network namespace with only loopback up and "
        "ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, so DDS never leaves this machine.",
    )
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return isolation_main(list(args.cmd))
