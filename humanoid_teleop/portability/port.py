"""Port a recorded episode to another robot: re-calibrated intent -> the target's teleop
pipeline -> (optionally) the target's MuJoCo scene -> a new episode + its report.

**Goal.** The source robot's tool path (:mod:`.tool`) in the task frame: the tool point of
the recorded EE targets (the arm IK's input: what the operator asked for, which the IK did
not always reach) where they and the arm's commands were recorded, else FK of the recorded
commands, else of the measured joints (joint-only data); a push into another robot holds it
within :data:`GOAL_BEYOND_COMMAND_M` of the source's commands (where the source's IK stopped
short, its hand went where it was commanded). The task frame has its origin at
the arm's EE at home and the base frame's axes: the scenes are laid out from that point on
every robot, so an object at the same task-frame position is at the same place relative to
each hand. A robot with its own scene layout (physics.yaml ``scene_layout``: iCub's table
lower and objects nearer) has its origin moved with its objects (:func:`task_origin`).

**Intent.** Ported to its own robot (the same robot.yaml) the calibration maps the recorded
intent onto itself, so it is replayed as given: re-deriving it differs by rounding, which the
IK's tolerance and the contacts turn into another episode; from where the episode started,
with the calibration it was recorded with (:func:`_replay_start`). For another robot the operator's
wrist poses are re-derived: each step the target's tool should sit where the source's goal
did (task frame); the EE pose that puts it there (with the target's tool offset at its
current finger closure) is mapped back through the target's own calibration (:mod:`humanoid_
teleop.core.retarget.calibration`, captured from the first ported wrist pose) to an operator
wrist pose. Its rotation is the source operator's recorded wrist rotation turned from the
source robot's grasp posture to the target's (physics.yaml ``demonstrator`` tilt and roll:
how an operator holds that robot's hand to grasp), over :data:`~.goal.POSTURE_S` from the start,
for a hand that holds nothing between robots of the same posture applied from where the
source's hand was held at engage (the pipeline's relative calibration starts from the
target's own home hand, which two robots hold differently: Alex's 8 deg from G1's); without
recorded intent, the source's hand-frame orientation. The operator's recorded
hand skeleton rides along rigidly with the new wrist (its shape, hence the grasp and its
timing, is the operator's); without recorded hands (joint-only data) a synthetic hand closes
as much as the source hand's joints did. Into another robot, a source hand that holds
nothing (the scene's task is a push) is the synthetic hand closed as the source's was when it
began to push the object: the recorded shape of such a hand is what its operator held for the
source robot's hand (the scripted push hand: fingers curled 0.4, the thumb spread, tuned so
that G1's Dex3 meets the puck with its thumb and index), and another hand's solve turns it
into another hand (Alex's index alone met the puck off its centre and the puck slid 2.7 cm
along it). g1 -> alex push, seeds 1-5, contact p95: 2.8-4.4 cm with the recorded hand and
Alex's home hand; 2.2-3.3 closed as G1's hand was; 1.3-1.9 held at the touch's closure and
turned from G1's hand. With physics that closure number is checked against the target
hand's geometry (:mod:`.push_hand`): a hand it would close at or past the target's grasp
closure is held below it (TALOS' jaws: g1 -> talos 5 spurious grasp events -> 0), and a
closure that seats the object clearly nearer to where the source's hand held it is taken
from the push's start (Romeo's jaws 0.41 -> 0.48: g1 -> romeo contact p95 2.4 -> 2.1 cm;
taken from the start, alex -> romeo free p95 2.7 -> 6.6 cm: Romeo's arm swung on the way
down). The target's
``TeleopPipeline`` (retargeting + safety) turns that
intent into commands, exactly as a live session would. The target's measured path is
not fed back: an integral loop toward the source's measured tool path (as the scripted
demonstrator closes on its goals) made fewer ports succeed (1 of 18 against 5 of 18 on
G1/TALOS sources into the other hands), the source's measured path in contact being its own
hand's, not one the target should reach; an integral loop toward the source's *goals* made
fewer succeed too (g1 -> romeo/alex/talos push, 3 seeds: 3 of 9 against 4 of 9, contact p95
up to 21 cm): the goals of a push lie inside the object and the table, where the
demonstrator's own loop put them, and the integral drives the hand into them. Aiming the
approach at the target's own object (the goal shifted by the target's resting object's
horizontal offset from the source's, up to 3 cm, at once, until the source's object first
moved, its object "resting" below 2 cm/s, picks too) made fewer too (13 of the N = 5 matrix's
cross pushes against 19): it follows a puck the target's hand keeps bumping (what the port
does now: **Resting objects**).

**Grasps.** Into another robot, an episode whose operator pinched (thumb tip to index tip
narrower than the midpoint of the hand retargeter's open and closed pinch) is ported as an
operator of the target would pick: the operator's hand is the target's scripted operator's
picking hand (physics.yaml ``demonstrator``: its pre-grasp shape and its grip, e.g. G1's
thumb 2.4 cm short of the index tip, a full pinch elsewhere), moved between its open hand,
its pre-grasp shape and its grip as far as the source operator's hand had moved between
theirs (:func:`operator_grasps`), so each hand closes to its own firm grip instead of the
source's closure number; with physics each close and open is timed by the source robot's
measured hand, which lags its operator (:func:`robot_grasps`: the grip is asked for where
that hand grasped, the hand its operator opened to where it released, the report's event
closures; timed by the pinch, g1/alex/romeo/talos cross picks missed 47 events, by the
hand 27); the target's grasp point (thumb and index tip midpoint, where the demonstrator
places the object) goes where the source's went (the tool point goal shifted by the two
hands' grasp point offsets) where the source's was within :data:`~.goal.GRASP_NEAR_M` of its
object, and the target's tool point on the source's beyond :data:`~.goal.GRASP_FAR_M` (the report
compares tool points, and G1's lies 2-3 cm from its pinch where a gripper's is its pinch:
pinch on pinch all the way, g1 -> romeo contact p95 3.3 cm, TALOS' jaws knocked a cube they
came down on from beside it); and with physics, at the end of each close and open
the source's clock waits until the target's hand has followed (its closure still for
:data:`~.grasps.HAND_SETTLED_S` and its command where the retargeter asks, or stopped short of it by
an object; at most :data:`~.grasps.HAND_WAIT_MAX_S`), as an operator waits for a slow gripper before
lifting (TALOS' jaws close at ~0.1 of their travel a second, while G1's source lifts 0.3 s
after its fingers closed). The report's times are the source's clock; ``hand_wait_s`` says
how long it waited. With physics the grasp itself is the target's own operator's
(:mod:`.grasp_phase`): from the source's pre-grasp to its carry, the target's pinch at its
own pick height, its own operator's hand floor, the wrist still while the fingers close
(moved to keep the closing hand's pinch on the source's, Alex's squeezed the cube out), or,
into a hand whose operator closes long without holding the wrist (Alex's), following the
cube its fingers push as that operator does, the carry waiting for its close.

**Physics.** With a scene the commands drive the target's :class:`MujocoSim` from the
recorded object poses at engage (moved into the target's task frame); the sim clock is the
step clock, so it is deterministic and runs as fast as the host allows. After the source's
end the last intent is held up to :data:`SETTLE_S` while the detector is undecided; a source
that ended while its hand was opening (its detector decided mid-release) has the release
finished: the hand opens and rises :data:`~.goal.FINISH_RISE_M`; one that ended while the hand was
rising (a push's retreat) goes on rising as much, its own robot's replay too. Into another
robot, the target's hand (its lowest collision geometry,
:mod:`humanoid_teleop.core.sim.hand_geometry`) goes no lower than the source's did near the
object (within :data:`~.goal.FLOOR_RADIUS_M` of it, fading out beyond) until the source's
hand begins to move the object (a push: :func:`_push_start`, not a graze), and no lower
than 5 mm above the table after
(:func:`~.goal.hand_floor`): the tool point's goal is raised where it would. A pushing hand is
also raised off its own object as laid out until the source's hand comes down beside its
object to push (:class:`~.goal.ObjectClearance`), and where the source's goal rises after the
push the source's clock is held until the target's tool point has gone as far along the push
as the source's did (:mod:`.push_stroke`: a slower arm finishes the stroke before lifting).

**Resting objects.** With physics, a push into another robot re-aims at the target's own
object where the objects rest, as an operator who sees the puck lie elsewhere: while both the
source's object (:func:`~.track.at_rest`) and the target's measured one rest, the goal's
shift follows the target's object's horizontal offset from the source's (task frame) at most
:data:`~.goal.RE_AIM_M_S`; while either moves it is held, and from the push's start to the source's
object's last motion (:func:`~.goal.resting_outside_push`), so the hand pushes as the source's
did, but for its component across the push: while both objects move it steers against the
relation error across the push (:data:`~.goal.PUSH_STEER_GAIN_PER_S`: an operator keeping the
puck where the source's hand held its own). After the push it re-aims at
:data:`~.goal.RE_AIM_RETREAT_M_S`, and goes back to zero at that rate once the source's tool is
:data:`~.goal.RETURN_FROM_M` from its object. It applies in full while the source's tool is
within the report's contact radius of its object and fades out over
:data:`~.goal.SHIFT_FADE_M` beyond, so free-space paths stay near the source's; the hand floor
applies after it. A hand that knocked its puck on the way down
(G1's on Romeo's path, 2.5 cm) comes down beside it as the source's did beside its own:
romeo -> g1 push contact p95 3.4-4.3 -> 2.1-3.8 cm (seeds 1-5), free 1.7-2.3 -> 3.5-4.5 cm
(the hand carries the shift a little way out of contact).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pinocchio as pin
from numpy.typing import NDArray

from humanoid_teleop import __version__
from humanoid_teleop.core.bag.metadata import PORT_DEVICE
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame, Pose
from humanoid_teleop.core.motion.rotation import rotation_angle
from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter, arm_geometry
from humanoid_teleop.core.retarget.calibration import capture, recaptured_wrist
from humanoid_teleop.core.retarget.hand import HandRetargeter
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel, robot_model_hash
from humanoid_teleop.core.robot.shared import shared_model
from humanoid_teleop.core.sim.hand_geometry import hand_geometry
from humanoid_teleop.core.sim.physics_config import physics_hash
from humanoid_teleop.devices.scripted.hand_model import hand_points

from .errors import PortError, PortInputError
from .goal import (
    FINISH_S,
    TIME_EPS_S,
    CommandFrames,
    GoalLayers,
    WristGoal,
    finish_rise_m,
    goal_layers,
)
from .grasps import (
    GripperCommand,
    OperatorGrasps,
    PickHands,
    SourceClock,
    fingered_grasp_progress,
    operator_grasps,
)
from .lever import IkLever
from .push_hand import PushContact, PushHand, push_hand_closure
from .push_posture import SAME_POSTURE_RAD
from .report import (
    GRASP_FRACTION,
    PortReport,
    StepRecord,
    build_report,
    clamp_kinds,
    clamped_joints,
)
from .resume import PHYSICS, ported_name
from .source import SourceEpisode, read_source
from .tool import ArmTool
from .track import (
    SourceTrack,
    arm_tool,
    row_rotation,
    task_origin,
    vector_length,
)
from .writer import EpisodeOutput, RobotEpisode

FloatArray = NDArray[np.float64]
#: Teleop profile the ported intent goes through (the one recorded intent is replayed with).
PROFILE = "replay"
#: What a port records as its ``custom.port.tool_version``: the version that made it.
TOOL_VERSION = f"humanoid_teleop {__version__}"
#: Longest time [s] the last intent is held after the source ends while the task is undecided.
SETTLE_S = 2.0
#: Longest time [s] the port waits after engaging for the target's engage ramp to end.
ENGAGE_MAX_S = 5.0
#: How far [m] the source's object must have moved for the source's hand to have touched it.
TOUCH_M = 0.002
#: How far [m] the source's hand must move the object for a push (:func:`_push_start`): more
#: than a graze (Romeo's fingers brush the puck on the way down in three of five scripted
#: pushes, moving it 4-6 mm 2.3-2.9 s before the push).
PUSH_M = 0.01
#: On its own robot, objects laid out by the recorded seed this close [m] and [rad] to the
#: recorded start poses are left where the seed put them (the recording's own layout).
LAYOUT_M = 1e-6
#: How far [m] a push's goal may lie from the source's commanded tool point: where the
#: source's IK stopped further from its EE target, the goal is held this far from the
#: command, toward the target (:meth:`SourceTrack.hold_goal_near_commands`). The report's
#: tolerance for an IK solution that reached its target.
GOAL_BEYOND_COMMAND_M = 0.02
#: The nominal operator wrist [m] (operator frame) a joint-only episode's intent starts from.
NOMINAL_WRIST_M = {"left": np.array([0.35, 0.2, 1.1]), "right": np.array([0.35, -0.2, 1.1])}


@dataclass(frozen=True)
class PortOptions:
    """How to port: ``sim`` None = in physics when the episode has a scene; ``rate_hz``
    None = the recorded command rate [Hz]; with physics, ``cameras`` renders robot.yaml's
    cameras at ``camera_rate_hz`` [Hz] (at their robot.yaml size, like the simulator node)."""

    sim: bool | None = None
    rate_hz: float | None = None
    profile: str = PROFILE
    cameras: bool = True
    camera_rate_hz: float = 30.0


@dataclass
class PortResult:
    """A ported episode: where it is, its report, and the wall time it took [s]."""

    path: Path
    report: PortReport
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def with_physics(source: SourceEpisode, options: PortOptions) -> bool:
    """Whether ``source`` is ported with the physics replay: ``options.sim``, by default
    when the episode has a scene."""
    return options.sim if options.sim is not None else bool(source.scene)


def port_episode(
    source: SourceEpisode,
    source_model: RobotModel,
    target_model: RobotModel,
    out_dir: Path,
    options: PortOptions | None = None,
    name: str | None = None,
    pipeline: TeleopPipeline | None = None,
) -> PortResult:
    """Port ``source`` (recorded on ``source_model``) to ``target_model``; write the new
    episode under ``out_dir`` and return it with its report. ``pipeline``: the target's
    pipeline of ``options.profile`` (:func:`target_pipeline`), to build it once for many
    episodes; it is engaged afresh for each."""
    wall = time.perf_counter()
    options = options or PortOptions()
    src_desc = source_model.description
    tgt_desc = target_model.description
    sim_on = with_physics(source, options)
    if sim_on and not source.scene:
        raise PortInputError(
            f"{source.path}: no scene (metadata custom.scene, or /sim/object_names of a "
            "shipped scene): port it with --no-sim"
        )
    side = _side(source, src_desc, tgt_desc)
    pipeline = pipeline or target_pipeline(target_model, options.profile)
    arm_ik = next((r for r in pipeline.retargeters if isinstance(r, ArmIkRetargeter)), None)
    if arm_ik is None or side not in arm_ik.sides:
        raise PortError(f"profile {options.profile!r} drives no {side} arm of {tgt_desc.name}")
    source = _in_first_calibration(source, source_model, side, arm_ik)
    track = SourceTrack(source, source_model, side, measured_too=sim_on)
    tool = arm_tool(target_model, side)
    origin = task_origin(target_model, side, source.scene)
    rate = options.rate_hz or source.command_rate_hz
    if not (math.isfinite(rate) and rate > 0):
        raise PortInputError(f"{source.path}: command rate {rate} Hz is not usable")
    if float(track.t_s[-1]) < 1.0 / rate:  # no step of the port would compare with it
        raise PortInputError(
            f"{source.path}: {1e3 * float(track.t_s[-1]):.1f} ms of recorded motion is "
            f"shorter than one step at {rate:g} Hz"
        )
    same = _same_robot(src_desc, tgt_desc)
    # Ported to its own robot, the calibration maps the recorded intent onto itself: it is
    # replayed as given (re-deriving it would differ by rounding, which the IK's tolerance
    # and the contacts can turn into another episode), from where the episode started
    # (:func:`_replay_start`).
    replay = None
    wrists, hands = source.wrists.get(side), source.hands.get(side)
    if same and wrists is not None and hands is not None:
        replay = (wrists, hands)
    start = None
    if replay is not None:
        start = _replay_start(source, track, target_model, pipeline, rate)
    sim = scene = None
    if sim_on:
        from humanoid_teleop.core.sim.mujoco_sim import MujocoSim
        from humanoid_teleop.core.sim.scene import Scene, load_scene

        scene = Scene(load_scene(source.scene), target_model)
        # on its own robot, a scene laid out by a seed starts from that seed's layout (the
        # recorded poses, base frame, are a rounding away from it where the base frame is
        # turned from MuJoCo's world: iCub's)
        sim = MujocoSim(target_model, scene=scene, seed=source.scene_seed if same else 0)
        if source.objects is not None and not (
            same and _laid_out_as_recorded(sim, scene, source.objects.at(0.0))
        ):
            _place_objects(sim, scene, source.objects.at(0.0), track.origin, origin)
    if sim is not None and start is not None:
        sim.start_at(*start)
    q = sim.positions if sim is not None else target_model.home_positions()
    if start is not None:  # the pipeline engages where the commands stood
        q = start[1]
    # The calibration the pipeline will capture at the first frame, computed the same way.
    wrist0_p, wrist0_r = _first_wrist(source, side)
    r_ee0, p_ee0 = tool.ee(q)
    if start is not None:  # the recording's calibration, captured again where it started
        wrist0_p, wrist0_r = _recaptured_wrist(
            source, side, arm_ik, Pose(p_ee0, r_ee0), wrist0_p, wrist0_r
        )
    calibration = capture(
        arm_ik.calibration_config,
        Pose(wrist0_p, wrist0_r),
        Pose(p_ee0, r_ee0),
        None,
        arm_ik.robot_arm_length_m[side],
        np.mean([arm_ik.shoulder_m[s] for s in arm_ik.sides], axis=0),
        tool.hand_rotation,
    )
    a, b, scale, c = calibration.affine()
    reach_m = arm_ik.reach_m(side)
    shoulder = arm_ik.shoulder_m[side]
    info = EpisodeInfo(
        task=source.custom.get("task", ""),
        operator=source.custom.get("operator", ""),
        robot=tgt_desc.name,
        robot_model_hash=robot_model_hash(tgt_desc),
        device=PORT_DEVICE,
        station=source.custom.get("station", ""),
        software_version=f"humanoid_teleop {__version__}",
        custom=_provenance(source, src_desc.name, tgt_desc.source_file if sim_on else None),
    )
    start_ns = source.engage_ns
    episode_name = name or ported_name(source.name, tgt_desc.name)
    output = EpisodeOutput(
        out_dir, episode_name, info, start_ns, tgt_desc.sensors.joint_state_topic
    )
    writer = RobotEpisode(
        output, target_model, (side,), scene.object_names if scene else None, 1.0 / rate
    )
    renderers = []
    if sim is not None and options.cameras:
        from humanoid_teleop.core.sim.mujoco_sim import CameraRenderer

        writer.cameras()
        renderers = [
            (c.name, CameraRenderer(sim, c, c.width, c.height)) for c in tgt_desc.sensors.cameras
        ]
    source_objects = None
    if source.objects is not None:
        source_objects = source.objects.interpolated(track.t_s)[:, 0, :3] - track.origin
    task = _task(source)
    # the operator wrist rotations in which the source's and the target's operators hold
    # their hands for the task, and the turn from the one to the other
    task_postures = posture = None
    if replay is None and wrists is not None:
        task_postures = (_grasp_posture(src_desc, side, task), _grasp_posture(tgt_desc, side, task))
        posture = _posture_turn(*task_postures)
    # into another robot, the source operator's grip is the target's: while the source's
    # hand closes (opens) the operator's hand goes toward (away from) the grip the target's
    # own operator holds an object with, and the source's clock waits at the end of each
    # close and open until the target's hand has followed
    grip = None
    if replay is None:
        grip = _target_grip(source, track, target_model, tool, pipeline, sim_on)
    # into another robot, a hand that holds nothing (the scene's task is a push) is ported by
    # how closed it was, not by the shape its operator held for the source's hand. (Not "no
    # grasp event in the source": a gripper holding a cube stays below the grasp closure,
    # its jaws stopped by the cube, and TALOS picks ported so lost their grasps.)
    by_closure = replay is None and task == "push"
    if by_closure and track.commanded:
        # what the source robot was commanded, not what its IK could not reach
        track.hold_goal_near_commands(GOAL_BEYOND_COMMAND_M)
    # where the source's hand began to move the object (a push: not a graze before it)
    touch = _push_start(source_objects) if task == "push" else _first_touch(source_objects)
    push_hand = None
    if by_closure and touch is not None:
        # the hand that pushed: as closed as the source's was when it began to push the
        # object. Before that the source's commanded closure is partly its engage ramp's
        # (G1's hand closes 0.02 -> 0.41 over ~1.5 s as the safety filter brings it to the
        # operator's), and a target following it starts with an open hand that hangs lower,
        # which the hand floor then holds higher (g1 -> alex free p95 3.5 -> 4.3 cm). With
        # physics into another robot, that closure number checked against the target
        # hand's geometry (:mod:`.push_hand`: below its grasp, and where the object sits)
        if sim is not None and scene is not None and not same:
            # the seat model places the target's hand as the source's was turned: the port
            # turns it so between robots of the same grasp posture (below: c_hand)
            turned = posture is not None and vector_length(posture) < SAME_POSTURE_RAD
            push_hand = _push_hand(
                target_model, pipeline, track, touch, source_objects, scene, turned
            )
        if push_hand is not None:  # approached as the number, pushed as chosen
            track.hold_closure(touch, (push_hand.approach_closure, push_hand.operator_closure))
        else:
            track.hold_closure(touch)
    # the source ended while its hand was opening (its detector decided mid-release): the
    # target's operator finishes the release after the end, opening and rising
    finish = sim is not None and replay is None and _opening(track, rate)
    # the source ended while its hand was rising (a push's retreat, where the detector
    # decides once the hand has left the object): every port, its own robot's too, goes on
    # rising; held still, a hand that in the replay touches the object by a hair keeps the
    # detector undecided
    rising = sim is not None and _rising(track, rate)
    # With physics into another robot, the goal's layers (:mod:`.goal`): how low the
    # target's hand may go, a pushing hand lifted off its own object until the source's
    # comes down beside its own, the re-aim at the target's own resting object, the hand's
    # posture turns around the push's stroke; picking, the target's grasp point where the
    # source's went
    layers, target_hand = GoalLayers(), None
    if replay is None:
        world = (sim, scene) if sim is not None and scene is not None else None
        postures = None  # a push's: the approach's and the retreat's posture turns
        if task_postures is not None and by_closure:
            postures = (*task_postures, _grasp_posture(tgt_desc, side, None))
        layers, target_hand = goal_layers(
            track, source_model, target_model, origin, world, source_objects, touch,
            (by_closure, grip), rate, postures,
        )  # fmt: skip
    frames_of = CommandFrames(
        target_model, tool, target_hand, layers.grasp is not None, layers.clearance is not None,
        layers.pick is not None,
    )  # fmt: skip

    camera_period_s = 1.0 / options.camera_rate_hz
    next_camera_s = 0.0
    records: list[StepRecord] = []

    # How the operator's wrist turns the target's hand. A hand that holds nothing, ported by
    # what the source's hand did, between robots held alike for the task (the same grasp
    # posture): as it turned the source's, from where the source's hand was held at engage
    # (its tool frame at the first joint state), so the two hands are turned alike; the
    # pipeline's relative calibration starts from the target's own home hand, and two
    # robots' home hands are held differently (Alex's 8 deg from G1's: Alex's fingers
    # pointed ~10 deg further down than G1's while pushing and the puck slid along them).
    # Held otherwise (TALOS' jaws): from the target's own home hand, which its posture is
    # tuned against (from the source's, 5 fewer of 36 cross pushes succeeded). Grasps keep
    # the operator's recorded hand and its turn from the target's home hand.
    c_hand = c
    if by_closure and posture is not None and vector_length(posture) < SAME_POSTURE_RAD:
        r_hand0 = track.tool.tool(track.measured[0]).rotation
        c_hand = wrist0_r.T @ r_hand0 @ tool.hand_rotation.T
    # with physics into another robot, a push's lever turned as the target's IK will turn
    # the hand where it gives up the asked rotation (:mod:`.lever`; not a pick's)
    lever = None
    if sim is not None and not same and task == "push":
        lever = IkLever(target_model, side, arm_ik)
    wrist_at = WristGoal(
        track, origin, tool, (a, b, scale, c), c_hand, posture, wrists,
        source.duration_s if finish or rising else None, same, layers, 1.0 / rate, lever,
    )  # fmt: skip

    try:
        writer.begin(start_ns)
        pipeline.engage(q, 0.0)
        if start is not None:  # calibrated now, at the wrist computed above
            engage_at = {f"{side}_wrist": Pose(wrist0_p, wrist0_r)}
            pipeline.recalibrate(HumanFrame(0.0, **engage_at))  # type: ignore[arg-type]
        dt = 1.0 / rate
        # pipeline and sim time [s] of the episode's t = 0: into another robot, the port
        # first engages where the source's path starts and waits there for the engage ramp
        t0 = 0.0
        if replay is None:
            local0 = _hand(  # the operator's hand at t = 0, in its wrist frame
                source, side, track, 0, 0.0, np.zeros(3), np.eye(3), grip, by_closure
            )
            t0, q = _engage(pipeline, sim, tool, q, dt, side, (wrist0_p, wrist0_r), wrist_at,
                            lambda p, r: p + local0 @ r.T, frames_of)  # fmt: skip
        end_s = source.duration_s
        names = target_model.joint_names
        command_frames = frames_of(q)  # the last command's frames
        steps = 0
        t = 0.0
        # the source's clock runs behind the port's by the time it was held for the target's
        # hand at the end of each close and open
        waits = grip[0].waits_s if grip is not None and sim is not None else ()
        least = layers.pick.least_waits(waits) if layers.pick is not None else None
        clock = SourceClock(waits, dt, least)
        stroke_shift = np.zeros(3)  # the goal's shift onto the target's own object, last step
        closures: list[float] = []  # the target's measured hand closure per step
        wrist_part, hand_part = f"{side}_wrist", f"{side}_hand"  # the HumanFrame's fields
        while True:
            steps += 1
            t = steps * dt
            t_s = clock.source_time(t, closures)
            # a slower arm finishes the push's stroke before the source's clock runs on
            stroke = layers.stroke
            if stroke is not None and records:
                tool_now = records[-1].tool_p - stroke_shift
                goal_now = wrist_at.tool_goal
                if stroke.hold(t, dt, t_s, tool_now) or (
                    goal_now is not None
                    and stroke.catch_up(
                        t_s, records[-1].src_index, dt, records[-1].tool_p, goal_now - origin
                    )
                ):
                    t_s = clock.hold(t)
            if t_s > end_s + 1e-9 and (
                scene is None or scene.outcome != "running" or t_s > end_s + SETTLE_S
            ):
                break
            t_ns = start_ns + round(t * 1e9)
            if sim is not None:
                sim.advance_to(t0 + t)
                q = sim.positions
            k = track.index(min(t_s, end_s) + TIME_EPS_S)
            if layers.clearance is not None and k >= layers.clearance.until:
                frames_of.surface = False
            objects = scene.object_poses(sim) if scene is not None else []
            if sim is not None:
                pick = layers.pick
                if pick is not None and objects and pick.observes(k):  # what its operator sees
                    r_act, ee_act, point_act, grasp_act, lowest = tool.frames_grasp_tip(q)
                    pick.observe(point_act + grasp_act, objects[0][1], lowest, ee_act)
                else:
                    r_act, _, point_act = tool.frames(q)
            if replay is not None:  # its own robot: the recorded intent, as it was given
                row = replay[0].at(t_s + TIME_EPS_S)
                wrist_p, wrist_r = np.array(row[:3]), row_rotation(row)
                # written as the recorded quaternion (the rotation's own can differ in its
                # last bits)
                wrist_xyzw: FloatArray | None = row[3:7]
                if rising and t_s > end_s:
                    wrist_p = wrist_p + np.array([0.0, 0.0, finish_rise_m(t_s, end_s) / scale])
                want_ee_p, want_ee_r = a + scale * (wrist_p - b), wrist_r @ c
                hand = np.array(replay[1].at(t_s + TIME_EPS_S))
            else:
                shift = None
                reaim = layers.reaim
                if reaim is not None and objects:
                    back = reaim.rest_steps
                    then = records[-back].object_p if len(records) >= back else None
                    tool_last = records[-1].tool_p if records else None
                    shift = stroke_shift = reaim.shift(k, objects[0][1] - origin, then, tool_last)
                if layers.stroke is not None:
                    shift = layers.stroke.extension(t) + (0.0 if shift is None else shift)
                wrist_p, wrist_r, want_ee_p, want_ee_r = wrist_at(k, t_s, command_frames, shift)
                wrist_xyzw = None
                hand = _hand(source, side, track, k, t_s, wrist_p, wrist_r, grip, by_closure)
                if finish and t_s > end_s:
                    hand = wrist_p + hand_points(side, 0.0) @ wrist_r.T
            parts = {wrist_part: Pose(wrist_p, wrist_r), hand_part: HandSkeleton(hand)}
            frame = HumanFrame(t0 + t, **parts)  # type: ignore[arg-type]
            out = pipeline.step(frame, q, t0 + t)
            command_frames = frames_of(out.q)
            if sim is not None:
                for group, values in out.commands.items():
                    sim.set_targets(tgt_desc.groups[group], values)
                measured = q
            else:
                measured = out.q
                r_act, point_act = command_frames.ee_r, command_frames.tool_p_m
            # what the report needs from this step
            ik_p = tool.ee_position(out.targets)
            within = vector_length(want_ee_p - shoulder) <= reach_m
            reached = vector_length(ik_p - want_ee_p) <= 0.02
            closures.append(tool.closure(measured))
            if clock.waiting:
                clock.commanded = (tool.closure(out.targets), tool.closure(out.q))
            records.append(
                StepRecord(
                    t_s=t_s,
                    src_index=k,
                    tool_p=point_act - origin,
                    ee_r=r_act,
                    object_p=objects[0][1] - origin if objects else None,
                    closure=closures[-1],
                    reachable=within and reached,
                    clamped=clamped_joints(out.report),
                    clamp_kinds=clamp_kinds(out.report),
                )
            )
            if sim is not None:
                writer.state(t_ns, names, q, sim.velocities, sim.efforts)
            else:
                writer.state(t_ns, names, out.q)
            writer.tf(t_ns, measured, objects)
            writer.teleop_state(t_ns, pipeline, out)
            writer.intent(t_ns, side, (wrist_r, wrist_p), hand, wrist_xyzw)
            writer.command(t_ns, out.commands)
            writer.ee_target(t_ns, side, want_ee_r, want_ee_p)
            if sim is not None and scene is not None:
                wrenches = {s.name: sim.wrench(s.name) for s in tgt_desc.sensors.wrenches}
                writer.scene(t_ns, objects, scene.outcome, wrenches)
                if renderers and t + 1e-9 >= next_camera_s:
                    next_camera_s += camera_period_s
                    snapshot = sim.snapshot()
                    for camera, renderer in renderers:
                        writer.image(t_ns, camera, renderer.render_rgb(snapshot))
        pipeline.disengage()
        end_ns = start_ns + round(t * 1e9)
        writer.end(end_ns)
        outcome = None
        if scene is not None:
            outcome = scene.outcome if scene.outcome != "running" else "failure"
        report = build_report(
            source=source,
            source_robot=src_desc.name,
            target_robot=tgt_desc.name,
            side=side,
            track_t_s=track.t_s,
            track_p=track.actual_p,
            track_r=track.actual_r,
            track_closure=track.closure,
            track_objects=source_objects,
            steps=records,
            hand_rotation=tool.hand_rotation,
            outcome=outcome,
            sim=sim_on,
            target_has_hand=tool.has_hand,
            grip_closures=(track.tool.grip_closure, tool.grip_closure),
            hand_wait_s=clock.waited_s,
            source_arm_commanded=track.commanded,
            ee_tool=_ee_tool((src_desc.name, track.tool), (tgt_desc.name, tool)),
        )
        path = output.close(outcome, end_ns, {"port.report": report.to_json()})
    except BaseException:
        output.abandon()
        raise
    extra: dict[str, Any] = {}
    if push_hand is not None:
        extra["push_hand"] = push_hand
    if layers.stroke is not None:
        extra["stroke"] = layers.stroke
    return PortResult(path, report, time.perf_counter() - wall, extra)


def _target_grip(
    source: SourceEpisode, track: SourceTrack, target_model: RobotModel, tool: ArmTool,
    pipeline: TeleopPipeline, sim_on: bool,
) -> tuple[OperatorGrasps, PickHands] | None:  # fmt: skip
    """Into another robot, the source operator's grasps (:func:`operator_grasps`; with
    physics timed by the source robot's measured hand, whose events the report counts and
    which lags its operator's pinch, and a gripper's command or the progress at which a
    fingered hand's command reaches its grasp event) and the target's own picking hands;
    None when the target's hand is not retargeted or the operator never pinched."""
    hand_retargeter = next((r for r in pipeline.retargeters if isinstance(r, HandRetargeter)), None)
    if hand_retargeter is None or not tool.has_hand:
        return None
    from humanoid_teleop.devices.scripted.episode import robot_demonstrator_config

    side = tool.side
    params = hand_retargeter.params
    config = robot_demonstrator_config(target_model.description, _task(source))
    robot_hand = (track.t_s, track.closure, track.tool.grip_closure) if sim_on else None
    fingers = hand_retargeter.dexterous.get(side) if sim_on else None
    grasp_progress = None
    if fingers is not None:  # swept from the open hand, as the port's close will be
        fingers.restart()
        grasp_progress = fingered_grasp_progress(
            config, side, fingers.solve, target_model.description.hands[side].closure_of,
            GRASP_FRACTION * tool.grip_closure,
        )  # fmt: skip
        fingers.restart()
    grasps = operator_grasps(
        source,
        side,
        0.5 * (params.pinch_open_m + params.pinch_closed_m),
        robot_hand,
        gripper=GripperCommand.of(config, side, params, target_model, tool) if sim_on else None,
        grasp_progress=grasp_progress,
    )
    return None if grasps is None else (grasps, PickHands(config, side))


