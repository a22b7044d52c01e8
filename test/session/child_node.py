"""A stand-in node process for supervisor tests: behaves as its ROS parameters say.

Parameters (from the ``--params-file`` the supervisor writes): ``journal`` (file to append
events to), ``exit_after_s`` (exit by itself after that long; <0 never), ``exit_code``,
``ignore_sigint``.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import yaml


def main() -> int:
    argv = sys.argv
    name = argv[argv.index("-r") + 1].split(":=")[1]
    params_file = Path(argv[argv.index("--params-file") + 1])
    params = yaml.safe_load(params_file.read_text())[name]["ros__parameters"]
    journal = Path(params["journal"])

    def log(event: str) -> None:
        with journal.open("a") as out:
            out.write(f"{time.monotonic():.6f} {name} {event}\n")

    stop = {"requested": False}

    def on_sigint(_signum: int, _frame: object) -> None:
        log("sigint")
        stop["requested"] = not params.get("ignore_sigint", False)

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, lambda *_: (log("sigterm"), sys.exit(143)))
    print(f"hello from {name}", flush=True)
    log("started")
    start = time.monotonic()
    exit_after = float(params.get("exit_after_s", -1))
    while not stop["requested"]:
        if 0 <= exit_after <= time.monotonic() - start:
            log("exiting")
            return int(params.get("exit_code", 0))
        time.sleep(0.02)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
