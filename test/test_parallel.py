"""The scale-out layer: every job's result once, and a job's TeleopError as itself, in this
process, in local processes and as Ray tasks."""

from __future__ import annotations

import pytest

from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.parallel import run_each

MODES = {"here": (1, None), "processes": (2, None), "ray": (2, "local")}


def square_or_refuse(n: int) -> int:
    """n² for n >= 0; a negative n is refused like a bad episode."""
    if n < 0:
        raise TeleopError(f"job {n}: negative input")
    return n * n


@pytest.mark.parametrize("mode", MODES)
def test_every_job_runs_once_and_results_carry_their_index(mode: str) -> None:
    """Each index appears once with its own job's result."""
    workers, ray = MODES[mode]
    jobs = [3, 1, 4, 1, 5]
    results = dict(run_each(square_or_refuse, jobs, workers, ray))
    assert results == {i: n * n for i, n in enumerate(jobs)}


@pytest.mark.parametrize("mode", MODES)
def test_a_jobs_teleop_error_reaches_the_caller_as_itself(mode: str) -> None:
    """A job's TeleopError is re-raised with its own message (not wrapped by Ray)."""
    workers, ray = MODES[mode]
    with pytest.raises(TeleopError, match=r"^job -2: negative input$"):
        list(run_each(square_or_refuse, [1, -2, 3], workers, ray))