def _replay_start(
    source: SourceEpisode, track: SourceTrack, model: RobotModel, pipeline: TeleopPipeline,
    rate_hz: float,
) -> tuple[FloatArray, FloatArray] | None:  # fmt: skip
    """Where the replay of an episode on its own robot starts: (its joint state at its start,
    that state with each commanded group at its command then) [rad] (the newest at or before
    its engage, else its first: ``track``'s measured joints, ``model.joint_names`` order),
    the robot's and the pipeline's start (the calibration is captured again there:
    :func:`_recaptured_wrist`); None (home, exactly) when that joint state lies within one
    step of the engage ramp (``engage_speed_rad_s`` at ``rate_hz`` [Hz]) of home, every
    joint: a recording that engaged at home, whose first joint state is one step after its
    engage (the scripted recorder's 1e-18 rad off home; not its first commands, whose hands
    are not ramped: 0.02 rad off). An episode that starts elsewhere (a port into another
    robot, which begins once the target's arm has come to the source's first goal; a live
    episode begun while its operator was engaged) replayed from home went through another
    calibration: g1 push seed 1 -> talos -> talos, 8-10 cm off from the first step."""
    measured = track.measured[source.joints.index(0.0)]
    ramp_step_rad = pipeline.safety.config.engage_speed_rad_s / rate_hz
    if float(np.abs(measured - model.home_positions()).max()) <= ramp_step_rad:
        return None
    # where the commands stood then (with physics they lead the measured joints)
    commanded = measured.copy()
    groups = model.description.groups
    for group, stream in source.commands.items():
        if len(stream.t_s) and len(groups.get(group, ())) == len(stream.values[0]):
            commanded[model.group_indices(group)] = stream.values[stream.index(0.0)]
    return measured, commanded


