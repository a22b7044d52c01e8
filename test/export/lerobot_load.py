"""Run in the lerobot 0.6.1 venv (Python 3.12): load a dataset with LeRobotDataset offline.

Usage: python lerobot_load.py DATASET OUT.npz. Iterates every frame with the PyAV video
backend and saves what the pytest side compares with the bags: per frame the episode, frame
index, timestamp, task string, state, action, next.success, and each camera's image
(float [0, 1], C×H×W) as uint8 H×W×3 averaged over 4×4 pixel blocks.
"""

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset


def blocks(image):
    h, w, c = image.shape
    return image[: h // 4 * 4, : w // 4 * 4].reshape(h // 4, 4, w // 4, 4, c).mean(axis=(1, 3))


def main():
    root, out = sys.argv[1], sys.argv[2]
    dataset = LeRobotDataset("local/export_test", root=root, video_backend="pyav")
    keys = dataset.meta.camera_keys
    rows = {
        "episode_index": [],
        "frame_index": [],
        "timestamp": [],
        "state": [],
        "action": [],
        "success": [],
        "subtask": [],
    }
    tasks = []
    images = {k: [] for k in keys}
    for i in range(len(dataset)):
        item = dataset[i]
        rows["episode_index"].append(int(item["episode_index"]))
        rows["frame_index"].append(int(item["frame_index"]))
        rows["timestamp"].append(float(item["timestamp"]))
        rows["state"].append(item["observation.state"].numpy())
        rows["action"].append(item["action"].numpy())
        rows["success"].append(bool(item["next.success"]))
        rows["subtask"].append(int(item["annotation.human.subtask"]))
        tasks.append(item["task"])
        for k in keys:
            image = item[k].numpy().transpose(1, 2, 0) * 255.0
            images[k].append(np.round(blocks(image)).astype(np.uint8))
    episodes = dataset.meta.episodes
    meta = {
        "tasks": tasks,
        "task_table": [str(t) for t in dataset.meta.tasks.index],
        "episode_success": [bool(s) for s in episodes["success"]],
        "episode_source": list(episodes["source_path"]),
        "episode_unrecorded_commands": list(episodes["unrecorded_commands"]),
        "episode_ported_from_robot": list(episodes["ported_from_robot"]),
        "episode_port": list(episodes["port"]),
        "camera_keys": list(keys),
        "fps": dataset.fps,
        "num_frames": dataset.num_frames,
        "num_episodes": dataset.num_episodes,
    }
    arrays = {k: np.asarray(v) for k, v in rows.items()}
    arrays.update({"image." + k: np.stack(v) for k, v in images.items()})
    np.savez(out, meta=json.dumps(meta), **arrays)


if __name__ == "__main__":
    main()
