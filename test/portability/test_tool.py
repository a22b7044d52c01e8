"""The tool frame the porter moves: one kinematics pass, equal to RobotModel's FK."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.ik_kernel import frame_kinematics
from humanoid_teleop.core.robot import RobotModel, list_robots
from humanoid_teleop.devices.scripted.episode import grasp_point
from humanoid_teleop.portability.tool import ArmTool

ROBOTS = [r.name for r in list_robots()]


def _random_positions(model: RobotModel, seed: int, count: int) -> NDArray[np.float64]:
    """``count`` joint vectors [rad] drawn uniformly within the limits (+-3 where unbounded)."""
    lower = np.where(np.isfinite(model.limits.lower), model.limits.lower, -3.0)
    upper = np.where(np.isfinite(model.limits.upper), model.limits.upper, 3.0)
    return np.random.default_rng(seed).uniform(lower, upper, size=(count, len(lower)))


@pytest.mark.parametrize("robot", ROBOTS)
def test_tool_frames_equal_model_fk(robot: str, models: Callable[[str], RobotModel]) -> None:
    """EE pose and tool point (fingertip mean, else EE) match RobotModel.fk at random q."""
    model = models(robot)
    description = model.description
    for side in description.arms:
        tool = ArmTool(model, side)
        hand = description.hands.get(side)
        tips = list(hand.fingertip_frames.values()) if hand is not None else []
        for q in _random_positions(model, 7, 3):
            rotation, position, point = tool.frames(q)
            r_ref, p_ref = model.fk(q, description.arms[side].ee_frame)
            points = [model.fk(q, f)[1] for f in tips] or [p_ref]
            assert np.allclose(rotation, r_ref) and np.allclose(position, p_ref)
            assert np.allclose(point, np.mean(points, axis=0))


@pytest.mark.parametrize("robot", ROBOTS)
def test_grasp_point_is_the_demonstrators(robot: str, models: Callable[[str], RobotModel]) -> None:
    """The port's grasp point (tool point + grasp offset) is where the scripted
    demonstrator pinches (:func:`~humanoid_teleop.devices.scripted.episode.grasp_point`),
    by both of the tool's paths, at random q."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        for q in _random_positions(model, 11, 3):
            _, _, point, offset = tool.frames_grasp(q)
            pinch, _ = grasp_point(model, q, side)
            assert np.allclose(point + offset, pinch, atol=1e-12)
            assert np.allclose(tool.grasp_offsets(q)[0], offset, atol=1e-12)


@pytest.mark.parametrize("robot", ROBOTS)
def test_frames_and_grasp_rows_equal_their_own_passes(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """ArmTool.frames_grasp_rows (one pass) gives frames_rows' and grasp_offsets' numbers,
    bit for bit."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        rows = _random_positions(model, 17, 20)
        *frames, offsets = tool.frames_grasp_rows(rows)
        for got, expected in zip(frames, tool.frames_rows(rows), strict=True):
            assert got.tobytes() == expected.tobytes()
        assert offsets.tobytes() == tool.grasp_offsets(rows).tobytes()


@pytest.mark.parametrize("robot", ROBOTS)
def test_frames_grasp_equals_the_rows_pass_bit_for_bit(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """ArmTool.frames_grasp (its grasp offset in the compiled pass) gives, row by row,
    frames_grasp_rows' numbers exactly (the offset as numpy's mean over the pinch rows)."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        rows = _random_positions(model, 19, 30)
        every = tool.frames_grasp_rows(rows)
        for i, q in enumerate(rows):
            for got, want in zip(tool.frames_grasp(q), every, strict=True):
                assert got.tobytes() == want[i].tobytes()


@pytest.mark.parametrize("robot", ROBOTS)
def test_closures_of_rows_equal_each_rows_closure(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """ArmTool.closures (a recorded path's) gives closure's number for each row, bit for
    bit."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        rows = _random_positions(model, 13, 50)
        expected = np.array([tool.closure(q) for q in rows])
        assert tool.closures(rows).tobytes() == expected.tobytes()


@pytest.mark.parametrize("robot", ROBOTS)
def test_closure_is_zero_open_and_one_closed(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """Hand closure reads 0 at the open positions and 1 at the closed ones."""
    model = models(robot)
    for side, hand in model.description.hands.items():
        tool = ArmTool(model, side)
        if not tool.has_hand:
            assert tool.closure(model.home_positions()) == 0.0
            continue
        assert hand.group is not None
        q = model.home_positions()
        idx = model.group_indices(hand.group)
        q[idx] = hand.open_positions
        assert tool.closure(q) == pytest.approx(0.0)
        q[idx] = hand.closed_positions
        assert tool.closure(q) == pytest.approx(1.0)


@pytest.mark.parametrize("robot", ROBOTS)
def test_tool_kinematics_equal_the_ik_kernels_bit_for_bit(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """frames, frames_rows and ee_position give ik_kernel.frame_kinematics' numbers exactly
    (EE pose, fingertip mean) at random q: the porter's FK is the IK's, without the Jacobian."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        chains = tool._chains
        q = _random_positions(model, 11, 40)
        rotations, positions, points = tool.frames_rows(q)
        for i, row in enumerate(q):
            r_ref = np.empty((chains.links.shape[0], 3, 3))
            p_ref = np.empty((chains.links.shape[0], 3))
            jac = np.empty((6, chains.links.shape[1]))
            for t in range(chains.links.shape[0]):
                frame_kinematics(row, chains.links[t], chains.link_index[t], chains.ends[t],
                                 r_ref[t], p_ref[t], jac)  # fmt: skip
            point = p_ref[1:].sum(axis=0) / (len(p_ref) - 1)
            rotation, position, tool_point = tool.frames(row)
            for got in (rotation, rotations[i]):
                assert got.tobytes() == r_ref[0].tobytes()
            for got in (position, positions[i], tool.ee_position(row)):
                assert got.tobytes() == p_ref[0].tobytes()
            for got in (tool_point, points[i]):
                assert got.tobytes() == point.tobytes()


@pytest.mark.parametrize("robot", ROBOTS)
def test_frames_grasp_tip_is_frames_grasp_and_lowest_tip_z(
    robot: str, models: Callable[[str], RobotModel]
) -> None:
    """frames_grasp_tip gives frames_grasp's and lowest_tip_z's numbers exactly at random q."""
    model = models(robot)
    for side in model.description.arms:
        tool = ArmTool(model, side)
        for q in _random_positions(model, 13, 5):
            *frames, lowest = tool.frames_grasp_tip(q)
            for got, want in zip(frames, tool.frames_grasp(q), strict=True):
                assert got.tobytes() == want.tobytes()
            assert lowest == tool.lowest_tip_z(q)
