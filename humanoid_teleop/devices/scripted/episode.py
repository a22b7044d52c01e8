"""One scripted episode in one process: MuJoCo robot + scene, the teleop pipeline, the
demonstrator. The same retargeting and safety code as a DDS session, without the transport:
for the bench's success rates and quick tests. ``scripted_demo_node`` is the DDS device.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.retarget.pipeline import PipelineOutput, TeleopPipeline
from humanoid_teleop.core.robot import RobotDescription, RobotModel
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
from humanoid_teleop.core.sim.physics_config import load_physics
from humanoid_teleop.core.sim.scene import RUNNING, SUCCESS, Scene, load_scene
from humanoid_teleop.devices.scripted.demonstrator import (
    DemonstratorConfig,
    Intent,
    ScriptedDemonstrator,
)

FloatArray = NDArray[np.float64]
#: Teleop profile the demonstrator's intent goes through (wrists -> arm IK, hands -> fingers).
PROFILE = "replay"


def grasp_point(model: RobotModel, q: FloatArray, side: str) -> tuple[FloatArray, float]:
    """Where the ``side`` hand pinches [m] (its grasp point: the mean of its
    :attr:`~humanoid_teleop.core.robot.HandSpec.pinch_fingers`' tips, else the EE frame) and
    the height of its lowest fingertip [m], base frame."""
    description = model.description
    hand = description.hands.get(side)
    pinch = hand.pinch_fingers if hand is not None else ()
    if hand is None or not pinch:
        ee = np.asarray(model.fk(q, description.arms[side].ee_frame)[1], dtype=np.float64)
        return ee, float(ee[2])
    tips = {finger: model.fk(q, frame)[1] for finger, frame in hand.fingertip_frames.items()}
    lowest = float(min(point[2] for point in tips.values()))
    point = np.mean([tips[finger] for finger in pinch], axis=0)
    return np.asarray(point, dtype=np.float64), lowest


def robot_demonstrator_config(
    description: RobotDescription, task: str | None = None
) -> DemonstratorConfig:
    """The demonstrator's defaults with the robot's ``demonstrator`` settings of physics.yaml
    (how its hand approaches and grasps); with ``task``, that task's sub-block over them."""
    physics = load_physics(description.source_file, tuple(description.groups))
    overrides: dict[str, Any] = dict(physics.demonstrator.overrides(task))
    return replace(DemonstratorConfig(), **overrides)


def demonstrator_for(
    scene: Scene, config: DemonstratorConfig | None = None
) -> ScriptedDemonstrator:
    """A demonstrator for ``scene``'s task with its hand, target and first object; without
    ``config``, the robot's settings for the task (:func:`robot_demonstrator_config`)."""
    first = scene.config.objects[0]
    if config is None:
        config = robot_demonstrator_config(scene.robot, scene.config.task)
    return ScriptedDemonstrator(
        scene.config.task,
        scene.config.hand,
        scene.target_position(),
        scene.table_top_m,
        first.half_height_m,
        config,
        object_radius_m=max(first.size_m[:2]) if first.shape == "box" else first.size_m[0],
    )


@dataclass(frozen=True)
class ScriptedStep:
    """One step of a scripted episode, after its commands went to the sim: the time ``t_s``
    [s], the measured joints ``q`` [rad], the objects' (rotation 3x3, position [m]) in the
    base frame that the demonstrator saw, its intent (the wrist as its message carries it:
    ``wrist_xyzw``, the quaternion (x, y, z, w) the pipeline's rotation was made from) and
    the pipeline's output."""

    t_s: float
    q: FloatArray
    objects: list[tuple[FloatArray, FloatArray]]
    intent: Intent
    output: PipelineOutput
    wrist_xyzw: FloatArray


def scripted_steps(
    model: RobotModel,
    scene: Scene,
    sim: MujocoSim,
    pipeline: TeleopPipeline,
    demo: ScriptedDemonstrator,
    *,
    rate_hz: float = 250.0,
    max_s: float = 30.0,
    until_done: bool = False,
) -> Iterator[ScriptedStep]:
    """Engage ``pipeline`` at t = 0 and run the demonstrator through it on ``sim`` (``model``
    in ``scene``) at
    ``rate_hz`` [Hz], yielding every step; stops once the detector decides, 1 s after the
    script is done (the object comes to rest after the release) or after ``max_s`` [s].

    ``until_done``: a success does not stop it; it goes on to 1 s after the script is done,
    so a recorded episode holds the release and the retreat as a live operator's does (the
    detector decides a pick once the cube rests on the target, often before the hand has
    opened: G1's pick sources ended holding it at closure 0.53). A failure still stops it."""
    description = model.description
    side = scene.config.hand
    dt = 1.0 / rate_hz
    pipeline.engage(sim.positions, 0.0)
    done_at = None
    steps = 0
    t = 0.0
    while t < max_s:
        steps += 1
        t = steps * dt
        sim.advance_to(t)
        q = sim.positions
        objects = scene.object_poses(sim)
        point, lowest = grasp_point(model, q, side)
        intent = demo.step(t, point, objects[0][1], lowest)
        # the wrist as the scripted device's message carries it (a quaternion), as a
        # session's pipeline gets it: a replay of the recorded quaternion then gives the
        # pipeline the same numbers (the matrix's round trip differs in its last bits, which
        # contacts grow into mm of object path)
        wrist_xyzw = intent.wrist.quat_xyzw()
        intent = replace(intent, wrist=Pose.from_quat(intent.wrist.position_m, wrist_xyzw))
        parts = {f"{side}_wrist": intent.wrist, f"{side}_hand": intent.hand}
        out = pipeline.step(HumanFrame(t, **parts), q, t)  # type: ignore[arg-type]
        for group, values in out.commands.items():
            sim.set_targets(description.groups[group], values)
        yield ScriptedStep(t, q, objects, intent, out, wrist_xyzw)
        if scene.outcome != RUNNING and not (until_done and scene.outcome == SUCCESS):
            return
        if demo.done:
            done_at = t if done_at is None else done_at
            if t - done_at > 1.0:
                return


@dataclass(frozen=True)
class EpisodeResult:
    """Outcome of one scripted episode; ``lift_m`` is the object's highest rise [m]."""

    seed: int
    outcome: str
    duration_s: float
    lift_m: float
    last_phase: str


def run_episode(
    model: RobotModel,
    scene_name: str,
    seed: int,
    *,
    max_s: float = 30.0,
    rate_hz: float = 250.0,
    config: DemonstratorConfig | None = None,
) -> EpisodeResult:
    """Run the scripted demonstrator on ``scene_name`` with ``seed`` until the detector
    decides, the script ends (then ``failure``) or ``max_s`` [s] of sim time pass."""
    scene = Scene(load_scene(scene_name), model)
    sim = MujocoSim(model, scene=scene, seed=seed)
    pipeline = TeleopPipeline.create(model.description, model, PROFILE, PROFILE)
    demo = demonstrator_for(scene, config)
    start_z = scene.object_poses(sim)[0][1][2]
    lift, t = 0.0, 0.0
    steps = scripted_steps(model, scene, sim, pipeline, demo, rate_hz=rate_hz, max_s=max_s)
    for step in steps:
        lift = max(lift, float(step.objects[0][1][2] - start_z))
        t = step.t_s
    outcome = scene.outcome if scene.outcome != RUNNING else "failure"
    return EpisodeResult(seed, outcome, t, lift, demo.phase)
