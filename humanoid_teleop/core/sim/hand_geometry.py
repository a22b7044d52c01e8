"""How low a robot's hand reaches: the lowest point of its collision geometry.

The porter puts the target's tool point where the source's was, but two hands of other
shapes hang differently below their tool points (Romeo's fingers and palm reach ~3 cm
lower than G1's around the same fingertip mean). Following the source's tool path, the
target's hand would press on the table where the source's hand pushed at a hair above it,
or land on an object the source's hand passed over. :class:`HandGeometry` measures, in the
robot's MuJoCo model, the lowest point (base frame) of the collision geoms the arm's last
joint moves, at given joint positions: the source's from its measured joints, the target's
from its commands.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.robot import RobotModel, per_model_and_side

FloatArray = NDArray[np.float64]


class HandGeometry:
    """The ``side`` hand's collision geoms in ``model``'s MuJoCo model (the robot alone):
    every geom that collides on a body the arm's last joint moves; meshes by their convex
    hull, which is what MuJoCo collides."""

    def __init__(self, model: RobotModel, side: str) -> None:
        from humanoid_teleop.core.sim.mjcf_build import import_mujoco
        from humanoid_teleop.core.sim.mujoco_sim import MujocoSim

        mujoco = import_mujoco()
        self._mj = mujoco
        sim = MujocoSim(model)
        m = self.model = sim.model
        self.data = mujoco.MjData(m)
        self.data.qpos[:] = sim.data.qpos
        # the base frame's z axis and origin in MuJoCo's world
        self._up = np.array(sim.base_rotation[:, 2])
        self._up_origin = float(self._up @ sim.base_position)
        names = model.joint_names
        joints = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
        known = [k for k, j in enumerate(joints) if j >= 0]
        self._joint_rows = np.array(known, dtype=np.intp)
        self._qpos = np.array([m.jnt_qposadr[joints[k]] for k in known], dtype=np.intp)
        last_joint = model.description.groups[model.description.arms[side].group][-1]
        wrist_body = int(m.jnt_bodyid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, last_joint)])
        self.geoms: list[int] = []
        self._points: list[FloatArray | None] = []  # hull vertices in the geom frame (meshes)
        self._surface: list[FloatArray] = []  # points on the geom's edges, geom frame
        for g in range(m.ngeom):
            if not (m.geom_contype[g] or m.geom_conaffinity[g]):
                continue
            if not _moved_by(m, int(m.geom_bodyid[g]), wrist_body):
                continue
            self.geoms.append(g)
            mesh = m.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH
            self._points.append(_hull_points(m, g) if mesh else None)
            self._surface.append(_edge_points(m, g) if mesh else _shape_points(mujoco, m, g))
        self._base_rotation = np.array(sim.base_rotation)
        self._base_position = np.array(sim.base_position)

    def lowest_z(self, q: FloatArray) -> float:
        """Height [m] (base frame) of the hand's lowest point at joint positions ``q``
        (:attr:`RobotModel.joint_names` order)."""
        m, d = self.model, self.data
        d.qpos[self._qpos] = np.asarray(q)[self._joint_rows]
        self._mj.mj_kinematics(m, d)
        up = self._up
        lowest = math.inf
        for g, points in zip(self.geoms, self._points, strict=True):
            rotation = d.geom_xmat[g].reshape(3, 3)
            u = rotation.T @ up  # the base frame's up in the geom frame
            low = float(up @ d.geom_xpos[g]) + self._reach_below(g, points, u)
            lowest = min(lowest, low)
        return lowest - self._up_origin

    def surface_points(self, q: FloatArray) -> FloatArray:
        """Points [m] (base frame, n x 3) on the hand's collision geometry at joint positions
        ``q``: meshes' convex hull edges every :data:`EDGE_STEP_M`, other shapes' outlines.
        How close the hand comes to something, to about that step."""
        m, d = self.model, self.data
        d.qpos[self._qpos] = np.asarray(q)[self._joint_rows]
        self._mj.mj_kinematics(m, d)
        world = np.concatenate(
            [
                d.geom_xpos[g] + points @ d.geom_xmat[g].reshape(3, 3).T
                for g, points in zip(self.geoms, self._surface, strict=True)
            ]
        )
        out: FloatArray = (world - self._base_position) @ self._base_rotation
        return out

    def lowest_rows(self, q: FloatArray) -> FloatArray:
        """:meth:`lowest_z` of each row of ``q`` [m]."""
        return np.array([self.lowest_z(row) for row in q])

    def _reach_below(self, g: int, points: FloatArray | None, u: FloatArray) -> float:
        """How far [m] along ``u`` (a unit vector, geom frame) geom ``g`` reaches below its
        centre (a negative number: its support along -u)."""
        mujoco, size = self._mj, self.model.geom_size[g]
        kind = self.model.geom_type[g]
        if points is not None:
            return float((points @ u).min())
        if kind == mujoco.mjtGeom.mjGEOM_BOX:
            return -float(np.abs(u) @ size)
        if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            return -float(size[0])
        if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            return -float(abs(u[2]) * size[1] + size[0])
        if kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
            return -float(abs(u[2]) * size[1] + size[0] * math.sqrt(max(0.0, 1.0 - u[2] ** 2)))
        if kind == mujoco.mjtGeom.mjGEOM_ELLIPSOID:
            return -float(np.linalg.norm(size * u))
        return -float(self.model.geom_rbound[g])  # any other shape: its bounding sphere


def _moved_by(m: Any, body: int, ancestor: int) -> bool:
    """Whether ``body`` is ``ancestor`` or hangs below it in MuJoCo model ``m``'s tree."""
    while body > 0:
        if body == ancestor:
            return True
        body = int(m.body_parentid[body])
    return False


