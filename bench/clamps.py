"""What the safety filter clamps in a session: per robot and scene, the share of steps each
limit kind changed, the joints it changed most and how far the arm's commands trail its
targets.

    .venv/bin/python bench/clamps.py [--robots g1 alex romeo talos] [--episodes 2]
        [--scene push pick_and_place]

One process, no ROS: the scripted demonstrator (an operator closing its loop on the measured
robot) drives the teleop pipeline (the ``replay`` profile: retargeting + safety) into MuJoCo
at 250 Hz, seeds 0..N-1, as ``bench/sim.py`` runs it. Over the steps the filter follows the
target (no hold), per row:

- ``any %``, ``position %``, ``velocity %``, ``acceleration %``: steps on which a joint was
  clamped, by kind (``SafetyReport.clamps()``; a step can count in several kinds);
- ``ramp %``: steps in the engage ramp, whose speed cap (``engage_speed_rad_s`` plus the
  target's own speed) counts as a velocity clamp where it sets a joint's move (a G1 hand
  opening from home ramps for ~2 s);
- ``top``: per kind, the joint clamped on most steps;
- ``lag p95``: |command - target| [mrad] of the demonstrating arm's joints after the engage
  ramp, 95th percentile per joint, the mean and the largest over the arm's joints;
- ``success``: episodes the scene's detector called a success.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, load_robot
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.scene import SUCCESS, Scene, load_scene
from humanoid_teleop.devices.scripted.episode import PROFILE, demonstrator_for, scripted_steps

KINDS = ("position", "velocity", "acceleration")


@dataclass
class Tally:
    """Followed steps, those in the engage ramp, steps per clamp kind (and ``any``), steps
    per kind and joint, the arm's |command - target| [rad] per step after the ramp,
    successes."""

    steps: int = 0
    ramping: int = 0
    clamped: Counter[str] = field(default_factory=Counter)
    joints: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    lags: list[np.ndarray] = field(default_factory=list)
    successes: int = 0


def _episode(model: RobotModel, scene_name: str, seed: int, tally: Tally) -> None:
    """Add one scripted episode to ``tally``."""
    scene = Scene(load_scene(scene_name), model)
    sim = MujocoSim(model, scene=scene, seed=seed)
    pipeline = TeleopPipeline.create(model.description, model, PROFILE, PROFILE)
    arm = model.group_indices(model.description.arms[scene.config.hand].group)
    demo = demonstrator_for(scene)
    for step in scripted_steps(model, scene, sim, pipeline, demo, rate_hz=250.0, max_s=30.0):
        report = step.output.report
        if report.holding:
            continue
        tally.steps += 1
        tally.ramping += report.ramping
        kinds = report.clamps()
        tally.clamped.update([*kinds, "any"] if kinds else [])
        for kind, names in kinds.items():
            tally.joints[kind].update(names)
        if not report.ramping:
            tally.lags.append(np.abs(step.output.q[arm] - step.output.targets[arm]))
    tally.successes += scene.outcome == SUCCESS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", nargs="+", default=["g1", "alex", "romeo", "talos"])
    parser.add_argument("--scene", nargs="+", default=["push", "pick_and_place"])
    parser.add_argument("--episodes", type=int, default=2, help="seeds 0..N-1 per row")
    args = parser.parse_args()
    print(
        f"bench/clamps.py: {args.episodes} scripted episodes per row, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'robot':6} {'scene':15} {'any %':>6} {'position %':>10} {'velocity %':>10} "
        f"{'acceleration %':>14} {'ramp %':>6} {'lag p95 mean/max [mrad]':>23} "
        f"{'success':>7}  top joints"
    )
    print(header)
    print("-" * (len(header) + 40))
    for name in args.robots:
        model = RobotModel(load_robot(name))
        for scene_name in args.scene:
            tally = Tally()
            for seed in range(args.episodes):
                _episode(model, scene_name, seed, tally)
            p95 = 1000.0 * np.percentile(np.array(tally.lags), 95, axis=0)
            pct = {k: 100.0 * tally.clamped[k] / max(tally.steps, 1) for k in ("any", *KINDS)}
            top = ", ".join(
                f"{kind[:3]} {tally.joints[kind].most_common(1)[0][0]}"
                for kind in KINDS
                if tally.joints[kind]
            )
            print(
                f"{name:6} {scene_name:15} {pct['any']:6.1f} {pct['position']:10.1f} "
                f"{pct['velocity']:10.1f} {pct['acceleration']:14.1f} "
                f"{100.0 * tally.ramping / max(tally.steps, 1):6.1f} "
                f"{p95.mean():11.1f} / {p95.max():9.1f} "
                f"{tally.successes:>3}/{args.episodes:<3}  {top}"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
