"""The MuJoCo simulator per shipped robot, side by side with the kinematic backend.

    .venv/bin/python bench/sim.py [--seconds 5] [--episodes 20] [--robots g1 talos ...]
        [--scene pick_and_place push] [--first-seed 0]

One process, one core (no ROS). Per robot, in the ``pick_and_place`` scene:

- ``physics RTF``: real-time factor of the MuJoCo physics alone (500 Hz, contacts, the
  servos fed through the joint limits), ``--seconds`` of simulated time;
- ``+ camera RTF``: the same with one 320x240 RGB camera rendered at 30 Hz of sim time;
- ``kinematic RTF``: the kinematic backend's integrator at 250 Hz + its 320x240 capsule
  drawing at 30 Hz, for comparison;
- ``render ms``: median time of one 320x240 MuJoCo frame (the robot's simplified meshes);
- one column per ``--scene`` (default ``pick_and_place`` and ``push``): scripted
  demonstrator episodes through the teleop pipeline (retargeting + safety) that the scene's
  detector calls a success, out of ``--episodes`` seeds (``--first-seed`` on, default
  0..N-1); ``lifted``: ``pick_and_place`` episodes whose cube rose >= 5 cm; ``n/a (no hand)``
  for a robot without a hand on the scene's side (iCub's model has no finger joints).

The target is >= 1.0x real time with one camera for every robot, and >= 90% success on G1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim import JointIntegrator, PinholeCamera, SceneRenderer
from humanoid_teleop.core.sim.mujoco_sim import CameraRenderer, MujocoSim
from humanoid_teleop.core.sim.robot_scene import RobotScene, bottle_on
from humanoid_teleop.core.sim.scene import SUCCESS, Scene, load_scene
from humanoid_teleop.devices.scripted.episode import run_episode

WIDTH, HEIGHT, CAMERA_HZ = 320, 240, 30.0
#: Scenes whose scripted success rate is measured by default.
SCENES = ("pick_and_place", "push")


def _physics_rtf(model: RobotModel, seconds: float, camera: bool) -> tuple[float, list[float]]:
    """Real-time factor over ``seconds`` of sim time, and the render times [ms]."""
    scene = Scene(load_scene("pick_and_place"), model)
    sim = MujocoSim(model, scene=scene, seed=0)
    renderer = None
    if camera and sim.camera_specs:
        renderer = CameraRenderer(sim, sim.camera_specs[0], WIDTH, HEIGHT)
    names = model.description.groups[model.description.arms[scene.config.hand].group]
    home = model.home_positions()[list(model.index_of(names))]
    render_ms: list[float] = []
    next_frame = 0.0
    start = time.perf_counter()
    t = 0.0
    while t < seconds:
        t += 0.004  # a 250 Hz command stream, as teleop sends
        sim.set_targets(names, home + 0.2 * np.sin(t))
        sim.advance_to(t)
        if renderer is not None and t >= next_frame:
            next_frame += 1.0 / CAMERA_HZ
            t0 = time.perf_counter()
            renderer.render_rgb(sim.snapshot())
            render_ms.append((time.perf_counter() - t0) * 1e3)
    wall = time.perf_counter() - start
    if renderer is not None:
        renderer.close()
    return seconds / wall, render_ms


def _kinematic_rtf(model: RobotModel, seconds: float) -> float:
    """The kinematic backend's integrator at 250 Hz and its capsule camera at 30 Hz."""
    scene = RobotScene(model)
    table = scene.default_table()
    renderer = SceneRenderer(PinholeCamera(WIDTH, HEIGHT, 1.2), table, [bottle_on(table)])
    integrator = JointIntegrator(model.motion_limits, model.home_positions(), 0.03)
    camera = model.description.sensors.cameras[0] if model.description.sensors.cameras else None
    start = time.perf_counter()
    t, next_frame = 0.0, 0.0
    while t < seconds:
        t += 0.004
        integrator.step(0.004)
        if camera is not None and t >= next_frame:
            next_frame += 1.0 / CAMERA_HZ
            poses = model.fk_all(integrator.positions)
            rotation, position = poses[camera.frame_id]
            renderer.render(rotation, position, scene.capsules(poses))
    return seconds / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="sim time per RTF row [s]")
    parser.add_argument("--episodes", type=int, default=20, help="scripted episodes per robot")
    parser.add_argument("--robots", nargs="*", default=[e.name for e in list_robots()])
    parser.add_argument(
        "--scene",
        nargs="+",
        default=list(SCENES),
        help="scenes whose scripted success rate is measured, one column each",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first..first+N-1")
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.episodes)
    width = max(9, *(len(name) for name in args.scene))
    header = (
        f"{'robot':8} {'physics RTF':>12} {'+ camera RTF':>13} {'kinematic RTF':>14} "
        f"{'render ms':>10} " + " ".join(f"{name:>{width}}" for name in args.scene)
    )
    if "pick_and_place" in args.scene:
        header += f" {'lifted':>7}"
    print(
        f"bench/sim.py: {args.seconds:.0f} s sim time per RTF, {args.episodes} episodes per "
        f"robot and scene (seeds {seeds.start}..{seeds.stop - 1})"
    )
    print(header)
    print("-" * len(header))
    for name in args.robots:
        model = RobotModel(load_robot(name))
        physics, _ = _physics_rtf(model, args.seconds, camera=False)
        with_camera, render_ms = _physics_rtf(model, args.seconds, camera=True)
        kinematic = _kinematic_rtf(model, args.seconds)
        cells, lifted_cell = [], ""
        for scene in args.scene:
            config = load_scene(scene)
            hand = model.description.hands.get(config.hand)
            no_hand = hand is None or hand.kind == "none"  # iCub's model has no finger joints
            if no_hand and config.task == "pick_and_place":  # nothing to grasp with; push runs
                cells.append(f"{'n/a (no hand)':>{width}}")
                lifted_cell = f" {'n/a':>7}" if scene == "pick_and_place" else lifted_cell
                continue
            successes = lifted = 0
            for seed in seeds:
                result = run_episode(model, scene, seed)
                successes += result.outcome == SUCCESS
                lifted += result.lift_m >= 0.05
            cells.append(f"{f'{successes}/{args.episodes}':>{width}}")
            if scene == "pick_and_place":
                lifted_cell = f" {f'{lifted}/{args.episodes}':>7}"
        rates = " ".join(cells) + lifted_cell
        render = statistics.median(render_ms) if render_ms else float("nan")
        print(
            f"{name:8} {physics:11.1f}x {with_camera:12.1f}x {kinematic:13.1f}x "
            f"{render:10.1f} {rates}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
