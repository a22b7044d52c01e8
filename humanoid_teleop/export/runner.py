"""Plan the units of an export, run them (:mod:`humanoid_teleop.parallel`: here, in local
processes or as Ray tasks), aggregate.

Shards live in ``<dataset>/.shards/<unit key>/`` (key = digest of the bag content and the
settings), so ``resume`` skips a unit whose shard is already complete. Ray is only imported
when asked for; ``local`` starts a private single-node Ray bound to 127.0.0.1 without
dashboard or usage reporting.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.reader import bag_content_hash, find_episodes, read_bag
from humanoid_teleop.parallel import run_each

from .aggregate import aggregate
from .errors import ExportError, ExportInputError
from .layout import CANONICAL_CAMERAS, Layout, cameras
from .qc import QcRules
from .shard import Settings, Unit, export_unit, robot_model

LOG = logging.getLogger(__name__)
SHARDS_DIR = ".shards"
DONE_FILE = "episode.json"
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ExportRequest:
    """What ``humanoid-teleop export lerobot`` was asked to do."""

    sources: tuple[Path, ...]
    output: Path
    fps: int = 30
    layout: Layout = "robot"
    codec: str = "av1"
    workers: int = 1
    ray: str | None = None
    resume: bool = False
    include_failed: bool = False
    qc_file: Path | None = None
    cameras: tuple[str, ...] | None = None
    """Dataset camera keys to export (``head``, ``left_wrist``, ...); ``()`` for none (a
    state-only dataset); None: every camera the layout holds."""


def plan(request: ExportRequest) -> list[Unit]:
    """One unit per episode, in source order (episodes within a folder sorted by name)."""
    if request.fps <= 0:
        raise ExportError(f"--fps {request.fps}: must be a positive integer")
    episodes = find_episodes(request.sources)
    robots: list[str] = []
    for episode in episodes:
        try:
            name = read_bag(episode).metadata.custom_data.get("robot", "")
        except (BagFormatError, OSError) as err:
            raise ExportInputError(f"{episode}: unreadable episode: {err}") from err
        if not name:
            raise ExportInputError(f"{episode}: metadata.yaml custom_data has no robot name")
        robots.append(name)
    models = {name: robot_model(name) for name in sorted(set(robots))}
    if request.layout == "robot" and len(models) > 1:
        raise ExportError(
            f"the robot layout holds one robot model; these episodes come from "
            f"{', '.join(models)} (export each robot separately, or use --layout canonical)"
        )
    if request.layout == "robot":
        camera_keys = tuple(sorted(cameras(next(iter(models.values()))))) if models else ()
    else:
        shared = set(CANONICAL_CAMERAS)
        for model in models.values():
            shared &= set(cameras(model))
        camera_keys = tuple(k for k in CANONICAL_CAMERAS if k in shared)
    if request.cameras is not None:
        camera_keys = chosen_cameras(request.cameras, camera_keys, request.layout)
    rules = QcRules.load(request.qc_file)
    settings = Settings(
        fps=request.fps, layout=request.layout, codec=request.codec, camera_keys=camera_keys,
        qc_rules=rules.as_json(), include_failed=request.include_failed,
    )  # fmt: skip
    return [
        Unit(str(episode.resolve()), bag_content_hash(episode), robot, settings)
        for episode, robot in zip(episodes, robots, strict=True)
    ]


def chosen_cameras(
    asked: Sequence[str], available: tuple[str, ...], layout: Layout
) -> tuple[str, ...]:
    """The cameras of ``asked`` (``--cameras``) in the dataset's order; an ExportError naming a
    camera the ``layout``'s episodes do not have (``available``)."""
    unknown = [key for key in asked if key not in available]
    if unknown:
        have = ", ".join(available) or "none"
        raise ExportError(
            f"--cameras {','.join(unknown)}: not a camera of the {layout} layout's episodes "
            f"(they have: {have})"
        )
    return tuple(key for key in available if key in asked)


def _store(shard_dir: Path, files: dict[str, bytes]) -> None:
    """Write a shard atomically: into a temp folder, renamed when complete."""
    tmp = shard_dir.with_name(shard_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, data in files.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.rmtree(shard_dir, ignore_errors=True)
    tmp.rename(shard_dir)


def run_units(
    units: Sequence[Unit], shards: Path, request: ExportRequest, progress: Progress | None = None
) -> list[Path]:
    """Make every unit's shard (skipping complete ones when resuming); shard folders in order."""
    shards.mkdir(parents=True, exist_ok=True)
    dirs = [shards / unit.key for unit in units]
    todo = [
        (i, unit) for i, unit in enumerate(units)
        if not (request.resume and (dirs[i] / DONE_FILE).is_file())
    ]  # fmt: skip
    total = len(units)
    done = total - len(todo)
    if progress:
        progress(done, total, "resumed" if done else "")
    jobs = [unit for _, unit in todo]
    for k, files in run_each(export_unit, jobs, request.workers, request.ray):
        i = todo[k][0]
        _store(dirs[i], files)
        done += 1
        if progress:
            progress(done, total, units[i].source)
    return dirs


def check_output(request: ExportRequest) -> None:
    """An ExportError naming ``request.output`` when the dataset cannot be written there: a
    file (or a file on its path) instead of a folder, or a non-empty folder without
    ``resume``."""
    out = request.output
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is" if existing == out else f"is inside {existing}, which is"
        raise ExportError(f"{out}: {where} a file, not a folder (-o names the dataset folder)")
    if out.exists() and not request.resume and any(p.name != SHARDS_DIR for p in out.iterdir()):
        raise ExportError(f"{out}: exists and is not empty (use --resume to continue an export)")


def export(request: ExportRequest, progress: Progress | None = None) -> dict[str, Any]:
    """Check the output folder, plan, run and aggregate; the summary of the written dataset."""
    check_output(request)
    units = plan(request)
    out = request.output
    shards = out / SHARDS_DIR
    dirs = run_units(units, shards, request, progress)
    for name in ("data", "videos", "meta"):
        shutil.rmtree(out / name, ignore_errors=True)
    summary = aggregate(dirs, out, units[0].settings)
    summary["units"] = len(units)
    return summary
