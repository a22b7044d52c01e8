"""``python -m humanoid_teleop.isolation [--inside] -- COMMAND ...``.

Runs COMMAND in a private network namespace with only loopback (see ``netns``). With
``--inside`` (used by the wrapper itself, already in the new namespace) it brings ``lo`` up,
removes stale Fast DDS shared-memory files and execs COMMAND.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from humanoid_teleop.isolation.netns import (
    INSIDE_ENV,
    IsolationUnavailable,
    bring_loopback_up,
    isolated_command,
    isolated_env,
)
from humanoid_teleop.isolation.shm import clean_stale_dds_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humanoid_teleop.isolation",
        description="Run a command with loopback-only networking and LOCALHOST DDS discovery.",
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="command to run (after --)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, e.g. -- pytest")
    logging.basicConfig(level=logging.WARNING, format="isolation: %(message)s")
    env = isolated_env(os.environ)
    if args.inside:
        bring_loopback_up()
        env[INSIDE_ENV] = "1"
        clean_stale_dds_files()
        os.execvpe(command[0], command, env)
    try:
        argv_out = isolated_command(command)
    except IsolationUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    os.execvpe(argv_out[0], argv_out, env)
    return 0  # not reached: execvpe replaces this process


if __name__ == "__main__":
    sys.exit(main())
