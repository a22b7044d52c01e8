"""The offline pipeline run (``humanoid-teleop retarget``): a recorded operator's re-centre."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.retarget.offline import run_offline
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.retarget.profile import load_profile

from .conftest import model_of

RATE_HZ = 100.0
RECENTRE_S = 0.5
JUMP_M = -0.1
"""The operator's hand moved this far [m] along x while paused, before engaging again."""


def _frames() -> list[HumanFrame]:
    """The right wrist moving +x at 0.05 m/s for 1.5 s; from RECENTRE_S on JUMP_M further."""
    frames = []
    for k in range(int(1.5 * RATE_HZ)):
        t = k / RATE_HZ
        x = 0.3 + 0.05 * t + (JUMP_M if t >= RECENTRE_S else 0.0)
        wrist = Pose(np.array([x, -0.2, 1.0]), np.eye(3))
        frames.append(HumanFrame(t_s=t, right_wrist=wrist))
    return frames


def _ee_path(recalibrations_s: tuple[float, ...]) -> np.ndarray:
    """The right EE's positions [m] (n x 3) of the run."""
    model = model_of("g1")
    run = run_offline(TeleopPipeline(model, load_profile("vr")), _frames(), recalibrations_s)
    frame = model.description.arms["right"].ee_frame
    return np.array([model.fk(q, frame)[1] for q in run.q])


def test_a_recorded_recentre_recalibrates_where_it_was_recorded() -> None:
    """The input jumps 10 cm at the re-centre, where the recorded pipeline calibrated anew
    and the robot went on from where it was: re-calibrated there, the EE moves on smoothly
    (its step there no larger than the others'); without, it goes the jump's 6.3 cm (G1's
    scale) off."""
    k = int(RECENTRE_S * RATE_HZ)
    followed = _ee_path((RECENTRE_S,))
    steps = np.linalg.norm(np.diff(followed, axis=0), axis=1)
    assert steps[k - 1 : k + 20].max() <= steps[k - 20 : k - 1].max() + 1e-4
    lunged = _ee_path(())
    assert np.linalg.norm(lunged[-1] - followed[-1]) > 0.05
