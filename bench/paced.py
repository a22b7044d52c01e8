"""How much slower a fixed piece of Python + numpy work runs when it comes after a pause.

    .venv/bin/python bench/paced.py [--repeats 1500]

No ROS, no network. Times the same small piece of work (a 200-step Python loop and an 8x8
numpy ``sin``) back to back (``hot``), and after a gap of 0.05-8 ms spent either spinning on
the clock (the thread never sleeps) or sleeping. Prints one table, side by side. On a shared
VM, a work piece that follows a longer gap finds the core's caches taken by other tenants,
which is what the ``paced`` columns of ``bench/kernels.py`` and the latency at 250 Hz pay.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

GAPS_MS = (0.05, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Pauses before each work piece [ms]."""

_DATA = np.random.default_rng(0).random((8, 8))


def _work() -> float:
    total = 0.0
    for i in range(200):
        total += i * 0.5
    return total + float(np.sin(_DATA).sum())


def _pause(gap_s: float, spin: bool) -> None:
    if not spin:
        time.sleep(gap_s)
        return
    end = time.perf_counter() + gap_s
    while time.perf_counter() < end:
        pass


def _timed(gap_s: float, spin: bool, repeats: int) -> tuple[float, float]:
    """Work piece time p50, p99 [µs] after each pause of ``gap_s`` [s]."""
    times = np.empty(repeats)
    for k in range(repeats):
        if gap_s:
            _pause(gap_s, spin)
        start = time.perf_counter_ns()
        _work()
        times[k] = time.perf_counter_ns() - start
    p50, p99 = np.percentile(times / 1e3, [50, 99])
    return float(p50), float(p99)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1500, help="work pieces per row")
    args = parser.parse_args()
    hot = _timed(0.0, True, args.repeats)
    print("| gap ms | spin p50 / p99 us | x hot | sleep p50 / p99 us | x hot |")
    print("|--------|-------------------|-------|--------------------|-------|")
    print(f"| hot    | {hot[0]:>7.1f} / {hot[1]:>7.1f} |  1.0  |                  — |     — |")
    for gap_ms in GAPS_MS:
        spin = _timed(gap_ms / 1e3, True, args.repeats)
        sleep = _timed(gap_ms / 1e3, False, args.repeats)
        print(
            f"| {gap_ms:>6.2f} | {spin[0]:>7.1f} / {spin[1]:>7.1f} | {spin[0] / hot[0]:>5.1f} "
            f"| {sleep[0]:>8.1f} / {sleep[1]:>7.1f} | {sleep[0] / hot[0]:>5.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
