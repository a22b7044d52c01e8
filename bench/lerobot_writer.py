"""Run in the lerobot 0.6.1 venv (bench/export.py starts it): lerobot's own writer on our frames.

Usage: python lerobot_writer.py DATASET OUT_ROOT. Reads every frame of DATASET (one of ours:
data parquet + decoded video) into memory first, untimed; then times
``LeRobotDataset.create`` + ``add_frame`` per frame + ``save_episode`` per episode +
``finalize`` with the same features, fps and AV1 video, and prints one JSON line with the
CPU seconds (all threads of this process), wall seconds and frames written.
"""

import json
import os
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

import av
import numpy as np
import pyarrow.parquet as pq
from lerobot.datasets.lerobot_dataset import LeRobotDataset

DEFAULT = {"timestamp", "frame_index", "episode_index", "index", "task_index"}


def read_ours(root):
    info = json.loads((root / "meta/info.json").read_text())
    tasks = pq.read_table(root / "meta/tasks.parquet").column("task").to_pylist()
    table = pq.read_table(sorted((root / "data").glob("*/*.parquet")))
    episodes = pq.read_table(sorted((root / "meta/episodes").glob("*/*.parquet"))).to_pylist()
    features = {}
    for key, ft in info["features"].items():
        if key in DEFAULT or ft["dtype"] == "string":
            continue
        ft = {k: v for k, v in ft.items() if k != "info"}
        ft["shape"] = tuple(ft["shape"])
        features[key] = ft
    video_keys = [k for k, f in features.items() if f["dtype"] == "video"]
    columns = {k: table.column(k).to_pylist() for k in features if k not in video_keys}
    task_index = table.column("task_index").to_pylist()
    frames_by_episode = []
    for ep in episodes:
        lo, hi = ep["dataset_from_index"], ep["dataset_to_index"]
        images = {}
        for key in video_keys:
            path = root / info["video_path"].format(
                video_key=key,
                chunk_index=ep[f"videos/{key}/chunk_index"],
                file_index=ep[f"videos/{key}/file_index"],
            )
            start = ep[f"videos/{key}/from_timestamp"]
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                decoded = [
                    f.to_ndarray(format="rgb24")
                    for f in container.decode(stream)
                    if start - 1e-4
                    <= float(f.pts * stream.time_base)
                    < start + (hi - lo) / info["fps"] - 1e-4
                ]
            images[key] = decoded
        frames = []
        for i in range(lo, hi):
            frame = {}
            for key, ft in features.items():
                if key in video_keys:
                    frame[key] = images[key][i - lo]
                else:
                    value = np.asarray(columns[key][i], dtype=ft["dtype"])
                    frame[key] = value.reshape(ft["shape"])
            frame["task"] = tasks[task_index[i]]
            frames.append(frame)
        frames_by_episode.append(frames)
    return info, features, frames_by_episode


def main():
    ours, out = Path(sys.argv[1]), Path(sys.argv[2])
    info, features, episodes = read_ours(ours)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    dataset = LeRobotDataset.create(
        "bench/lerobot_writer",
        fps=info["fps"],
        features=features,
        root=out,
        robot_type=info["robot_type"],
        use_videos=True,
    )
    count = 0
    for frames in episodes:
        for frame in frames:
            dataset.add_frame(dict(frame))
            count += 1
        dataset.save_episode()
    dataset.finalize()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "frames": count}))


if __name__ == "__main__":
    main()
