"""A push's retreat held in the target's own grasp posture (portability/push_retreat.py)."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest

from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.portability.port import _grasp_posture
from humanoid_teleop.portability.push_retreat import RETREAT_LEAD_S, RETREAT_TURN_S, retreat_turn

END_S = 4.0


def _pitch(angle_rad: float) -> np.ndarray:
    return np.asarray(pin.exp3(np.array([0.0, angle_rad, 0.0])))


def test_the_turn_goes_from_the_push_posture_to_the_grasp_posture_after_the_stroke() -> None:
    """Source held at 0.5 rad, target pushing at 1.0 and grasping at 1.5708: the posture
    turn is 0.5 rad until RETREAT_LEAD_S before the stroke's end, 0.5 + 0.5708 / 2 halfway
    through the turn and 1.0708 rad once it has lasted RETREAT_TURN_S."""
    source, push, grasp = _pitch(0.5), _pitch(1.0), _pitch(math.pi / 2)
    turn = retreat_turn(source, push, grasp, END_S)
    assert turn is not None
    before = source.T @ push

    def angle(t_s: float) -> float:
        return float(pin.log3(turn.turned(t_s, before))[1])

    start_s = END_S - RETREAT_LEAD_S
    assert angle(start_s - 1.0) == pytest.approx(0.5)
    assert angle(start_s) == pytest.approx(0.5)
    assert angle(start_s + RETREAT_TURN_S / 2) == pytest.approx(0.5 + (math.pi / 2 - 1.0) / 2)
    assert angle(start_s + RETREAT_TURN_S) == pytest.approx(math.pi / 2 - 0.5)
    assert angle(END_S + 5.0) == pytest.approx(math.pi / 2 - 0.5)


def test_a_target_pushing_in_its_grasp_posture_has_no_turn() -> None:
    assert retreat_turn(_pitch(0.5), _pitch(1.0), _pitch(1.0), END_S) is None


@pytest.mark.parametrize("robot", ["g1", "alex", "icub", "romeo", "talos"])
def test_only_talos_pushes_in_another_posture_than_it_grasps(robot: str) -> None:
    """The shipped robots' physics.yaml: only TALOS' ``push:`` sub-block turns its hand
    (jaws half down to push, straight down to grasp), so only ports into TALOS turn."""
    description = load_robot(robot)
    turn = retreat_turn(
        np.eye(3),
        _grasp_posture(description, "right", "push"),
        _grasp_posture(description, "right", None),
        END_S,
    )
    assert (turn is not None) == (robot == "talos")
