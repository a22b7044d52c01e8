"""Remove Fast DDS shared-memory files in /dev/shm that no live process uses any more.

A DDS process killed with SIGKILL leaves its segments, port files and semaphores behind;
enough of them exhaust /dev/shm and slow discovery. A file is stale when no process has it
open or mapped and it is older than ``min_age_s``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

_LOG = logging.getLogger(__name__)

SHM_DIR = Path("/dev/shm")
_PREFIXES = ("fastrtps_", "fastdds_", "sem.fastrtps_", "sem.fastdds_")


def _files_in_use(shm_dir: Path, proc: Path) -> set[str]:
    """Names of files in ``shm_dir`` that some process has open or mapped."""
    used: set[str] = set()
    prefix = f"{shm_dir}/"
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                target = str(fd.readlink())
                if target.startswith(prefix):
                    used.add(target[len(prefix) :].split(" ")[0])
            with (pid_dir / "maps").open(encoding="utf-8", errors="replace") as maps:
                for line in maps:
                    at = line.find(prefix)
                    if at >= 0:
                        used.add(line[at + len(prefix) :].split(" ")[0].rstrip("\n"))
        except OSError:  # the process ended while we looked, or it is not ours to read
            continue
    return used


def stale_dds_files(
    shm_dir: Path = SHM_DIR, proc: Path = Path("/proc"), min_age_s: float = 10.0
) -> list[Path]:
    """Fast DDS shared-memory files that nobody uses and that are older than ``min_age_s`` [s]."""
    if not shm_dir.is_dir():
        return []
    candidates = [p for p in shm_dir.iterdir() if p.name.startswith(_PREFIXES)]
    if not candidates:
        return []
    used = _files_in_use(shm_dir, proc)
    now = time.time()
    stale = []
    for path in candidates:
        try:
            old_enough = now - path.stat().st_mtime >= min_age_s
        except FileNotFoundError:
            continue
        if old_enough and path.name not in used:
            stale.append(path)
    return sorted(stale)


def clean_stale_dds_files(shm_dir: Path = SHM_DIR, min_age_s: float = 10.0) -> list[Path]:
    """Delete stale Fast DDS files; returns what was removed."""
    removed = []
    for path in stale_dds_files(shm_dir, min_age_s=min_age_s):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except PermissionError:
            _LOG.debug("cannot remove %s: owned by another user", path)
    if removed:
        _LOG.info("removed %d stale Fast DDS shared-memory files from %s", len(removed), shm_dir)
    return removed
