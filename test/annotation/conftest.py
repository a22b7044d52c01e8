"""Fixtures of the annotation tests: copies of the session's live scripted G1 pick
(test/conftest.py ``scripted_g1_episode``), an episode with a real grasp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def episode_copy(scripted_g1_episode: Path, tmp_path: Path) -> Path:
    """A copy of the scripted episode this test may annotate."""
    return Path(shutil.copytree(scripted_g1_episode, tmp_path / "bags" / scripted_g1_episode.name))
