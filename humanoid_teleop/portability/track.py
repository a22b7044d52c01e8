"""The source side of a port: the source robot's tool path in the task frame
(:class:`SourceTrack`: its goal, commanded and measured tool points and hand closures,
sampled at the recorded joint states) and the task frame's origin (:func:`task_origin`).
:mod:`.port` moves the target's tool along it; :mod:`.report` compares with it."""

from __future__ import annotations

import bisect
import math

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.rotation import quat_to_matrix, rotations_from_quats
from humanoid_teleop.core.robot import RobotModel, per_model_and_side
from humanoid_teleop.devices.scripted.hand_model import hand_points_rows

from .errors import PortInputError
from .source import Samples, SourceEpisode
from .tool import ArmTool

FloatArray = NDArray[np.float64]


#: ``model``'s :class:`ArmTool` of ``side``, built at its first port (~2 ms each).
arm_tool = per_model_and_side(ArmTool)
#: An object that moved less than REST_M [m] horizontally over the last REST_S [s] rests
#: (2.5 mm/s; a pushed puck slides at 5-20 cm/s, one a hand knocks at a few cm/s).
REST_M = 0.0005
REST_S = 0.2


def recent_motion(t_s: FloatArray, positions: FloatArray) -> FloatArray:
    """Per sample (``t_s`` [s], increasing; ``positions``: n x 3 [m]), how far the object
    moved horizontally since :data:`REST_S` before (n x 2 [m]; from the first sample's
    position before then)."""
    back = np.column_stack([np.interp(t_s - REST_S, t_s, positions[:, k]) for k in range(2)])
    moved: FloatArray = positions[:, :2] - back
    return moved


def at_rest(t_s: FloatArray, positions: FloatArray) -> NDArray[np.bool_]:
    """Per sample (``t_s`` [s], ``positions``: n x 3 [m]), whether the object rests: it moved
    less than :data:`REST_M` horizontally since :data:`REST_S` before
    (:func:`recent_motion`)."""
    return rests_after(recent_motion(t_s, positions))


def rests_after(moved_m: FloatArray) -> NDArray[np.bool_]:
    """Whether an object that moved ``moved_m`` [m] (..., 2 or 3: its last axis a
    displacement) over the last :data:`REST_S` rests: less than :data:`REST_M`
    horizontally (one rule for a recorded path, :func:`at_rest`, and a port's steps)."""
    out: NDArray[np.bool_] = np.linalg.norm(moved_m[..., :2], axis=-1) < REST_M
    return out


def vector_length(vector: FloatArray) -> float:
    """``np.linalg.norm`` of a vector, the same number (it is ``sqrt(x.dot(x))`` for a real
    vector) for a fraction of its ~2 us. Not ``math.sqrt(x * x + y * y + z * z)`` (~0.6 us
    against ~1.4): the dot is BLAS', here a chain of fused multiply-adds, and the two
    differ in the last bit on ~11% of random 3-vectors (2-vectors: ~8%): a port's bytes
    would change (Python 3.11 has no ``math.fma``)."""
    return math.sqrt(vector.dot(vector))


def toward(value: FloatArray, goal: FloatArray, step: float) -> FloatArray:
    """``value`` moved toward ``goal`` by at most ``step`` (the same units)."""
    gap = goal - value
    distance = vector_length(gap)
    if distance <= step:
        return goal
    moved: FloatArray = value + gap * (step / distance)
    return moved


def row_rotation(row: FloatArray) -> FloatArray:
    """The rotation matrix of a pose row (x, y, z, qx, qy, qz, qw)."""
    out: FloatArray = quat_to_matrix(np.asarray(row[3:7], dtype=np.float64))
    return out


def task_origin(model: RobotModel, side: str, scene: str) -> FloatArray:
    """The task frame's origin [m], base frame: the ``side`` arm's EE at home, moved as the
    robot's own scene layout moves the objects of ``scene`` (a scene name, '' for none) from
    where the scene file puts them (physics.yaml ``scene_layout``,
    :meth:`~humanoid_teleop.core.sim.scene_layout.SceneLayoutSettings.offset_m`). So an
    object and a tool path at the same task-frame position are at the same place relative to
    each robot's table, whichever layout each robot has."""
    from humanoid_teleop.core.sim.physics_config import load_physics
    from humanoid_teleop.core.sim.scene import load_scene
    from humanoid_teleop.core.sim.scene_layout import SceneLayoutSettings

    origin = arm_tool(model, side).ee(model.home_positions())[1]
    description = model.description
    layout = load_physics(description.source_file, tuple(description.groups)).scene_layout
    if not scene or layout == SceneLayoutSettings():
        return origin
    offset = layout.offset_m(load_scene(scene).table.below_hand_m)
    moved: FloatArray = origin + np.array(offset)
    return moved


