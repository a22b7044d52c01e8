"""Reference arm motion the robot can certainly reach, generated from its own joint space.

Used to measure IK tracking (``bench/retarget.py``, ``test/core/retarget/test_ik.py``): joint
trajectories are smooth by construction, so every wrist pose along them is reachable.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.retarget.ik import DifferentialIk

FloatArray = NDArray[np.float64]


def reachable_arm_trajectory(
    ik: DifferentialIk, seconds: float, rate_hz: float = 100.0, seed: int = 7
) -> list[FloatArray]:
    """Joint vectors [rad] at ``rate_hz`` [Hz] for ``seconds`` [s]: every arm joint sways
    smoothly (0.1-0.3 Hz) around the middle of its range, ramping in from home over 2 s."""
    idx = np.concatenate([task.joints for task in ik.tasks])
    lo, hi = ik.lower[idx], ik.upper[idx]
    rng = np.random.default_rng(seed)
    phase, freq = rng.uniform(0, 2 * np.pi, len(idx)), rng.uniform(0.1, 0.3, len(idx))
    out = []
    for t in np.arange(0.0, seconds, 1.0 / rate_hz):
        ramp = min(1.0, t / 2.0)
        q = ik.home.copy()
        centre = ik.home[idx] + ramp * ((lo + hi) / 2 - ik.home[idx])
        q[idx] = centre + ramp * 0.3 * (hi - lo) / 2 * np.sin(2 * np.pi * freq * t + phase)
        out.append(q)
    return out
