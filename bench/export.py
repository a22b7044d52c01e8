"""Dataset export speed: our `export lerobot` (1 and 2 workers) vs lerobot 0.6.1's own writer.

    .venv/bin/python bench/export.py [EPISODE_OR_FOLDER ...] [--record 4] [--seconds 8]
        [--archive 16] [--archive-record 4] [--archive-seconds 24] [--bag-dir DIR]

Two workloads, each exported in one command per row:

- ``small``: ``--record`` g1 demo episodes of ``--seconds`` each (sim + replayed operator +
  teleop + recorder in the isolated network), or the episodes given on the command line;
- ``archive``: ``--archive`` episodes of ``--archive-seconds``, the size of a centre's batch,
  so the ~0.5 s start-up of a command is amortised as it is there. ``--archive-record``
  episodes are recorded and each is linked into ``--archive / --archive-record`` copies
  whose MCAP file names differ (so each copy has its own content hash and is its own unit).
  ``--archive 0`` skips it.

With ``--bag-dir DIR`` the episodes are recorded into ``DIR/small`` and ``DIR/archive`` and
reused on the next run. Every row writes the same frames: the ``canonical`` layout (one
320x240 head camera) at 30 fps, ``--include-failed`` (speed, not quality, is measured).

- ``ours, N worker(s), CODEC``: the whole ``humanoid-teleop export lerobot`` command (bags
  read, resampled, FK, QC, encoded, aggregated; process start-up included) in a
  subprocess; CPU time and peak RSS of it and its worker processes (``wait4``).
- ``lerobot 0.6.1, CODEC``: ``LeRobotDataset.create`` + ``add_frame`` + ``save_episode`` +
  ``finalize`` (bench/lerobot_writer.py, in the Python 3.12 venv of tools/setup_lerobot.sh)
  on the frames of our dataset of that codec (decoded one episode at a time, untimed), with
  the same encoder and settings as ours (``RGBEncoderConfig`` + ``encoder_threads``; see
  humanoid_teleop/export/video.py ``OPTIONS``); CPU and wall time of the writer calls only,
  peak RSS of the whole process.

Prints, per workload, one table: episode-seconds exported per CPU-second (= x real time per
core) and per wall second, peak RSS; then ours vs lerobot per codec and the issue's targets
(>= 3x lerobot's writer, >= 20x real time per core), with date, commit and host load.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import av  # noqa: E402
import numpy as np  # noqa: E402

from humanoid_teleop.export import video  # noqa: E402
from humanoid_teleop.export.layout import build_frames  # noqa: E402
from humanoid_teleop.export.runner import ExportRequest, plan  # noqa: E402
from humanoid_teleop.export.shard import robot_model  # noqa: E402
from humanoid_teleop.export.source import read_episode  # noqa: E402
from humanoid_teleop.export.video import CODECS, OPTIONS  # noqa: E402
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


def _archive(recorded: list[Path], count: int, folder: Path) -> list[Path]:
    """``count`` episodes made of the ``recorded`` ones, each linked into copies whose MCAP
    names (and so content hashes) differ; the metadata.yaml names the renamed files."""
    out: list[Path] = []
    for k in range(count):
        source = recorded[k % len(recorded)]
        copy = folder / f"{source.name}_c{k}"
        if not copy.exists():
            copy.mkdir(parents=True)
            text = (source / "metadata.yaml").read_text()
            for mcap in sorted(source.glob("*.mcap")):
                stem, _, index = mcap.stem.rpartition("_")
                name = f"{stem}_c{k}_{index}.mcap"
                os.link(mcap, copy / name)
                text = text.replace(mcap.name, name)
            (copy / "metadata.yaml").write_text(text)
        out.append(copy)
    return out


def _episodes_in(folder: Path) -> list[Path]:
    return sorted(p.parent for p in folder.rglob("metadata.yaml")) if folder.is_dir() else []


def _recorded(folder: Path, count: int, seconds: float) -> list[Path]:
    """``count`` demo episodes in ``folder``: the ones already there, else newly recorded."""
    found = _episodes_in(folder)
    return found[:count] if len(found) >= count else _record(count, seconds, folder)


def _encoder(codec: str) -> dict[str, object]:
    """Our encoder settings for ``codec``, as lerobot's RGBEncoderConfig names them."""
    options = OPTIONS[CODECS[codec]]
    preset = options["preset"]
    return {
        "vcodec": {"av1": "libsvtav1", "h264": "h264"}[codec],
        "g": int(options["g"]),
        "crf": int(options["crf"]),
        "preset": int(preset) if preset.isdigit() else preset,
        "threads": 1,
    }


