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


SCRIPTED_G1_S = 20.0
"""Length [s] of :func:`scripted_g1_episode`: the scripted G1 closes its hand on the cube
~4 s in, opens it over the target ~8 s in and has backed off by ~10 s."""


@pytest.fixture(scope="session")
def scripted_g1_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One live scripted pick-and-place on G1 (`humanoid-teleop demo --robot g1 --duration
    20`: MuJoCo sim, the scripted demonstrator, teleop and recorder over real DDS), recorded
    once for the session: test/session/test_scripted_demo.py checks it, the annotation
    tests label and export copies of it, test/portability/test_port_live.py ports it. Up to
    three recordings, the first that succeeds (a DDS session on a loaded host is not
    bit-deterministic; the demonstrator succeeds on every seed offline, bench/sim.py)."""
    from test.export.helpers import record

    if not is_isolated():
        pytest.skip("recording needs the isolated-network wrapper: run `make test`")
    folder = tmp_path_factory.mktemp("scripted_g1")
    return record("g1", SCRIPTED_G1_S, folder, attempts=3, device="scripted", require_success=True)


#: The matrix the tests run (``port matrix``): robots, task, episodes per robot.
MATRIX = (("g1", "alex"), ("push",), 1)


@pytest.fixture(scope="session")
def matrix_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """:data:`MATRIX` run once (2 workers) into a folder: (the folder, its ``MatrixRun``)."""
    from humanoid_teleop.portability.scripted_matrix import run_matrix

    robots, tasks, episodes = MATRIX
    folder = tmp_path_factory.mktemp("matrix")
    return folder, run_matrix(robots, tasks, episodes, folder, workers=2)
