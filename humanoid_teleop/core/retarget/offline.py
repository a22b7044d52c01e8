"""Offline retargeting: drive a :class:`TeleopPipeline` through a recorded motion and measure it.

The robot is assumed to follow each command exactly (the measured state fed back is the
last command), so the numbers describe the retargeting and the safety layer alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame
from humanoid_teleop.core.motion.rotation import rotation_angle
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline

FloatArray = NDArray[np.float64]


@dataclass
class OfflineRun:
    """Joint trajectory and per-frame measurements of one offline run.

    ``q`` (frames, joints) [rad] over ``joint_names``; ``t_s`` (frames,); errors per side
    hold one value per frame with an EE target; ``step_s`` the time each pipeline step took.
    """

    robot: str
    joint_names: tuple[str, ...]
    t_s: FloatArray
    q: FloatArray
    lower: FloatArray
    upper: FloatArray
    velocity_limit: FloatArray
    step_s: FloatArray
    position_error_m: dict[str, list[float]] = field(default_factory=dict)
    orientation_error_deg: dict[str, list[float]] = field(default_factory=dict)
    holds: int = 0

    def limit_violations(self, tolerance: float = 1e-9) -> int:
        """Count of frames x joints outside the position limits."""
        below = self.q < self.lower - tolerance
        above = self.q > self.upper + tolerance
        return int(np.count_nonzero(below | above))

    def max_velocity_ratio(self) -> float:
        """Peak |dq/dt| / velocity limit over all joints and frames."""
        if len(self.t_s) < 2:
            return 0.0
        dt = np.diff(self.t_s)[:, None]
        rates = np.abs(np.diff(self.q, axis=0)) / np.where(dt > 0, dt, np.inf)
        return float(np.max(rates / self.velocity_limit))

    def summary(self) -> dict[str, Any]:
        """The ``retarget --json`` object."""

        def stats(values: Sequence[float]) -> dict[str, float | None]:
            if not values:
                return {"p50": None, "p95": None, "max": None}
            arr = np.asarray(values)
            return {
                "p50": float(np.percentile(arr, 50)),
                "p95": float(np.percentile(arr, 95)),
                "max": float(np.max(arr)),
            }

        sides = ("left", "right")
        return {
            "robot": self.robot,
            "frames": len(self.t_s),
            "limit_violations": self.limit_violations(),
            "max_velocity_ratio": self.max_velocity_ratio(),
            "wrist_position_error_m": {s: stats(self.position_error_m.get(s, [])) for s in sides},
            "wrist_orientation_error_deg": {
                s: stats(self.orientation_error_deg.get(s, [])) for s in sides
            },
            "time_per_frame_ms": {
                "p50": float(np.percentile(self.step_s, 50) * 1e3) if len(self.step_s) else None,
                "p99": float(np.percentile(self.step_s, 99) * 1e3) if len(self.step_s) else None,
            },
            "holds": self.holds,
        }


def run_offline(
    pipeline: TeleopPipeline,
    frames: Sequence[HumanFrame],
    recalibrations_s: Sequence[float] = (),
) -> OfflineRun:
    """Engage at the robot's home pose just before the first frame and step every frame.

    Each frame is processed at its own time stamp (input age 0). Tracking errors compare
    the arm retargeters' EE targets with the forward kinematics of the safe command.
    ``recalibrations_s``: times [s, the frames' clock] at which the recorded operator was
    calibrated anew (a re-centre, an engage after a pause: the input jumps there, the robot
    went on from where it was); the pipeline re-calibrates on the first frame at or after
    each, as the live one did.
    """
    model = pipeline.model
    description = model.description
    if not frames:
        raise ValueError("no frames to retarget")
    dt0 = frames[1].t_s - frames[0].t_s if len(frames) > 1 else 0.01
    q = model.home_positions()
    pipeline.engage(q, frames[0].t_s - dt0)
    qs = np.empty((len(frames), model.nq))
    steps = np.empty(len(frames))
    run = OfflineRun(
        robot=description.name,
        joint_names=model.joint_names,
        t_s=np.array([f.t_s for f in frames]),
        q=qs,
        lower=np.asarray(model.limits.lower, dtype=np.float64),
        upper=np.asarray(model.limits.upper, dtype=np.float64),
        velocity_limit=pipeline.limits.velocity,
        step_s=steps,
    )
    ee_frames = {side: arm.ee_frame for side, arm in description.arms.items()}
    pending = sorted(recalibrations_s)
    for i, frame in enumerate(frames):
        start = time.perf_counter()
        if pending and frame.t_s >= pending[0]:
            while pending and frame.t_s >= pending[0]:
                pending.pop(0)
            pipeline.recalibrate(frame)
        out = pipeline.step(frame, q, frame.t_s)
        steps[i] = time.perf_counter() - start
        q = out.q
        qs[i] = q
        if out.report.hold_reason is not None:
            run.holds += 1
        for side, target in pipeline.ee_targets().items():
            rotation, position = model.fk(q, ee_frames[side])
            run.position_error_m.setdefault(side, []).append(
                float(np.linalg.norm(position - target.position_m))
            )
            run.orientation_error_deg.setdefault(side, []).append(
                float(np.degrees(rotation_angle(target.rotation.T @ rotation)))
            )
    return run
