"""One unit of work: one episode (bag) -> one shard (frames, videos, episode record).

:func:`export_unit` is a pure function of its :class:`Unit` (the bag's bytes and the export
settings), so it gives the same shard in this process, a local worker process or a Ray task;
it returns the shard's files as bytes and the caller writes them (a Ray cluster needs no
shared output folder, only readable sources).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from humanoid_teleop.annotation.dataset import action_config, episode_labels
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.robot.errors import RobotConfigError
from humanoid_teleop.core.robot.shared import shared_model

from . import stats, video
from .errors import ExportInputError
from .layout import Feature, Layout, build_frames, features, unrecorded_commands
from .qc import QcRules, evaluate
from .source import port_provenance, read_episode

SHARD_FORMAT = 3
"""Version of the shard files; part of every unit key, so a new format never resumes an old one
(2: the episode record names the groups whose commands were not recorded; 3: it holds a
ported episode's provenance and port report)."""


@dataclass(frozen=True)
class Settings:
    """Export settings shared by every unit of one export."""

    fps: int
    layout: Layout
    codec: str
    camera_keys: tuple[str, ...]
    qc_rules: str  # QcRules.as_json()
    include_failed: bool

    def key(self) -> str:
        return json.dumps({**asdict(self), "shard_format": SHARD_FORMAT}, sort_keys=True)


@dataclass(frozen=True)
class Unit:
    """One episode to export: its folder, content hash, robot name and the settings."""

    source: str
    content_hash: str
    robot: str
    settings: Settings

    @property
    def key(self) -> str:
        """Shard name: digest of the bag content and the settings."""
        digest = hashlib.sha256((self.content_hash + self.settings.key()).encode()).hexdigest()
        return digest[:32]


def robot_model(name: str) -> RobotModel:
    """The robot model named in an episode's metadata (:func:`~humanoid_teleop.core.robot.
    shared.shared_model`: built once per process)."""
    try:
        return shared_model(name)
    except RobotConfigError as err:
        raise ExportInputError(f"robot {name!r} of the episode: {err}") from err


def arrow_column(values: np.ndarray, feature: Feature) -> pa.Array:
    """A frame column as LeRobot stores it: scalars plain, vectors as fixed-size lists."""
    if feature.dtype == "string":
        return pa.array([str(v) for v in values], type=pa.string())
    if feature.dtype == "bool":
        return pa.array(np.asarray(values, dtype=bool).reshape(-1), type=pa.bool_())
    np_type = np.float32 if feature.dtype == "float32" else np.int64
    flat = np.ascontiguousarray(np.asarray(values, dtype=np_type).reshape(len(values), -1))
    if feature.shape == (1,):
        return pa.array(flat[:, 0])
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), feature.shape[0])


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def export_unit(unit: Unit) -> dict[str, bytes]:
    """Export one episode; the shard's files as ``{relative name: bytes}``."""
    settings = unit.settings
    model = robot_model(unit.robot)
    path = Path(unit.source)
    data = read_episode(path, model.description, unit.content_hash, settings.fps)
    task = data.custom.get("task", "") or "unspecified task"
    frames = build_frames(model, data, settings.layout, settings.fps, settings.camera_keys, task)
    rules = QcRules.from_json(settings.qc_rules)
    verdict = evaluate(rules, model, data, frames, settings.fps)
    keep = verdict.passed or settings.include_failed
    start, stop = verdict.start, verdict.stop
    spec = features(
        model, settings.layout, settings.camera_keys,
        "observation.velocity" in frames.columns, "observation.effort" in frames.columns,
    )  # fmt: skip
    files: dict[str, bytes] = {}
    image_hist: dict[str, list[list[int]]] = {}
    if keep:
        columns = {
            key: arrow_column(frames.columns[key][start:stop], feature)
            for key, feature in spec.items()
        }
        buffer = io.BytesIO()
        pq.write_table(pa.table(columns), buffer, compression="snappy")
        files["frames.parquet"] = buffer.getvalue()
        for key in settings.camera_keys:
            kept = frames.images[key][start:stop]
            files[f"videos/{key}.mp4"] = video.encode(kept, settings.fps, settings.codec)
            image_hist[key] = stats.image_histogram(kept).tolist()
    custom = data.custom
    record = {
        "source_path": str(path.resolve()),
        "source_content_hash": data.content_hash,
        "robot": unit.robot,
        "robot_model_hash": custom.get("robot_model_hash", ""),
        "task": task,
        "subtasks": frames.subtasks,
        "outcome": custom.get("outcome", ""),
        "success": custom.get("outcome", "") == "success",
        "operator": custom.get("operator", ""),
        "device": custom.get("device", ""),
        "station": custom.get("station", ""),
        "port": port_provenance(path, custom),
        "annotations": _json_or_none(custom.get("annotations")) or [],
        "annotation_labels": episode_labels(path),
        "action_config": action_config(path, settings.fps, int(frames.grid_ns[start])),
        "loss": _json_or_none(custom.get("loss")),
        "sync": _json_or_none(custom.get("sync")),
        "unrecorded_commands": unrecorded_commands(model, data),
        "qc_passed": verdict.passed,
        "qc_reasons": verdict.reasons,
        "qc_metrics": verdict.metrics,
        "qc_mid_idle_s": verdict.mid_idle,
        "kept": keep,
        "length": stop - start if keep else 0,
        "start_ns": int(frames.grid_ns[start]),
        "features": {k: f.info() for k, f in spec.items()},
        "image_shapes": {k: list(frames.images[k][0].shape) for k in settings.camera_keys},
        "image_hist": image_hist,
    }
    files["episode.json"] = json.dumps(record, sort_keys=True).encode()
    return files
