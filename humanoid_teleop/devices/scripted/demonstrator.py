"""The scripted demonstrator: what an operator would do to perform a scene's task.

It produces operator intent only (a wrist pose in the operator frame and a hand skeleton),
which goes through the normal teleop pipeline (retargeting + safety) like a person's. It
closes the loop the way a person watching the robot does: each step it compares where the
robot's grasp point is (from the measured joints) with where it should be for the current
phase, and moves its own wrist to reduce the difference (an integral controller, so the
operator-to-robot scale and the arm's lag need not be known).

Phases (``pick_and_place``): settle, above (the object + ``approach_height_m``), down (grasp
height), close, lift, carry (above the target), lower, open, retreat, done. ``push`` goes
behind the object (on the side away from the target), down to the object's mid-height and
pushes it along the line to the target centre, then rises. The grasp point is where the
hand pinches: the midpoint of the thumb and index fingertip frames (else the mean of the
fingertip frames, else the EE frame), in the robot's base frame.

How the hand is held: while settling, the operator tips the fingers ``tilt_down_rad`` down and
turns the hand ``roll_rad`` about the forearm (mirrored for a left hand), so on G1's Dex3 the
thumb comes down behind the object and the index and middle fingers side by side in front of
it: the pinch closes across the object instead of pressing on its top. Going down, the hand
may hold its thumb spread wider than its fingers' curl (``preshape_thumb``), as a person
about to pinch opens thumb and index wide. As a person does, it
rises before moving over an object while its lowest fingertip is below the object's top
(+ ``clearance_m``), lines up over a spot before going down to it, and only moves the wrist
away once the hand is open. A robot may hold the object with a grip short of a full pinch
(``grip_closure``), keep the wrist still while its fingers close on the object or let go of
it (``still_wrist_grasping``), set the object down without pressing it into the table
(``lower_press_m``) and let go quickly (``open_rate_per_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.motion.frame import HandSkeleton, Pose
from humanoid_teleop.core.motion.hands import skeleton_in_world
from humanoid_teleop.devices.scripted.hand_model import hand_points

FloatArray = NDArray[np.float64]

#: The phases of each task, in order.
PHASES: dict[str, tuple[str, ...]] = {
    "pick_and_place": (
        "settle",
        "above",
        "down",
        "close",
        "lift",
        "carry",
        "lower",
        "open",
        "retreat",
        "done",
    ),
    "push": ("settle", "above", "down", "push", "retreat", "done"),
}


@dataclass(frozen=True)
class DemonstratorConfig:
    """How the demonstrator moves. Distances [m], speeds [m/s], times [s], gain [1/s]."""

    approach_height_m: float = 0.04
    grasp_height_m: float = 0.0
    lift_height_m: float = 0.10
    gain_per_s: float = 4.0
    max_wrist_speed_m_s: float = 0.3
    tolerance_m: float = 0.012
    settle_s: float = 2.0
    close_s: float = 1.5
    open_s: float = 0.6
    max_attempts: int = 3
    preshape: float = 0.35
    #: How far the thumb has come toward the index tip in the preshape, in [0, 1] (None: as
    #: far as the fingers, ``preshape``). A person about to pinch spreads the thumb wide of
    #: the fingers (0: fully spread); closing brings both to the pinch together.
    preshape_thumb: float | None = None
    align_m: float = 0.02
    carry_speed_m_s: float = 0.3
    stall_s: float = 1.5
    phase_timeout_s: float = 6.0
    tilt_down_rad: float = math.radians(30.0)
    roll_rad: float = math.radians(-90.0)
    push_behind_m: float = 0.035
    clearance_m: float = 0.01
    push_done_m: float = 0.02
    #: The hand held through a push, the same on every robot: the fingers curled to
    #: ``push_closure`` and the thumb ``push_thumb`` of the way to the index tip (pinch
    #: 7.5 cm), a relaxed hand. The flat open hand was retargeted by G1's Dex3 vector
    #: matching to a 0.64 curl until the hand solve held its bounded joints (now ~0.2); this
    #: one stays below 0.5 on every hand (grippers follow the pinch: open from 8 cm), and
    #: G1 still pushes (a more open thumb catches the puck).
    push_closure: float = 0.4
    push_thumb: float = 0.3
    #: Closure the hand holds an object with (close, lift, carry, lower), in (0, 1]: 1 is a
    #: full pinch (thumb tip on index tip); below it the operator's thumb stops short, as a
    #: person's does on the object.
    grip_closure: float = 1.0
    #: How fast the hand opens to let go of the object [closure / s].
    open_rate_per_s: float = 1.0
    #: Hold the wrist still while the hand closes on the object and while it opens (else
    #: the wrist keeps the pinch point on its goal as the fingers move).
    still_wrist_grasping: bool = False
    #: How far below the object's resting height the grasp point is lowered to set the
    #: object down [m] (the hand presses it onto the table until it rests).
    lower_press_m: float = 0.03


@dataclass(frozen=True)
class Intent:
    """Operator intent of one step: the wrist pose (operator frame) and the hand skeleton."""

    wrist: Pose
    hand: HandSkeleton
    closure: float


class ScriptedDemonstrator:
    """Drives one hand through a task; call :meth:`step` at the device rate."""

    def __init__(
        self,
        task: str,
        side: str,
        target_m: FloatArray,
        table_top_m: float,
        object_half_height_m: float,
        config: DemonstratorConfig | None = None,
        *,
        object_radius_m: float | None = None,
    ) -> None:
        if task not in ("pick_and_place", "push"):
            raise ValueError(
                f"the scripted demonstrator performs pick_and_place or push, not {task!r}"
            )
        self.task = task
        self.side = side
        self.config = config or DemonstratorConfig()
        self.target_m = np.asarray(target_m, dtype=np.float64)
        self.table_top_m = float(table_top_m)
        self.half_height_m = float(object_half_height_m)
        #: Horizontal extent of the object from its centre [m] (default: its half height).
        self.radius_m = float(object_half_height_m if object_radius_m is None else object_radius_m)
        self.phase = "settle"
        self._phase_start_s: float | None = None
        self._wrist = np.array([0.35, -0.2 if side == "right" else 0.2, 1.1])
        # a pushing hand is held relaxed from the start (it does not close on anything)
        self._closure = self.config.push_closure if task == "push" else 0.0
        self._last_t_s: float | None = None
        self._tilt = 0.0
        self._roll = 0.0
        self._push_goal: FloatArray | None = None
        self._push_from = np.zeros(2)
        self._lift_goal: FloatArray | None = None
        self._hold: FloatArray | None = None
        #: Grasps tried again after a miss.
        self.attempts = 0
        self._stall_mark: tuple[float, float] | None = None
        self._grasp_now = np.zeros(3)

    @property
    def done(self) -> bool:
        """True once the script has finished (the hand is back up and open)."""
        return self.phase == "done"

    def _goal(self, obj: FloatArray, reach_m: float = 0.0) -> tuple[FloatArray, float]:
        """(grasp-point goal [m] in the base frame, hand closure) of the current phase.

        ``reach_m``: how far the lowest fingertip hangs below the grasp point [m]; the hand
        never asks for that fingertip below the table top (+ 5 mm)."""
        cfg = self.config
        floor_z = self.table_top_m + 0.005 + max(reach_m, 0.0)
        grasp_z = max(obj[2] + cfg.grasp_height_m, floor_z)
        top_z = obj[2] + self.half_height_m + max(reach_m, 0.0)
        above_obj = np.array([obj[0], obj[1], max(grasp_z, top_z) + cfg.approach_height_m])
        place_z = max(self.table_top_m + self.half_height_m + cfg.grasp_height_m + 0.005, floor_z)
        above_target = np.array([self.target_m[0], self.target_m[1], place_z + cfg.lift_height_m])
        phase = self.phase
        if self.task == "push":
            if self._push_goal is None:  # fixed from the start pose: push along one line
                direction = self.target_m[:2] - obj[:2]
                direction /= max(float(np.linalg.norm(direction)), 1e-6)
                self._push_from = obj[:2] - direction * (cfg.push_behind_m + self.radius_m)
                self._push_goal = self.target_m[:2] - direction * self.radius_m
            behind = self._push_from
            if phase in ("settle", "above"):
                return np.array([behind[0], behind[1], above_obj[2]]), cfg.push_closure
            if phase == "down":
                return np.array([behind[0], behind[1], grasp_z]), cfg.push_closure
            if phase == "push":
                return np.array([self._push_goal[0], self._push_goal[1], grasp_z]), cfg.push_closure
            if self._hold is None:  # straight up from where the push ended
                self._hold = np.array(self._grasp_now)
            return self._hold + np.array([0.0, 0.0, cfg.lift_height_m]), cfg.push_closure
        if phase in ("settle", "above"):
            return above_obj, cfg.preshape
        if phase == "down":
            return np.array([obj[0], obj[1], grasp_z]), cfg.preshape
        grip = cfg.grip_closure
        if phase == "close":
            return np.array([obj[0], obj[1], grasp_z]), grip
        if phase == "reopen":  # the grasp missed: open, rise, try again from above
            if self._hold is None:
                self._hold = np.array(self._grasp_now) + np.array([0.0, 0.0, 0.03])
            return self._hold, 0.0
        if phase == "lift":
            if self._lift_goal is None:  # from where the grasp closed, not the moving object
                self._lift_goal = np.array([obj[0], obj[1], grasp_z + cfg.lift_height_m])
            return self._lift_goal, grip
        if phase == "carry":
            return above_target, grip
        if phase == "lower":  # down until the object sits on the table (see step)
            place = place_z - cfg.lower_press_m
            return np.array([self.target_m[0], self.target_m[1], place]), grip
        if self._hold is None:  # open and retreat from where the object was set down
            self._hold = np.array(self._grasp_now)
        if phase == "open":
            return self._hold, 0.0
        return self._hold + np.array([0.0, 0.0, cfg.lift_height_m]), 0.0

    def _stalled(self, t_s: float, z_m: float, goal_z_m: float) -> bool:
        """True when going down made no progress (< 5 mm) for ``stall_s`` while still more
        than 1.5 cm above the goal (the fingers rest on the object)."""
        if self._stall_mark is None or z_m < self._stall_mark[1] - 0.005:
            self._stall_mark = (t_s, z_m)
            return False
        if t_s - self._stall_mark[0] >= self.config.stall_s and z_m > goal_z_m + 0.015:
            self._stall_mark = None
            return True
        return False

    def _advance(self, t_s: float) -> None:
        order = PHASES[self.task]
        self.phase = order[min(order.index(self.phase) + 1, len(order) - 1)]
        self._phase_start_s = t_s
        self._stall_mark = None

    def _hand_local(self) -> FloatArray:
        """The hand skeleton (hand frame) at the current closure: picking, the thumb may be
        spread wider than the fingers' curl (``preshape_thumb``); pushing, the fingers curl
        and the thumb stays spread (``DemonstratorConfig.push_closure``, ``push_thumb``)."""
        if self.task != "push":
            thumb = pick_thumb(self._closure, self.config.preshape, self.config.preshape_thumb)
            return hand_points(self.side, self._closure, thumb)
        thumb = self.config.push_thumb * self._closure / max(self.config.push_closure, 1e-6)
        return hand_points(self.side, self._closure, thumb)

    def hold(self) -> Intent:
        """The current intent without moving or advancing (before the teleop engages; the
        phase clock restarts at the next :meth:`step`)."""
        self._phase_start_s = self._last_t_s = None
        rotation = _pitch(self._tilt) @ _roll(self._roll)
        hand = skeleton_in_world(self._hand_local(), self._wrist, rotation)
        return Intent(Pose(self._wrist.copy(), rotation), hand, self._closure)

    def step(
        self,
        t_s: float,
        grasp_point_m: FloatArray,
        object_m: FloatArray,
        lowest_tip_z_m: float | None = None,
    ) -> Intent:
        """Intent at time ``t_s`` [s] given the robot's grasp point, the object's centre and
        the height of the robot's lowest fingertip (all [m], robot base frame)."""
        cfg = self.config
        if self._phase_start_s is None:
            self._phase_start_s = t_s
        dt = 0.0 if self._last_t_s is None else max(0.0, min(t_s - self._last_t_s, 0.1))
        self._last_t_s = t_s
        grasp = np.asarray(grasp_point_m, dtype=np.float64)
        self._grasp_now = grasp
        reach = 0.0 if lowest_tip_z_m is None else float(grasp[2]) - lowest_tip_z_m
        goal, closure = self._goal(np.asarray(object_m, dtype=np.float64), reach)
        error = goal - grasp
        if self.phase in ("down", "lower") and float(np.linalg.norm(error[:2])) > cfg.align_m:
            error[2] = max(error[2], 0.0)  # line up over the spot before going down
        clear_z = float(object_m[2]) + self.half_height_m + cfg.clearance_m
        if self.phase == "above" and lowest_tip_z_m is not None and lowest_tip_z_m < clear_z:
            # rise before moving over: fingertips swept sideways at table height hit the object
            error[:2] = 0.0
            error[2] = max(error[2], clear_z + cfg.tolerance_m - lowest_tip_z_m)
        elapsed = t_s - self._phase_start_s
        reached = float(np.linalg.norm(error)) < cfg.tolerance_m
        if self.phase == "settle":
            if elapsed >= cfg.settle_s:
                self._advance(t_s)
            error = np.zeros(3)  # let the engage ramp finish before moving
            if self.task == "push" and lowest_tip_z_m is not None and lowest_tip_z_m < clear_z:
                # tipping the fingers down swings them below the object's top: rise as they
                # go (held still, G1's came down onto the table beside the puck, touching it)
                error[2] = clear_z + cfg.tolerance_m - lowest_tip_z_m
        elif self.phase in ("close", "open", "reopen"):
            # the hand must be open before the wrist moves away (it would drag the object);
            # a pushing hand holds nothing: it backs off as it is
            opened = self.phase == "close" or self._closure <= 0.01 or self.task == "push"
            if opened and elapsed >= (cfg.close_s if self.phase == "close" else cfg.open_s):
                if self.phase == "reopen":
                    self.phase, self._phase_start_s = "above", t_s
                    self._hold = self._lift_goal = None
                    if self.task == "push":  # re-aimed from where the object is now
                        self._push_goal = None
                else:
                    self._advance(t_s)
        elif self.phase == "down" and self._stalled(t_s, float(grasp[2]), float(goal[2])):
            self.attempts += 1  # resting on the object, not beside it: back off and retry
            self.phase, self._phase_start_s = "reopen", t_s
            if self.attempts > cfg.max_attempts:
                self.phase = "retreat"
        elif self.phase == "carry" and float(object_m[2]) < (
            self.table_top_m + self.half_height_m + 0.02
        ):  # dropped on the way: pick it up again
            self.attempts += 1
            self.phase, self._phase_start_s = "reopen", t_s
            if self.attempts > cfg.max_attempts:
                self.phase = "retreat"
        elif self.phase == "lift" and (reached or elapsed >= cfg.phase_timeout_s):
            lifted = float(object_m[2]) > self.table_top_m + self.half_height_m + 0.03
            if lifted or self.attempts >= cfg.max_attempts:
                self._advance(t_s)
            else:
                self.attempts += 1
                self.phase, self._phase_start_s = "reopen", t_s
        elif self.phase == "lower":
            resting_z = self.table_top_m + self.half_height_m
            if float(object_m[2]) < resting_z + 0.004 or elapsed >= cfg.phase_timeout_s:
                self._advance(t_s)
                error = np.zeros(3)
        elif self.phase == "push":  # until the object sits on the target centre (or the
            # hand is where it aimed)
            off_target = float(np.linalg.norm(np.asarray(object_m)[:2] - self.target_m[:2]))
            if reached or elapsed >= cfg.phase_timeout_s or off_target < cfg.push_done_m:
                self._advance(t_s)
                error = np.zeros(3)
        elif self.phase != "done" and (reached or elapsed >= cfg.phase_timeout_s):
            self._advance(t_s)
        if cfg.still_wrist_grasping and self.phase in ("close", "open"):
            error = np.zeros(3)  # the fingers close on / let go of the object, the wrist waits
        velocity = cfg.gain_per_s * error
        speed = float(np.linalg.norm(velocity))
        limit = cfg.carry_speed_m_s if self.phase in ("lift", "carry") else cfg.max_wrist_speed_m_s
        if speed > limit:
            velocity *= limit / speed
        self._wrist = self._wrist + velocity * dt
        # the closure and the tilt change smoothly, as a hand does
        opening = cfg.open_rate_per_s if self.phase == "open" else 1.0
        self._closure += float(np.clip(closure - self._closure, -opening * dt, 1.0 * dt))
        # tip the fingers down while settling, before the wrist goes anywhere (tilting on
        # the way swings the fingertips down into the object)
        self._tilt += float(np.clip(cfg.tilt_down_rad - self._tilt, -0.5 * dt, 0.5 * dt))
        roll = cfg.roll_rad if self.side == "right" else -cfg.roll_rad
        self._roll += float(np.clip(roll - self._roll, -1.0 * dt, 1.0 * dt))
        rotation = _pitch(self._tilt) @ _roll(self._roll)
        wrist = Pose(self._wrist.copy(), rotation)
        local = self._hand_local()
        hand = skeleton_in_world(local, self._wrist, rotation)
        return Intent(wrist, hand, self._closure)