Row = tuple[str, float, float, float, float]


def _run_workload(episodes: list[Path], tmp: Path) -> tuple[list[Row], int]:
    """Our rows and lerobot's for ``episodes``; and how many episodes were exported."""
    cli = [sys.executable, "-m", "humanoid_teleop.cli.main", "export", "lerobot"]
    common = [*map(str, episodes), "--layout", "canonical", "--include-failed", "--json"]
    rows: list[Row] = []
    exported = 0
    runs = ((1, "av1"), (2, "av1"), (1, "h264"))
    for workers, codec in runs:
        out = tmp / f"ours_{workers}_{codec}"
        text, wall, cpu, rss = _measured(
            [*cli, *common, "-o", str(out), "--workers", str(workers), "--video-codec", codec]
        )
        summary = json.loads(text)
        exported = summary["episodes"]
        name = f"ours, {workers} worker{'s' if workers > 1 else ''}, {codec.upper()}"
        rows.append((name, summary["frames"] / 30.0, wall, cpu, rss))
    venv = lerobot_venv()
    if venv is None:
        print("lerobot writer: skipped (no lerobot venv; tools/setup_lerobot.sh)", file=sys.stderr)
        return rows, exported
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["_ROS_WHEELS_BOOTSTRAP_COMPLETE"] = ""
    env["HF_HOME"] = str(tmp / "hf_home")
    for codec in ("av1", "h264"):
        text, _wall, _cpu, rss = _measured(
            [
                str(venv / "bin/python"), str(REPO / "bench/lerobot_writer.py"),
                str(tmp / f"ours_1_{codec}"), str(tmp / f"lerobot_{codec}"),
                json.dumps(_encoder(codec)),
            ],
            env=env,
        )  # fmt: skip
        writer = json.loads(text.strip().splitlines()[-1])
        rows.append(
            (f"lerobot 0.6.1, {codec.upper()}", writer["frames"] / 30.0, writer["wall_s"],
             writer["cpu_s"], rss)
        )  # fmt: skip
    return rows, exported


def _print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    columns = ("exporter", "episode-s", "wall s", "CPU s", "ep-s/CPU-s", "ep-s/wall-s", "RSS MiB")
    print("{:<24} {:>9} {:>7} {:>7} {:>10} {:>11} {:>8}".format(*columns))
    for name, episode_s, wall, cpu, rss in rows:
        cells = (name, episode_s, wall, cpu, episode_s / cpu, episode_s / wall, rss)
        print("{:<24} {:9.1f} {:7.2f} {:7.2f} {:10.1f} {:11.1f} {:8.0f}".format(*cells))
    per_cpu = {name: episode_s / cpu for name, episode_s, _w, cpu, _r in rows}
    for codec in ("AV1", "H.264"):
        key = codec.replace(".", "")
        ours = per_cpu.get(f"ours, 1 worker, {key}")
        theirs = per_cpu.get(f"lerobot 0.6.1, {key}")
        if ours is None:
            continue
        line = f"{codec}: ours {ours:.1f}x real time per core (target >= 20x: "
        line += "met)" if ours >= 20 else "not met)"
        if theirs is not None:
            ratio = ours / theirs
            line += f", {ratio:.1f}x lerobot's writer (target >= 3x: "
            line += "met)" if ratio >= 3 else "not met)"
        print(line)


