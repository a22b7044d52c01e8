"""Port many episodes: one job per episode, here, in local processes or as Ray tasks
(:mod:`humanoid_teleop.parallel`), each process building a robot's model and the target's
pipeline once. What ``humanoid-teleop port`` runs; a centre's archive goes through it on a
cluster with ``--ray``.

A job names its episode by path and reads it where it runs, so the command holds no
episode's data (~2-4 MB read per episode: an archive of 10 000 would not fit in memory) and
ships none to the workers. A job whose episode cannot be ported returns why
(:attr:`PortedEpisode.error`, one line naming the file and topic or key) and the run goes on
with the others; what an earlier run into the folder left is kept or redone
(:mod:`.resume`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.reader import bag_content_hash, read_bag
from humanoid_teleop.core.errors import EnvironmentProblem, TeleopError
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, robot_model_hash
from humanoid_teleop.core.robot.shared import models_built, shared_model
from humanoid_teleop.core.sim.physics_config import physics_hash
from humanoid_teleop.parallel import run_each

from .port import PortOptions, port_episode, target_pipeline, with_physics
from .report import PortReport
from .resume import earlier_port, ported_name
from .source import read_source, scene_in_metadata


@dataclass(frozen=True)
class PortJob:
    """One episode to port: its folder. Robots as ``load_robot`` takes them (a name under
    ``robots/`` or a robot.yaml path); ``source_robot`` empty = the episode's own (its
    metadata)."""

    source: Path
    target_robot: str
    output: Path
    options: PortOptions
    source_robot: str = ""


@dataclass(frozen=True)
class PortedEpisode:
    """What a job did with its episode: ported it, kept an earlier run's port, or not."""

    source: Path
    #: The ported episode (None: it could not be ported, see ``error``).
    path: Path | None = None
    report: PortReport | None = None
    #: Wall time of the port [s] (0 when kept).
    wall_s: float = 0.0
    #: An earlier run into the folder ported it from the same source: kept as it was.
    ported_before: bool = False
    #: ``custom.port.tool_version`` of the run that wrote it.
    tool_version: str = ""
    #: What was done with an earlier run's half-written episode ("" when there was none).
    note: str = ""
    #: Why it could not be ported: one line naming the file and topic or key ("": it was).
    error: str = ""


@lru_cache(maxsize=4)
def _pipeline(model: RobotModel, profile: str) -> TeleopPipeline:
    """The target's pipeline, built once per model (a robot.yaml edited while the process
    runs is a new model) and profile."""
    return target_pipeline(model, profile)


def port_job(job: PortJob) -> PortedEpisode:
    """Read, check against the folder (:func:`.resume.earlier_port`) and port one episode
    (models and the target pipeline cached in this process). A :class:`TeleopError` of the
    episode (bad input, its name holding another source's port) is returned as its line,
    nothing of the episode left written; an :class:`EnvironmentProblem` (a full disk) is
    the machine's and raised: it stops the run."""
    note = ""
    try:
        target_model = shared_model(job.target_robot)
        name = ported_name(job.source.name, target_model.description.name)
        content_hash, physics = _identity(job)
        target_hash = robot_model_hash(target_model.description)
        target_physics = physics_hash(target_model.description.source_file)
        earlier = None
        if content_hash and physics is not None:  # known from the metadata: decode nothing
            earlier, note = earlier_port(
                job.output,
                name,
                content_hash,
                physics,
                target_model_hash=target_hash,
                target_physics_hash=target_physics,
            )
        if earlier is None:
            description = shared_model(job.source_robot).description if job.source_robot else None
            source = read_source(job.source, description)
            content_hash = content_hash or bag_content_hash(source.path, list(source.files) or None)
            source = replace(source, content_hash=content_hash)
            if physics is None:
                earlier, note = earlier_port(
                    job.output, name, content_hash, with_physics(source, job.options),
                    target_model_hash=target_hash, target_physics_hash=target_physics,
                )  # fmt: skip
        if earlier is not None:
            return PortedEpisode(
                job.source, earlier.path, earlier.report, ported_before=True,
                tool_version=earlier.tool_version, note=note,
            )  # fmt: skip
        source_model = shared_model(job.source_robot or source.robot)
        pipeline = _pipeline(target_model, job.options.profile)
        _freeze_built()
        result = port_episode(
            source, source_model, target_model, job.output, job.options, pipeline=pipeline
        )
    except EnvironmentProblem:
        raise  # the machine's (a full disk): it stops the run, as for every other episode
    except TeleopError as err:
        return PortedEpisode(job.source, note=note, error=str(err))
    return PortedEpisode(job.source, result.path, result.report, result.wall_s, note=note)


def _identity(job: PortJob) -> tuple[str, bool | None]:
    """(the source's content hash, whether it is ported in physics) from its metadata and
    bytes alone, so that an episode an earlier run ported is kept without decoding its
    source (a resumed archive run): ``("", None)`` for a source whose metadata cannot be
    read (:func:`.source.read_source` says why), the physics None where only the recorded
    object names tell the scene."""
    try:
        summary = read_bag(job.source)
        content_hash = bag_content_hash(job.source, summary.files or None)
    except (BagError, OSError):
        return "", None
    sim = job.options.sim
    if sim is not None:
        return content_hash, sim
    scene = scene_in_metadata(summary)
    return content_hash, None if scene is None else bool(scene)


_built = [0]


def _freeze_built() -> None:
    """After this process built a model or a pipeline: keep everything alive now (models,
    pipelines, compiled kernels, modules) out of the garbage collector's full passes, which
    otherwise walk it during ports (~5-10% of a kinematic port's CPU time, issue 19), as the
    nodes do once built (:mod:`humanoid_teleop.nodes.executor`). Objects that become garbage
    later are still freed by their reference counts."""
    built = models_built() + _pipeline.cache_info().misses
    if built != _built[0]:
        _built[0] = built
        gc.freeze()


def port_all(
    jobs: Sequence[PortJob], workers: int = 1, ray: str | None = None
) -> Iterator[tuple[int, PortedEpisode]]:
    """``(index, result)`` of every job as it finishes (see :func:`humanoid_teleop.parallel.
    run_each`: ``workers`` local processes, or Ray tasks at ``ray``)."""
    yield from run_each(port_job, jobs, workers, ray)
