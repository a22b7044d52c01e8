"""Command-line options shared by several subcommands (one definition each)."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """argparse ``type=``: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def positive_float(text: str) -> float:
    """argparse ``type=``: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be a finite number > 0")
    return value


def nonnegative_float(text: str) -> float:
    """argparse ``type=``: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be a finite number >= 0")
    return value


def add_scale_out(parser: argparse.ArgumentParser, unit: str) -> None:
    """``--workers N`` and ``--ray ADDRESS|local`` of :mod:`humanoid_teleop.parallel`, for a
    command that handles ``unit`` (e.g. "episodes exported") one job each."""
    parser.add_argument(
        "--workers", type=positive_int, default=1, metavar="N",
        help=f"{unit} in N local processes (with --ray local: its CPUs; default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--ray", default=None, metavar="ADDRESS|local",
        help=f"{unit} as Ray tasks on a cluster (local: a private one-node Ray on 127.0.0.1)",
    )  # fmt: skip
