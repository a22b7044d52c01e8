"""Where the side venvs of tools/setup_lerobot.sh and tools/setup_label_studio.sh are: each
script names its venv after a digest of its own text and its requirements files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def side_venv(name: str, inputs: list[str]) -> Path | None:
    """``<cache>/humanoid_teleop/<name>-<digest>``, the venv the setup script made from the
    repository files ``inputs`` (in the script's order), or None until it is complete."""
    digest = hashlib.sha256(b"".join((REPO / p).read_bytes() for p in inputs)).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "humanoid_teleop" / f"{name}-{digest}"
    return venv if (venv / ".complete").is_file() else None
