"""Cost of loading robots and of their kinematics, per shipped robot.

    .venv/bin/python bench/robot_model.py [--repeat 200]

Prints one table: ``load`` = ``load_robot`` (YAML + pinocchio parse + validation), ``model`` =
``RobotModel(description)`` (a second parse + frames + limits), then per call at the home
pose: ``fk`` of the left EE frame, ``jacobian`` of it, and ``fk_all`` (every frame), each
the median of ``--repeat`` calls. Pure Python + pinocchio, no ROS.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.robot.locate import shipped_robots_dirs


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _row(name: str, file: Path, repeat: int) -> str:
    few = max(5, repeat // 20)
    load_ms = _median_ms(lambda: load_robot(file), few)
    description = load_robot(file)
    model_ms = _median_ms(lambda: RobotModel(description), few)
    model = RobotModel(description)
    q = model.home_positions()
    frame = description.arms["left"].ee_frame
    fk_us = _median_ms(lambda: model.fk(q, frame), repeat) * 1e3
    jac_us = _median_ms(lambda: model.jacobian(q, frame), repeat) * 1e3
    all_us = _median_ms(lambda: model.fk_all(q), repeat) * 1e3
    return (
        f"{name:<7} {model.nq:>6} {len(model.frame_names):>6} {load_ms:>8.1f} "
        f"{model_ms:>9.1f} {fk_us:>7.0f} {jac_us:>12.0f} {all_us:>10.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per median (default 200)")
    args = parser.parse_args()
    dirs = shipped_robots_dirs()
    header = f"{'robot':<7} {'joints':>6} {'frames':>6} {'load ms':>8} {'model ms':>9} "
    header += f"{'fk µs':>7} {'jacobian µs':>12} {'fk_all µs':>10}"
    print(header)
    print("-" * len(header))
    for entry in list_robots(dirs):
        print(_row(entry.name, entry.file, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
