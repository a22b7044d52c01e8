"""Head retargeter: operator head yaw and pitch turn the robot's head the same way."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.motion.rotation import axis_rotation
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.head import HeadRetargeter, zyx_angles

from .conftest import model_of


@pytest.mark.parametrize("robot", ["talos", "icub", "romeo", "alex"])
@pytest.mark.parametrize("axis", ["z", "y"])
def test_head_turns_like_the_operator(robot: str, axis: str) -> None:
    """A 0.3 rad yaw (or pitch) of the operator turns the robot head frame's x axis alike."""
    model = model_of(robot)
    spec = model.description.head
    assert spec is not None
    head = HeadRetargeter(RetargetContext(model, (spec.group,)))
    q = model.home_positions()
    assert head.calibrate(HumanFrame(0.0, head=Pose.identity()), q)
    turned = HumanFrame(0.1, head=Pose(np.zeros(3), axis_rotation(axis, 0.3)))
    q[head.idx] = head.step(turned, q)[spec.group]
    r_home = model.fk(model.home_positions(), spec.frame)[0]
    r_now = model.fk(q, spec.frame)[0]
    yaw, pitch, _roll = zyx_angles(r_now @ r_home.T)
    moved = yaw if axis == "z" else pitch
    assert moved == pytest.approx(0.3, abs=0.12)


def test_robot_without_head_is_refused() -> None:
    """G1 has no head group: building the head retargeter for it names the problem."""
    with pytest.raises(RetargetConfigError, match=r"none in robot\.yaml"):
        HeadRetargeter(RetargetContext(model_of("g1"), ("waist",)))


def test_zyx_angles_round_trip() -> None:
    """Angles read back from Rz Ry Rx equal the ones composed."""
    r = axis_rotation("z", 0.4) @ axis_rotation("y", -0.2) @ axis_rotation("x", 0.1)
    assert np.allclose(zyx_angles(r), (0.4, -0.2, 0.1))
    assert math.isfinite(zyx_angles(np.eye(3))[0])
