"""The push hand's closure chosen by the hands' geometry (portability/push_hand.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.retarget.hand import HandRetargeter
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.hand_geometry import hand_geometry
from humanoid_teleop.devices.scripted.hand_model import hand_points
from humanoid_teleop.portability.port import target_pipeline
from humanoid_teleop.portability.push_hand import (
    SEAT_TOLERANCE_M,
    PushContact,
    object_seat,
    operator_hand_joints,
    push_hand_closure,
)
from humanoid_teleop.portability.report import GRASP_FRACTION
from humanoid_teleop.portability.source import read_source
from humanoid_teleop.portability.track import SourceTrack, arm_tool


def _target(robot: str) -> tuple:
    """(geometry, tool, hand retargeter) of the robot's right hand."""
    model = RobotModel(load_robot(robot))
    retargeter = next(
        r for r in target_pipeline(model).retargeters if isinstance(r, HandRetargeter)
    )
    return hand_geometry(model, "right"), arm_tool(model, "right"), retargeter


def _contact(tool, across_m: float = 0.0) -> PushContact:
    """A 3 cm puck pushed along the hand's fingers (the hand frame's x, level), its heights
    around the home tool point: the hand's own tool pose at home."""
    pose = tool.tool(tool.model.home_positions())
    forward = pose.rotation[:, 0] * np.array([1.0, 1.0, 0.0])
    z = float(pose.position_m[2])
    return PushContact(
        tool_p=pose.position_m,
        tool_r=pose.rotation,
        direction=forward / np.linalg.norm(forward),
        band_z=(z - 0.025, z + 0.025),
        across_m=across_m,
        radius_m=0.03,
        friction=0.4,
    )


@pytest.mark.parametrize("robot", ["talos", "romeo", "g1"])
def test_the_chosen_hand_stays_below_its_grasp_closure(robot: str) -> None:
    """Asked to seat the object further ahead than any hand reaches, the choice is the
    furthest-reaching closure whose hand stays below the report's grasp closure (no grasp
    event), whatever the source's closure number (1.0: past it)."""
    geometry, tool, retargeter = _target(robot)
    chosen = push_hand_closure((0.5, 0.0), (geometry, tool, retargeter), _contact(tool), 1.0)
    assert chosen.target_closure < GRASP_FRACTION * tool.grip_closure
    assert math.isfinite(chosen.target_seat_m[0])


def test_a_closure_number_that_seats_the_object_as_the_source_did_is_kept() -> None:
    """Where the source's closure number seats the object within the tolerance of the
    source's seat, it is the choice (not a grid closure nearer the seat)."""
    geometry, tool, retargeter = _target("romeo")
    contact = _contact(tool)
    number = 0.333
    (q,) = operator_hand_joints(retargeter, tool.model, "right", np.array([number]))
    seat = object_seat(geometry, tool, q, contact)
    source_seat = (seat[0] + 0.5 * SEAT_TOLERANCE_M, seat[1])
    chosen = push_hand_closure(source_seat, (geometry, tool, retargeter), contact, number)
    assert chosen.operator_closure == number


def test_the_seat_is_where_the_hand_reaches_in_the_object_heights() -> None:
    """Romeo's hand at home seats the object (slid across by at most its diameter), and a
    band of heights above the hand leaves nothing to push."""
    geometry, tool, _ = _target("romeo")
    contact = _contact(tool)
    q = tool.model.home_positions()
    along, across = object_seat(geometry, tool, q, contact)
    assert math.isfinite(along) and abs(across - contact.across_m) <= 2 * contact.radius_m
    high = PushContact(
        contact.tool_p, contact.tool_r, contact.direction, (1.0, 1.05), 0.0, 0.03, 0.4
    )
    assert object_seat(geometry, tool, q, high)[0] == -math.inf


def test_a_held_push_hand_approaches_with_one_closure_and_pushes_with_another(
    sources: list[Path], models: Callable[[str], RobotModel]
) -> None:
    """SourceTrack.hold_closure with two closures: the synthetic hand closed by the first
    before the push's sample, by the second from it on."""
    episode = read_source(sources[0])
    track = SourceTrack(episode, models(episode.robot), "right", measured_too=False)
    track.hold_closure(10, (0.2, 0.45))
    np.testing.assert_array_equal(track.synthetic_hand(9), hand_points("right", 0.2))
    np.testing.assert_array_equal(track.synthetic_hand(10), hand_points("right", 0.45))
    np.testing.assert_array_equal(
        track.synthetic_hand(len(track.t_s) - 1), hand_points("right", 0.45)
    )
