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
        self._base = (np.array(sim.base_rotation), np.array(sim.base_position))
        self._polyhedra: list[tuple[FloatArray, NDArray[np.intp]]] | None = None
        names = model.joint_names
        joints = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
        known = [k for k, j in enumerate(joints) if j >= 0]
        self._joint_rows = np.array(known, dtype=np.intp)
        self._qpos = np.array([m.jnt_qposadr[joints[k]] for k in known], dtype=np.intp)
        last_joint = model.description.groups[model.description.arms[side].group][-1]
        wrist_body = int(m.jnt_bodyid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, last_joint)])
        self.geoms: list[int] = []
        self._points: list[FloatArray | None] = []  # hull vertices in the geom frame (meshes)
        for g in range(m.ngeom):
            if not (m.geom_contype[g] or m.geom_conaffinity[g]):
                continue
            if not _moved_by(m, int(m.geom_bodyid[g]), wrist_body):
                continue
            self.geoms.append(g)
            mesh = m.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH
            self._points.append(_hull_points(m, g) if mesh else None)
        #: The largest sliding friction coefficient of the geoms (MuJoCo's contact between
        #: two geoms takes the larger of theirs).
        self.friction = max((float(m.geom_friction[g][0]) for g in self.geoms), default=0.0)
        self._edge_samples: list[FloatArray] | None = None  # per geom, geom frame

    def _posed(self, q: FloatArray) -> Any:
        """The MuJoCo data with the robot at joint positions ``q`` (kinematics only)."""
        d = self.data
        d.qpos[self._qpos] = np.asarray(q)[self._joint_rows]
        self._mj.mj_kinematics(self.model, d)
        return d

    def _polyhedra_of(self) -> list[tuple[FloatArray, NDArray[np.intp]]]:
        """Each geom's polyhedron (:func:`_polyhedron`, geom frame), built at the first ask."""
        if self._polyhedra is None:
            self._polyhedra = [_polyhedron(self.model, g) for g in self.geoms]
        return self._polyhedra

    def lowest_z(self, q: FloatArray) -> float:
        """Height [m] (base frame) of the hand's lowest point at joint positions ``q``
        (:attr:`RobotModel.joint_names` order)."""
        d = self._posed(q)
        up = self._up
        lowest = math.inf
        for g, points in zip(self.geoms, self._points, strict=True):
            rotation = d.geom_xmat[g].reshape(3, 3)
            u = rotation.T @ up  # the base frame's up in the geom frame
            low = float(up @ d.geom_xpos[g]) + self._reach_below(g, points, u)
            lowest = min(lowest, low)
        return lowest - self._up_origin

    def surface(self, q: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
        """The hand's collision geoms at joint positions ``q`` as polyhedra: their vertices
        [m] (base frame, n x 3) and edges (m x 2 rows into the vertices). A mesh is its
        convex hull (its faces' edges); a box its corners; another primitive a polyhedron
        inscribed in it (:data:`PRIMITIVE_RINGS` rings of :data:`PRIMITIVE_RINGS` points)."""
        polyhedra = self._polyhedra_of()
        d = self._posed(q)
        base_r, base_p = self._base
        points, edges, count = [], [], 0
        for g, (vertices, pairs) in zip(self.geoms, polyhedra, strict=True):
            world = d.geom_xpos[g] + vertices @ d.geom_xmat[g].reshape(3, 3).T
            points.append((world - base_p) @ base_r)
            edges.append(pairs + count)
            count += len(vertices)
        return np.concatenate(points), np.concatenate(edges)

    def surface_points(self, q: FloatArray) -> FloatArray:
        """Points [m] (base frame, n x 3) on the hand's collision geometry at joint positions
        ``q``: the edges of :meth:`surface`'s polyhedra every :data:`EDGE_STEP_M` (their
        geom-frame samples taken once). How close the hand comes to something, to about
        that step."""
        if self._edge_samples is None:
            every_height = (-math.inf, math.inf)
            self._edge_samples = [
                band_points(polyhedron, every_height, EDGE_STEP_M)
                for polyhedron in self._polyhedra_of()
            ]
        d = self._posed(q)
        world = np.concatenate(
            [
                d.geom_xpos[g] + points @ d.geom_xmat[g].reshape(3, 3).T
                for g, points in zip(self.geoms, self._edge_samples, strict=True)
            ]
        )
        base_r, base_p = self._base
        out: FloatArray = (world - base_p) @ base_r
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


def band_points(
    surface: tuple[FloatArray, NDArray[np.intp]], band_z: tuple[float, float], step_m: float
) -> FloatArray:
    """The points of ``surface`` (:meth:`HandGeometry.surface`: vertices and edges) within
    the band of heights ``band_z`` (low, high [m], the vertices' frame): its vertices
    there, its edges' crossings of the band's two planes and points along its edges in the
    band at most ``step_m`` [m] apart (k x 3). Empty when nothing of it is in the band."""
    points, edges = surface
    low, high = band_z
    a, b = points[edges[:, 0]], points[edges[:, 1]]
    za, zb = a[:, 2], b[:, 2]
    # each edge's part in the band, as shares of its length from a
    rise = zb - za
    flat = np.abs(rise) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        s_low, s_high = (low - za) / rise, (high - za) / rise
    s0 = np.where(flat, 0.0, np.clip(np.minimum(s_low, s_high), 0.0, 1.0))
    s1 = np.where(flat, 1.0, np.clip(np.maximum(s_low, s_high), 0.0, 1.0))
    keep = np.where(flat, (za >= low) & (za <= high), s1 > s0)
    if not keep.any():
        return np.zeros((0, 3))
    a, b, s0, s1 = a[keep], b[keep], s0[keep], s1[keep]
    length = np.linalg.norm(b - a, axis=1) * (s1 - s0)
    counts = np.maximum(1, np.ceil(length / step_m)).astype(np.intp)  # segments an edge
    edge = np.repeat(np.arange(len(a)), counts + 1)
    first = np.repeat(np.cumsum(counts + 1) - (counts + 1), counts + 1)
    fraction = (np.arange(len(edge)) - first) / counts[edge]  # 0 .. 1 along each part
    shares = s0[edge] + (s1 - s0)[edge] * fraction
    out: FloatArray = a[edge] + shares[:, None] * (b - a)[edge]
    return out


#: A primitive other than a box is a polyhedron of this many rings of this many vertices.
PRIMITIVE_RINGS = 16


def _polyhedron(m: Any, g: int) -> tuple[FloatArray, NDArray[np.intp]]:
    """Geom ``g`` of MuJoCo model ``m`` as a polyhedron in its geom frame: (vertices [m],
    edges as pairs of vertex rows). A mesh: its convex hull (what MuJoCo collides) and its
    faces' edges; a box: its 8 corners and their 12 edges; a sphere, capsule, cylinder or
    ellipsoid: :data:`PRIMITIVE_RINGS` rings around its z axis (a grid's edges and
    diagonals); any other shape: its bounding sphere so."""
    from humanoid_teleop.core.sim.mjcf_build import import_mujoco

    geom_type = import_mujoco().mjtGeom
    kind, size = m.geom_type[g], np.array(m.geom_size[g], dtype=np.float64)
    if kind == geom_type.mjGEOM_MESH:
        return _hull_polyhedron(m, g)
    if kind == geom_type.mjGEOM_BOX:
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
        box_edges = [(i, j) for i in range(8) for j in range(i + 1, 8)
                     if np.abs(signs[i] - signs[j]).sum() == 2]  # fmt: skip
        return signs * size, np.array(box_edges, dtype=np.intp)
    n = PRIMITIVE_RINGS
    polar = np.linspace(0.0, math.pi, n)
    azimuth = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    sin_p, cos_p = np.sin(polar)[:, None], np.cos(polar)[:, None]
    ring = np.stack(
        [sin_p * np.cos(azimuth), sin_p * np.sin(azimuth), np.broadcast_to(cos_p, (n, n))],
        axis=-1,
    )  # a unit sphere, ring by ring from +z to -z
    if kind == geom_type.mjGEOM_SPHERE:
        vertices = ring * size[0]
    elif kind == geom_type.mjGEOM_CAPSULE:  # hemispheres moved apart by the half-length
        vertices = ring * size[0]
        vertices[..., 2] += np.where(cos_p >= 0.0, size[1], -size[1])
    elif kind == geom_type.mjGEOM_CYLINDER:  # its rim circles: the upper rings' and lower's
        vertices = np.empty((n, n, 3))
        vertices[..., :2] = size[0] * np.stack([np.cos(azimuth), np.sin(azimuth)], axis=-1)
        vertices[..., 2] = np.where(np.arange(n) < n // 2, size[1], -size[1])[:, None]
    elif kind == geom_type.mjGEOM_ELLIPSOID:
        vertices = ring * size
    else:
        vertices = ring * float(m.geom_rbound[g])
    index = np.arange(n * n).reshape(n, n)
    right = np.roll(index, -1, axis=1)
    grid_edges = np.concatenate(
        [np.stack([index, right], -1).reshape(-1, 2),  # around each ring
         np.stack([index[:-1], index[1:]], -1).reshape(-1, 2),  # to the next ring
         np.stack([index[:-1], right[1:]], -1).reshape(-1, 2)]  # the grid's diagonals
    )  # fmt: skip
    return vertices.reshape(-1, 3), grid_edges.astype(np.intp)


def _hull_polyhedron(m: Any, geom: int) -> tuple[FloatArray, NDArray[np.intp]]:
    """The mesh geom's convex hull as (vertices [m], geom frame; edges): its faces' edges.
    Without a hull: every vertex, every pair of them an edge."""
    vertices, hull = _mesh_hull(m, geom)
    if hull is None:
        count = len(vertices)
        every = [(i, j) for i in range(count) for j in range(i + 1, count)]
        return vertices, np.array(every, dtype=np.intp).reshape(-1, 2)
    corners = hull[1]
    pairs = np.concatenate([corners[:, [0, 1]], corners[:, [1, 2]], corners[:, [2, 0]]])
    return vertices, np.unique(np.sort(pairs, axis=1), axis=0)


def _moved_by(m: Any, body: int, ancestor: int) -> bool:
    """Whether ``body`` is ``ancestor`` or hangs below it in MuJoCo model ``m``'s tree."""
    while body > 0:
        if body == ancestor:
            return True
        body = int(m.body_parentid[body])
    return False


#: Spacing [m] of :meth:`HandGeometry.surface_points` along a hull edge.
EDGE_STEP_M = 0.005


def _hull_points(m: Any, geom: int) -> FloatArray:
    """The mesh geom's convex hull vertices [m] in the geom frame (all its vertices when
    MuJoCo made no hull)."""
    vertices, hull = _mesh_hull(m, geom)
    if hull is None:
        return vertices
    points: FloatArray = vertices[hull[0]]
    return points


def _mesh_hull(
    m: Any, geom: int
) -> tuple[FloatArray, tuple[NDArray[np.intp], NDArray[np.intp]] | None]:
    """The mesh geom's vertices [m] (geom frame) and its convex hull's vertex indices and
    face corners (f x 3 indices), None when MuJoCo made no hull. ``mesh_graph`` holds per
    mesh: the hull's vertex count n and face count f, n edge addresses, the n vertices'
    indices into the mesh, n + 3 f edge entries, then the f faces' three vertex indices."""
    mesh = int(m.geom_dataid[geom])
    start, count = int(m.mesh_vertadr[mesh]), int(m.mesh_vertnum[mesh])
    vertices = np.array(m.mesh_vert[start : start + count], dtype=np.float64)
    graph_start = int(m.mesh_graphadr[mesh])
    if graph_start < 0:
        return vertices, None
    graph = m.mesh_graph
    n, faces = int(graph[graph_start]), int(graph[graph_start + 1])
    ids = np.array(graph[graph_start + 2 + n : graph_start + 2 + 2 * n], dtype=np.intp)
    face_start = graph_start + 2 + 3 * n + 3 * faces
    corners = np.array(graph[face_start : face_start + 3 * faces], dtype=np.intp).reshape(-1, 3)
    return vertices, (ids, corners)


#: ``model``'s :class:`HandGeometry` of ``side``, built at its first use (a MuJoCo model
#: compiled once per robot model and side).
hand_geometry = per_model_and_side(HandGeometry)
