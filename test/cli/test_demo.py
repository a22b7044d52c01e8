"""`humanoid-teleop demo` arguments become the session it runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from humanoid_teleop.cli.demo import default_task, demo_session_args
from humanoid_teleop.cli.main import build_parser, main
from humanoid_teleop.session.plan import session_plan


def test_seed_chooses_the_scene_layout_of_the_simulator(tmp_path: Path) -> None:
    """`demo --seed 7` starts the simulator with seed 7; without it the seed is 0."""
    parser = build_parser("demo")
    for argv, seed in ((["demo", "--seed", "7"], 7), (["demo"], 0)):
        args = parser.parse_args(argv)
        plan = {s.name: s for s in session_plan(demo_session_args(args, tmp_path))}
        assert plan["sim_robot"].parameters["seed"] == seed
        assert plan["sim_robot"].parameters["scene"] == "pick_and_place"


def test_non_integer_seed_is_one_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --seed x` exits 2 with one line naming --seed, before starting anything."""
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--seed", "x"])
    assert exit_info.value.code == 2
    assert "argument --seed: invalid int value: 'x'" in capsys.readouterr().err


def test_default_task_follows_the_scene() -> None:
    """The scripted demo's instruction is the scene's task; the replay's the clip's."""
    assert default_task("scripted", "") == "pick up the cube and put it on the green disc"
    assert default_task("scripted", "push") == "push the puck into the green disc"
    assert default_task("replay", "push") == "unscrew the bottle cap and drink"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--duration", "-5"], "error: --duration -5: must be a finite number of seconds >= 0"),
        (["--duration", "nan"], "error: --duration nan: must be a finite number of seconds >= 0"),
        (["--startup-timeout", "0"], "error: --startup-timeout 0: must be a finite number of"),
        (["--settle", "inf"], "error: --settle inf: must be a finite number of seconds >= 0"),
    ],
)
def test_a_bad_number_of_seconds_is_one_line_before_anything_starts(
    argv: list[str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative or NaN --duration recorded an empty episode and exited 0; now one line,
    exit 2, no session started and no episode folder."""
    assert main(["demo", *argv, "--bag-dir", str(tmp_path / "bags")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1, err
    assert not (tmp_path / "bags").exists()


@pytest.mark.ros
@pytest.mark.slow
def test_a_node_that_stops_at_start_up_ends_the_demo_with_its_reason(tmp_path: Path) -> None:
    """A node that exits while the session starts (here on an unknown scene) ends the demo at
    once with one line naming the node and what it said, instead of waiting out the
    start-up timeout and blaming the missing joint states."""
    done = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "demo", "--scene", "nosuchscene",
         "--duration", "3", "--startup-timeout", "120", "--bag-dir", str(tmp_path / "bags")],
        capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert re.fullmatch(
        r"error: node (scripted|sim_robot) exited with code 2 while the session started: "
        r"\S+: no scene 'nosuchscene'; scenes: pick_and_place, push",
        line,
    ), line


@pytest.mark.ros
@pytest.mark.slow
def test_a_bag_dir_that_is_a_file_is_the_recorders_line_and_no_node_is_blamed(
    tmp_path: Path,
) -> None:
    """`demo --bag-dir FILE`: the recorder refuses the episode, naming the file; the summary
    says the session stopped on that error (it said "a node failed" with every node fine)."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "demo", "--duration", "2",
         "--bag-dir", str(afile)],
        capture_output=True, text=True, timeout=200, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "a node failed" not in done.stderr and "demo: session stopped on an error" in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert line == (
        f"error: /recorder/start_episode failed: {afile}: cannot create the bag folder: "
        f"{afile} is a file, not a folder"
    )
