"""Entry point of ``humanoid-teleop``.

Each name in :data:`SUBCOMMANDS` is a module in this package with
``register(subparsers)`` that adds its parser and sets ``func(args) -> int``. A command
imports only its own module (some pull in pinocchio, MuJoCo or rclpy, ~1-2 s for all of
them); ``--help`` and anything that names no known command import every one to list them.
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


#: Commands of two words, each registered as one (``port matrix``: ``port-matrix``) by the
#: module of its first word, which also registers that word's own command.
TWO_WORD_COMMANDS: dict[tuple[str, str], str] = {("port", "matrix"): "port-matrix"}


def joined_words(argv: Sequence[str]) -> list[str]:
    """``argv`` with a two-word command (:data:`TWO_WORD_COMMANDS`) as its one word."""
    words = list(argv)
    at = next((i for i, a in enumerate(words) if not a.startswith("-")), None)
    if at is not None and tuple(words[at : at + 2]) in TWO_WORD_COMMANDS:
        words[at : at + 2] = [TWO_WORD_COMMANDS[(words[at], words[at + 1])]]
    return words


def command_of(argv: Sequence[str]) -> str | None:
    """The module of the subcommand ``argv`` names (its first word not starting with ``-``;
    the global options take no value; a two-word command's first word), or None when it
    names none of :data:`SUBCOMMANDS`."""
    word = next((a for a in argv if not a.startswith("-")), None)
    word = next((first for (first, _), one in TWO_WORD_COMMANDS.items() if one == word), word)
    return word if word in SUBCOMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with ``command``'s subparser only, or with every subcommand's (None)."""
    parser = argparse.ArgumentParser(
        prog="humanoid-teleop",
        description="Humanoid teleoperation and recording for ROS 2.",
    )
    parser.add_argument("--version", action="version", version=f"humanoid-teleop {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if command is None else (command,):
        importlib.import_module(f"humanoid_teleop.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = joined_words(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_of(words))
    args = parser.parse_args(words)
    args.argv = words
    # ours at INFO, the libraries' (PyOpenGL says which accelerator it loaded, ...) from
    # WARNING on: their INFO lines are not the user's business; --verbose shows everything
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("humanoid_teleop").setLevel(logging.DEBUG if args.verbose else logging.INFO)
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