def _in_first_calibration(
    source: SourceEpisode, source_model: RobotModel, side: str, arm_ik: ArmIkRetargeter
) -> SourceEpisode:
    """``source`` with its operator input after each later calibration (a re-centre, an
    engage after a pause) in the calibration it began with
    (:meth:`~.source.SourceEpisode.in_first_calibration`), so the whole episode is ported
    through one, as the port's pipeline calibrates once. Its position scale: the profile's
    for the source's arm (an ``absolute`` calibration does not depend on where it was
    captured: the input is left as recorded)."""
    config = arm_ik.calibration_config
    if not source.recalibrations_s or config.mode != "relative":
        return source
    arm_length_m = arm_geometry(source_model, side, source_model.home_positions())[0]
    return source.in_first_calibration(side, config.scale_for(arm_length_m))


def input_in_first_calibration(path: Path) -> SourceEpisode | None:
    """Episode ``path`` with its operator input (each arm's wrist and hand) after every later
    calibration (a re-centre, an engage after a pause) folded into the calibration it began
    with, as the port folds it (:func:`_in_first_calibration`: the port's profile, the
    recorded robot's arm), for a replay as live input: the teleop node it feeds calibrates
    once, at its engage, and would map the input after a re-centre through that one, the
    robot off by the operator's move. None when the episode was calibrated once.
    PortInputError (one line naming the episode) when it cannot be read or folded (no
    ``robot`` in its metadata, no EE targets recorded for a re-centred arm)."""
    source = read_source(path)
    if not source.recalibrations_s:
        return None
    model = shared_model(source.robot)
    pipeline = target_pipeline(model)
    arm_ik = next((r for r in pipeline.retargeters if isinstance(r, ArmIkRetargeter)), None)
    if arm_ik is None:  # no arm follows a wrist: nothing is mapped through a calibration
        return source
    for side in [s for s in source.wrists if s in arm_ik.sides]:
        source = _in_first_calibration(source, model, side, arm_ik)
    return source