class SourceTrack:
    """The source's tool path (task frame) and hand closures, sampled at the joint states."""

    def __init__(
        self, source: SourceEpisode, model: RobotModel, side: str, measured_too: bool = True
    ) -> None:
        self.tool = arm_tool(model, side)
        names = model.joint_names
        index = {n: i for i, n in enumerate(source.joint_names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise PortInputError(
                f"{source.path}: {model.description.sensors.joint_state_topic}: no "
                f"{', '.join(missing[:5])} (joints of {model.description.name})"
            )
        order = np.array([index[n] for n in names])
        measured = source.joints.values[:, order]
        #: The measured joints (``model.joint_names`` order) at :attr:`t_s`.
        self.measured = measured
        t = source.joints.t_s
        commanded = measured.copy()
        description = model.description
        arm_group = description.arms[side].group
        groups = [arm_group]
        hand = description.hands.get(side)
        if hand is not None and hand.group is not None:
            groups.append(hand.group)
        #: True when the goal is the commanded path (the arm's commands were recorded).
        self.commanded = arm_group in source.commands
        for group in groups:
            stream = source.commands.get(group)
            if stream is not None:
                idx = model.group_indices(group)
                steps = np.searchsorted(stream.t_s, t, side="right") - 1
                ok = steps >= 0
                commanded[np.ix_(ok, idx)] = stream.values[steps[ok]]
        self.t_s = t
        self._times: list[float] = t.tolist()
        #: The task frame's origin [m], base frame (:func:`task_origin`).
        self.origin = task_origin(model, side, source.scene)
        rotations, positions, points, grasp = self.tool.frames_grasp_rows(commanded)
        frames = (rotations, positions, points)  # EE rotations, EE positions, tool points
        #: The grasp point minus the tool point [m] (:meth:`ArmTool.grasp_offsets`) at the
        #: commanded joints.
        self.commanded_grasp = grasp
        self.commanded_p = frames[2] - self.origin
        self.commanded_r = frames[0] @ self.tool.hand_rotation
        self.goal_p, self.goal_r = self.commanded_p, self.commanded_r
        targets = source.ee_targets.get(side)
        if self.commanded and targets is not None and len(targets.t_s):
            self.goal_p, self.goal_r = self._targets(targets, measured[0], frames)
        #: The commanded joints (measured where no command was recorded) at :attr:`t_s`.
        self.commanded_q = commanded
        self.closure_cmd = self.tool.closures(commanded)
        self._synthetic: FloatArray | None = None
        self._held: int | None = None
        self._held_closures: tuple[float, float] | None = None
        # The measured path and closure, which a port in physics is compared with (a
        # kinematic port is compared with the commanded ones, :meth:`_pipeline_path`).
        self.actual_p, self.actual_r = self.commanded_p, self.commanded_r
        self.closure = self.closure_cmd
        if measured_too:
            self.actual_p, self.actual_r = self._path(measured)
            self.closure = self.tool.closures(measured)
        elif self.commanded:
            self.actual_p, self.actual_r = self._pipeline_path(source, model, commanded)

    def _targets(
        self,
        targets: Samples,
        q0: FloatArray,
        frames: tuple[FloatArray, FloatArray, FloatArray],
    ) -> tuple[FloatArray, FloatArray]:
        """The tool path the source's operator asked for: each recorded EE target (the arm
        IK's input) with the tool point where it sat on the hand at the previous command
        (as the port places the target's). The IK does not always reach its target
        (position first, orientation second), so the commands' FK alone loses what the
        operator asked for, and the target's IK would solve another problem."""
        steps = np.clip(np.searchsorted(targets.t_s, self.t_s, side="right") - 1, 0, None)
        rows = targets.values[steps]
        # the frames of the previous command (q0's before the first)
        r_cmd, p_cmd, point_cmd = (
            np.concatenate([first[None], every[:-1]])
            for first, every in zip(self.tool.frames(q0), frames, strict=True)
        )
        r_ee = rotations_from_quats(rows[:, 3:7])
        # each row's r_ee @ (r_cmd.T @ (point - p)), as stacked products (numpy's matmul
        # takes the same matrix-vector product per row: the same numbers)
        offset = np.matmul(r_cmd.transpose(0, 2, 1), (point_cmd - p_cmd)[:, :, None])
        goal_p = rows[:, :3] + np.matmul(r_ee, offset)[:, :, 0]
        return goal_p - self.origin, r_ee @ self.tool.hand_rotation

    def hold_goal_near_commands(self, within_m: float) -> None:
        """Hold the goal's tool points within ``within_m`` [m] of the commanded ones: where
        the source's IK did not reach what its operator asked for, the source robot's hand
        went where it was commanded, and its operator's next moves (a scripted push re-aims
        after a stall) answered that hand, not the unreached target. Romeo's IK stopped up to
        9 cm short of its push targets (its commands' tool point 2 cm or more from the
        target's on 7-53% of the samples, seeds 1-5; G1's at most 1 cm): a target following
        the targets went where Romeo's hand never was (romeo -> g1 free-space p95 up to
        9 cm, the source's own target-to-measured gap). Within ``within_m`` the target is
        kept: the IK trades position for orientation, and the target's IK solves its own."""
        gap = self.goal_p - self.commanded_p
        norm = np.linalg.norm(gap, axis=1, keepdims=True)
        held = self.commanded_p + gap * (within_m / np.maximum(norm, 1e-12))
        self.goal_p = np.where(norm > within_m, held, self.goal_p)

    def _pipeline_path(
        self, source: SourceEpisode, model: RobotModel, commanded: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """The tool path (task frame) and hand-frame rotations of the source pipeline's whole
        command, which a kinematic port (all commands) is compared with: ``commanded`` (the
        recorded commands, measured elsewhere) with every group no command was recorded for
        (a waist) where it was at engage, where the pipeline's command held it, and the
        hand's mimic joints set from its commanded joint, as the port's
        :class:`~.goal.CommandFrames` set them. The commanded path (the goal's) keeps the
        measured waist and fingers; compared with it, a kinematic self-port whose commands
        repeat the source's bit for bit was off by the source's physics: TALOS' torso, bent
        up to 0.06 rad by its scripted push, 2.8 cm free-space p95 (G1 0.6 cm, Alex 0.9,
        Romeo 0.3), and Romeo's fingers, stopped by the cube short of where its commanded
        hand closes them, 1.9 cm on its pick."""
        held = [
            model.group_indices(g) for g in model.description.groups if g not in source.commands
        ]
        if not held and not model.mimics:
            return self.commanded_p, self.commanded_r
        q = commanded.copy()
        if held:
            columns = np.concatenate(held)
            q[:, columns] = self.measured[source.joints.index(0.0), columns]
        return self._path(model.apply_mimic_rows(q))

    def _path(self, q: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Tool points (task frame) and hand-frame rotations at each row of ``q``: each
        row's :meth:`ArmTool.tool`, the same numbers, from one compiled pass."""
        rotations, _, points = self.tool.frames_rows(q)
        return points - self.origin, rotations @ self.tool.hand_rotation

    def synthetic_hand(self, k: int) -> FloatArray:
        """The synthetic operator hand (:func:`hand_points`, 25 joints [m], hand frame)
        closed as the source hand's commands were at sample ``k`` (or as :meth:`hold_closure`
        holds it)."""
        if self._synthetic is None:  # every sample's in one pass, at the first ask
            closures = self.closure_cmd
            if self._held is not None:
                closures = np.full(len(closures), closures[self._held])
                if self._held_closures is not None:
                    closures[: self._held] = self._held_closures[0]
                    closures[self._held :] = self._held_closures[1]
            self._synthetic = hand_points_rows(self.tool.side, closures)
        hand: FloatArray = self._synthetic[k]
        return hand

    def hold_closure(self, k: int, closures: tuple[float, float] | None = None) -> None:
        """Make every :meth:`synthetic_hand` the one closed as the source's was at sample
        ``k`` (or, given ``closures`` in [0, 1]: the first before ``k``, the second from
        ``k`` on)."""
        self._held = k
        self._held_closures = closures
        self._synthetic = None

    def index(self, t_s: float) -> int:
        """The newest sample at or before ``t_s``."""
        return max(bisect.bisect_right(self._times, t_s) - 1, 0)  # np.searchsorted's index
