"""Operator topic names have one home, nodes/operator_topics.py."""

from __future__ import annotations

import ast

import pytest

from humanoid_teleop.nodes.operator_topics import OPERATOR_PREFIX, OPERATOR_TOPICS, operator_topic

from ..conftest import REPO

NODES = REPO / "humanoid_teleop" / "nodes"


def _code_strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants of the code (f-string parts included), docstrings left out."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_operator_topic_is_the_prefix_and_the_name() -> None:
    """operator_topic('joy') is /operator/joy, for every name of the table."""
    assert operator_topic("joy") == "/operator/joy"
    assert all(operator_topic(name) == OPERATOR_PREFIX + name for name in OPERATOR_TOPICS)


def test_unknown_operator_topic_lists_the_known_ones() -> None:
    """A misspelt name fails at once, naming the operator topics."""
    with pytest.raises(KeyError, match=r"'left_wirst' is not an operator topic; known: head"):
        operator_topic("left_wirst")


def test_no_node_spells_an_operator_topic_itself() -> None:
    """No node module but operator_topics.py has '/operator/' in its code (docstrings aside)."""
    offenders = [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for path in sorted(NODES.glob("*.py"))
        if path.name != "operator_topics.py"
        for node in _code_strings(ast.parse(path.read_text(encoding="utf-8")))
        if OPERATOR_PREFIX in node.value
    ]
    assert offenders == []
