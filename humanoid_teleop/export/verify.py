"""``--verify``: re-read a written dataset and check what LeRobot relies on.

Checks: ``index`` is 0..N-1 in order and each episode's rows are its
``dataset_from_index``..``dataset_to_index``; ``frame_index`` restarts at 0 per episode and
``timestamp == frame_index / fps``; every frame each episode asks of a video
(``from_timestamp + timestamp``) decodes within 1e-4 s; stats have every feature with the
expected shapes. Any failure raises :class:`VerifyError` listing all of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import video
from .errors import VerifyError

TOLERANCE_S = 1e-4
STAT_KEYS = ("min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99")


def verify(root: Path) -> dict[str, Any]:
    """Check the dataset at ``root``; counts of what was checked."""
    problems: list[str] = []
    info = json.loads((root / "meta/info.json").read_text())
    fps = info["fps"]
    data = pa.concat_tables([pq.read_table(p) for p in sorted((root / "data").glob("*/*.parquet"))])
    episodes = pa.concat_tables(
        [pq.read_table(p) for p in sorted((root / "meta/episodes").glob("*/*.parquet"))]
    ).to_pylist()
    index = data.column("index").to_numpy()
    if not np.array_equal(index, np.arange(len(index))):
        problems.append("index is not 0..N-1 in order")
    if len(index) != info["total_frames"]:
        problems.append(f"{len(index)} frames, info.json says {info['total_frames']}")
    frame_index = data.column("frame_index").to_numpy()
    timestamps = data.column("timestamp").to_numpy()
    expected = (frame_index / fps).astype(np.float32)
    if not np.array_equal(timestamps, expected):
        bad = int(np.argmax(timestamps != expected))
        problems.append(f"timestamp != frame_index / fps at index {bad}")
    episode_index = data.column("episode_index").to_numpy()
    video_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    requested = 0
    for ep in episodes:
        lo, hi = ep["dataset_from_index"], ep["dataset_to_index"]
        rows = slice(lo, hi)
        if not (episode_index[rows] == ep["episode_index"]).all() or hi - lo != ep["length"]:
            problems.append(f"episode {ep['episode_index']}: rows {lo}..{hi} do not hold it")
            continue
        if not np.array_equal(frame_index[rows], np.arange(hi - lo)):
            problems.append(f"episode {ep['episode_index']}: frame_index does not count from 0")
        for key in video_keys:
            path = root / info["video_path"].format(
                video_key=key, chunk_index=ep[f"videos/{key}/chunk_index"],
                file_index=ep[f"videos/{key}/file_index"],
            )  # fmt: skip
            times = np.asarray(video.decode_times(path))
            wanted = ep[f"videos/{key}/from_timestamp"] + timestamps[rows].astype(np.float64)
            gap = np.min(np.abs(times[None, :] - wanted[:, None]), axis=1)
            requested += len(wanted)
            if (gap > TOLERANCE_S).any():
                worst = float(gap.max())
                problems.append(f"episode {ep['episode_index']}: {key} frame {worst:.6f} s off")
    dataset_stats = json.loads((root / "meta/stats.json").read_text())
    for key, feature in info["features"].items():
        if feature["dtype"] == "string" or key in (
            "timestamp",
            "frame_index",
            "episode_index",
            "index",
            "task_index",
        ):
            continue
        entry = dataset_stats.get(key)
        if entry is None or set(STAT_KEYS) - set(entry):
            problems.append(f"stats.json: {key} lacks {sorted(set(STAT_KEYS) - set(entry or {}))}")
            continue
        shape = (3, 1, 1) if feature["dtype"] == "video" else tuple(feature["shape"])
        for stat in STAT_KEYS:
            got = np.asarray(entry[stat]).shape
            if stat != "count" and got != shape:
                problems.append(f"stats.json: {key}.{stat} has shape {got}, expected {shape}")
    if problems:
        raise VerifyError(f"{root}: " + "; ".join(problems))
    return {"frames": len(index), "episodes": len(episodes), "video_frames_checked": requested}
