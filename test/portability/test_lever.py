"""The lever turned as the target's own IK will turn the hand where it gives up rotation."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pinocchio as pin
import pytest

from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter
from humanoid_teleop.core.retarget.arm_kernel import within_reach
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.lever import LEVER_GAP_FROM_RAD, IkLever
from humanoid_teleop.portability.port import target_pipeline
from humanoid_teleop.portability.tool import ArmTool

SIDE = "right"


@pytest.fixture(scope="module")
def talos(models: Callable[[str], RobotModel]) -> tuple[IkLever, ArmTool, RobotModel]:
    """TALOS' lever (its pipeline's IK), tool and model: a 24 cm lever."""
    model = models("talos")
    pipeline = target_pipeline(model)
    arm = next(r for r in pipeline.retargeters if isinstance(r, ArmIkRetargeter))
    return IkLever(model, SIDE, arm), ArmTool(model, SIDE), model


@pytest.fixture(scope="module")
def talos_arm(models: Callable[[str], RobotModel]) -> ArmIkRetargeter:
    """TALOS' pipeline arm IK (its reach limit)."""
    pipeline = target_pipeline(models("talos"))
    return next(r for r in pipeline.retargeters if isinstance(r, ArmIkRetargeter))


def _asked(r_cmd: np.ndarray, angle_rad: float) -> np.ndarray:
    """``r_cmd`` turned by ``angle_rad`` about the base's vertical."""
    turned: np.ndarray = pin.exp3(np.array([0.0, 0.0, angle_rad])) @ r_cmd
    return turned


def test_lever_below_the_gap_is_the_last_command(
    talos: tuple[IkLever, ArmTool, RobotModel],
) -> None:
    """An asked rotation within the gap of the last command's leaves the lever as commanded."""
    lever, tool, model = talos
    q = model.home_positions()
    r_cmd, p_cmd, point = tool.frames(q)
    offset = r_cmd.T @ (point - p_cmd)
    asked = _asked(r_cmd, 0.5 * LEVER_GAP_FROM_RAD)
    assert lever.turned(r_cmd, q, point, offset, asked) is r_cmd


def test_lever_puts_the_ik_answer_on_the_tool_goal(
    talos: tuple[IkLever, ArmTool, RobotModel],
) -> None:
    """Asked 40 deg more than commanded, the IK's next answer for the EE goal the turned
    lever gives has its tool point on the tool goal (1.1 mm); the last command's misses by
    > 1 cm (1.6 cm; > 5 cm before the IK halved steps that move the frame away)."""
    lever, tool, model = talos
    q = model.home_positions()
    r_cmd, p_cmd, point = tool.frames(q)
    offset = r_cmd.T @ (point - p_cmd)
    asked = _asked(r_cmd, math.radians(40.0))

    def miss_m(r_lever: np.ndarray) -> float:
        ee_p = point - r_lever @ offset
        return float(np.linalg.norm(ee_p + lever.answer(q, ee_p, asked) @ offset - point))

    assert miss_m(r_cmd) > 0.01
    assert miss_m(lever.turned(r_cmd, q, point, offset, asked)) < 0.002


def test_the_ik_answer_is_for_the_goal_within_the_arms_reach(
    talos: tuple[IkLever, ArmTool, RobotModel], talos_arm: ArmIkRetargeter
) -> None:
    """An EE goal 1 m beyond the arm's reach is answered as the pipeline's IK answers it:
    for the goal pulled onto its reach sphere (the same rotation, to the bit)."""
    lever, tool, model = talos
    q = model.home_positions()
    r_cmd, p_cmd, _ = tool.frames(q)
    shoulder, reach = talos_arm.shoulder_m[SIDE], talos_arm.reach_m(SIDE)
    away = (p_cmd - shoulder) / np.linalg.norm(p_cmd - shoulder)
    far = shoulder + (reach + 1.0) * away + np.array([0.0, 0.0, 0.3])
    pulled = within_reach(far, shoulder, reach)
    assert np.linalg.norm(pulled - far) > 0.5
    asked = _asked(r_cmd, math.radians(40.0))
    answer = lever.answer(q, far, asked)
    assert answer.tobytes() == lever.answer(q, pulled, asked).tobytes()
