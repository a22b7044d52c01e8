"""Entry point of ``humanoid-teleop``.

Each name in :data:`SUBCOMMANDS` is a module in this package with
``register(subparsers)`` that adds its parser and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from humanoid_teleop import __version__
from humanoid_teleop.core.errors import TeleopError

SUBCOMMANDS: tuple[str, ...] = (
    "annotate",
    "bag",
    "bringup",
    "catalog",
    "demo",
    "devices",
    "doctor",
    "exo",
    "export",
    "isolated",
    "port",
    "record",
    "retarget",
    "robots",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="humanoid-teleop",
        description="Humanoid teleoperation and recording for ROS 2.",
    )
    parser.add_argument("--version", action="version", version=f"humanoid-teleop {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"humanoid_teleop.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except TeleopError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