def pick_thumb(closure: float, preshape: float, preshape_thumb: float | None) -> float | None:
    """How far a picking hand's thumb has come toward the index tip at ``closure`` (the
    ``thumb`` of :func:`~humanoid_teleop.devices.scripted.hand_model.hand_points`; None: as
    far as the fingers): ``preshape_thumb`` at ``preshape``, linear from the open hand to it
    and from it to the pinch (1 at closure 1)."""
    if preshape_thumb is None:
        return None
    if closure <= preshape:
        return preshape_thumb * closure / max(preshape, 1e-6)
    rest = (closure - preshape) / max(1.0 - preshape, 1e-6)
    return preshape_thumb + (1.0 - preshape_thumb) * rest


def grasp_posture(config: DemonstratorConfig, side: str) -> FloatArray:
    """The operator wrist rotation (operator frame) the demonstrator holds a ``side`` hand in
    once it has turned it for the task: ``tilt_down_rad``, then ``roll_rad`` (mirrored for a
    left hand)."""
    roll = config.roll_rad if side == "right" else -config.roll_rad
    return _pitch(config.tilt_down_rad) @ _roll(roll)


def _pitch(angle_rad: float) -> FloatArray:
    """Rotation about the operator's y axis (left): positive tips the fingers (+x) down."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _roll(angle_rad: float) -> FloatArray:
    """Rotation about the hand's x axis (toward the fingers)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
