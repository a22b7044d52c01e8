"""operator_topic(): the device nodes' one way to name an operator topic."""

from __future__ import annotations

import pytest

from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.nodes.operator_topics import (
    INPUT_NAMES,
    OPERATOR_PREFIX,
    OPERATOR_TOPICS,
    operator_topic,
)


def test_operator_topic_is_the_prefix_and_the_name() -> None:
    """operator_topic('joy') is /operator/joy, for every name of the table."""
    assert operator_topic("joy") == "/operator/joy"
    assert all(operator_topic(name) == OPERATOR_PREFIX + name for name in OPERATOR_TOPICS)


def test_unknown_operator_topic_lists_the_known_ones() -> None:
    """A misspelt name fails at once, naming the operator topics."""
    with pytest.raises(KeyError, match=r"'left_wirst' is not an operator topic; known: head"):
        operator_topic("left_wirst")


def test_every_input_has_a_topic_and_a_message_type() -> None:
    """Each HumanFrame part maps to one operator topic with its message type."""
    assert set(OPERATOR_TOPICS) == set(INPUT_NAMES.values())
    assert len(INPUT_NAMES) == len(Input)