SETTINGS = (
    ("AV1, preset 12, crf 30, lp=1 (default)", "av1", {"crf": "30"}),
    ("AV1, preset 12, crf 30, lp=2", "av1", {"crf": "30", "svtav1-params": "lp=2"}),
    ("AV1, preset 12, crf 40, lp=1", "av1", {"crf": "40"}),
    ("H.264, veryfast, crf 30 (--video-codec h264)", "h264", {"crf": "30"}),
    ("H.264, veryfast, crf 20", "h264", {"crf": "20"}),
    ("H.264, medium, crf 30 (lerobot's h264)", "h264", {"crf": "30", "preset": "medium"}),
)
"""Encoder settings compared on one episode's frames (changes to video.OPTIONS); GOP 2."""


def _codec_table(episode: Path) -> None:
    """Per encoder setting: encoding speed alone (x real time per core), size and PSNR of
    the decoded frames against the frames given to the encoder, on ``episode``'s camera."""
    (unit,) = plan(ExportRequest((episode,), Path("unused"), layout="canonical"))
    model, settings = robot_model(unit.robot), unit.settings
    data = read_episode(episode, model.description, unit.content_hash, settings.fps)
    key = settings.camera_keys[0]
    frames = build_frames(model, data, "canonical", settings.fps, (key,), "").images[key]
    seconds = len(frames) / settings.fps
    print(f"\nvideo settings: {len(frames)} frames ({seconds:.0f} s) of {episode.name}, {key}")
    print("{:<46} {:>12} {:>8} {:>9}".format("encoder", "x RT/core", "MB", "PSNR dB"))
    defaults = {k: dict(v) for k, v in video.OPTIONS.items()}
    try:
        for label, codec, change in SETTINGS:
            encoder = video.CODECS[codec]
            video.OPTIONS[encoder] = {**defaults[encoder], **change}
            cpu = time.process_time()
            data_mp4 = video.encode(frames, settings.fps, codec)
            cpu = time.process_time() - cpu
            with av.open(io.BytesIO(data_mp4)) as container:
                decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
            mse = [
                np.mean((a.astype(float) - b) ** 2) for a, b in zip(frames, decoded, strict=True)
            ]
            psnr = float(np.mean([10 * np.log10(255**2 / max(m, 1e-12)) for m in mse]))
            cells = (label, seconds / cpu, len(data_mp4) / 1e6, psnr)
            print("{:<46} {:12.1f} {:8.2f} {:9.2f}".format(*cells))
    finally:
        video.OPTIONS.update(defaults)


def _header() -> str:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{when}, commit {commit or '?'}, {os.cpu_count()} CPUs, load average {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("episodes", nargs="*", type=Path)
    parser.add_argument("--record", type=int, default=4, help="small: episodes to record")
    parser.add_argument("--seconds", type=float, default=8.0, help="small: episode length [s]")
    parser.add_argument("--archive", type=int, default=16, help="archive: episodes (0: none)")
    parser.add_argument(
        "--archive-record", type=int, default=4, help="archive: episodes to record and copy"
    )
    parser.add_argument(
        "--archive-seconds", type=float, default=24.0, help="archive: episode length [s]"
    )
    parser.add_argument(
        "--bag-dir", type=Path, help="record into (and reuse) this folder instead of a temp one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp_name:
        tmp = Path(tmp_name)
        bags = args.bag_dir or tmp / "bags"
        small = args.episodes or _recorded(bags / "small", args.record, args.seconds)
        workloads = [("small", small)]
        if args.archive > 0:
            recorded = _recorded(bags / "archive", args.archive_record, args.archive_seconds)
            workloads.append(("archive", _archive(recorded, args.archive, bags / "archive_copies")))
        header = _header()
        results = []
        for name, episodes in workloads:
            rows, exported = _run_workload(episodes, tmp / name)
            results.append((name, rows, exported))
        header += f"; after: load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}"
    print(f"\n{header}")
    _codec_table(workloads[-1][1][0])
    for name, rows, exported in results:
        seconds = rows[0][1] / max(exported, 1)
        title = (
            f"{name}: {exported} episodes of ~{seconds:.0f} s, canonical layout, "
            "one 320x240 camera, 30 fps"
        )
        _print_table(title, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
