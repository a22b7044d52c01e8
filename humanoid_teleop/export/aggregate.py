"""Shards -> the LeRobot v3.0 dataset: data and video files, indices, tasks, stats, meta.

Runs in one process over the shards in source order, so the output depends only on the
shards (byte-identical whatever ran the units). Episodes share files up to LeRobot's size
limits (100 MB data, 200 MB video, 1000 files per chunk). Besides LeRobot's own files it
writes ``meta/embodiment.json``, ``meta/modality.json``, ``meta/qc.parquet`` and
``meta/export.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from humanoid_teleop import __version__ as software_version
from humanoid_teleop.core.robot import RobotModel, robot_model_hash

from . import stats, video
from .errors import ExportError
from .layout import (
    CANONICAL_SLOTS,
    GROUP_ORDER,
    cameras,
    driven_groups,
    driven_joints,
)
from .shard import Settings, robot_model

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_FILE_MB = 100
VIDEO_FILE_MB = 200
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DEFAULT_FEATURES = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
IMAGE_PREFIX = "observation.images."


def _next_file(chunk: int, file: int) -> tuple[int, int]:
    return (chunk + 1, 0) if file == CHUNKS_SIZE - 1 else (chunk, file + 1)


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n")


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")


def _tasks_table(tasks: list[str]) -> pa.Table:
    """tasks.parquet as pandas writes a frame indexed by ``task`` (what LeRobot reads)."""
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode",
                            "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
             "numpy_type": "int64", "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode",
             "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }  # fmt: skip
    table = pa.table(
        {
            "task_index": pa.array(range(len(tasks)), pa.int64()),
            "task": pa.array(tasks, pa.string()),
        }
    )
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


def _embodiment(model: RobotModel) -> dict[str, Any]:
    description = model.description
    joints = driven_joints(model)
    idx = model.index_of(joints)
    limits = model.limits
    return {
        "robot": description.name,
        "display_name": description.display_name,
        "maker": description.maker,
        "robot_model_hash": robot_model_hash(description),
        "base_frame": description.base_frame,
        "joint_groups": {g: list(description.groups[g]) for g in driven_groups(model)},
        "joint_names": list(joints),
        "limits": {
            "lower": np.asarray(limits.lower)[idx].tolist(),
            "upper": np.asarray(limits.upper)[idx].tolist(),
            "velocity": np.asarray(limits.velocity)[idx].tolist(),
            "effort": np.asarray(limits.effort)[idx].tolist(),
        },
        "ee_frames": {s: a.ee_frame for s, a in description.arms.items()},
        "cameras": {key: _camera_info(model, name) for key, name in cameras(model).items()},
        "wrench_sensors": {
            w.name: {
                "frame_id": w.frame_id,
                "parent": w.parent,
                "xyz": list(w.pose.xyz),
                "rpy": list(w.pose.rpy),
                "topic": w.topic,
            }
            for w in description.sensors.wrenches
        },
    }


def _camera_info(model: RobotModel, name: str) -> dict[str, Any]:
    camera = next(c for c in model.description.sensors.cameras if c.name == name)
    fx = camera.width / (2.0 * np.tan(camera.fov_rad / 2.0))
    r, p = model.fk(model.home_positions(), camera.frame_id)
    return {
        "name": camera.name,
        "frame_id": camera.frame_id,
        "parent": camera.parent,
        "width": camera.width,
        "height": camera.height,
        "intrinsics": {"fx": fx, "fy": fx, "cx": camera.width / 2.0, "cy": camera.height / 2.0},
        "extrinsics_at_home": {
            "rotation": r.tolist(),
            "translation_m": p.tolist(),
            "in": model.description.base_frame,
        },
    }


def _in_group_order(by_group: dict[str, Any]) -> dict[str, Any]:
    """``by_group`` in :data:`GROUP_ORDER`, the order of the joint vectors (episode records
    are stored with sorted keys)."""
    return {group: by_group[group] for group in GROUP_ORDER if group in by_group}


def _modality(
    features: dict[str, Any], settings: Settings, model: RobotModel | None
) -> dict[str, Any]:
    """GR00T-style map: state/action start/end slices per body group, cameras, annotations."""
    slices: dict[str, dict[str, int]] = {}
    offset = 0
    if settings.layout == "canonical":
        for group, width in CANONICAL_SLOTS.items():
            slices[group] = {"start": offset, "end": offset + width}
            offset += width
    elif model is not None:
        for group in GROUP_ORDER:
            if group in driven_groups(model):
                count = len(model.description.groups[group])
                slices[group] = {"start": offset, "end": offset + count}
                offset += count
    return {
        "state": slices,
        "action": slices,
        "eef": {"left": {"original_key": "observation.eef_pose", "start": 0, "end": 7},
                "right": {"original_key": "observation.eef_pose", "start": 7, "end": 14}},
        "video": {key: {"original_key": IMAGE_PREFIX + key} for key in settings.camera_keys},
        "annotation": {
            "human.task_description": {"original_key": "task_index"},
            "human.subtask": {"original_key": "annotation.human.subtask"},
        },
    }  # fmt: skip


def aggregate(shard_dirs: Sequence[Path], out: Path, settings: Settings) -> dict[str, Any]:
    """Merge ``shard_dirs`` (in order) into the dataset at ``out``; a summary dict."""
    records = [json.loads((d / "episode.json").read_text()) for d in shard_dirs]
    kept = [(d, r) for d, r in zip(shard_dirs, records, strict=True) if r["kept"]]
    robots = sorted({r["robot"] for r in records})
    if settings.layout == "robot" and len(robots) > 1:
        raise ExportError(
            f"the robot layout holds one robot model; these episodes come from {', '.join(robots)} "
            "(export each robot separately, or use --layout canonical)"
        )
    if not kept:
        reasons = "; ".join(f"{r['source_path']}: {', '.join(r['qc_reasons'])}" for r in records)
        raise ExportError(
            f"no episode passed the quality gates (--include-failed keeps them): {reasons}"
        )
    feature_sets = [r["features"] for _, r in kept]
    common = [k for k in feature_sets[0] if all(k in f for f in feature_sets)]
    for f in feature_sets[1:]:
        for key in common:
            if f[key] != feature_sets[0][key]:
                raise ExportError(
                    f"feature {key} differs between episodes: {f[key]} vs {feature_sets[0][key]}"
                )
    features: dict[str, Any] = dict(DEFAULT_FEATURES)
    shapes = kept[0][1]["image_shapes"]
    for key in settings.camera_keys:
        h, w, c = shapes[key]
        features[IMAGE_PREFIX + key] = {
            "dtype": "video",
            "shape": [h, w, c],
            "names": ["height", "width", "channels"],
            "info": {},
        }
    for key in common:
        features[key] = feature_sets[0][key]

    # tasks: episode tasks first (in order met), then sub-task texts
    tasks: list[str] = []
    for _, r in kept:
        for text in [r["task"], *r["subtasks"]]:
            if text not in tasks:
                tasks.append(text)
    task_index = {t: i for i, t in enumerate(tasks)}

    out.mkdir(parents=True, exist_ok=True)
    limit = DATA_FILE_MB * 1024 * 1024
    data_tables: list[pa.Table] = []
    data_bytes = 0
    data_loc = (0, 0)
    video_parts: dict[str, list[tuple[bytes, int]]] = {k: [] for k in settings.camera_keys}
    video_loc = {k: (0, 0) for k in settings.camera_keys}
    video_bytes = {k: 0 for k in settings.camera_keys}
    video_frames = {k: 0 for k in settings.camera_keys}
    episode_rows: list[dict[str, Any]] = []
    all_tables: list[pa.Table] = []
    image_hist = {k: np.zeros((3, 256), dtype=np.int64) for k in settings.camera_keys}
    global_index = 0

    def flush_data() -> None:
        nonlocal data_tables, data_bytes
        if data_tables:
            _write_parquet(
                pa.concat_tables(data_tables),
                out / DATA_PATH.format(chunk_index=data_loc[0], file_index=data_loc[1]),
            )
        data_tables, data_bytes = [], 0

    def flush_video(key: str) -> None:
        parts = video_parts[key]
        if parts:
            chunk, file = video_loc[key]
            target = out / VIDEO_PATH.format(
                video_key=IMAGE_PREFIX + key, chunk_index=chunk, file_index=file
            )
            video.concatenate([p for p, _ in parts], [n for _, n in parts], settings.fps, target)
        video_parts[key] = []
        video_bytes[key] = 0
        video_frames[key] = 0

    for episode_index, (shard, record) in enumerate(kept):
        table = pq.read_table(shard / "frames.parquet")
        n = table.num_rows
        local = table.column("annotation.human.subtask").to_numpy()
        sub_ids = np.asarray([task_index[t] for t in record["subtasks"]], dtype=np.int64)
        frame_index = np.arange(n, dtype=np.int64)
        columns: dict[str, pa.Array] = {
            "timestamp": pa.array((frame_index / settings.fps).astype(np.float32)),
            "frame_index": pa.array(frame_index),
            "episode_index": pa.array(np.full(n, episode_index, dtype=np.int64)),
            "index": pa.array(np.arange(global_index, global_index + n, dtype=np.int64)),
            "task_index": pa.array(np.full(n, task_index[record["task"]], dtype=np.int64)),
        }
        for key in common:
            column = table.column(key)
            if key == "annotation.human.subtask":
                column = pa.array(sub_ids[local])
            columns[key] = column
        frames = pa.table(columns)
        size = frames.nbytes
        if data_tables and data_bytes + size > limit:
            flush_data()
            data_loc = _next_file(*data_loc)
        data_tables.append(frames)
        data_bytes += size
        all_tables.append(frames)

        row: dict[str, Any] = {
            "episode_index": episode_index,
            "tasks": [record["task"]],
            "length": n,
            "data/chunk_index": data_loc[0],
            "data/file_index": data_loc[1],
            "dataset_from_index": global_index,
            "dataset_to_index": global_index + n,
        }
        for key in settings.camera_keys:
            part = (shard / f"videos/{key}.mp4").read_bytes()
            if video_parts[key] and video_bytes[key] + len(part) > VIDEO_FILE_MB * 1024 * 1024:
                flush_video(key)
                video_loc[key] = _next_file(*video_loc[key])
            start_s = video_frames[key] / settings.fps
            video_parts[key].append((part, n))
            video_bytes[key] += len(part)
            video_frames[key] += n
            prefix = f"videos/{IMAGE_PREFIX}{key}/"
            row[prefix + "chunk_index"] = video_loc[key][0]
            row[prefix + "file_index"] = video_loc[key][1]
            row[prefix + "from_timestamp"] = start_s
            row[prefix + "to_timestamp"] = start_s + n / settings.fps
            hist = np.asarray(record["image_hist"][key], dtype=np.int64)
            image_hist[key] += hist
            for stat, value in stats.image(hist, n).items():
                row[f"stats/{IMAGE_PREFIX}{key}/{stat}"] = value.tolist()
        for key in features:
            if features[key]["dtype"] in ("video", "string"):
                continue
            for stat, value in stats.numeric(
                frames.column(key).to_numpy(zero_copy_only=False)
                if features[key]["shape"] == [1]
                else np.stack(frames.column(key).to_numpy(zero_copy_only=False))
            ).items():
                row[f"stats/{key}/{stat}"] = value.tolist()
        row.update(
            {
                "success": record["success"],
                "outcome": record["outcome"],
                "operator": record["operator"],
                "device": record["device"],
                "station": record["station"],
                "robot": record["robot"],
                "robot_model_hash": record["robot_model_hash"],
                "source_path": record["source_path"],
                "source_content_hash": record["source_content_hash"],
                "source_start_ns": record["start_ns"],
                "ported_from_robot": record["port"].get("source_robot", ""),
                "port": json.dumps(record["port"], sort_keys=True),
                "annotations": json.dumps(record["annotations"]),
                "annotation_labels": json.dumps(record["annotation_labels"], sort_keys=True),
                "action_config": json.dumps(record["action_config"]),
                "loss_summary": json.dumps(record["loss"], sort_keys=True),
                "sync_summary": json.dumps(record["sync"], sort_keys=True),
                "unrecorded_commands": json.dumps(_in_group_order(record["unrecorded_commands"])),
                "qc_passed": record["qc_passed"],
                "qc_reasons": record["qc_reasons"],
                "meta/episodes/chunk_index": 0,
                "meta/episodes/file_index": 0,
            }
        )
        episode_rows.append(row)
        global_index += n
    flush_data()
    for key in settings.camera_keys:
        flush_video(key)

    # dataset stats: exact, over every frame
    everything = pa.concat_tables(all_tables)
    dataset_stats: dict[str, dict[str, np.ndarray]] = {}
    for key, feature in features.items():
        if feature["dtype"] == "string":
            continue
        if feature["dtype"] == "video":
            cam = key.removeprefix(IMAGE_PREFIX)
            dataset_stats[key] = stats.image(image_hist[cam], everything.num_rows)
            continue
        column = everything.column(key).combine_chunks()
        values = column.to_numpy(zero_copy_only=False)
        if feature["shape"] != [1]:
            values = pc.list_flatten(column).to_numpy(zero_copy_only=False).reshape(len(column), -1)
        dataset_stats[key] = stats.numeric(values)

    for key in settings.camera_keys:
        first = out / VIDEO_PATH.format(video_key=IMAGE_PREFIX + key, chunk_index=0, file_index=0)
        features[IMAGE_PREFIX + key]["info"] = video.probe(first)

    episodes_table = pa.Table.from_pylist(episode_rows)
    _write_parquet(episodes_table, out / EPISODES_PATH.format(chunk_index=0, file_index=0))
    _write_parquet(_tasks_table(tasks), out / "meta/tasks.parquet")
    _write_json(out / "meta/stats.json", stats.to_json(dataset_stats))
    robot_type = robots[0] if settings.layout == "robot" else "humanoid_canonical"
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": len(kept),
        "total_frames": global_index,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILE_MB,
        "video_files_size_in_mb": VIDEO_FILE_MB,
        "fps": settings.fps,
        "splits": {"train": f"0:{len(kept)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if settings.camera_keys else None,
        "features": features,
    }
    _write_json(out / "meta/info.json", info)
    models = {name: robot_model(name) for name in robots}
    _write_json(out / "meta/embodiment.json", {name: _embodiment(m) for name, m in models.items()})
    _write_json(
        out / "meta/modality.json",
        _modality(features, settings, models[robots[0]] if settings.layout == "robot" else None),
    )
    qc_rows = [
        {
            "source_path": r["source_path"],
            "source_content_hash": r["source_content_hash"],
            "robot": r["robot"],
            "passed": r["qc_passed"],
            "kept": r["kept"],
            "reasons": r["qc_reasons"],
            "episode_index": next((i for i, (_, k) in enumerate(kept) if k is r), -1),
            **{f"metric.{k}": float(v) for k, v in sorted(r["qc_metrics"].items())},
            "mid_idle_s": json.dumps(r["qc_mid_idle_s"]),
        }
        for r in records
    ]
    _write_parquet(pa.Table.from_pylist(qc_rows), out / "meta/qc.parquet")
    _write_json(
        out / "meta/export.json",
        {
            "exporter": f"humanoid_teleop {software_version}",
            "schema": f"humanoid_teleop.{settings.layout}/1",
            "layout": settings.layout,
            "fps": settings.fps,
            "video_codec": settings.codec,
            "qc_rules": json.loads(settings.qc_rules),
            "include_failed": settings.include_failed,
            "sources": [r["source_path"] for r in records],
        },
    )
    return {
        "dataset": str(out),
        "episodes": len(kept),
        "frames": global_index,
        "excluded": [
            {"source": r["source_path"], "reasons": r["qc_reasons"]}
            for r in records
            if not r["kept"]
        ],
        "flagged": [
            {"source": r["source_path"], "reasons": r["qc_reasons"]}
            for r in records
            if r["kept"] and not r["qc_passed"]
        ],
        "action_is_state": [
            {
                "source": r["source_path"],
                "episode_index": i,
                "groups": _in_group_order(r["unrecorded_commands"]),
            }
            for i, (_, r) in enumerate(kept)
            if r["unrecorded_commands"]
        ],
    }
