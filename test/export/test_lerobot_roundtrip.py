"""Exported datasets load in lerobot 0.6.1 (LeRobotDataset, PyAV, offline) and match the bags.

Each robot's long episode is exported in the ``robot`` layout, both in one ``canonical``
dataset; lerobot iterates every frame (test/export/lerobot_load.py, in its Python 3.12
venv) and the values are compared with the bag, decoded here with rosbags, independently
of the exporter: state, action, image pixels, task strings and success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.bag.reader import iter_messages, read_bag
from humanoid_teleop.core.robot import load_robot
from test.export.helpers import Episode, Loaded, load_with_lerobot, run_export

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(900)]
TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
GROUPS = ("waist", "head", "left_arm", "right_arm", "left_hand", "right_hand")
FPS = 30
MAX_PIXEL_ERROR = 6.0
"""Codec tolerance: mean |difference| [0-255] of 4x4-block-averaged pixels, AV1 crf 30."""


def _stamp(msg: object, publish_ns: int) -> int:
    header = getattr(msg, "header", None)
    if header is not None:
        stamp = header.stamp.sec * 1_000_000_000 + header.stamp.nanosec
        if stamp > 0:
            return int(stamp)
    return publish_ns


def _decoded(bag: Path, topic: str) -> list[tuple[int, object]]:
    out = []
    for raw in iter_messages(bag, topics=[topic]):
        msg = TYPESTORE.deserialize_cdr(raw.data, raw.type)
        out.append((_stamp(msg, raw.publish_time_ns), msg))
    out.sort(key=lambda item: item[0])
    return out


@dataclass(frozen=True)
class BagTruth:
    """The bag's values at the dataset's frame times."""

    state: np.ndarray
    action: np.ndarray
    images: np.ndarray  # (n, h/4, w/4, 3) block means
    task: str
    success: bool


def _blocks(image: np.ndarray) -> np.ndarray:
    h, w, c = image.shape
    return image[: h // 4 * 4, : w // 4 * 4].reshape(h // 4, 4, w // 4, 4, c).mean(axis=(1, 3))


def bag_truth(episode: Episode, times_ns: np.ndarray) -> BagTruth:
    description = load_robot(episode.robot)
    joints = [j for g in GROUPS if g in description.groups for j in description.groups[g]]
    states = _decoded(episode.path, description.sensors.joint_state_topic)
    names = list(states[0][1].name)  # type: ignore[attr-defined]
    t = np.array([s for s, _ in states])
    positions = np.array([m.position for _, m in states])  # type: ignore[attr-defined]
    state = np.stack([np.interp(times_ns, t, positions[:, names.index(j)]) for j in joints], 1)
    action = state.copy()
    offset = 0
    for group in (g for g in GROUPS if g in description.groups):
        width = len(description.groups[group])
        interface = description.interfaces.get(group)
        commands = _decoded(episode.path, interface.topic) if interface else []
        for i, frame_ns in enumerate(times_ns):
            before = [m for s, m in commands if s <= frame_ns]
            if not before:
                continue
            msg = before[-1]
            if interface.kind == "forward":  # type: ignore[union-attr]
                action[i, offset : offset + width] = msg.data  # type: ignore[attr-defined]
            else:
                by_name = dict(zip(msg.joint_names, msg.points[-1].positions, strict=True))  # type: ignore[attr-defined]
                action[i, offset : offset + width] = [by_name[j] for j in description.groups[group]]
        offset += width
    camera = description.sensors.cameras[0]
    images = _decoded(episode.path, camera.topic)
    image_t = np.array([s for s, _ in images])
    picked = []
    for frame_ns in times_ns:
        msg = images[int(np.argmin(np.abs(image_t - frame_ns)))][1]
        rgb = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3)  # type: ignore[attr-defined]
        picked.append(_blocks(rgb.astype(np.float64)))
    custom = read_bag(episode.path).metadata.custom_data
    return BagTruth(state, action, np.stack(picked), custom["task"], custom["outcome"] == "success")


def _frame_times(dataset: Path, loaded: Loaded, episode_index: int) -> np.ndarray:
    episodes = pq.read_table(dataset / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    start_ns = episodes[episode_index]["source_start_ns"]
    mask = loaded.arrays["episode_index"] == episode_index
    frames = loaded.arrays["frame_index"][mask]
    return start_ns + np.round(frames * 1e9 / FPS).astype(np.int64)


def _check_episode(
    episode: Episode, dataset: Path, loaded: Loaded, episode_index: int, state_cols: np.ndarray
) -> None:
    mask = loaded.arrays["episode_index"] == episode_index
    truth = bag_truth(episode, _frame_times(dataset, loaded, episode_index))
    np.testing.assert_allclose(loaded.arrays["state"][mask][:, state_cols], truth.state, atol=1e-5)
    np.testing.assert_allclose(
        loaded.arrays["action"][mask][:, state_cols], truth.action, atol=1e-5
    )
    tasks = [t for t, m in zip(loaded.meta["tasks"], mask, strict=True) if m]  # type: ignore[call-overload]
    assert set(tasks) == {truth.task}
    assert loaded.meta["episode_success"][episode_index] == truth.success  # type: ignore[index]
    success = loaded.arrays["success"][mask]
    assert success[-1] == truth.success and not success[:-1].any()
    images = loaded.arrays["image.observation.images.head"][mask].astype(np.float64)
    if images.shape[1:] != truth.images.shape[1:]:  # canonical layout: resized
        import cv2

        h, w = images.shape[1:3]
        truth_images = np.stack(
            [cv2.resize(i, (w, h), interpolation=cv2.INTER_AREA) for i in truth.images]
        )
    else:
        truth_images = truth.images
    error = np.abs(images - truth_images).mean(axis=(1, 2, 3))
    assert error.max() < MAX_PIXEL_ERROR, f"worst frame differs by {error.max():.2f} levels"


@pytest.fixture(scope="module")
def robot_datasets(
    episodes: list[Episode], tmp_path_factory: pytest.TempPathFactory, lenient_qc: Path
) -> dict[str, Path]:
    """A robot-layout dataset of each robot's long episode."""
    out = {}
    for episode in episodes[:2]:
        dataset = tmp_path_factory.mktemp("robot_layout") / episode.robot
        result = run_export(episode.path, "-o", dataset, "--verify", "--qc", lenient_qc)
        assert result.returncode == 0, result.stderr[-3000:]
        out[episode.robot] = dataset
    return out


