"""Porting many episodes: what a worker process keeps between jobs."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from humanoid_teleop.core.robot.shared import forget_shared_robots
from humanoid_teleop.portability import archive
from humanoid_teleop.portability.archive import PortJob, port_job
from humanoid_teleop.portability.port import PortOptions
from test.portability.conftest import PAIR, copy_without


def test_a_worker_freezes_what_it_built_once(sources: list[Path], tmp_path: Path) -> None:
    """The first job's models and pipeline are frozen out of the collector's full passes;
    a second job to the same robot builds nothing and freezes nothing more."""
    options = PortOptions(sim=False)
    forget_shared_robots()  # a fresh worker: nothing built yet
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


def _no_decoding(*args: object) -> None:
    raise AssertionError("the source was decoded")


def test_a_kept_port_is_kept_without_decoding_its_source(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run again, an episode an earlier run ported is kept from its source's metadata and
    bytes alone (a resumed archive run): the source is not decoded where the physics
    setting is told by the options (``--no-sim``) or by the metadata (an episode without
    objects: no scene), and the kept report is the first run's."""
    bare = copy_without(
        sources[0], tmp_path / "bare", lambda t: t.startswith("/sim/"), {"scene": ""}
    )
    jobs = [
        PortJob(sources[0], PAIR[2], tmp_path / "out", PortOptions(sim=False)),
        PortJob(bare, PAIR[2], tmp_path / "bare_out", PortOptions()),
    ]
    first = [port_job(job) for job in jobs]
    assert [r.error for r in first] == ["", ""] and [r.ported_before for r in first] == [False] * 2
    assert first[1].report is not None and not first[1].report.sim
    monkeypatch.setattr(archive, "read_source", _no_decoding)
    again = [port_job(job) for job in jobs]
    assert [r.ported_before for r in again] == [True, True]
    assert [r.report for r in again] == [r.report for r in first]
    assert [r.path for r in again] == [r.path for r in first]


def test_a_scene_only_its_object_names_tell_is_decoded_before_the_check(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An episode whose metadata names no scene but which recorded objects: whether it is
    ported in physics is known only from its decoded object names, so the check decodes
    it (here: made to fail, the job's one line), and does not keep a port it cannot tell."""
    unnamed = copy_without(sources[0], tmp_path / "unnamed", lambda t: False, {"scene": ""})
    monkeypatch.setattr(archive, "read_source", _no_decoding)
    with pytest.raises(AssertionError, match="the source was decoded"):
        port_job(PortJob(unnamed, PAIR[2], tmp_path / "out", PortOptions()))
