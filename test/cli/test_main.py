"""The humanoid-teleop command line answers --help and --version and runs doctor."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from humanoid_teleop import __version__
from humanoid_teleop.cli.main import SUBCOMMANDS, command_of, joined_words, main


def test_version_prints_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the package version and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"humanoid-teleop {__version__}"


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` names each registered subcommand."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_no_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    """Calling the CLI with nothing to do shows usage and exits non-zero."""
    assert main([]) == 2
    assert "usage: humanoid-teleop" in capsys.readouterr().out


@pytest.mark.ros
def test_doctor_passes_inside_the_isolated_network() -> None:
    """`doctor --json` reports every check ok, including a real DDS round trip."""
    result = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert {c["name"]: c["ok"] for c in report["checks"]}["dds round trip"] is True


def test_a_command_imports_only_its_own_module() -> None:
    """`export --help` imports the export subcommand's module and no other subcommand's."""
    code = (
        "import sys\n"
        "from humanoid_teleop.cli.main import main\n"
        "try:\n"
        "    main(['export', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('humanoid_teleop.cli.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = result.stdout.strip().splitlines()[-1]
    assert "'humanoid_teleop.cli.export'" in loaded
    others = [name for name in SUBCOMMANDS if name != "export"]
    assert not [name for name in others if f"'humanoid_teleop.cli.{name}'" in loaded]


@pytest.mark.parametrize(
    ("argv", "joined"),
    [
        (["port", "matrix", "-o", "m"], ["port-matrix", "-o", "m"]),
        (["-v", "port", "matrix", "--json"], ["-v", "port-matrix", "--json"]),
        (["port", "./matrix", "--to", "g1"], ["port", "./matrix", "--to", "g1"]),
        (["port", "ep", "matrix"], ["port", "ep", "matrix"]),
    ],
)
def test_a_two_word_command_is_parsed_as_one(argv: list[str], joined: list[str]) -> None:
    """`port matrix` is the command `port-matrix` of the port module; `port ./matrix`, or
    matrix after an episode, stays an episode named matrix."""
    assert joined_words(argv) == joined
    assert command_of(joined) == "port"


def test_port_matrix_help_names_it_as_two_words(capsys: pytest.CaptureFixture[str]) -> None:
    """`port matrix --help` is the matrix's own help, and `port --help` points to it."""
    with pytest.raises(SystemExit):
        main(["port", "matrix", "--help"])
    assert capsys.readouterr().out.startswith("usage: humanoid-teleop port matrix")
    with pytest.raises(SystemExit):
        main(["port", "--help"])
    assert "humanoid-teleop port matrix --help" in " ".join(capsys.readouterr().out.split())