@pytest.mark.parametrize("robot", ["g1", "talos"])
def test_robot_layout_dataset_loads_in_lerobot_and_matches_the_bag(
    robot: str,
    robot_datasets: dict[str, Path],
    episodes: list[Episode],
    lerobot_python: Path,
    tmp_path: Path,
) -> None:
    """lerobot reads every frame of a robot-layout dataset: state, action, images, task, success."""
    dataset = robot_datasets[robot]
    loaded = load_with_lerobot(lerobot_python, dataset, tmp_path)
    assert loaded.meta["num_episodes"] == 1 and loaded.meta["fps"] == FPS
    # recorded on its own robot: no port provenance
    assert loaded.meta["episode_ported_from_robot"] == [""] and loaded.meta["episode_port"] == [
        "{}"
    ]
    width = loaded.arrays["state"].shape[1]
    _check_episode(
        next(e for e in episodes if e.robot == robot), dataset, loaded, 0, np.arange(width)
    )


def test_canonical_dataset_holds_both_robots_and_loads_in_lerobot(
    episodes: list[Episode], lerobot_python: Path, tmp_path: Path, lenient_qc: Path
) -> None:
    """One canonical dataset of g1 and talos loads in lerobot; masked slots match each bag."""
    dataset = tmp_path / "canonical"
    paths = (episodes[0].path, episodes[1].path)
    result = run_export(*paths, "-o", dataset, "--layout", "canonical", "--qc", lenient_qc)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = load_with_lerobot(lerobot_python, dataset, tmp_path)
    assert loaded.meta["num_episodes"] == 2
    info = json.loads((dataset / "meta/info.json").read_text())
    assert info["features"]["observation.images.head"]["shape"] == [240, 320, 3]
    data = pq.read_table(dataset / "data/chunk-000/file-000.parquet")
    for index, episode in enumerate(episodes[:2]):
        rows = data.filter(pa.array(data.column("episode_index").to_numpy() == index))
        assert set(rows.column("embodiment").to_pylist()) == {episode.robot}
        mask = np.asarray(rows.column("observation.joint_mask").to_pylist()[0]) > 0.5
        _check_episode(episode, dataset, loaded, index, np.nonzero(mask)[0])


def test_h264_dataset_loads_in_lerobot_and_matches_the_bag(
    episodes: list[Episode], lerobot_python: Path, tmp_path: Path, lenient_qc: Path
) -> None:
    """A `--video-codec h264` robot-layout dataset decodes in lerobot and matches the bag."""
    episode = episodes[0]
    dataset = tmp_path / "h264"
    result = run_export(
        episode.path, "-o", dataset, "--video-codec", "h264", "--verify", "--qc", lenient_qc
    )
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads((dataset / "meta/info.json").read_text())
    assert info["features"]["observation.images.head"]["info"]["video.codec"] == "h264"
    loaded = load_with_lerobot(lerobot_python, dataset, tmp_path)
    width = loaded.arrays["state"].shape[1]
    _check_episode(episode, dataset, loaded, 0, np.arange(width))
