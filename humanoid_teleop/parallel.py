"""Run independent jobs here, in local processes or as Ray tasks: the one scale-out layer of
the archive commands (``export lerobot``, ``port``).

``workers <= 1`` without Ray runs the jobs in this process, in order. ``workers > 1`` runs them
in that many spawned local processes. ``ray`` set runs them as Ray tasks: ``"local"`` starts a
private single-node Ray bound to 127.0.0.1 with ``workers`` CPUs, no dashboard and no usage
reporting; any other value is the address of a running cluster (``"auto"``, ``host:port``).
Ray is only imported when asked for.

A job's :class:`~humanoid_teleop.core.errors.TeleopError` reaches the caller as itself (Ray
wraps it in a ``RayTaskError``; its cause is re-raised), so a bad episode still ends the
command with one line naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any, TypeVar

from humanoid_teleop.core.errors import TeleopError

J = TypeVar("J")
R = TypeVar("R")


def ray_init(address: str, workers: int) -> Any:
    """Connect to (``address``) or start (``"local"``, ``workers`` CPUs) Ray; the module."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    import ray

    if address == "local":
        ray.init(
            num_cpus=max(workers, 1), include_dashboard=False, _node_ip_address="127.0.0.1",
            log_to_driver=False, configure_logging=False,
        )  # fmt: skip
    else:
        ray.init(address=address, log_to_driver=False)
    return ray


def run_each(
    fn: Callable[[J], R], jobs: Sequence[J], workers: int = 1, ray: str | None = None
) -> Iterator[tuple[int, R]]:
    """``(index, fn(jobs[index]))`` for every job, in the order they finish.

    ``fn`` must be a module-level function (it is pickled by reference). The first job that
    raises stops the run: the error propagates, jobs not yet started are cancelled.
    """
    if ray:
        yield from _run_ray(fn, jobs, workers, ray)
    elif workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")
        ) as pool:
            futures = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()
    else:
        for i, job in enumerate(jobs):
            yield i, fn(job)


def _run_ray(
    fn: Callable[[J], R], jobs: Sequence[J], workers: int, address: str
) -> Iterator[tuple[int, R]]:
    ray = ray_init(address, workers)
    try:
        remote = ray.remote(fn)
        pending = {remote.remote(job): i for i, job in enumerate(jobs)}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayTaskError as err:
                if isinstance(err.cause, TeleopError):
                    raise err.cause from None
                raise
            yield i, result
    finally:
        ray.shutdown()
