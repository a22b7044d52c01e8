"""Operator-input topic names: where devices publish and where teleop_node republishes.

Pure strings, so core readers of recorded bags use the same names as the nodes;
``humanoid_teleop.nodes.operator_topics`` adds each topic's message type.
"""

from __future__ import annotations

from collections.abc import Mapping

from humanoid_teleop.core.motion.frame import Input

OPERATOR_PREFIX = "/operator/"
"""Devices (or replay_node) publish operator input under this prefix."""

INTENT_PREFIX = "/teleop/intent/"
"""teleop_node republishes the input it used under this prefix, with the same names."""

ENGAGED_TOPIC = INTENT_PREFIX + "engaged"
"""teleop_node's engaged flag (std_msgs/Bool, latched, published on change)."""

CALIBRATED_TOPIC = INTENT_PREFIX + "calibrated"
"""teleop_node's calibrations (std_msgs/Header, latched): one message each time the pipeline
captures the operator's neutral pose (the first frame after an engage, a re-centre), stamped
with that step's time; the EE targets from that stamp on map the operator's input through it."""

EE_TARGET_PREFIX = "/teleop/ee_target/"
"""teleop_node's arm IK targets (geometry_msgs/PoseStamped, base frame) as ``<prefix><side>``."""

STATE_TOPIC = "/teleop/state"
"""teleop_node's state (diagnostic_msgs/DiagnosticArray; content: core/retarget/teleop_state)."""

RECORDED_PREFIXES = (INTENT_PREFIX, OPERATOR_PREFIX)
"""Where a recording holds operator input, preferred first (what teleop used, else raw)."""

INPUT_NAMES: Mapping[Input, str] = {
    Input.HEAD: "head",
    Input.LEFT_WRIST: "left_wrist",
    Input.RIGHT_WRIST: "right_wrist",
    Input.LEFT_HAND: "left_hand",
    Input.RIGHT_HAND: "right_hand",
    Input.JOY: "joy",
    Input.LEADER: "leader_joints",
}
"""HumanFrame part -> its topic name (after a prefix)."""

_INPUT_TOPIC_NAMES = frozenset(INPUT_NAMES.values())


def used_input_topic(topic: str) -> bool:
    """Whether ``topic`` is an operator input as teleop_node republished it (INTENT_PREFIX +
    an input name). Readers time its messages by their publish time, not their stamp: the
    node republishes an input when a step uses it, and that step's commands followed it
    (the stamp is the device's capture, earlier by the input's way to the step: ~1-2 ms
    live; ~7 ms for a hand sent just after its wrist in episodes recorded before the
    teleop node waited for a frame's hand, ``InputSync`` followers)."""
    return topic.startswith(INTENT_PREFIX) and topic[len(INTENT_PREFIX) :] in _INPUT_TOPIC_NAMES
