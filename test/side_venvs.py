"""Where the side venvs of tools/setup_lerobot.sh and tools/setup_label_studio.sh are: each
script names its venv after a digest of the files its ``digest=$(cat FILE... | sha256sum``
line lists, read here from the script itself so that the two cannot drift apart."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIGEST_LINE = re.compile(r"^digest=\$\(cat ((?:[^|]|\\\n)+?)\s*\|\s*sha256sum", re.MULTILINE)


def digest_inputs(script: str) -> list[str]:
    """The repository files ``script``'s digest line hashes, in its order."""
    match = DIGEST_LINE.search((REPO / script).read_text())
    if match is None:
        raise AssertionError(f"{script}: no `digest=$(cat FILE... | sha256sum` line")
    return match.group(1).replace("\\\n", " ").split()


def side_venv(name: str, script: str) -> Path | None:
    """``<cache>/humanoid_teleop/<name>-<digest>``, the venv ``script`` made from the files
    its digest line lists, or None until it is complete."""
    inputs = digest_inputs(script)
    digest = hashlib.sha256(b"".join((REPO / p).read_bytes() for p in inputs)).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "humanoid_teleop" / f"{name}-{digest}"
    return venv if (venv / ".complete").is_file() else None
