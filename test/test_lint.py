"""Lint, format and strict typing are part of the suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_lint_passes() -> None:
    """`ruff check` finds nothing in the repository."""
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    """Every Python file is formatted as `ruff format` would write it."""
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


#: The packages `make lint` and this test hold to `mypy --strict` (the Makefile's MYPY_PATHS).
MYPY_PATHS = (
    "humanoid_teleop/core",
    "humanoid_teleop/devices",
    "humanoid_teleop/session",
    "humanoid_teleop/cli",
    "humanoid_teleop/nodes",
)


@pytest.mark.slow
def test_packages_pass_mypy_strict() -> None:
    """core, devices, session, cli and nodes type-check under `mypy --strict`."""
    result = _run("mypy", "--strict", *MYPY_PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_lint_checks_the_same_packages() -> None:
    """`make lint` runs mypy over the same packages as this test."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if x.startswith("MYPY_PATHS"))
    assert tuple(line.split("=", 1)[1].split()) == MYPY_PATHS
