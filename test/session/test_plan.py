"""Session arguments are validated and become the right nodes in the right order."""

from __future__ import annotations

import pytest

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.session.plan import SessionArgs, params_file_text, session_plan


def test_full_session_starts_recorder_first_and_device_last() -> None:
    """record+sim with replay: recorder, sim, teleop, replay — recorder stops last."""
    plan = session_plan(SessionArgs(robot="g1", device="replay", record=True, sim=True))
    assert [s.name for s in plan] == ["recorder", "sim_robot", "teleop", "replay"]
    assert max(plan, key=lambda s: s.stop_rank).name == "recorder"


@pytest.mark.parametrize(
    ("device", "executable"),
    [("vr", "vr_bridge_node"), ("gamepad", "gamepad_node"), ("exo", "exo_node")],
)
def test_each_device_starts_its_node(device: str, executable: str) -> None:
    """Each device maps to its bridge node."""
    plan = session_plan(SessionArgs(device=device, record=False, sim=False))
    assert [s.executable for s in plan] == ["teleop_node", executable]


def test_unknown_device_lists_the_allowed_ones() -> None:
    """A bad device names the value and every allowed device."""
    with pytest.raises(ConfigError, match="'joystick' is not a device; choose one of vr, gamepad"):
        SessionArgs(device="joystick")


def test_from_strings_parses_launch_text() -> None:
    """Launch-style strings become typed values."""
    args = SessionArgs.from_strings({"record": "false", "rate_hz": "500", "robot": "talos"})
    assert (args.record, args.rate_hz, args.robot) == (False, 500.0, "talos")


def test_station_reaches_the_recorder() -> None:
    """`station:=bay07` is handed to the recorder, which names the episodes after it."""
    args = SessionArgs.from_strings({"station": "bay07"})
    (recorder,) = [s for s in session_plan(args) if s.executable == "recorder_node"]
    assert recorder.parameters["station"] == "bay07"


def test_from_strings_rejects_unknown_argument_and_lists_allowed() -> None:
    """A misspelt launch argument is an error naming the allowed ones."""
    with pytest.raises(ConfigError, match=r"unknown session argument\(s\) robto; allowed: robot"):
        SessionArgs.from_strings({"robto": "g1"}, "teleop.launch.py")


def test_from_strings_rejects_non_boolean_flag() -> None:
    """`record:=maybe` is an error naming the key and value."""
    with pytest.raises(ConfigError, match="'record' must be true or false, got 'maybe'"):
        SessionArgs.from_strings({"record": "maybe"})


def test_params_file_is_keyed_by_node_name() -> None:
    """The generated parameters file has one ros__parameters block per node."""
    text = params_file_text(session_plan(SessionArgs(robot="talos", task="wipe the table")))
    assert text["teleop"]["ros__parameters"]["robot"] == "talos"
    assert text["recorder"]["ros__parameters"]["task"] == "wipe the table"


def test_scripted_device_runs_the_demonstrator_in_the_pick_and_place_scene() -> None:
    """device=scripted: the demonstrator node and the sim share the scene; teleop uses the
    replay profile; the sim reports the detector's outcome to the recorder."""
    plan = {s.name: s for s in session_plan(SessionArgs(robot="talos", device="scripted"))}
    assert plan["scripted"].executable == "scripted_demo_node"
    assert plan["scripted"].parameters == {"robot": "talos", "scene": "pick_and_place"}
    assert plan["sim_robot"].parameters["scene"] == "pick_and_place"
    assert plan["sim_robot"].parameters["mark_outcome"] is True
    assert plan["teleop"].parameters["profile"] == "replay"


def test_scripted_robot_without_a_hand_pushes_by_default() -> None:
    """device=scripted on iCub (no finger joints): the default scene is push, for the
    demonstrator and the sim; a scene given explicitly is kept."""
    plan = {s.name: s for s in session_plan(SessionArgs(robot="icub", device="scripted"))}
    assert plan["scripted"].parameters["scene"] == "push"
    assert plan["sim_robot"].parameters["scene"] == "push"
    asked = SessionArgs(robot="icub", device="scripted", scene="pick_and_place")
    assert {s.name: s for s in session_plan(asked)}["sim_robot"].parameters["scene"] == (
        "pick_and_place"
    )


def test_replay_session_has_no_scene_unless_asked() -> None:
    """The CMU clip replay runs without a table unless a scene is given."""
    plain = {s.name: s for s in session_plan(SessionArgs(device="replay"))}
    assert "scene" not in plain["sim_robot"].parameters
    pushed = {s.name: s for s in session_plan(SessionArgs(device="replay", scene="push"))}
    assert pushed["sim_robot"].parameters["scene"] == "push"


def test_seed_places_the_scene_objects_of_the_simulator() -> None:
    """The session's seed goes to the simulator with the scene (0 unless given)."""
    plan = {s.name: s for s in session_plan(SessionArgs(device="scripted"))}
    assert plan["sim_robot"].parameters["seed"] == 0
    seeded = {s.name: s for s in session_plan(SessionArgs(device="scripted", seed=7))}
    assert seeded["sim_robot"].parameters["seed"] == 7


def test_from_strings_parses_an_integer_seed() -> None:
    """`seed:=12` is the integer 12; `seed:=1.5` is an error naming the key and value."""
    assert SessionArgs.from_strings({"seed": "12"}).seed == 12
    with pytest.raises(ConfigError, match=r"'seed' must be an integer, got '1\.5'"):
        SessionArgs.from_strings({"seed": "1.5"})
