"""Human motion: :class:`HumanFrame` and its parts, a BVH reader, hand-skeleton conversions."""

from humanoid_teleop.core.motion.frame import (
    WEBXR_FINGER_CHAINS,
    WEBXR_HAND_JOINTS,
    WEBXR_TIPS,
    HandSkeleton,
    HumanFrame,
    Input,
    JoyState,
    LeaderJoints,
    Pose,
)

__all__ = [
    "WEBXR_FINGER_CHAINS",
    "WEBXR_HAND_JOINTS",
    "WEBXR_TIPS",
    "HandSkeleton",
    "HumanFrame",
    "Input",
    "JoyState",
    "LeaderJoints",
    "Pose",
]
