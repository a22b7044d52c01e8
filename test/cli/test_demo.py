"""`humanoid-teleop demo` arguments become the session it runs."""

from __future__ import annotations

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
