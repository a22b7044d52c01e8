"""Fixtures of the annotation tests: a recorded demo episode with a real grasp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test.export.helpers import record

SCRIPTED_S = 12.0
"""Length of the scripted pick-and-place demo episode [s]: the hand closes on the cube ~4 s
in and opens over the target ~8 s in."""


@pytest.fixture(scope="session")
def scripted_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A g1 episode of the scripted demonstrator picking the cube (real DDS, MuJoCo)."""
    from humanoid_teleop.isolation.netns import is_isolated

    if not is_isolated():
        pytest.skip("recording needs the isolated-network wrapper: run `make test`")
    return record(
        "g1",
        SCRIPTED_S,
        tmp_path_factory.mktemp("annotation_bags"),
        device="scripted",
        require_success=True,
    )


@pytest.fixture
def episode_copy(scripted_episode: Path, tmp_path: Path) -> Path:
    """A copy of the scripted episode this test may annotate."""
    return Path(shutil.copytree(scripted_episode, tmp_path / "bags" / scripted_episode.name))
