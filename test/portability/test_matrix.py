"""Matrix runs kept as reports.jsonl (bench/portability.py --out) and compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.portability.errors import PortInputError
from humanoid_teleop.portability.matrix import compare_runs, read_run, run_line, summarize
from humanoid_teleop.portability.report import PortReport

from .test_report import _report


def _write(path: Path, run: dict[tuple[str, str, int, str], PortReport]) -> Path:
    path.write_text("".join(f"{run_line(k, r)}\n" for k, r in run.items()))
    return path


def _run(**target_changes: object) -> dict[tuple[str, str, int, str], PortReport]:
    """push from g1 (seeds 1, 2): its self-replays and its ports to alex."""
    run = {}
    for seed in (1, 2):
        run[("push", "g1", seed, "g1")] = _report(contact_p95_m=0.0, free_p95_m=0.0)
        changes = target_changes if seed == 2 else {}
        run[("push", "g1", seed, "alex")] = _report(**changes)
    return run


def test_a_run_reads_back_what_was_written(tmp_path: Path) -> None:
    run = _run(contact_p95_m=0.031, notes=["joint-only episode"])
    path = _write(tmp_path / "reports.jsonl", run)
    assert read_run(path) == run
    path.write_text(path.read_text() + "\n")  # a blank line an editor left: no run line
    assert read_run(path) == run


def test_a_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "reports.jsonl", _run())
    path.write_text(path.read_text() + '{"task": "push"}\n')
    with pytest.raises(PortInputError, match=r"reports.jsonl:5: not a matrix run line"):
        read_run(path)
    line = run_line(("push", "g1", 1, "alex"), _report()).replace('"steps"', '"stepz"')
    path.write_text(line + "\n")
    with pytest.raises(PortInputError, match=r"reports.jsonl:1: unknown report key\(s\) stepz"):
        read_run(path)


def test_the_comparison_names_each_changed_seed() -> None:
    """g1 -> alex seed 2 lost its success and its contact error grew; seed 1 did not change
    and is not listed; the totals count the cross-robot ports only."""
    lines = compare_runs(_run(), _run(outcome="failure", contact_p95_m=0.045))
    assert lines[0] == (
        "push: cross-robot successes 2 -> 1 of 2; pairs meeting every target 1 -> 0"
    )
    rows = [line for line in lines if line.startswith("| push |")]
    assert rows == [
        "| push | g1 -> alex | 2 -> 1 of 2 | 1.0 -> 4.5 | 2.0 -> 2.0 | "
        "seed 2: success -> failure; contact 1.0 -> 4.5 |"
    ]


def test_runs_without_changes_say_so() -> None:
    lines = compare_runs(_run(), _run(contact_p95_m=0.0105))  # under 1 mm: not listed
    assert lines[-1] == "no port changed"
    assert "ports compared: 4 (only in before: 0, only in after: 0)" in lines


def test_a_missing_run_file_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PortInputError) as err:
        read_run(tmp_path / "reports.jsonl")
    assert str(err.value) == (
        f"{tmp_path / 'reports.jsonl'}: cannot read a matrix run's reports (No such file or "
        "directory)"
    )


def test_a_pair_whose_ports_all_failed_says_so() -> None:
    """A pair with no report (each of its ports was a not-ported line) is below target for
    that reason, not for a reachability of 0%; one report of the same pair meets them."""
    self_reports = [_report(), _report()]
    failed = summarize("push", "g1", "alex", [], self_reports)
    assert failed.below_target() == ["no episode ported (see the not-ported lines)"]
    assert summarize("push", "g1", "alex", [_report()], self_reports).below_target() == [
        "transfer ratio 0.50 < 0.8"
    ]
