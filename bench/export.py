"""Dataset export speed: our `export lerobot` (1 and 2 workers) vs lerobot 0.6.1's own writer.

    .venv/bin/python bench/export.py [EPISODE_OR_FOLDER ...] [--record 4] [--seconds 8]

Without episodes it records ``--record`` g1 demo episodes (sim + replayed operator + teleop +
recorder in the isolated network, ``--seconds`` each). Every row writes the same frames: the
``canonical`` layout (one 320x240 head camera, AV1 like lerobot's default) at 30 fps, with
``--include-failed`` (speed, not quality, is measured here).

- ``ours, N worker(s)``: the whole ``humanoid-teleop export lerobot`` command — reading the
  bags, resampling, FK, QC, AV1 encoding, aggregation — in a subprocess; CPU time and peak
  RSS of it and its worker processes (``wait4``).
- ``ours, 1 worker, H.264``: the same with ``--video-codec h264`` (libx264), for scale: AV1
  encoding is most of the cost.
- ``lerobot writer``: ``LeRobotDataset.create`` + ``add_frame`` + ``save_episode`` +
  ``finalize`` (bench/lerobot_writer.py, in the Python 3.12 venv of tools/setup_lerobot.sh)
  on our dataset's frames, read into memory first and not timed; CPU and wall time of the
  writer calls only, peak RSS of the whole process.

Prints one table: episode-seconds exported per CPU-second (= x real time per core) and per
wall second, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from test.export.helpers import lerobot_venv  # noqa: E402


def _measured(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[str, float, float, float]:
    """stdout, wall [s], CPU [s] and peak RSS [MiB] of ``command`` and its reaped children
    (a small wrapper process waits for it with ``wait4``)."""
    wrapper = (
        "import json, os, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
        "out = p.stdout.read()\n"
        "_, status, ru = os.wait4(p.pid, 0)\n"
        "sys.stdout.write(out.decode())\n"
        "print('@@' + json.dumps({'wall': time.perf_counter() - t,"
        " 'cpu': ru.ru_utime + ru.ru_stime, 'rss': ru.ru_maxrss / 1024}))\n"
        "sys.exit(1 if status else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} failed:\n{result.stderr[-3000:]}")
    body, _, tail = result.stdout.rpartition("@@")
    stats = json.loads(tail)
    return body, stats["wall"], stats["cpu"], stats["rss"]


def _record(count: int, seconds: float, folder: Path) -> list[Path]:
    episodes = []
    for i in range(count):
        command = [
            sys.executable, "-m", "humanoid_teleop.isolation", "--", sys.executable, "-m",
            "humanoid_teleop.cli.main", "demo", "--robot", "g1", "--duration", str(seconds),
            "--bag-dir", str(folder / f"{i}"),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        found = re.findall(r"^bag: (\S.*)$", result.stdout, flags=re.MULTILINE)
        if result.returncode != 0 or not found:
            raise SystemExit(f"demo failed:\n{(result.stdout + result.stderr)[-3000:]}")
        episodes.append(Path(found[0]))
        print(f"recorded {found[0]}", file=sys.stderr)
    return episodes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("episodes", nargs="*", type=Path)
    parser.add_argument(
        "--record", type=int, default=4, help="demo episodes to record if none given"
    )
    parser.add_argument(
        "--seconds", type=float, default=8.0, help="length of each recorded episode [s]"
    )
    parser.add_argument(
        "--bag-dir", type=Path, help="record into this folder (kept) instead of a temp one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp_name:
        tmp = Path(tmp_name)
        bag_dir = args.bag_dir or tmp / "bags"
        episodes = args.episodes or _record(args.record, args.seconds, bag_dir)
        cli = [sys.executable, "-m", "humanoid_teleop.cli.main", "export", "lerobot"]
        common = [*map(str, episodes), "--layout", "canonical", "--include-failed", "--json"]
        rows = []
        exported = 0
        first_out = tmp / "ours_1_av1"
        runs = (("ours, 1 worker", 1, "av1"), ("ours, 2 workers", 2, "av1"),
                ("ours, 1 worker, H.264", 1, "h264"))  # fmt: skip
        for name, workers, codec in runs:
            out = tmp / f"ours_{workers}_{codec}"
            text, wall, cpu, rss = _measured(
                [*cli, *common, "-o", str(out), "--workers", str(workers), "--video-codec", codec]
            )
            summary = json.loads(text)
            exported = summary["episodes"]
            rows.append((name, summary["frames"] / 30.0, wall, cpu, rss))
        venv = lerobot_venv()
        if venv is None:
            print(
                "lerobot writer: skipped (no lerobot venv; run tools/setup_lerobot.sh)",
                file=sys.stderr,
            )
        else:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
            }
            env["_ROS_WHEELS_BOOTSTRAP_COMPLETE"] = ""
            env["HF_HOME"] = str(tmp / "hf_home")
            text, _wall, _cpu, rss = _measured(
                [
                    str(venv / "bin/python"),
                    str(REPO / "bench/lerobot_writer.py"),
                    str(first_out),
                    str(tmp / "lerobot"),
                ],
                env=env,
            )
            writer = json.loads(text.strip().splitlines()[-1])
            rows.append(
                (
                    "lerobot 0.6.1 writer",
                    writer["frames"] / 30.0,
                    writer["wall_s"],
                    writer["cpu_s"],
                    rss,
                )
            )
    print(f"\n{exported} episodes, canonical layout, one 320x240 camera (AV1), 30 fps")
    columns = ("exporter", "episode-s", "wall s", "CPU s", "ep-s/CPU-s", "ep-s/wall-s", "RSS MiB")
    print("{:<22} {:>9} {:>7} {:>7} {:>10} {:>11} {:>8}".format(*columns))
    for name, episode_s, wall, cpu, rss in rows:
        cells = (name, episode_s, wall, cpu, episode_s / cpu, episode_s / wall, rss)
        print("{:<22} {:9.1f} {:7.2f} {:7.2f} {:10.1f} {:11.1f} {:8.0f}".format(*cells))
    if len(rows) == 4:
        ours, theirs = rows[0], rows[3]
        ratio = (ours[1] / ours[3]) / (theirs[1] / theirs[3])
        print(f"\nours (1 worker) vs lerobot writer, episode-seconds per CPU-second: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
