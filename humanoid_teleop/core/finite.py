"""The finite test of a number array: one home for the checks on the 250 Hz teleop path.

``np.isfinite(values).all()`` costs ~1.4 us on a hand skeleton or a joint vector, most of it
the ``all`` reduction's Python dispatch (``numpy._methods._all``); the same answer from the
element mask's bytes costs ~0.4 us. A teleop step tests the hand skeleton twice (the
pipeline's input faults, the hand retargeter) and the safety filter's target once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def all_finite(values: npt.NDArray[np.generic]) -> bool:
    """True if no element of ``values`` is NaN or infinite (True for an empty array).

    ``np.isfinite`` gives a fresh boolean array, one byte per element, 0 (not finite) or 1:
    the values are all finite exactly when its bytes hold no zero. The same answer as
    ``np.isfinite(values).all()`` for every array, and the same TypeError for a non-number
    dtype.
    """
    return 0 not in np.isfinite(values).tobytes()
