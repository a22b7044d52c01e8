"""Operator-input topic names are spelled in core/motion/topics.py only."""

from __future__ import annotations

import ast

from humanoid_teleop.core.motion.topics import (
    ENGAGED_TOPIC,
    INTENT_PREFIX,
    OPERATOR_PREFIX,
    RECORDED_PREFIXES,
)

from ...conftest import REPO

HOME = REPO / "humanoid_teleop" / "core" / "motion" / "topics.py"


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


def test_recordings_prefer_the_intent_over_the_raw_input() -> None:
    """Bag readers look for /teleop/intent/* first, then /operator/*."""
    assert RECORDED_PREFIXES == ("/teleop/intent/", "/operator/")
    assert ENGAGED_TOPIC == INTENT_PREFIX + "engaged"


def test_no_other_module_spells_an_operator_or_intent_topic() -> None:
    """'/operator/' and '/teleop/intent/' appear in the package's code only in topics.py."""
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}"
        for path in sorted((REPO / "humanoid_teleop").rglob("*.py"))
        if path != HOME
        for node in _code_strings(ast.parse(path.read_text(encoding="utf-8")))
        if OPERATOR_PREFIX in node.value or INTENT_PREFIX in node.value
    ]
    assert offenders == []
