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


@pytest.mark.slow
def test_core_passes_mypy_strict() -> None:
    """humanoid_teleop.core type-checks under `mypy --strict`."""
    result = _run("mypy", "--strict", "humanoid_teleop/core")
    assert result.returncode == 0, result.stdout + result.stderr