#: Spacing [m] of :meth:`HandGeometry.surface_points` along a hull edge.
EDGE_STEP_M = 0.005


def _edge_points(m: Any, geom: int) -> FloatArray:
    """Points [m] every :data:`EDGE_STEP_M` along the edges of the mesh geom's convex hull
    (geom frame); its vertices when MuJoCo made no hull. ``mesh_graph`` holds per mesh: the
    hull's vertex count n and face count f, n edge addresses, n vertex indices into the mesh,
    n + 3 f edge entries, then f faces of three vertex indices into the mesh."""
    mesh = int(m.geom_dataid[geom])
    start, count = int(m.mesh_vertadr[mesh]), int(m.mesh_vertnum[mesh])
    vertices = np.array(m.mesh_vert[start : start + count], dtype=np.float64)
    graph_start = int(m.mesh_graphadr[mesh])
    if graph_start < 0:
        return vertices
    graph = m.mesh_graph
    n, f = int(graph[graph_start]), int(graph[graph_start + 1])
    faces_at = graph_start + 2 + 3 * n + 3 * f
    faces = np.array(graph[faces_at : faces_at + 3 * f]).reshape(f, 3)
    edges = {
        (min(int(a), int(b)), max(int(a), int(b)))
        for face in faces
        for a, b in zip(face, np.roll(face, 1), strict=True)
    }
    points = [vertices[sorted({i for edge in edges for i in edge})]]
    for a, b in edges:
        steps = max(1, math.ceil(float(np.linalg.norm(vertices[b] - vertices[a])) / EDGE_STEP_M))
        share = np.arange(1, steps)[:, None] / steps
        points.append(vertices[a] + share * (vertices[b] - vertices[a]))
    return np.concatenate(points)


def _shape_points(mujoco: Any, m: Any, geom: int) -> FloatArray:
    """Points [m] on a primitive geom's outline (geom frame): a box's corners and edges, a
    cylinder's or capsule's end circles (a capsule's widened by its caps), a sphere's or
    ellipsoid's axis ends and 45-degree points."""
    size, kind = m.geom_size[geom], m.geom_type[geom]
    if kind == mujoco.mjtGeom.mjGEOM_BOX:
        corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
        share = np.linspace(0.0, 1.0, 9)[:, None]
        edges = [
            corners[i] + share * (corners[j] - corners[i])
            for i in range(8)
            for j in range(i + 1, 8)
            if np.abs(corners[i] - corners[j]).sum() == 2
        ]
        box: FloatArray = np.concatenate(edges) * np.asarray(size, dtype=np.float64)
        return box
    angles = np.linspace(0.0, 2 * math.pi, 16, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)])
    if kind in (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE):
        radius, half = float(size[0]), float(size[1])
        ends = [ring * radius + [0.0, 0.0, z] for z in (-half, half)]
        if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            ends += [np.array([[0.0, 0.0, -half - radius], [0.0, 0.0, half + radius]])]
        return np.concatenate(ends)
    directions = np.array(
        [[x, y, z] for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1) if x or y or z],
        dtype=np.float64,
    )
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    radii = np.asarray(size, dtype=np.float64)
    if kind != mujoco.mjtGeom.mjGEOM_ELLIPSOID:
        radii = np.full(3, radii[0])
    out: FloatArray = directions * radii
    return out


def _hull_points(m: Any, geom: int) -> FloatArray:
    """The mesh geom's convex hull vertices [m] in the geom frame (all its vertices when
    MuJoCo made no hull). ``mesh_graph`` holds per mesh: the hull's vertex count n, its face
    count, n edge addresses, then the n vertices' indices into the mesh."""
    mesh = int(m.geom_dataid[geom])
    start, count = int(m.mesh_vertadr[mesh]), int(m.mesh_vertnum[mesh])
    vertices = np.array(m.mesh_vert[start : start + count], dtype=np.float64)
    graph_start = int(m.mesh_graphadr[mesh])
    if graph_start < 0:
        return vertices
    graph = m.mesh_graph
    hull_count = int(graph[graph_start])
    ids = np.array(graph[graph_start + 2 + hull_count : graph_start + 2 + 2 * hull_count])
    hull: FloatArray = vertices[ids]
    return hull


#: ``model``'s :class:`HandGeometry` of ``side``, built at its first use (a MuJoCo model
#: compiled once per robot model and side).
hand_geometry = per_model_and_side(HandGeometry)
