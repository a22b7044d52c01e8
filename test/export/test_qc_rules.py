"""Quality-gate rules: the shipped file loads; bad files name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.export.qc import QcRules, shipped_rules


def test_shipped_rules_load() -> None:
    """config/export/qc.yaml is read without error and sets every rule."""
    rules = QcRules.load()
    assert rules.source == str(shipped_rules())
    assert rules.min_duration_s == 1.0 and rules.idle_trim


def test_unknown_key_is_rejected_with_file_line_and_key(tmp_path: Path) -> None:
    """A misspelt rule is an error naming the file, its line and the allowed keys."""
    path = tmp_path / "qc.yaml"
    path.write_text("schema_version: 1\nmin_duraton_s: 2\n")
    with pytest.raises(ConfigError, match=r"qc\.yaml:2: min_duraton_s: unknown key"):
        QcRules.load(path)


def test_negative_threshold_is_rejected(tmp_path: Path) -> None:
    """A negative threshold is refused, naming its key."""
    path = tmp_path / "qc.yaml"
    path.write_text("schema_version: 1\nmax_sync_skew_ms: -1\n")
    with pytest.raises(ConfigError, match=r"max_sync_skew_ms: expected a number >= 0"):
        QcRules.load(path)
