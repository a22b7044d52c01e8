"""Scripted-demonstrator episodes recorded offline (no DDS): the source episodes of the
portability matrix and of the porter's tests.

The steps of :func:`humanoid_teleop.devices.scripted.episode.scripted_steps`, the loop
``run_episode`` runs too (MuJoCo robot and scene, the teleop pipeline, the demonstrator
closing the loop on the robot's grasp point), with every step written as a session records
it (:class:`RobotEpisode`): joint states, /tf and /tf_static, /teleop/state, commands, the
intent used and its calibrations, EE targets, object poses, wrenches and the detector's
outcome.
An episode goes on after a success until the script is done (the release and the retreat
are in it, as in a live operator's episode); a failure ends it.
The episode's metadata names the scene (``custom.scene``) and its seed.
"""

from __future__ import annotations

from pathlib import Path

from humanoid_teleop import __version__
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, robot_model_hash
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.physics_config import physics_hash
from humanoid_teleop.core.sim.scene import RUNNING, Scene, load_scene
from humanoid_teleop.devices.scripted.episode import PROFILE, demonstrator_for, scripted_steps

from .writer import EpisodeOutput, RobotEpisode

#: Epoch time [ns] the offline episodes start at (fixed: the same run gives the same bytes).
START_NS = 1_800_000_000_000_000_000


def scripted_episode_name(robot: str, scene_name: str, seed: int) -> str:
    """The name :func:`record_scripted_episode` gives ``robot``'s episode of ``scene_name``
    laid out by ``seed``."""
    return f"scripted_{robot}_{scene_name}_{seed:04d}"


def record_scripted_episode(
    model: RobotModel,
    scene_name: str,
    seed: int,
    bag_dir: Path,
    *,
    rate_hz: float = 250.0,
    max_s: float = 30.0,
    name: str | None = None,
) -> Path:
    """Record one scripted episode of ``scene_name`` (objects placed with ``seed``) under
    ``bag_dir`` at ``rate_hz`` [Hz] (a session's teleop rate by default); returns the
    episode folder. Ends 1 s after the script is done (a success does not end it: the
    release and the retreat are recorded), at a failure, or after ``max_s`` [s]."""
    description = model.description
    config = load_scene(scene_name)
    scene = Scene(config, model)
    sim = MujocoSim(model, scene=scene, seed=seed)
    pipeline = TeleopPipeline.create(description, model, PROFILE, PROFILE)
    demo = demonstrator_for(scene)
    side = config.hand
    info = EpisodeInfo(
        task=f"{config.task} ({config.name})",
        operator="scripted",
        robot=description.name,
        robot_model_hash=robot_model_hash(description),
        device="scripted",
        station="offline",
        software_version=f"humanoid_teleop {__version__}",
        custom={
            "scene": config.name,
            "scene_seed": str(seed),
            "physics_hash": physics_hash(description.source_file),
        },
    )
    episode_name = name or scripted_episode_name(description.name, config.name, seed)
    output = EpisodeOutput(bag_dir, episode_name, info, START_NS)
    writer = RobotEpisode(output, model, (side,), scene.object_names, command_period_s=1 / rate_hz)
    try:
        names = model.joint_names
        writer.begin(START_NS)
        # the objects where the episode starts (a port starts its physics from them)
        wrenches = {s.name: sim.wrench(s.name) for s in description.sensors.wrenches}
        writer.scene(START_NS, scene.object_poses(sim), scene.outcome, wrenches)
        t = 0.0
        steps = scripted_steps(
            model, scene, sim, pipeline, demo, rate_hz=rate_hz, max_s=max_s, until_done=True
        )
        for step in steps:
            t = step.t_s
            t_ns = START_NS + round(t * 1e9)
            intent = step.intent
            writer.state(t_ns, names, step.q, sim.velocities, sim.efforts)
            writer.tf(t_ns, step.q, step.objects)
            writer.teleop_state(t_ns, pipeline, step.output)
            writer.intent(
                t_ns,
                side,
                (intent.wrist.rotation, intent.wrist.position_m),
                intent.hand.positions_m,
                step.wrist_xyzw,
            )
            writer.command(t_ns, step.output.commands)
            target = pipeline.ee_targets().get(side)
            if target is not None:
                writer.ee_target(t_ns, side, target.rotation, target.position_m)
            wrenches = {s.name: sim.wrench(s.name) for s in description.sensors.wrenches}
            writer.scene(t_ns, step.objects, scene.outcome, wrenches)
        end_ns = START_NS + round(t * 1e9)
        writer.end(end_ns)
        outcome = scene.outcome if scene.outcome != RUNNING else "failure"
        return output.close(outcome, end_ns)
    except BaseException:
        output.abandon()
        raise
