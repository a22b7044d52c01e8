"""Stale Fast DDS shared-memory files are found and removed; live ones are kept."""

from __future__ import annotations

import os
from pathlib import Path

from humanoid_teleop.isolation.shm import clean_stale_dds_files, stale_dds_files


def _make(shm: Path, name: str, age_s: float) -> Path:
    path = shm / name
    path.write_bytes(b"\0" * 64)
    old = path.stat().st_mtime - age_s
    os.utime(path, (old, old))
    return path


def test_unused_old_dds_file_is_stale(tmp_path: Path) -> None:
    """A Fast DDS file nobody has open, older than the age limit, is stale."""
    leftover = _make(tmp_path, "fastrtps_deadbeef", age_s=60)
    assert stale_dds_files(tmp_path) == [leftover]


def test_open_file_is_kept(tmp_path: Path) -> None:
    """A file this very process holds open is in use and never removed."""
    held = _make(tmp_path, "fastrtps_port7411", age_s=60)
    with held.open("rb"):
        assert clean_stale_dds_files(tmp_path) == []
    assert held.exists()


def test_young_file_and_foreign_file_are_kept(tmp_path: Path) -> None:
    """Files just created, or not Fast DDS's, are left alone."""
    _make(tmp_path, "fastdds_fresh", age_s=0)
    _make(tmp_path, "postgres_segment", age_s=3600)
    assert clean_stale_dds_files(tmp_path) == []


def test_clean_removes_stale_files(tmp_path: Path) -> None:
    """Cleaning deletes the stale files and reports them."""
    stale = [_make(tmp_path, n, 60) for n in ("fastrtps_a", "sem.fastrtps_port1_mutex")]
    assert clean_stale_dds_files(tmp_path) == sorted(stale)
    assert not any(p.exists() for p in stale)
