"""``humanoid-teleop export lerobot SRC... -o DATASET``: recorded episodes -> LeRobot v3.0.

SRC is an episode (bag folder) or a folder of episodes. The dataset format, its schema and the
quality gates are described in ``docs/dataset-export.md``. ``--json`` prints one JSON summary
and no progress bar; failing episodes are listed with their reasons either way, and so are
the episodes whose action is (partly) the measured state because their command topics were not
recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from humanoid_teleop.cli.options import add_scale_out, positive_int

LAYOUTS = ("robot", "canonical")
CODECS = ("av1", "h264")
# The exporter (pyarrow, PyAV, OpenCV, rosbags) is imported when the command runs, so the
# other subcommands do not pay for it at start-up.


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="export recorded episodes to training datasets")
    formats = parser.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    lerobot = formats.add_parser("lerobot", help="LeRobot v3.0 dataset (parquet + MP4)")
    lerobot.add_argument(
        "sources", nargs="+", type=Path, metavar="SRC", help="episode or folder of episodes"
    )
    lerobot.add_argument(
        "-o", "--output", type=Path, required=True, metavar="DATASET", help="dataset folder"
    )
    lerobot.add_argument(
        "--fps", type=positive_int, default=30, help="frame rate [Hz] (default 30)"
    )
    lerobot.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="robot",
        help="robot (one robot model) or canonical (across robots)",
    )
    lerobot.add_argument(
        "--video-codec",
        choices=CODECS,
        default="av1",
        help="default av1 (LeRobot's default)",
    )
    add_scale_out(lerobot, "episodes exported")
    lerobot.add_argument(
        "--resume", action="store_true", help="reuse shards of episodes already exported"
    )
    lerobot.add_argument(
        "--include-failed", action="store_true", help="keep episodes failing QC, flagged"
    )
    lerobot.add_argument(
        "--qc", type=Path, metavar="FILE", help="quality-gate rules (default config/export/qc.yaml)"
    )
    lerobot.add_argument(
        "--cameras",
        type=_camera_list,
        metavar="KEYS",
        help="cameras to export, comma-separated dataset keys (head, left_wrist, right_wrist), "
        "or none for a state-only dataset (default: every camera of the layout)",
    )
    lerobot.add_argument("--verify", action="store_true", help="re-read the dataset and check it")
    lerobot.add_argument(
        "--json", action="store_true", help="print one JSON summary, no progress bar"
    )
    lerobot.set_defaults(func=_lerobot)


def _camera_list(text: str) -> tuple[str, ...]:
    """``--cameras``: ``none`` -> (), else the comma-separated keys (checked against the
    episodes' cameras when the export is planned)."""
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    if not keys:
        raise argparse.ArgumentTypeError("give camera keys (head,left_wrist,...) or none")
    if keys == ("none",):
        return ()
    if "none" in keys:
        raise argparse.ArgumentTypeError(f"{text!r}: none cannot be combined with cameras")
    return keys


def _lerobot(args: argparse.Namespace) -> int:
    from humanoid_teleop.export.runner import ExportRequest, export
    from humanoid_teleop.export.verify import verify

    request = ExportRequest(
        sources=tuple(args.sources), output=args.output, fps=args.fps, layout=args.layout,
        codec=args.video_codec, workers=args.workers, ray=args.ray, resume=args.resume,
        include_failed=args.include_failed, qc_file=args.qc, cameras=args.cameras,
    )  # fmt: skip
    bar: Any = None

    def progress(done: int, total: int, _source: str) -> None:
        nonlocal bar
        if args.json:
            return
        if bar is None:
            # none where stderr is not a terminal (a log file, a cluster job): disable=None
            bar = tqdm(total=total, unit="episode", desc="export", file=sys.stderr, disable=None)
        bar.n = done
        bar.refresh()

    try:
        summary = export(request, progress)
    finally:
        if bar is not None:
            bar.close()
    if args.verify:
        summary["verify"] = verify(args.output)
    for item in summary["excluded"]:
        print(f"excluded {item['source']}: {'; '.join(item['reasons'])}", file=sys.stderr)
    for item in summary["flagged"]:
        print(f"kept, failed QC {item['source']}: {'; '.join(item['reasons'])}", file=sys.stderr)
    for item in summary["action_is_state"]:
        groups = ", ".join(f"{group} ({topic})" for group, topic in item["groups"].items())
        print(
            f"action is the measured state, commands not recorded {item['source']}: {groups}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        counts = f"episodes: {summary['episodes']}  frames: {summary['frames']}"
        print(f"dataset: {summary['dataset']}  {counts}")
        if args.verify:
            print("verify: ok")
    return 0
