"""Fixtures of the export tests: recorded episodes (the lerobot 0.6.1 venv: test/conftest.py).

``episodes`` runs the real ``humanoid-teleop demo`` (sim + replayed operator + teleop +
recorder, real DDS in the isolated network) once per ``RECORDINGS`` entry, for the whole
session: two robots (g1: forward commands and dexterous hands; talos: trajectory commands,
grippers and a head), long and short episodes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test.export.helpers import (
    LENIENT_QC,
    RECORDINGS,
    Episode,
    record,
    write_offline_episode,
)


@pytest.fixture(scope="session")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> list[Episode]:
    """Three recorded demo episodes (see RECORDINGS), each in its own folder."""
    from humanoid_teleop.isolation.netns import is_isolated

    if not is_isolated():
        pytest.skip("recording needs the isolated-network wrapper: run `make test`")
    root = tmp_path_factory.mktemp("export_bags")
    recorded = []
    for i, (robot, duration_s) in enumerate(RECORDINGS):
        bag = record(robot, duration_s, root / f"{i}_{robot}")
        recorded.append(Episode(robot, duration_s, bag))
    return recorded


@pytest.fixture(scope="session")
def lenient_qc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A QC rules file (LENIENT_QC) for tests that are not about the quality gates."""
    path = tmp_path_factory.mktemp("qc") / "lenient.yaml"
    path.write_text(LENIENT_QC)
    return path


@pytest.fixture(scope="session")
def talos_offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two TALOS episodes of the offline writer: ``native`` with its trajectory commands,
    ``no_commands`` without any command topic (:func:`write_offline_episode`)."""
    root = tmp_path_factory.mktemp("offline_bags")
    return {
        "native": write_offline_episode(root, "talos", "talos_native", commands=True),
        "no_commands": write_offline_episode(root, "talos", "talos_no_commands", commands=False),
    }
