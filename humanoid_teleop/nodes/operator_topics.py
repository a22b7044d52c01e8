"""The operator-input topics: where devices publish and where the teleop node republishes
what it used (the intent a recording keeps beside the robot's data)."""

from __future__ import annotations

from collections.abc import Mapping

from geometry_msgs.msg import PoseArray, PoseStamped
from sensor_msgs.msg import JointState, Joy

from humanoid_teleop.core.motion.frame import Input

OPERATOR_PREFIX = "/operator/"
"""Devices (or replay_node) publish operator input under this prefix."""

INTENT_PREFIX = "/teleop/intent/"
"""teleop_node republishes the input it used under this prefix, with the same names."""

OPERATOR_TOPICS: Mapping[str, type] = {
    "head": PoseStamped,
    "left_wrist": PoseStamped,
    "right_wrist": PoseStamped,
    "left_hand": PoseArray,
    "right_hand": PoseArray,
    "joy": Joy,
    "leader_joints": JointState,
}
"""Topic name (after the prefix) -> message type."""

INPUT_NAMES: Mapping[Input, str] = {
    Input.HEAD: "head",
    Input.LEFT_WRIST: "left_wrist",
    Input.RIGHT_WRIST: "right_wrist",
    Input.LEFT_HAND: "left_hand",
    Input.RIGHT_HAND: "right_hand",
    Input.JOY: "joy",
    Input.LEADER: "leader_joints",
}
"""HumanFrame part -> its topic name."""


def operator_topic(name: str) -> str:
    """The topic a device publishes operator input ``name`` on (``/operator/<name>``).

    Raises:
        KeyError: ``name`` is not in :data:`OPERATOR_TOPICS` (a typo in a node, at start-up).
    """
    if name not in OPERATOR_TOPICS:
        raise KeyError(f"{name!r} is not an operator topic; known: {', '.join(OPERATOR_TOPICS)}")
    return OPERATOR_PREFIX + name
