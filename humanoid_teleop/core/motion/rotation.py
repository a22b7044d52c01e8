"""Small rotation helpers on numpy arrays: quaternions are (x, y, z, w) as in ROS messages.

All functions take and return float64 arrays; rotation matrices are 3x3 and act on column
vectors (``p_parent = R @ p_child``). Angles are in [rad].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def quat_to_matrix(quat_xyzw: FloatArray) -> FloatArray:
    """Rotation matrix of a quaternion (x, y, z, w); the quaternion need not be unit length."""
    x, y, z, w = (float(v) for v in quat_xyzw)
    return rotation_from_quat(x, y, z, w)


def rotation_from_quat(x: float, y: float, z: float, w: float) -> FloatArray:
    """:func:`quat_to_matrix` from the four numbers (no array in between: a message
    callback's hot path).

    Any finite, non-zero quaternion is normalised; the four numbers are first divided by the
    largest magnitude among them, so neither 1e300 (whose square overflows) nor 1e-300 (whose
    square underflows) loses its direction. Raises ValueError for a zero or non-finite one."""
    scale = max(abs(x), abs(y), abs(z), abs(w))
    if not (scale > 0.0 and math.isfinite(scale)):
        raise ValueError(f"quaternion {(x, y, z, w)} is zero or not finite: it has no direction")
    x, y, z, w = x / scale, y / scale, z / scale, w / scale
    s = 2.0 / (x * x + y * y + z * z + w * w)
    return np.array(
        [
            [1.0 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
            [s * (x * y + z * w), 1.0 - s * (x * x + z * z), s * (y * z - x * w)],
            [s * (x * z - y * w), s * (y * z + x * w), 1.0 - s * (x * x + y * y)],
        ]
    )


def matrix_to_quat(rotation: FloatArray) -> FloatArray:
    """Unit quaternion (x, y, z, w) with w >= 0 of a rotation matrix."""
    # Python floats, not numpy scalars: the same IEEE operations, several times cheaper
    # (once per written pose of a recording or a port)
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = np.asarray(
        rotation, dtype=np.float64
    ).tolist()
    trace = m00 + m11 + m22
    if trace > 0.0:
        s = 2.0 * math.sqrt(trace + 1.0)
        x, y, z, w = (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, s / 4
    elif m00 > m11 and m00 > m22:
        s = 2.0 * math.sqrt(1.0 + m00 - m11 - m22)
        x, y, z, w = s / 4, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s
    elif m11 > m22:
        s = 2.0 * math.sqrt(1.0 + m11 - m00 - m22)
        x, y, z, w = (m01 + m10) / s, s / 4, (m12 + m21) / s, (m02 - m20) / s
    else:
        s = 2.0 * math.sqrt(1.0 + m22 - m00 - m11)
        x, y, z, w = (m02 + m20) / s, (m12 + m21) / s, s / 4, (m10 - m01) / s
    # the squares summed in order in Python: a BLAS dot product's order depends on the CPU's
    # kernel (OpenBLAS' AVX-512 one sums 4 numbers differently), so recorded quaternions
    # would differ in their last bit from machine to machine
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    # divided and negated as Python floats (the same IEEE operations as numpy's in-place
    # ones, without their ~1 us; twice per ported step)
    q = [x / norm, y / norm, z / norm, w / norm]
    return np.array([-v for v in q] if q[3] < 0.0 else q)


def rotations_from_quats(quats: FloatArray) -> FloatArray:
    """Rotation matrices (n×3×3) of quaternions (n×4, x y z w): the batch form of
    :func:`rotation_from_quat` with the same numbers bit for bit (the same IEEE operations in
    the same order, element-wise; its ``max`` kept as comparisons, which keep the earlier
    value on a NaN). Raises its ValueError for the first zero or non-finite quaternion."""
    q = np.asarray(quats, dtype=np.float64).reshape(-1, 4)
    x, y, z, w = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    scale = np.abs(x)
    for part in (np.abs(y), np.abs(z), np.abs(w)):
        scale = np.where(part > scale, part, scale)
    bad = ~((scale > 0.0) & np.isfinite(scale))
    if bad.any():
        rotation_from_quat(*(float(v) for v in q[int(np.flatnonzero(bad)[0])]))  # raises
    x, y, z, w = x / scale, y / scale, z / scale, w / scale
    s = 2.0 / (x * x + y * y + z * z + w * w)
    out = np.empty((len(q), 3, 3))
    out[:, 0, 0] = 1.0 - s * (y * y + z * z)
    out[:, 0, 1] = s * (x * y - z * w)
    out[:, 0, 2] = s * (x * z + y * w)
    out[:, 1, 0] = s * (x * y + z * w)
    out[:, 1, 1] = 1.0 - s * (x * x + z * z)
    out[:, 1, 2] = s * (y * z - x * w)
    out[:, 2, 0] = s * (x * z - y * w)
    out[:, 2, 1] = s * (y * z + x * w)
    out[:, 2, 2] = 1.0 - s * (x * x + y * y)
    return out


def quats_from_matrices(rotations: FloatArray) -> FloatArray:
    """Unit quaternions (n×4, x y z w, w >= 0) of rotation matrices (n×3×3): the batch form
    of :func:`matrix_to_quat` (which stays scalar: cheaper for one matrix).

    Shepperd's method, vectorised: each matrix uses the branch of its largest of
    (trace, m00, m11, m22), so no division by a small number.
    """
    m = rotations
    d0, d1, d2 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    s21, d21 = m[:, 2, 1] + m[:, 1, 2], m[:, 2, 1] - m[:, 1, 2]
    s02, d02 = m[:, 0, 2] + m[:, 2, 0], m[:, 0, 2] - m[:, 2, 0]
    s10, d10 = m[:, 1, 0] + m[:, 0, 1], m[:, 1, 0] - m[:, 0, 1]
    branch = np.argmax(np.stack([d0 + d1 + d2, d0, d1, d2], axis=1), axis=1)
    radicand = np.choose(
        branch, [1 + d0 + d1 + d2, 1 + d0 - d1 - d2, 1 - d0 + d1 - d2, 1 - d0 - d1 + d2]
    )
    s = 2.0 * np.sqrt(np.maximum(radicand, 1e-300))
    quarter = 0.25 * s
    candidates = np.stack(
        [
            np.stack([d21 / s, d02 / s, d10 / s, quarter], axis=1),
            np.stack([quarter, s10 / s, s02 / s, d21 / s], axis=1),
            np.stack([s10 / s, quarter, s21 / s, d02 / s], axis=1),
            np.stack([s02 / s, s21 / s, quarter, d10 / s], axis=1),
        ]
    )
    quats = candidates[branch, np.arange(len(branch))]
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    quats[quats[:, 3] < 0.0] *= -1.0
    return np.asarray(quats)


def rpy_to_matrix(roll: float, pitch: float, yaw: float) -> FloatArray:
    """URDF convention: R = Rz(yaw) @ Ry(pitch) @ Rx(roll), angles in [rad]."""
    return axis_rotation("z", yaw) @ axis_rotation("y", pitch) @ axis_rotation("x", roll)


def axis_rotation(axis: str, angle_rad: float) -> FloatArray:
    """Rotation by ``angle_rad`` about the basis axis ``'x'``, ``'y'`` or ``'z'``."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == "y":
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    if axis == "z":
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    raise ValueError(f"axis must be 'x', 'y' or 'z', not {axis!r}")


def log3(rotation: FloatArray) -> FloatArray:
    """Rotation vector (axis times angle [rad]) of a rotation matrix, angle in [0, pi]."""
    cos_angle = min(1.0, max(-1.0, (rotation[0, 0] + rotation[1, 1] + rotation[2, 2] - 1.0) / 2))
    angle = math.acos(cos_angle)
    vee = np.array(
        [
            rotation[2, 1] - rotation[1, 2],
            rotation[0, 2] - rotation[2, 0],
            rotation[1, 0] - rotation[0, 1],
        ]
    )
    if angle < 1e-6:
        return vee / 2.0
    if angle > math.pi - 1e-4:
        # Near pi the skew part vanishes: read the axis from the symmetric part.
        sym = (rotation + np.eye(3)) / 2.0
        col = int(np.argmax(np.diag(sym)))
        axis = sym[:, col] / math.sqrt(max(sym[col, col], 1e-12))
        if float(axis @ vee) < 0.0:
            axis = -axis
        return np.asarray(axis * angle, dtype=np.float64)
    return np.asarray(vee * (angle / (2.0 * math.sin(angle))), dtype=np.float64)


def exp3(rotation_vector: FloatArray) -> FloatArray:
    """Rotation matrix of a rotation vector (axis times angle [rad]), Rodrigues' formula."""
    angle = float(np.linalg.norm(rotation_vector))
    if angle < 1e-12:
        return np.eye(3)
    k = rotation_vector / angle
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    out: FloatArray = np.eye(3) + math.sin(angle) * kx + (1.0 - math.cos(angle)) * (kx @ kx)
    return out


def _angle_of_cosine(cos_angle: float) -> float:
    """The angle [rad] in [0, pi] of a rotation whose cosine, computed from a trace, may have
    rounded just past +-1."""
    return math.acos(min(1.0, max(-1.0, cos_angle)))


def rotation_angle(rotation: FloatArray) -> float:
    """Angle [rad] of a rotation matrix, in [0, pi]."""
    return _angle_of_cosine(float((rotation[0, 0] + rotation[1, 1] + rotation[2, 2] - 1.0) / 2.0))


def rotation_angles(rotations: FloatArray) -> list[float]:
    """:func:`rotation_angle` of each of n rotation matrices (n x 3 x 3), the same numbers
    (the same IEEE operations, element-wise) for a fraction of its time per matrix."""
    m = np.asarray(rotations, dtype=np.float64)
    cos_angles = (m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2] - 1.0) / 2.0
    return [_angle_of_cosine(c) for c in cos_angles.tolist()]


def cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Cross product of two 3-vectors (a small fast path; ``np.cross`` is slow for one pair)."""
    ax, ay, az = float(a[0]), float(a[1]), float(a[2])
    bx, by, bz = float(b[0]), float(b[1]), float(b[2])
    return np.array([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx])


def frame_from_axes(x_axis: FloatArray, y_hint: FloatArray) -> FloatArray:
    """Right-handed rotation whose x column is ``x_axis`` and y column lies toward ``y_hint``."""
    x = x_axis / math.sqrt(float(x_axis @ x_axis))
    z = cross(x, y_hint)
    z /= math.sqrt(float(z @ z))
    y = cross(z, x)
    return np.column_stack((x, y, z))
