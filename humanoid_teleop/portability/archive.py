"""Port many episodes: one job per episode, here, in local processes or as Ray tasks
(:mod:`humanoid_teleop.parallel`), each process building a robot's model and the target's
pipeline once. What ``humanoid-teleop port`` runs; a centre's archive goes through it on a
cluster with ``--ray``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.parallel import run_each

from .port import PortOptions, PortResult, port_episode, target_pipeline
from .source import SourceEpisode


@dataclass(frozen=True)
class PortJob:
    """One episode to port. Robots as ``load_robot`` takes them (a name under ``robots/`` or
    a robot.yaml path); ``source_robot`` empty = the episode's own (its metadata)."""

    source: SourceEpisode
    target_robot: str
    output: Path
    options: PortOptions
    source_robot: str = ""


@lru_cache(maxsize=16)
def _model(robot: str) -> RobotModel:
    return RobotModel(load_robot(robot))


@lru_cache(maxsize=4)
def _pipeline(robot: str, profile: str) -> TeleopPipeline:
    return target_pipeline(_model(robot), profile)


def port_job(job: PortJob) -> PortResult:
    """Port one episode (models and the target pipeline cached in this process)."""
    source_model = _model(job.source_robot or job.source.robot)
    target_model = _model(job.target_robot)
    pipeline = _pipeline(job.target_robot, job.options.profile)
    _freeze_built()
    return port_episode(
        job.source, source_model, target_model, job.output, job.options, pipeline=pipeline
    )


_built = [0]


def _freeze_built() -> None:
    """After this process built a model or a pipeline: keep everything alive now (models,
    pipelines, compiled kernels, modules) out of the garbage collector's full passes, which
    otherwise walk it during ports (~5-10% of a kinematic port's CPU time, issue 19), as the
    nodes do once built (:mod:`humanoid_teleop.nodes.executor`). Objects that become garbage
    later are still freed by their reference counts."""
    built = _model.cache_info().misses + _pipeline.cache_info().misses
    if built != _built[0]:
        _built[0] = built
        gc.freeze()


def port_all(
    jobs: Sequence[PortJob], workers: int = 1, ray: str | None = None
) -> Iterator[tuple[int, PortResult]]:
    """``(index, result)`` of every job as it finishes (see :func:`humanoid_teleop.parallel.
    run_each`: ``workers`` local processes, or Ray tasks at ``ray``)."""
    yield from run_each(port_job, jobs, workers, ray)
