"""The supervisor runs real child processes, prefixes logs, and stops them in order."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from humanoid_teleop.session.plan import NodeSpec
from humanoid_teleop.session.supervisor import Supervisor

from ..conftest import REPO

CHILD = "test.session.child_node"
START_S = 4.0
"""Time [s] a session runs before it is stopped: the children must have started (Python up,
SIGINT handler installed) by then, three at once on a busy 2-core machine."""


def _spec(name: str, rank: int, journal: Path, **params: float | bool) -> NodeSpec:
    return NodeSpec(
        name, "child_node", {"journal": str(journal), **params}, rank, python_module=CHILD
    )


def _supervisor(specs: list[NodeSpec], tmp_path: Path, out: io.StringIO, **kw: float) -> Supervisor:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return Supervisor(specs, tmp_path / "params", out=out, env=env, **kw)


def _events(journal: Path) -> list[tuple[str, str]]:
    lines = sorted(journal.read_text().splitlines(), key=lambda line: float(line.split()[0]))
    return [(line.split()[1], line.split()[2]) for line in lines]


def test_log_lines_are_prefixed_with_the_node_name(tmp_path: Path) -> None:
    """Each line a node prints reaches the supervisor's output behind `[name]`."""
    journal = tmp_path / "journal"
    out = io.StringIO()
    result = _supervisor([_spec("alpha", 0, journal)], tmp_path, out).run(duration_s=START_S)
    assert result.reason == "duration"
    assert "[alpha] hello from alpha" in out.getvalue()


def test_stop_goes_in_rank_order_recorder_last(tmp_path: Path) -> None:
    """On stop, nodes get SIGINT one after another by stop rank, the highest rank last."""
    journal = tmp_path / "journal"
    specs = [
        _spec("recorder", 3, journal),
        _spec("teleop", 1, journal),
        _spec("device", 0, journal),
    ]
    result = _supervisor(specs, tmp_path, io.StringIO()).run(duration_s=START_S)
    assert result.ok
    assert result.exit_codes == {"device": 0, "teleop": 0, "recorder": 0}
    order = [name for name, event in _events(journal) if event == "sigint"]
    assert order == ["device", "teleop", "recorder"]


def test_a_dying_node_stops_the_session_cleanly(tmp_path: Path) -> None:
    """When one node exits on its own, the others are stopped with SIGINT and exit cleanly."""
    journal = tmp_path / "journal"
    specs = [
        _spec("recorder", 3, journal),
        _spec("teleop", 1, journal, exit_after_s=START_S, exit_code=7),
    ]
    result = _supervisor(specs, tmp_path, io.StringIO()).run(duration_s=30.0)
    assert result.reason == "node_died"
    assert result.failed_node == "teleop"
    assert result.exit_codes == {"teleop": 7, "recorder": 0}
    assert ("recorder", "stopped") in _events(journal)


def test_an_exited_node_is_listed_with_its_code_and_last_line(tmp_path: Path) -> None:
    """exited() lists a node that stopped by itself with its exit code, and last_line() its
    last line (read to the end of its output first), what `demo` reports for it."""
    journal = tmp_path / "journal"
    specs = [
        _spec("recorder", 3, journal),
        _spec("teleop", 1, journal, exit_after_s=0.0, exit_code=7),
    ]
    supervisor = _supervisor(specs, tmp_path, io.StringIO())
    supervisor.start()
    try:
        deadline = time.monotonic() + 60.0
        while "teleop" not in supervisor.exited() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.exited() == {"teleop": 7}
        assert supervisor.last_line("teleop") == "hello from teleop"
    finally:
        supervisor.stop()


def test_a_node_ignoring_sigint_is_escalated_to_sigterm(tmp_path: Path) -> None:
    """A node that ignores SIGINT past the grace period receives SIGTERM."""
    journal = tmp_path / "journal"
    specs = [_spec("stubborn", 0, journal, ignore_sigint=True)]
    supervisor = _supervisor(specs, tmp_path, io.StringIO(), stop_timeout_s=0.5)
    result = supervisor.run(duration_s=START_S)
    assert result.exit_codes == {"stubborn": 143}
    assert [e for _n, e in _events(journal)][-2:] == ["sigint", "sigterm"]