def _recaptured_wrist(
    source: SourceEpisode, side: str, arm_ik: ArmIkRetargeter, ee: Pose, wrist_p: FloatArray,
    wrist_r: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """The operator wrist (position [m], rotation) at which the target's pipeline, engaged
    at EE pose ``ee`` where the episode started, captures the calibration the episode was
    recorded with: the one that mapped its first ``side`` wrist to its first EE target
    (:meth:`~.source.SourceEpisode.first_mapped_wrist`, :func:`recaptured_wrist`). Without
    a recorded EE target, or in ``absolute`` mode (which does not depend on where it was
    captured), the first recorded wrist ``wrist_p``, ``wrist_r``: the calibration captured
    there against where the episode started, as its operator would have engaged there."""
    mapped = source.first_mapped_wrist(side)
    config = arm_ik.calibration_config
    if mapped is None or config.mode != "relative":
        return wrist_p, wrist_r
    wrist, target = (Pose(np.array(row[:3]), row_rotation(row)) for row in mapped)
    scale = config.scale_for(arm_ik.robot_arm_length_m[side])
    engage = recaptured_wrist(scale, ee, wrist, target)
    return engage.position_m, engage.rotation


def _engage(
    pipeline: TeleopPipeline, sim: Any, tool: ArmTool, q: FloatArray, dt: float, side: str,
    first: tuple[FloatArray, FloatArray], wrist_at: Any, hand_at: Any, frames_of: Any,
) -> tuple[float, FloatArray]:  # fmt: skip
    """Engage where the source's path starts and wait there, as an operator waits after
    engaging for the robot to come to them: the first recorded wrist (the calibration's),
    then the wrist that puts the tool on the source's first goal, held until the engage
    ramp has ended and the arm's commands and joints are within the ramp's tolerance of
    the IK's solution (at most :data:`ENGAGE_MAX_S`). Returns (the pipeline and sim time
    [s] the episode's clock starts at, the joints then).

    Following the source's motion from the first step instead, the target starts off its
    path and catches up with it while the source moves. The wrist is derived with the tool
    offset where the IK's solution (not the ramping command) turns the hand: the engage
    ramp credits a target's own motion (it closes the gap at ``engage_speed_rad_s``
    relative to it), and a goal that moved with the command would feed the ramp's motion
    back into its target (Romeo's arm swung up and down through the puck)."""
    arm = tool.model.group_indices(tool.arm.group)
    tolerance = pipeline.safety.config.engage_tolerance_rad
    frames = frames_of(q)
    t = 0.0
    while t < ENGAGE_MAX_S - 1e-9:
        t += dt
        if sim is not None:
            sim.advance_to(t)
            q = sim.positions
        wrist_p, wrist_r = first if t <= dt * 1.5 else wrist_at(0, 0.0, frames)[:2]
        hand = HandSkeleton(hand_at(wrist_p, wrist_r))
        parts = {f"{side}_wrist": Pose(wrist_p, wrist_r), f"{side}_hand": hand}
        out = pipeline.step(HumanFrame(t, **parts), q, t)  # type: ignore[arg-type]
        frames = frames_of(out.targets)
        if sim is not None:
            for group, values in out.commands.items():
                sim.set_targets(tool.model.description.groups[group], values)
        else:
            q = out.q
        if t > dt * 1.5 and not out.report.ramping and _settled(out, q, arm, tolerance):
            break
    return t, q


def _settled(out: Any, q: FloatArray, arm: NDArray[np.intp], tolerance: float) -> bool:
    """Whether the arm's (indices ``arm``) command ``out.q`` is within ``tolerance`` [rad]
    of the IK's solution (``out.targets``) and the joints ``q`` within it of the command."""
    command = out.q[arm]
    return bool(
        np.abs(np.asarray(out.targets)[arm] - command).max() < tolerance
        and np.abs(q[arm] - command).max() < tolerance
    )


def _push_hand(
    target_model: RobotModel, pipeline: TeleopPipeline, track: SourceTrack, touch: int,
    source_objects: FloatArray | None, scene: Any, turned_as_source: bool,
) -> PushHand | None:  # fmt: skip
    """The target's push hand chosen by its geometry (:func:`push_hand_closure`) to seat
    the object where the source's hand did while pushing, the target's hand met from the
    source's tool pose at its push start ``touch`` (its object's heights and offset across
    the push there, the push's direction from there to the end); None when either hand is
    not a retargeted hand or the source's object did not move."""
    side = track.tool.side
    tool = arm_tool(target_model, side)
    retargeter = next((r for r in pipeline.retargeters if isinstance(r, HandRetargeter)), None)
    if source_objects is None or retargeter is None or not (tool.has_hand and track.tool.has_hand):
        return None
    moved = source_objects[-1, :2] - source_objects[touch, :2]
    if vector_length(moved) < PUSH_M:
        return None
    direction = np.array([moved[0], moved[1], 0.0]) / vector_length(moved)
    pose = track.tool.tool(track.measured[touch])
    center = source_objects[touch] + track.origin  # source base frame
    spec = scene.config.objects[0]
    across = np.array([-direction[1], direction[0], 0.0])
    contact = PushContact(
        tool_p=pose.position_m,
        tool_r=pose.rotation,
        direction=direction,
        band_z=(center[2] - spec.half_height_m, center[2] + spec.half_height_m),
        across_m=float((center - pose.position_m) @ across),
        radius_m=float(spec.size_m[0]),
        friction=float(spec.friction),
        round=spec.shape != "box",
    )
    # where the source's hand seated it while pushing: the object's centre from the tool
    # point (measured) at the samples where the object moved, median
    step = np.linalg.norm(np.diff(source_objects[touch:, :2], axis=0), axis=1)
    moving = touch + 1 + np.flatnonzero(step > 1e-5)
    if not len(moving):
        return None
    offsets = source_objects[moving] - track.actual_p[moving]
    seat = (float(np.median(offsets @ direction)), float(np.median(offsets @ across)))
    return push_hand_closure(
        seat, (hand_geometry(target_model, side), tool, retargeter), contact,
        float(track.closure_cmd[touch]), turned_as_source,
    )  # fmt: skip


def _first_touch(source_objects: FloatArray | None) -> int | None:
    """The first source sample where the source's hand has moved its (first) object, more
    than :data:`TOUCH_M` horizontally from where it started (``source_objects``: n x 3
    [m]); None if it never moved or none was recorded."""
    if source_objects is None or not len(source_objects):
        return None
    moved = np.linalg.norm(source_objects[:, :2] - source_objects[0, :2], axis=1) > TOUCH_M
    return int(np.argmax(moved)) if moved.any() else None


def _push_start(source_objects: FloatArray | None) -> int | None:
    """The first source sample where the source's hand had begun to push its (first) object
    (``source_objects``: n x 3 [m]): the motion that carried it more than :data:`PUSH_M`
    horizontally from where it started, once that motion had moved it :data:`TOUCH_M`. A
    graze before it, which moved it less and left it, is not the push (until the push a
    target's hand is held as the source's was). Without such a motion, :func:`_first_touch`."""
    if source_objects is None or not len(source_objects):
        return None
    flat = source_objects[:, :2]
    pushed = np.linalg.norm(flat - flat[0], axis=1) > PUSH_M
    if not pushed.any():
        return _first_touch(source_objects)
    end = int(np.argmax(pushed))
    # back from there while the object was still moving (each sample further from it)
    away = np.linalg.norm(flat[: end + 1] - flat[end], axis=1)
    start = end
    while start > 0 and away[start - 1] > away[start] + 1e-6:
        start -= 1
    touched = np.linalg.norm(flat[start : end + 1] - flat[start], axis=1) > TOUCH_M
    return start + int(np.argmax(touched))


def _task(source: SourceEpisode) -> str | None:
    """The task of the episode's scene (None without a scene)."""
    if not source.scene:
        return None
    from humanoid_teleop.core.sim.scene import load_scene

    return load_scene(source.scene).task


def _grasp_posture(description: Any, side: str, task: str | None) -> FloatArray:
    """The operator wrist rotation (operator frame) with which an operator holds this
    robot's hand for ``task``: its physics.yaml ``demonstrator`` tilt and roll (the task's
    sub-block over them: TALOS pushes with its jaws half down, grasps with them down)."""
    from humanoid_teleop.devices.scripted.demonstrator import grasp_posture
    from humanoid_teleop.devices.scripted.episode import robot_demonstrator_config

    return grasp_posture(robot_demonstrator_config(description, task), side)


def _posture_turn(source: FloatArray, target: FloatArray) -> FloatArray:
    """Rotation vector [rad] from the ``source`` robot's grasp posture (:func:`_grasp_posture`)
    to the ``target``'s."""
    turn = source.T @ target
    out: FloatArray = np.asarray(pin.log3(turn), dtype=np.float64)
    return out


def _end_change(values: FloatArray, rate_hz: float) -> float:
    """How much ``values`` (one per step at ``rate_hz`` [Hz]) changed over the last FINISH_S."""
    back = min(len(values) - 1, max(1, round(FINISH_S * rate_hz)))
    return float(values[-1] - values[-1 - back])


def _opening(track: SourceTrack, rate_hz: float) -> bool:
    """Whether the source's commanded hand closure fell over its last FINISH_S."""
    return _end_change(track.closure_cmd, rate_hz) < -0.02


def _rising(track: SourceTrack, rate_hz: float) -> bool:
    """Whether the source's goal rose more than 1 cm over its last FINISH_S."""
    return _end_change(track.goal_p[:, 2], rate_hz) > 0.01


def _ee_tool(*tools: tuple[str, ArmTool]) -> tuple[str, str] | None:
    """(robot, EE frame) of the one of two (robot, tool) whose tool point is its EE frame
    while the other's is its fingertips (:attr:`.ArmTool.tool_is_ee`), else None."""
    wrist = [(robot, tool.arm.ee_frame) for robot, tool in tools if tool.tool_is_ee]
    return wrist[0] if len(wrist) == 1 else None


def _same_robot(a: Any, b: Any) -> bool:
    """Whether two robot descriptions are the same robot (the same robot.yaml)."""
    return bool(a.name == b.name and robot_model_hash(a) == robot_model_hash(b))


def target_pipeline(target_model: RobotModel, profile: str = PROFILE) -> TeleopPipeline:
    """The target's teleop pipeline the porter drives (build once, port many episodes)."""
    description = target_model.description
    return TeleopPipeline.create(description, target_model, profile, profile)


def _side(source: SourceEpisode, src: Any, tgt: Any) -> str:
    """The arm the episode is about: the scene's hand, else the arm with intent/commands."""
    if source.scene:
        from humanoid_teleop.core.sim.scene import load_scene

        side = load_scene(source.scene).hand
    else:
        moving = [s for s in ("right", "left") if s in source.wrists]
        moving += [s for s, arm in src.arms.items() if arm.group in source.commands]
        side = moving[0] if moving else "right"
    for robot in (src, tgt):
        if side not in robot.arms:
            raise PortError(f"{robot.name} has no {side} arm (arms: {', '.join(robot.arms)})")
    return side


def _first_wrist(source: SourceEpisode, side: str) -> tuple[FloatArray, FloatArray]:
    """The operator wrist the ported intent starts from: the recorded one, else nominal."""
    wrists = source.wrists.get(side)
    if wrists is not None and len(wrists.t_s):
        row = wrists.at(0.0)
        return np.array(row[:3]), row_rotation(row)
    return NOMINAL_WRIST_M[side].copy(), np.eye(3)


def _hand(
    source: SourceEpisode, side: str, track: SourceTrack, k: int, t_s: float,
    wrist_p: FloatArray, wrist_r: FloatArray,
    grip: tuple[OperatorGrasps, PickHands] | None, by_closure: bool,
) -> FloatArray:  # fmt: skip
    """The 25 hand joints [m] (operator frame) at the ported wrist pose; with ``grip`` (the
    source operator's grasps and the target's picking hands), the target's own operator's
    picking hand as far along as the source operator's hand was; else :func:`_hand_local`."""
    if grip is not None:
        local = grip[1].at(grip[0].at(t_s))
    else:
        local = _hand_local(source, side, track, k, t_s, by_closure)
    world: FloatArray = wrist_p + local @ wrist_r.T
    return world


def _hand_local(
    source: SourceEpisode, side: str, track: SourceTrack, k: int, t_s: float,
    by_closure: bool,
) -> FloatArray:  # fmt: skip
    """The 25 hand joints [m] in the operator's wrist frame at ``t_s`` [s] (source sample
    ``k``): the recorded hand's shape, else (none recorded, or ``by_closure``: a hand that
    holds nothing, into another robot) a synthetic hand closed as the source's was."""
    hands = source.hands.get(side)
    wrists = source.wrists.get(side)
    if hands is not None and wrists is not None and not by_closure:
        local: FloatArray = (hands.at(t_s) - wrists.at(t_s)[:3]) @ wrists.rotation_at(t_s)
        return local
    return track.synthetic_hand(k)


def _place_objects(
    sim: Any, scene: Any, poses: FloatArray, source_origin: FloatArray, target_origin: FloatArray
) -> None:
    """Put the scene's objects at the recorded poses (source base frame), moved from the
    source's task frame into the target's: on the source's own robot (the same origin) not
    moved at all, so they start where the recording's did to the last bit (moving them out
    and back put them up to 7e-18 m off, which contacts grew into mm)."""
    from humanoid_teleop.core.sim.mjcf_build import import_mujoco

    mujoco = import_mujoco()
    m, d = sim.model, sim.data
    moved = not np.array_equal(source_origin, target_origin)
    for obj, row in zip(scene.config.objects, poses, strict=False):
        joint = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, f"object_{obj.name}")
        adr = m.jnt_qposadr[joint]
        position = np.asarray(row[:3], dtype=np.float64)
        if moved:
            position = target_origin + (position - source_origin)
        d.qpos[adr : adr + 3] = sim.world_from_base(position)
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, (sim.base_rotation @ row_rotation(row)).ravel())
        d.qpos[adr + 3 : adr + 7] = quat
        d.qvel[m.jnt_dofadr[joint] : m.jnt_dofadr[joint] + 6] = 0.0
    mujoco.mj_forward(m, d)


