"""`humanoid-teleop bringup` refuses a bad --duration in one line before starting any node."""

from __future__ import annotations

import pytest

from humanoid_teleop.cli.main import main


@pytest.mark.parametrize("duration", ["-1", "0", "-0.5", "nan", "inf"])
def test_non_positive_or_non_finite_duration_is_refused(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bringup --duration D` with D <= 0 or not finite exits 2 with one line naming the flag."""
    assert main(["bringup", "--no-sim", "--no-record", f"--duration={duration}"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --duration {float(duration):g}: must be a finite")
    assert captured.err.count("\n") == 1 and captured.out == ""
