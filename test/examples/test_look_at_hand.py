"""The examples/look_at_hand plugin package: installed with pip, it drives a robot's head."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "look_at_hand"

DRIVE = """
import json, sys
import numpy as np
from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, load_robot

side = float(sys.argv[2])  # +1: hand to the operator's left, -1: to the right
description = load_robot("talos")
model = RobotModel(description)
pipeline = TeleopPipeline.create(description, model, profile=sys.argv[1])
head = Pose.from_quat(np.array([0.0, 0.0, 1.6]), np.array([0.0, 0.0, 0.0, 1.0]))
def frame(t, y):
    wrist = Pose.from_quat(np.array([0.4, y, 1.2]), np.array([0.0, 0.0, 0.0, 1.0]))
    left = Pose.from_quat(np.array([0.3, 0.25, 1.0]), np.array([0.0, 0.0, 0.0, 1.0]))
    return HumanFrame(t_s=t, head=head, left_wrist=left, right_wrist=wrist)
q = model.home_positions()
pipeline.engage(q, 0.0)
out = None
for k in range(1, 401):  # 4 s at 100 Hz
    t = k * 0.01
    out = pipeline.step(frame(t, -0.25 + side * 0.6 * min(t, 1.0)), q, t)
    q = out.q
yaw = model.group_indices("head")[0]
limits = model.limits
print(json.dumps({"head_yaw_rad": float(out.commands["head"][0]), "active": out.active,
                  "plugins": [type(r).__name__ for r in pipeline.retargeters],
                  "lower": float(limits.lower[yaw]), "upper": float(limits.upper[yaw])}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package pip-installed (no deps) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(EXAMPLE)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target


def _drive(installed: Path, side: float) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(installed))
    result = subprocess.run(
        [sys.executable, "-c", DRIVE, str(EXAMPLE / "look_at_hand.yaml"), str(side)],
        capture_output=True, text=True, env=env, timeout=300, cwd=installed,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_head_turns_toward_the_right_hand(installed: Path, side: float) -> None:
    """With the hand moved to one side of the head, the head's yaw command turns that way."""
    result = _drive(installed, side)
    assert result["plugins"] == ["ArmIkRetargeter", "LookAtHand"]
    assert result["active"] is True
    yaw = float(result["head_yaw_rad"])  # type: ignore[arg-type]
    limit = float(result["upper"] if side > 0 else result["lower"])  # type: ignore[arg-type]
    expected = min(abs(limit) - 0.05, 0.5)  # atan2(0.35, 0.4) ≈ 0.72 rad, or the joint limit
    assert side * yaw > expected, result
