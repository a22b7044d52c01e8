"""``humanoid-teleop port`` over an archive: the command's own memory and wall time, and a
second run into the same folder (the resume), side by side with an earlier tree.

    .venv/bin/python bench/port_archive.py [--episodes 5] [--copies 20] [--workers 2]
        [--to alex] [--before TREE] [--out DIR]

Records ``--episodes`` scripted G1 pushes offline (or reuses ``DIR/sources``), lays out an
archive of ``--copies`` hard-linked copies of each under ``DIR/archive`` (no disk used; each
copy is an episode of its own name), and runs the port command on it without physics in
``--workers`` local processes, then once more into the same folder. For each run: the
command's (driver's) peak resident memory (``VmHWM`` of its process, sampled every 20 ms:
the workers are other processes), its wall time and exit code. ``--before TREE`` (a copy of
the project at an earlier commit, e.g. ``git archive BASE | tar -x -C TREE``) runs the same
two runs with that tree's code first.

Kinematic ports only: they are the ones whose command is not dwarfed by its workers' work,
and the archive's size is what is measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _sources(out: Path, episodes: int) -> list[Path]:
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from humanoid_teleop.portability.scripted import record_scripted_episode

    root = out / "sources"
    kept = sorted(p for p in root.glob("scripted_g1_push_*") if (p / "metadata.yaml").is_file())
    if len(kept) >= episodes:
        return kept[:episodes]
    shutil.rmtree(root, ignore_errors=True)
    model = RobotModel(load_robot("g1"))
    return [record_scripted_episode(model, "push", seed, root) for seed in range(1, episodes + 1)]


def _archive(out: Path, sources: list[Path], copies: int) -> Path:
    """``copies`` hard-linked copies of every source, each under its own name."""
    archive = out / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    for source in sources:
        for k in range(copies):
            copy = archive / f"{source.name}_c{k:03d}"
            copy.mkdir(parents=True)
            for file in source.iterdir():
                os.link(file, copy / file.name)
    return archive


def _peak_rss_mb(pid: int, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024.0)
        except OSError:
            return
        time.sleep(0.02)


def _run(
    tree: Path, archive: Path, output: Path, target: str, workers: int
) -> tuple[float, float, int, str]:
    """(driver peak RSS [MB], wall [s], exit code, last stderr line) of one port command."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, "-m", "humanoid_teleop.cli.main", "port", str(archive),
               "--to", target, "-o", str(output), "--no-sim", "--workers", str(workers),
               "--json"]  # fmt: skip
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        stop, peak = threading.Event(), [0.0]
        sampler = threading.Thread(target=_peak_rss_mb, args=(process.pid, stop, peak))
        sampler.start()
        code = process.wait()
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        err.seek(0)
        lines = [line for line in err.read().splitlines() if line.strip()]
    return peak[0], wall, code, (lines[-1] if lines and code else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=5, help="scripted sources (default 5)")
    parser.add_argument("--copies", type=int, default=20, help="copies of each in the archive")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--to", default="alex", help="target robot (default alex)")
    parser.add_argument("--before", type=Path, default=None, help="an earlier tree to compare")
    parser.add_argument(
        "--out", type=Path, default=None, help="working folder (default: a temp one)"
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="port_archive_"))
    sources = _sources(out, args.episodes)
    archive = _archive(out, sources, args.copies)
    episodes = len(sources) * args.copies
    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", REPO)]
    rows = []
    for label, tree in trees:
        output = out / f"ported_{label}"
        shutil.rmtree(output, ignore_errors=True)
        for run in ("first", "again"):
            peak, wall, code, line = _run(tree, archive, output, args.to, args.workers)
            rows.append((label, run, peak, wall, code, line))
            print(f"{label} {run}: {peak:.0f} MB, {wall:.1f} s, exit {code}", flush=True)
    print(f"\n# port over an archive of {episodes} episodes (G1 push -> {args.to}, no physics, "
          f"--workers {args.workers})\n")  # fmt: skip
    print("| tree | run | command peak RSS MB | wall s | exit | note |")
    print("|---|---|---|---|---|---|")
    for label, run, peak, wall, code, line in rows:
        print(f"| {label} | {run} | {peak:.0f} | {wall:.1f} | {code} | {line[:120]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
