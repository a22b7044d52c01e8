"""What an operator device provides at one instant, in the operator frame.

The **operator frame** follows REP-103: metres, x forward, y left, z up, origin on the floor
below the operator's head at calibration. Quaternions are (x, y, z, w) as in ROS messages.

The **human hand frame** (both hands): origin at the wrist; +x from the wrist toward the
middle-finger knuckle; +z out of the back of the hand (opposite to the palm normal);
+y = z x x, so the thumb is at +y for the right hand and at -y for the left hand.

Every part of a :class:`HumanFrame` is optional: a device fills what it measures and leaves
the rest ``None``. :meth:`HumanFrame.validity` says which parts are present *and* finite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.finite import all_finite
from humanoid_teleop.core.motion.rotation import matrix_to_quat, quat_to_matrix

FloatArray = NDArray[np.float64]

#: The 25 joints of the WebXR / OpenXR hand skeleton, in order (wrist first).
WEBXR_HAND_JOINTS: tuple[str, ...] = (
    "wrist",
    "thumb-metacarpal",
    "thumb-phalanx-proximal",
    "thumb-phalanx-distal",
    "thumb-tip",
    "index-finger-metacarpal",
    "index-finger-phalanx-proximal",
    "index-finger-phalanx-intermediate",
    "index-finger-phalanx-distal",
    "index-finger-tip",
    "middle-finger-metacarpal",
    "middle-finger-phalanx-proximal",
    "middle-finger-phalanx-intermediate",
    "middle-finger-phalanx-distal",
    "middle-finger-tip",
    "ring-finger-metacarpal",
    "ring-finger-phalanx-proximal",
    "ring-finger-phalanx-intermediate",
    "ring-finger-phalanx-distal",
    "ring-finger-tip",
    "pinky-finger-metacarpal",
    "pinky-finger-phalanx-proximal",
    "pinky-finger-phalanx-intermediate",
    "pinky-finger-phalanx-distal",
    "pinky-finger-tip",
)

#: The shape of :attr:`HandSkeleton.positions_m`: a position [m] per WebXR joint (a module
#: constant: a skeleton is built every teleop step).
HAND_SKELETON_SHAPE: tuple[int, int] = (len(WEBXR_HAND_JOINTS), 3)

#: Finger name -> indices into :data:`WEBXR_HAND_JOINTS`, from the base of the chain to the tip.
WEBXR_FINGER_CHAINS: Mapping[str, tuple[int, ...]] = {
    "thumb": (1, 2, 3, 4),
    "index": (5, 6, 7, 8, 9),
    "middle": (10, 11, 12, 13, 14),
    "ring": (15, 16, 17, 18, 19),
    "pinky": (20, 21, 22, 23, 24),
}

#: Finger name -> index of its tip in :data:`WEBXR_HAND_JOINTS`.
WEBXR_TIPS: Mapping[str, int] = {name: chain[-1] for name, chain in WEBXR_FINGER_CHAINS.items()}


class Input(str, Enum):
    """The parts of a :class:`HumanFrame` a retargeter can ask for."""

    HEAD = "head"
    LEFT_WRIST = "left_wrist"
    RIGHT_WRIST = "right_wrist"
    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    JOY = "joy"
    LEADER = "leader"


@dataclass(frozen=True)
class Pose:
    """A rigid pose: ``position_m`` (3,) [m] and ``rotation`` (3, 3) in the parent frame."""

    position_m: FloatArray
    rotation: FloatArray

    @classmethod
    def from_quat(cls, position_m: FloatArray, quat_xyzw: FloatArray) -> Pose:
        """Pose from a position [m] and a quaternion (x, y, z, w)."""
        return cls(np.asarray(position_m, dtype=np.float64), quat_to_matrix(quat_xyzw))

    @classmethod
    def identity(cls) -> Pose:
        """The pose at the origin with no rotation."""
        return cls(np.zeros(3), np.eye(3))

    def quat_xyzw(self) -> FloatArray:
        """Orientation as a unit quaternion (x, y, z, w)."""
        return matrix_to_quat(self.rotation)

    def is_finite(self) -> bool:
        """True if every number is finite (no NaN, no inf)."""
        # A finite sum has only finite terms (a NaN or an inf makes it NaN or inf): summing
        # the 12 numbers as Python floats is ~6x cheaper than numpy's two checks (once per
        # wrist per teleop step); a sum that is not finite (or overflowed) is checked by them.
        try:
            total = sum(self.position_m.tolist()) + sum(self.rotation.ravel().tolist())
        except AttributeError:  # not arrays
            total = math.inf
        if math.isfinite(total):
            return True
        return bool(np.isfinite(self.position_m).all() and np.isfinite(self.rotation).all())


@dataclass(frozen=True)
class HandSkeleton:
    """The 25 WebXR hand joints, wrist first: ``positions_m`` (25, 3) in the operator frame."""

    positions_m: FloatArray

    def __post_init__(self) -> None:
        if self.positions_m.shape != HAND_SKELETON_SHAPE:
            raise ValueError(
                f"hand skeleton needs shape (25, 3) (WebXR joints), got {self.positions_m.shape}"
            )

    def is_finite(self) -> bool:
        """True if every joint position is finite."""
        return all_finite(self.positions_m)

    def tip(self, finger: str) -> FloatArray:
        """Position [m] of a fingertip (``thumb``, ``index``, ``middle``, ``ring``, ``pinky``)."""
        tip: FloatArray = self.positions_m[WEBXR_TIPS[finger]]
        return tip


@dataclass(frozen=True)
class JoyState:
    """Gamepad state as in sensor_msgs/Joy: ``axes`` in [-1, 1] and ``buttons`` (0 or 1)."""

    axes: tuple[float, ...]
    buttons: tuple[int, ...]

    def is_finite(self) -> bool:
        """True if every axis value is finite."""
        return all(math.isfinite(a) for a in self.axes)

    def axis(self, index: int) -> float:
        """Axis value, 0.0 when the pad has fewer axes."""
        return self.axes[index] if 0 <= index < len(self.axes) else 0.0

    def button(self, index: int) -> bool:
        """True while the button is pressed; False when the pad has fewer buttons."""
        return bool(self.buttons[index]) if 0 <= index < len(self.buttons) else False


@dataclass(frozen=True)
class LeaderJoints:
    """Leader device (exoskeleton, leader arm) joint angles [rad] by joint name."""

    names: tuple[str, ...]
    positions_rad: FloatArray

    def __post_init__(self) -> None:
        if len(self.names) != len(self.positions_rad):
            raise ValueError(
                f"leader joints: {len(self.names)} names but {len(self.positions_rad)} positions"
            )

    def is_finite(self) -> bool:
        """True if every angle is finite."""
        return all_finite(self.positions_rad)

    def as_dict(self) -> dict[str, float]:
        """Joint name -> angle [rad]."""
        return {n: float(v) for n, v in zip(self.names, self.positions_rad, strict=True)}


@dataclass(frozen=True, init=False)
class HumanFrame:
    """One timestamped sample of operator input; ``t_s`` is the capture time [s]."""

    t_s: float
    head: Pose | None = None
    left_wrist: Pose | None = None
    right_wrist: Pose | None = None
    left_hand: HandSkeleton | None = None
    right_hand: HandSkeleton | None = None
    joy: JoyState | None = None
    leader: LeaderJoints | None = None
    extra: Mapping[str, float] = field(default_factory=dict)

    def __init__(
        self,
        t_s: float,
        head: Pose | None = None,
        left_wrist: Pose | None = None,
        right_wrist: Pose | None = None,
        left_hand: HandSkeleton | None = None,
        right_hand: HandSkeleton | None = None,
        joy: JoyState | None = None,
        leader: LeaderJoints | None = None,
        extra: Mapping[str, float] | None = None,
    ) -> None:
        """The fields as declared above (``extra``: None or left out, a new empty dict).

        Written out, not generated: a frozen dataclass's ``__init__`` sets each of the nine
        fields through ``object.__setattr__`` (~0.6 us of its ~1.3 us), and a device or the
        port builds a frame every teleop step. test_frame checks it sets every field.
        """
        self.__dict__.update(
            t_s=t_s,
            head=head,
            left_wrist=left_wrist,
            right_wrist=right_wrist,
            left_hand=left_hand,
            right_hand=right_hand,
            joy=joy,
            leader=leader,
            extra={} if extra is None else extra,
        )

    def part(self, which: Input) -> Pose | HandSkeleton | JoyState | LeaderJoints | None:
        """The part named by ``which`` (``None`` when the device did not provide it)."""
        value: Pose | HandSkeleton | JoyState | LeaderJoints | None = getattr(self, which.value)
        return value

    def is_valid(self, which: Input) -> bool:
        """True if the part is present and holds only finite numbers."""
        value = self.part(which)
        return value is not None and value.is_finite()

    def validity(self) -> dict[Input, bool]:
        """Each input -> present and finite."""
        return {which: self.is_valid(which) for which in Input}

    def wrist(self, side: str) -> Pose | None:
        """Wrist pose of ``'left'`` or ``'right'``."""
        return self.left_wrist if side == "left" else self.right_wrist

    def hand(self, side: str) -> HandSkeleton | None:
        """Hand skeleton of ``'left'`` or ``'right'``."""
        return self.left_hand if side == "left" else self.right_hand
