"""`humanoid-teleop bringup`: a bad --duration is refused in one line before any node starts;
its flags reach the nodes of the session."""

from __future__ import annotations

import pytest

from humanoid_teleop.cli.bringup import session_args
from humanoid_teleop.cli.main import build_parser, main
from humanoid_teleop.session.plan import session_plan


@pytest.mark.parametrize("duration", ["-1", "0", "-0.5", "nan", "inf"])
def test_non_positive_or_non_finite_duration_is_refused(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bringup --duration D` with D <= 0 or not finite exits 2 with one line naming the flag."""
    assert main(["bringup", "--no-sim", "--no-record", f"--duration={duration}"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --duration {float(duration):g}: must be a finite")
    assert captured.err.count("\n") == 1 and captured.out == ""


def test_station_flag_reaches_the_recorder() -> None:
    """`bringup --station bay07` gives the recorder the station that names its episodes."""
    args = build_parser().parse_args(["bringup", "--station", "bay07"])
    plan = {s.name: s for s in session_plan(session_args(args, engage=False, start_episode=False))}
    assert plan["recorder"].parameters["station"] == "bay07"
