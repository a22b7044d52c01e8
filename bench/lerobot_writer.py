"""Run in the lerobot 0.6.1 venv (bench/export.py starts it): lerobot's own writer on our frames.

Usage: python lerobot_writer.py DATASET OUT_ROOT ENCODER_JSON. Reads every frame of DATASET
(one of ours: data parquet + decoded video) into memory first, untimed; then times
``LeRobotDataset.create`` + ``add_frame`` per frame + ``save_episode`` per episode +
``finalize`` with the same features and fps, and prints one JSON line with the CPU seconds
(all threads of this process), wall seconds and frames written.

ENCODER_JSON is ``{"vcodec", "g", "crf", "preset", "threads"}``: the encoder and settings our
exporter used (bench/export.py passes them), given to lerobot as its own
``RGBEncoderConfig`` and ``encoder_threads``, so both sides run the same encoder the same way.
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
from lerobot.configs.video import RGBEncoderConfig
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
    return info, features, episodes, columns, task_index, tasks, video_keys


def episode_frames(root, info, features, episodes, columns, task_index, tasks, video_keys):
    """Each episode's frames, decoded one episode at a time (each video file once, in order)."""
    videos = {}
    for ep in episodes:
        lo, hi = ep["dataset_from_index"], ep["dataset_to_index"]
        images = {}
        for key in video_keys:
            path = root / info["video_path"].format(
                video_key=key,
                chunk_index=ep[f"videos/{key}/chunk_index"],
                file_index=ep[f"videos/{key}/file_index"],
            )
            if key not in videos or videos[key].path != path:
                videos[key] = Video(path)
            start = ep[f"videos/{key}/from_timestamp"]
            images[key] = videos[key].frames(start, start + (hi - lo) / info["fps"])
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
        yield frames


class Video:
    """One MP4 decoded front to back as episodes ask for their time spans in order."""

    def __init__(self, path):
        self.path = path
        self._frames = self._decode()
        self._next = None

    def _decode(self):
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            for f in container.decode(stream):
                yield float(f.pts * stream.time_base), f.to_ndarray(format="rgb24")

    def frames(self, start_s, end_s):
        """RGB images with start_s <= time < end_s (1e-4 s tolerance)."""
        out = []
        while True:
            item = self._next or next(self._frames, None)
            self._next = None
            if item is None:
                return out
            if item[0] >= end_s - 1e-4:
                self._next = item
                return out
            if item[0] >= start_s - 1e-4:
                out.append(item[1])


def main():
    ours, out = Path(sys.argv[1]), Path(sys.argv[2])
    encoder = json.loads(sys.argv[3])
    info, features, *rest = read_ours(ours)
    rgb = RGBEncoderConfig(
        vcodec=encoder["vcodec"], g=encoder["g"], crf=encoder["crf"], preset=encoder["preset"]
    )
    cpu, wall = -time.process_time(), -time.perf_counter()
    dataset = LeRobotDataset.create(
        "bench/lerobot_writer",
        fps=info["fps"],
        features=features,
        root=out,
        robot_type=info["robot_type"],
        use_videos=True,
        rgb_encoder=rgb,
        encoder_threads=encoder["threads"],
    )
    cpu, wall = cpu + time.process_time(), wall + time.perf_counter()
    count = 0
    for frames in episode_frames(ours, info, features, *rest):  # decoding is not timed
        cpu, wall = cpu - time.process_time(), wall - time.perf_counter()
        for frame in frames:
            dataset.add_frame(dict(frame))
            count += 1
        dataset.save_episode()
        cpu, wall = cpu + time.process_time(), wall + time.perf_counter()
    cpu, wall = cpu - time.process_time(), wall - time.perf_counter()
    dataset.finalize()
    cpu, wall = cpu + time.process_time(), wall + time.perf_counter()
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "frames": count}))


if __name__ == "__main__":
    main()
