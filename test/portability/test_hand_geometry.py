"""The lowest point of a robot's hand (portability/hand_geometry.py) and the port's floor for
the target's hand (port._hand_floor)."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.portability.hand_geometry import HandGeometry
from humanoid_teleop.portability.port import TABLE_CLEARANCE_M, _hand_floor

MESH = 7  # mujoco.mjtGeom.mjGEOM_MESH


def _lowest_mesh_vertex(geometry: HandGeometry) -> float:
    """The lowest of every vertex (not only the hull's) of the hand's mesh geoms [m], world
    frame, where the last ``lowest_z`` call placed the model."""
    m, d = geometry.model, geometry.data
    lowest = np.inf
    for g in geometry.geoms:
        if m.geom_type[g] != MESH:
            continue
        mesh = m.geom_dataid[g]
        start, count = m.mesh_vertadr[mesh], m.mesh_vertnum[mesh]
        points = (
            d.geom_xpos[g] + m.mesh_vert[start : start + count] @ d.geom_xmat[g].reshape(3, 3).T
        )
        lowest = min(lowest, float(points[:, 2].min()))
    return float(lowest)


@pytest.mark.parametrize("robot", [r.name for r in list_robots()])
def test_lowest_point_is_the_lowest_mesh_vertex(robot: str) -> None:
    """With every hand geom a mesh or a primitive, the hull-based lowest point is never above
    the lowest of all mesh vertices, and equals it where a mesh is lowest (home and a seeded
    arm pose; the base frame is MuJoCo's world on every shipped robot)."""
    model = RobotModel(load_robot(robot))
    geometry = HandGeometry(model, "right")
    assert geometry.geoms, f"{robot}: no collision geoms on the right hand"
    rng = np.random.default_rng(3)
    arm = model.group_indices(model.description.arms["right"].group)
    for trial in range(2):
        q = model.home_positions()
        if trial:
            q[arm] += rng.uniform(-0.3, 0.3, len(arm))
        lowest = geometry.lowest_z(q)
        vertices = _lowest_mesh_vertex(geometry)
        assert lowest <= vertices + 1e-9
        if all(geometry.model.geom_type[g] == MESH for g in geometry.geoms):
            assert lowest == pytest.approx(vertices, abs=1e-9)


def test_hand_floor_follows_the_source_hand_until_the_object_moves() -> None:
    """Until the source's object has moved more than 2 mm the floor is the source hand's
    lowest point; from that sample on it is the table top plus the clearance."""
    lowest = np.array([0.05, 0.03, 0.01, 0.0, 0.02])
    objects = np.zeros((5, 3))
    objects[3:, 1] = [0.0025, 0.01]  # moves at the fourth sample
    floor = _hand_floor(lowest, objects, table_z=-0.12)
    np.testing.assert_array_equal(floor[:3], lowest[:3])
    np.testing.assert_allclose(floor[3:], -0.12 + TABLE_CLEARANCE_M)


def test_hand_floor_without_a_moved_object_is_the_source_hand() -> None:
    """A source whose object never moved (or none recorded) keeps the source hand's floor."""
    lowest = np.array([0.05, 0.03, 0.01])
    np.testing.assert_array_equal(_hand_floor(lowest, np.zeros((3, 3)), -0.12), lowest)
    np.testing.assert_array_equal(_hand_floor(lowest, None, -0.12), lowest)
