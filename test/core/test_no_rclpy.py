"""The pure core never imports rclpy, directly or through anything it imports."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys

import humanoid_teleop.core

from ..conftest import REPO

CORE = REPO / "humanoid_teleop" / "core"


def test_no_core_source_mentions_an_rclpy_import() -> None:
    """No module under humanoid_teleop/core has an `import rclpy` or `from rclpy` statement."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "rclpy" or name.startswith("rclpy.") for name in names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_importing_every_core_module_leaves_rclpy_unloaded() -> None:
    """In a fresh interpreter, importing all of humanoid_teleop.core does not load rclpy."""
    modules = [
        m.name
        for m in pkgutil.walk_packages(humanoid_teleop.core.__path__, "humanoid_teleop.core.")
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'rclpy' or m.startswith('rclpy.'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
