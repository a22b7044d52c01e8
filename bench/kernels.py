"""The teleop step's hot pieces before and after this project compiled or replaced them.

    .venv/bin/python bench/kernels.py [--repeat 3000]

Runs inside the isolated-network wrapper (it imports rclpy for message serialization; no node
is created). Prints one table, each row two ways side by side, median per call [us] over
``--repeat`` calls (hot loop: a step at 250 Hz starts with colder caches and costs more):

* ``IK task step``: one damped least-squares step of one 7-joint arm, the plain numpy
  statement the tests hold the kernel to vs the numba kernel (``ik_kernel.task_step``).
* ``safety move``: the per-joint limited move over G1's 43 joints, the tests' numpy statement
  vs the numba kernel (``move_kernel.limited_move``).

The numpy rows are the tests' reference statements (``np.linalg.inv``, ``np.clip``), written
for clarity; the numpy code the kernels replaced used a hand-written 3 x 3 inverse and a
cheaper clip, so it was somewhat faster than these rows.
* ``forward command``: a 7-joint ``Float64MultiArray`` built and serialized by rclpy vs
  ``ros_conversions.forward_command_cdr`` (what ``Publisher.publish`` gets either way).
* ``full GC pass`` [ms]: ``gc.collect()`` in a process holding teleop_node's start-up
  objects (G1 pipeline, rclpy, message types), as is vs after ``gc.freeze()``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.isolation.netns import is_isolated, isolated_command


def _median_us(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _ik_rows(repeat: int) -> tuple[float, float]:
    from humanoid_teleop.core.retarget.ik_config import IkConfig
    from humanoid_teleop.core.retarget.ik_kernel import kernel_settings, task_step
    from test.core.retarget.test_ik_kernel import _case, _reference_step

    qj, jac, error, bounds = _case(7, 7, 0.05)
    config = IkConfig()
    settings = kernel_settings(config)
    task_step(qj, jac, error, bounds, settings)  # compiled (or loaded) before timing
    return (
        _median_us(lambda: _reference_step(qj.copy(), jac, error, bounds, config), repeat),
        _median_us(lambda: task_step(qj, jac, error, bounds, settings), repeat),
    )


def _safety_rows(repeat: int) -> tuple[float, float]:
    from humanoid_teleop.core.safety.move_kernel import limited_move
    from test.core.safety.test_move_kernel import _reference

    rng = np.random.default_rng(3)
    n = 43
    lo = rng.uniform(-3.0, 0.0, n)
    hi = lo + rng.uniform(0.1, 4.0, n)
    command, target = rng.uniform(lo, hi), rng.uniform(lo - 1.0, hi + 1.0)
    vmax, v_prev, amax = rng.uniform(0.1, 5.0, n), rng.uniform(-6.0, 6.0, n), np.full(n, 50.0)
    args = (command, v_prev, target, lo, hi, vmax, amax, 0.004)
    limited_move(*args)
    return _median_us(lambda: _reference(*args), repeat), _median_us(
        lambda: limited_move(*args), repeat
    )


def _command_rows(repeat: int) -> tuple[float, float]:
    from rclpy.serialization import serialize_message
    from std_msgs.msg import Float64MultiArray, MultiArrayDimension

    from humanoid_teleop.nodes.ros_conversions import forward_command_cdr

    values = np.linspace(-1.0, 1.0, 7)

    def as_message() -> bytes:
        msg = Float64MultiArray(data=[float(v) for v in values])
        msg.layout.dim = [MultiArrayDimension(label="joints", size=7, stride=7)]
        return serialize_message(msg)

    return _median_us(as_message, repeat), _median_us(lambda: forward_command_cdr(values), repeat)


def _gc_rows() -> tuple[float, float]:
    import rclpy  # noqa: F401  (its objects are part of a node's start-up graph)

    from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.nodes import teleop_node  # noqa: F401  (message types, conversions)

    keep = TeleopPipeline.create(load_robot("g1"), device="vr")
    gc.collect()
    before = min(_median_us(gc.collect, 1) for _ in range(5)) / 1e3
    gc.freeze()
    after = min(_median_us(gc.collect, 1) for _ in range(5)) / 1e3
    del keep
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3000, help="calls per row")
    args = parser.parse_args()
    if not is_isolated():
        argv = isolated_command([sys.executable, __file__, *sys.argv[1:]])
        os.execvp(argv[0], argv)
    rows = [
        ("IK task step [us]", "numpy ref", "numba", *_ik_rows(args.repeat)),
        ("safety move [us]", "numpy ref", "numba", *_safety_rows(args.repeat)),
        ("forward command [us]", "rclpy", "CDR bytes", *_command_rows(args.repeat)),
        ("full GC pass [ms]", "as is", "frozen", *_gc_rows()),
    ]
    print("\n| piece                | before    |   value | after     |   value | ratio |")
    print("|----------------------|-----------|---------|-----------|---------|-------|")
    for name, how_before, how_after, before, after in rows:
        ratio = f"{before / after:>5.0f}" if after >= 0.01 else "    —"
        print(
            f"| {name:<20} | {how_before:<9} | {before:>7.2f} | {how_after:<9} | {after:>7.2f} "
            f"| {ratio} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
