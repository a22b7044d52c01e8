"""Shared pytest setup: tests marked ``ros`` run only inside the isolated-network wrapper."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from humanoid_teleop.isolation.netns import is_isolated

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the numba kernels (or load numba's cache) once, before any test or node process
    needs them: a first compile takes ~10 s, which would otherwise land in one test's timing."""
    from humanoid_teleop.core.compiled import compile_all

    compile_all()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if is_isolated():
        return
    skip = pytest.mark.skip(
        reason="needs the isolated-network wrapper so DDS stays on loopback: run `make test`"
    )
    for item in items:
        if "ros" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def python() -> str:
    """The interpreter running the tests (the project's venv)."""
    return sys.executable


@pytest.fixture(scope="session")
def lerobot_python() -> Path:
    """Python of the lerobot 0.6.1 venv (the exports' real consumer, test/export and
    test/portability); skips (saying why) when there is none."""
    from test.export.helpers import lerobot_venv

    venv = lerobot_venv()
    if venv is None:
        pytest.skip(
            "no lerobot 0.6.1 venv for these requirements: `make test` creates it with "
            "tools/setup_lerobot.sh, which needs a Python 3.12 (python3.12 on PATH or pyenv)"
        )
    return venv / "bin" / "python"


#: The matrix the tests run (``port matrix``): robots, task, episodes per robot.
MATRIX = (("g1", "alex"), ("push",), 1)


@pytest.fixture(scope="session")
def matrix_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """:data:`MATRIX` run once (2 workers) into a folder: (the folder, its ``MatrixRun``)."""
    from humanoid_teleop.portability.scripted_matrix import run_matrix

    robots, tasks, episodes = MATRIX
    folder = tmp_path_factory.mktemp("matrix")
    return folder, run_matrix(robots, tasks, episodes, folder, workers=2)
