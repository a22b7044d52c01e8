"""The lowest point of a robot's hand's collision geometry (core/sim/hand_geometry.py)."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim.hand_geometry import HandGeometry

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


@pytest.mark.parametrize("robot", [r.name for r in list_robots()])
def test_surface_points_reach_as_low_as_the_hand(robot: str) -> None:
    """The hand's surface points (hull edges sampled every EDGE_STEP_M, primitives'
    outlines) come down to its lowest point where every geom is a mesh (the hull's vertices
    are among them) and never below it; there are more of them than hull vertices."""
    model = RobotModel(load_robot(robot))
    geometry = HandGeometry(model, "right")
    q = model.home_positions()
    points = geometry.surface_points(q)
    lowest = geometry.lowest_z(q)
    assert points[:, 2].min() >= lowest - 1e-9
    if all(geometry.model.geom_type[g] == MESH for g in geometry.geoms):
        assert points[:, 2].min() == pytest.approx(lowest, abs=1e-9)
        hull = sum(len(p) for p in geometry._points if p is not None)
        assert len(points) > hull
