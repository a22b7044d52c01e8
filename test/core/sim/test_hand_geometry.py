"""The lowest point of a robot's hand's collision geometry (core/sim/hand_geometry.py)."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim.hand_geometry import HandGeometry, band_points

MESH = 7  # mujoco.mjtGeom.mjGEOM_MESH
BOX = 6  # mujoco.mjtGeom.mjGEOM_BOX


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
def test_surface_is_the_hull_vertices_where_lowest_z_puts_them(robot: str) -> None:
    """The polyhedra's lowest vertex is lowest_z's lowest point where every hand geom is a
    mesh or a box (the polyhedra of other primitives are inscribed: never lower), and every
    edge joins two of its vertices."""
    model = RobotModel(load_robot(robot))
    geometry = HandGeometry(model, "right")
    q = model.home_positions()
    points, edges = geometry.surface(q)
    assert edges.min() >= 0 and edges.max() < len(points)
    lowest = geometry.lowest_z(q)
    if all(geometry.model.geom_type[g] in (MESH, BOX) for g in geometry.geoms):
        assert float(points[:, 2].min()) == pytest.approx(lowest, abs=1e-9)
    else:
        assert float(points[:, 2].min()) >= lowest - 1e-9


def test_band_points_cut_an_edge_at_the_band_planes() -> None:
    """A vertical edge through a band gives points from the lower plane to the upper one at
    most step_m apart; an edge wholly outside it gives none; a flat edge inside it all of
    itself."""
    points = np.array(
        [
            [0.0, 0.0, -1.0],
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 2.0],
            [2.0, 0.0, 2.0],
            [0, 1, 0.2],
            [0, 2, 0.2],
        ]
    )
    edges = np.array([[0, 1], [2, 3], [4, 5]], dtype=np.intp)
    out = band_points((points, edges), (0.1, 0.5), 0.1)
    vertical = out[out[:, 1] == 0.0]
    np.testing.assert_allclose(vertical[:, 2].min(), 0.1)
    np.testing.assert_allclose(vertical[:, 2].max(), 0.5)
    assert np.diff(np.sort(vertical[:, 2])).max() <= 0.1 + 1e-12
    assert not (out[:, 0] > 0.5).any()  # the edge at height 2 is outside
    flat = out[out[:, 1] > 0.0]
    np.testing.assert_allclose([flat[:, 1].min(), flat[:, 1].max()], [1.0, 2.0])
    assert len(band_points((points, edges), (3.0, 4.0), 0.1)) == 0


@pytest.mark.parametrize("robot", [r.name for r in list_robots()])
def test_surface_points_reach_as_low_as_the_hand(robot: str) -> None:
    """The hand's surface points (its polyhedra's edges sampled every EDGE_STEP_M) come
    down to its lowest point where every geom is a mesh or a box (their vertices are among
    them) and never below it; there are more of them than hull vertices."""
    model = RobotModel(load_robot(robot))
    geometry = HandGeometry(model, "right")
    q = model.home_positions()
    points = geometry.surface_points(q)
    lowest = geometry.lowest_z(q)
    assert points[:, 2].min() >= lowest - 1e-9
    if all(geometry.model.geom_type[g] in (MESH, BOX) for g in geometry.geoms):
        assert points[:, 2].min() == pytest.approx(lowest, abs=1e-9)
        hull = sum(len(p) for p in geometry._points if p is not None)
        assert len(points) > hull
