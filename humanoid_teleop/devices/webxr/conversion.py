"""WebXR ``local-floor`` space → the project's REP-103 operator frame.

WebXR is y-up: x right, y up, -z forward. The operator frame is x forward, y left, z up, with
its origin on the floor (``local-floor`` already puts the origin on the floor where the session
started). The change of basis is the proper rotation ``C``::

    x_op = -z_xr,   y_op = -x_xr,   z_op = y_xr

Orientations: a WebXR hand joint has -z along the bone toward the fingertip and +y out of the
back of the hand. Re-expressed with ``C`` that becomes +x toward the fingertip and +z out of the
back of the hand, which is exactly the project's *human hand frame convention* for the wrist
(+x wrist → middle knuckle, +z out of the back of the hand, +y = z × x). So every pose,
head, wrist or finger joint, converts the same way: ``p_op = C p``, ``R_op = C R Cᵀ`` (for
a quaternion: the vector part is rotated by ``C``, ``w`` is unchanged).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Rows map WebXR coordinates to operator coordinates.
WEBXR_TO_OPERATOR: FloatArray = np.array(
    [[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float64
)


def poses_to_operator(poses: FloatArray) -> FloatArray:
    """Convert ``(..., 7)`` WebXR poses ``(px py pz qx qy qz qw)`` to the operator frame.

    Returns a new array of the same shape; quaternions are (x, y, z, w) and normalized.
    """
    poses = np.asarray(poses, dtype=np.float64)
    out = np.empty_like(poses)
    out[..., 0:3] = poses[..., 0:3] @ WEBXR_TO_OPERATOR.T
    out[..., 3:6] = poses[..., 3:6] @ WEBXR_TO_OPERATOR.T
    out[..., 6] = poses[..., 6]
    norms = np.linalg.norm(out[..., 3:7], axis=-1, keepdims=True)
    out[..., 3:7] /= norms
    return out
