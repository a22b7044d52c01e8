"""What the simulated robot costs, per shipped robot: its pure parts, and the running node.

    .venv/bin/python bench/sim_robot.py [--repeat 100]
    .venv/bin/python -m humanoid_teleop.isolation -- .venv/bin/python bench/sim_robot.py --node

Table 1 (pure Python + pinocchio + OpenCV, no ROS): median cost of each periodic job of
``sim_robot_node`` and, from the default rates (joint states 250 Hz, TF 50 Hz, wrenches
100 Hz, cameras 30 Hz at robot.yaml's size), the share of one core they need before any
ROS messaging. ``tf`` (all moving TF edges, vectorised) and ``poses`` (the frames the wrench
job needs) are the fast paths the node uses instead of ``fk_all`` (every frame, per-frame
Python), shown for comparison.

Table 2 (``--node``, inside the isolated network): the node itself for ``--seconds`` s per
robot: CPU of its process and the rates a subscriber receives, against the configured ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim import (
    JointIntegrator,
    PinholeCamera,
    SceneRenderer,
    TableContact,
)
from humanoid_teleop.core.sim.robot_scene import RobotScene, bottle_on

RATES_HZ = {"step": 250.0, "tf": 50.0, "wrench": 100.0, "camera": 30.0}


def _median_us(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def _pure_row(name: str, repeat: int) -> str:
    model = RobotModel(load_robot(name))
    scene = RobotScene(model)
    integrator = JointIntegrator(model.motion_limits, model.home_positions(), 0.03)
    q = model.home_positions()
    step_us = _median_us(lambda: integrator.step(0.004), repeat)
    fk_all_us = _median_us(lambda: model.fk_all(q), repeat)
    sensors = model.description.sensors
    frames = sorted(
        {w.frame_id for w in sensors.wrenches}
        | {f for names in scene.contact_frames.values() for f in names}
    )
    poses_us = _median_us(lambda: scene.frame_poses(q, frames), repeat)
    tf_us = _median_us(lambda: scene.edge_transforms(q, scene.moving_edges), repeat)
    contact = TableContact(scene.default_table())
    poses = scene.frame_poses(q, frames)
    zero = np.zeros(3)

    def wrenches() -> None:
        for spec in sensors.wrenches:
            side = "left" if spec.name.startswith("left") else "right"
            points = scene.contact_points(poses, side)
            rotation, position = poses[spec.frame_id]
            contact.wrench_at(rotation, position, points, [zero] * len(points))

    wrench_us = _median_us(wrenches, repeat)
    render_us = jpeg_us = 0.0
    size = "-"
    if sensors.cameras:
        spec = sensors.cameras[0]
        size = f"{spec.width}x{spec.height}"
        table = scene.default_table()
        renderer = SceneRenderer(
            PinholeCamera(spec.width, spec.height, spec.fov_rad), table, [bottle_on(table)]
        )
        every = model.fk_all(q)
        rotation, position = every[spec.frame_id]
        capsules = scene.capsules(every)
        render_us = _median_us(lambda: renderer.render(rotation, position, capsules), repeat)
        image = renderer.render(rotation, position, capsules)
        jpeg_us = _median_us(
            lambda: cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80]), repeat
        )
    camera_us = (fk_all_us + render_us + jpeg_us) * len(sensors.cameras)
    core_share = (
        step_us * RATES_HZ["step"]
        + tf_us * RATES_HZ["tf"]
        + (poses_us + wrench_us) * RATES_HZ["wrench"]
        + camera_us * RATES_HZ["camera"]
    ) / 1e6
    return (
        f"{name:<7} {model.nq:>6} {step_us:>8.0f} {fk_all_us:>9.0f} {tf_us:>6.0f} {poses_us:>9.0f} "
        f"{wrench_us:>9.0f} {size:>9} {render_us / 1e3:>9.2f} {jpeg_us / 1e3:>7.2f} "
        f"{100 * core_share:>7.1f}%"
    )


def pure_table(repeat: int) -> None:
    header = (
        f"{'robot':<7} {'joints':>6} {'step µs':>8} {'fk_all µs':>9} {'tf µs':>6} {'poses µs':>9} "
        f"{'wrench µs':>9} {'camera':>9} {'render ms':>9} {'jpeg ms':>7} {'1 core':>8}"
    )
    print(header)
    print("-" * len(header))
    for entry in list_robots():
        print(_pure_row(entry.name, repeat), flush=True)


_PROBE = """
import sys, time, rclpy
from rclpy.node import Node
from sensor_msgs.msg import JointState, Image
from geometry_msgs.msg import WrenchStamped
robot = __import__("humanoid_teleop.core.robot", fromlist=["load_robot"]).load_robot(sys.argv[1])
seconds = float(sys.argv[2])
rclpy.init()
node = Node("bench_probe")
counts = {"joint_states": 0, "camera": 0, "wrench": 0}
def count(key):
    def cb(_msg):
        counts[key] += 1
    return cb
node.create_subscription(JointState, robot.sensors.joint_state_topic, count("joint_states"), 100)
if robot.sensors.cameras:
    node.create_subscription(Image, robot.sensors.cameras[0].topic, count("camera"), 10)
if robot.sensors.wrenches:
    node.create_subscription(WrenchStamped, robot.sensors.wrenches[0].topic, count("wrench"), 100)
deadline = time.monotonic() + 30
while counts["joint_states"] < 10 and time.monotonic() < deadline:
    rclpy.spin_once(node, timeout_sec=0.05)
for key in counts:
    counts[key] = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    rclpy.spin_once(node, timeout_sec=0.05)
elapsed = time.monotonic() - start
print(" ".join(f"{counts[k] / elapsed:.1f}" for k in ("joint_states", "camera", "wrench")))
"""


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def node_table(seconds: float) -> None:
    header = (
        f"{'robot':<7} {'node CPU':>9} {'joint_states Hz':>16} {'camera Hz':>10} "
        f"{'wrench Hz':>10}   (configured {RATES_HZ['step']:.0f} / {RATES_HZ['camera']:.0f} / "
        f"{RATES_HZ['wrench']:.0f})"
    )
    print(header)
    print("-" * len(header))
    for entry in list_robots():
        command = [sys.executable, "-m", "humanoid_teleop.nodes.sim_robot_node", "--ros-args"]
        node = subprocess.Popen(
            [*command, "-p", f"robot:={entry.name}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            probe = subprocess.Popen(
                [sys.executable, "-c", _PROBE, entry.name, str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(4.0)  # model load, discovery, probe warm-up
            cpu0, t0 = _cpu_s(node.pid), time.monotonic()
            out, _ = probe.communicate(timeout=seconds + 60)
            cpu = (_cpu_s(node.pid) - cpu0) / (time.monotonic() - t0)
        finally:
            node.terminate()
            node.wait(timeout=10)
        js, cam, wrench = [*out.split(), "-", "-", "-"][:3]
        print(
            f"{entry.name:<7} {100 * cpu:>8.0f}% {js:>16} {cam:>10} {wrench:>10}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100, help="calls per median")
    parser.add_argument("--node", action="store_true", help="also run the node (needs DDS)")
    parser.add_argument("--seconds", type=float, default=5.0, help="node run per robot [s]")
    args = parser.parse_args()
    pure_table(args.repeat)
    if args.node:
        print()
        node_table(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
