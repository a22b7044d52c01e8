"""Porting many episodes: what a worker process keeps between jobs."""

from __future__ import annotations

import gc
from pathlib import Path

from humanoid_teleop.portability import archive
from humanoid_teleop.portability.archive import PortJob, port_job
from humanoid_teleop.portability.port import PortOptions
from test.portability.conftest import PAIR


def test_a_worker_freezes_what_it_built_once(sources: list[Path], tmp_path: Path) -> None:
    """The first job's models and pipeline are frozen out of the collector's full passes;
    a second job to the same robot builds nothing and freezes nothing more."""
    options = PortOptions(sim=False)
    archive._model.cache_clear()  # a fresh worker: nothing built yet
    archive._pipeline.cache_clear()
    gc.unfreeze()
    try:
        first = port_job(PortJob(sources[0], PAIR[2], tmp_path / "a", options))
        assert first.error == "" and first.path is not None
        frozen = gc.get_freeze_count()
        assert frozen > 0
        port_job(PortJob(sources[0], PAIR[2], tmp_path / "b", options))
        # no second freeze (it would add the objects the first port left alive); a frozen
        # object that became garbage since is freed by its reference count and leaves
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
