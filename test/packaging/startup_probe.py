"""Run from an installed prefix (never the source tree): node start-ups, one JSON line each.

Usage: ``python startup_probe.py JSON`` with a list of ``[name, "module:NodeClass",
{parameter: value}]``. Prints one JSON object per line: first where ``humanoid_teleop`` was
imported from, the share directories the resource lookup sees and every shipped file it
finds; then ``{"startup": name, "error": ...}`` per start-up, the error empty when the node
was built. Each node is built as its ``main()`` builds it (``rclpy.init`` with ``--ros-args``
parameters, then the class), then closed and destroyed.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

import rclpy

import humanoid_teleop
from humanoid_teleop.core.errors import TeleopError
from humanoid_teleop.core.resources import KINDS, share_roots


def _build(cls: Callable[[], Any], params: dict[str, str]) -> str:
    """Build and tear down one node; the TeleopError message, or '' when it was built."""
    args = ["probe", "--ros-args"]
    for key, value in params.items():
        args += ["-p", f"{key}:={value}"]
    rclpy.init(args=args)
    try:
        try:
            node = cls()
        except TeleopError as err:
            return f"{type(err).__name__}: {err}"
        close = getattr(node, "close", None) or getattr(node, "stop_cameras", None)
        if close is not None:
            close()
        node.destroy_node()
        return ""
    finally:
        rclpy.try_shutdown()


def main() -> None:
    roots = [str(root.path) for root in share_roots() if root.path.is_dir()]
    found = {kind.folder: [str(kind.find(name)) for name in kind.names()] for kind in KINDS}
    print(json.dumps({"package": humanoid_teleop.__file__, "roots": roots, "files": found}))
    for name, target, params in json.loads(sys.argv[1]):
        module, cls = target.split(":")
        error = _build(getattr(importlib.import_module(module), cls), params)
        print(json.dumps({"startup": name, "error": error}), flush=True)


if __name__ == "__main__":
    main()
