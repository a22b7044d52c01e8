"""`humanoid-teleop record` refuses bad arguments in one line before ROS starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.cli.main import main


def test_binary_profile_is_refused_before_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record --profile BINARY` exits 2 with one line naming the file; nothing is recorded."""
    profile = tmp_path / "profile.yaml"
    profile.write_bytes(bytes(range(256)) * 3)
    assert main(["record", "--profile", str(profile), "-o", str(tmp_path / "bags")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {profile}: not a UTF-8 text file (byte 0x80 at offset 128); " + (
        "a recording profile is YAML text\n"
    )
    assert not (tmp_path / "bags").exists()


def test_output_folder_that_cannot_exist_reports_the_os_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`record -o /proc/x` blames the folder with the real OS error, not free space."""
    assert main(["record", "-o", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /proc/x: cannot create the output folder: ")
    assert err.count("\n") == 1 and "free" not in err


def test_output_under_a_file_reports_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record -o FILE/x` says the parent is not a directory."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["record", "-o", str(blocker / "x")]) == 2
    assert "cannot create the output folder: Not a directory" in capsys.readouterr().err
