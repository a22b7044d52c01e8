"""A push's approach and retreat turned toward the target's own grasp posture
(portability/push_posture.py)."""

from __future__ import annotations

import math

import numpy as np
import pinocchio as pin
import pytest

from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.portability.port import _grasp_posture
from humanoid_teleop.portability.push_posture import (
    APPROACH_LEAD_S,
    APPROACH_SHARE,
    APPROACH_TURN_S,
    RETREAT_LEAD_S,
    RETREAT_TURN_S,
    push_turns,
)

START_S = 2.0
END_S = 4.0
GRASP_RAD = math.pi / 2


def _pitch(angle_rad: float) -> np.ndarray:
    return np.asarray(pin.exp3(np.array([0.0, angle_rad, 0.0])))


def _angle(turns: object, t_s: float, engaged: float = 1.0) -> float:
    """The posture turn's pitch [rad] at ``t_s`` of a source held at 0.5 rad into a target
    pushing at 1.0 rad (its push turn ``engaged`` of the way from engage)."""
    push = pin.exp3(engaged * pin.log3(_pitch(0.5).T @ _pitch(1.0)))
    return float(pin.log3(turns.turned(t_s, push, engaged))[1])  # type: ignore[attr-defined]


def test_the_approach_is_held_between_the_push_and_the_grasp_posture_until_the_push() -> None:
    """Source held at 0.5 rad, target pushing at 1.0 and grasping at 1.5708: the approach is
    held APPROACH_SHARE of the way from the push's turn (0.5 rad) to the grasp's (1.0708),
    as far from engage as the push's turn is; from APPROACH_LEAD_S before the push starts
    it turns to the push's over APPROACH_TURN_S."""
    turns = push_turns(_pitch(0.5), _pitch(1.0), _pitch(GRASP_RAD), (START_S, END_S))
    assert turns is not None
    approach = 0.5 + APPROACH_SHARE * (GRASP_RAD - 1.0)
    assert _angle(turns, 0.0, 0.0) == pytest.approx(0.0)
    assert _angle(turns, 0.0, 0.5) == pytest.approx(0.5 * approach)
    start_s = START_S - APPROACH_LEAD_S
    assert _angle(turns, start_s) == pytest.approx(approach)
    assert _angle(turns, start_s + APPROACH_TURN_S / 2) == pytest.approx((approach + 0.5) / 2)
    assert _angle(turns, start_s + APPROACH_TURN_S) == pytest.approx(0.5)
    assert _angle(turns, START_S) == pytest.approx(0.5)


def test_the_retreat_turns_from_the_push_posture_to_the_grasp_posture_after_the_stroke() -> None:
    """The push's turn (0.5 rad) until RETREAT_LEAD_S before the stroke's end, 0.5 + 0.5708 / 2
    halfway through the turn and 1.0708 rad once it has lasted RETREAT_TURN_S."""
    turns = push_turns(_pitch(0.5), _pitch(1.0), _pitch(GRASP_RAD), (START_S, END_S))
    assert turns is not None
    start_s = END_S - RETREAT_LEAD_S
    assert _angle(turns, start_s) == pytest.approx(0.5)
    assert _angle(turns, start_s + RETREAT_TURN_S / 2) == pytest.approx(0.5 + (GRASP_RAD - 1.0) / 2)
    assert _angle(turns, start_s + RETREAT_TURN_S) == pytest.approx(GRASP_RAD - 0.5)
    assert _angle(turns, END_S + 5.0) == pytest.approx(GRASP_RAD - 0.5)


def test_a_target_pushing_in_its_grasp_posture_has_no_turn() -> None:
    assert push_turns(_pitch(0.5), _pitch(1.0), _pitch(1.0), (START_S, END_S)) is None


@pytest.mark.parametrize("robot", ["g1", "alex", "icub", "romeo", "talos"])
def test_only_talos_pushes_in_another_posture_than_it_grasps(robot: str) -> None:
    """The shipped robots' physics.yaml: only TALOS' ``push:`` sub-block turns its hand
    (jaws half down to push, straight down to grasp), so only ports into TALOS turn."""
    description = load_robot(robot)
    turns = push_turns(
        np.eye(3),
        _grasp_posture(description, "right", "push"),
        _grasp_posture(description, "right", None),
        (START_S, END_S),
    )
    assert (turns is not None) == (robot == "talos")
