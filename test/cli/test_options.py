"""The shared option types: a bad number is argparse's one usage line, exit 2."""

from __future__ import annotations

import pytest

from humanoid_teleop.cli.main import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bag", "check", ".", "--max-loss-ratio", "nan"], "nan must be a finite number >= 0"),
        (["bag", "check", ".", "--max-loss-ratio", "-1"], "-1.0 must be a finite number >= 0"),
        (["devices", "check", "--duration", "inf"], "inf must be a finite number > 0"),
        (["doctor", "--timeout", "abc"], "'abc' is not a number"),
        (["annotate", "action-config", "ep", "--fps", "0"], "0 must be > 0"),
    ],
)
def test_a_bad_number_is_one_usage_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rate, duration, timeout or ratio that is NaN, infinite, zero or negative where it
    cannot be is refused before anything runs (NaN turned `bag check`'s loss check off)."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and err.strip().splitlines()[-1].startswith("humanoid-teleop"), err
