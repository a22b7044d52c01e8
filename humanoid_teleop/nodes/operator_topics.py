"""The operator-input topics: where devices publish and where the teleop node republishes
what it used (the intent a recording keeps beside the robot's data).

The names live in :mod:`humanoid_teleop.core.motion.topics` (pure strings, also used by the
bag readers); this module adds each topic's message type.
"""

from __future__ import annotations

from collections.abc import Mapping

from geometry_msgs.msg import PoseArray, PoseStamped
from sensor_msgs.msg import JointState, Joy

from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.core.motion.topics import INPUT_NAMES, INTENT_PREFIX, OPERATOR_PREFIX

_TYPES: Mapping[Input, type] = {
    Input.HEAD: PoseStamped,
    Input.LEFT_WRIST: PoseStamped,
    Input.RIGHT_WRIST: PoseStamped,
    Input.LEFT_HAND: PoseArray,
    Input.RIGHT_HAND: PoseArray,
    Input.JOY: Joy,
    Input.LEADER: JointState,
}

OPERATOR_TOPICS: Mapping[str, type] = {INPUT_NAMES[part]: _TYPES[part] for part in Input}
"""Topic name (after the prefix) -> message type."""

__all__ = ["INPUT_NAMES", "INTENT_PREFIX", "OPERATOR_PREFIX", "OPERATOR_TOPICS", "operator_topic"]


def operator_topic(name: str) -> str:
    """The topic a device publishes operator input ``name`` on (``/operator/<name>``).

    Raises:
        KeyError: ``name`` is not in :data:`OPERATOR_TOPICS` (a typo in a node, at start-up).
    """
    if name not in OPERATOR_TOPICS:
        raise KeyError(f"{name!r} is not an operator topic; known: {', '.join(OPERATOR_TOPICS)}")
    return OPERATOR_PREFIX + name