def _laid_out_as_recorded(sim: Any, scene: Any, poses: FloatArray) -> bool:
    """Whether ``sim``'s objects are where ``poses`` (the recorded ones at engage, source
    base frame) put them, within :data:`LAYOUT_M` [m] and [rad]."""
    placed = scene.object_poses(sim)
    if len(placed) != len(poses):
        return False
    for (rotation, position), row in zip(placed, poses, strict=True):
        angle = rotation_angle(rotation.T @ row_rotation(row))
        if vector_length(position - np.asarray(row[:3])) > LAYOUT_M or angle > LAYOUT_M:
            return False
    return True


def _provenance(
    source: SourceEpisode, source_robot: str, target_file: Path | None
) -> dict[str, str]:
    """The ported episode's ``custom`` keys: its source, the tool, the physics setting and,
    ported in physics (``target_file``: the target's robot.yaml), the target's
    physics.yaml hash (``physics_hash``, as a scripted episode records its robot's)."""
    from humanoid_teleop.core.bag.reader import bag_content_hash

    content_hash = source.content_hash or bag_content_hash(source.path, list(source.files) or None)
    custom = {
        "port.source_episode": source.name,
        "port.source_content_hash": content_hash,
        "port.source_robot": source_robot,
        "port.source_outcome": source.outcome,
        "port.intent": source.intent_source or "fk",
        "port.tool_version": TOOL_VERSION,
        "port.physics": PHYSICS[target_file is not None],
    }
    if target_file is not None:
        custom["physics_hash"] = physics_hash(target_file)
    if source.scene:
        custom["scene"] = source.scene
    return custom
