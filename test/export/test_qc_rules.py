"""Quality-gate rules: the shipped file loads; bad files name file, line and key."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[contact, reach]", r"qc\.yaml:2: port_targets\[1\]: got 'reach'; allowed: reachability"),
        ("[contact, contact]", r"qc\.yaml:2: port_targets\[1\]: 'contact' is listed twice"),
        ("contact", r"qc\.yaml:2: port_targets: "),
    ],
)
def test_a_port_target_that_is_not_one_is_rejected_with_file_line_and_key(
    tmp_path: Path, value: str, message: str
) -> None:
    """port_targets names portability targets, each once, as a list."""
    path = tmp_path / "qc.yaml"
    path.write_text(f"schema_version: 1\nport_targets: {value}\n")
    with pytest.raises(ConfigError, match=message):
        QcRules.load(path)


def test_port_targets_are_kept_in_the_targets_order_and_key_shards_only_when_set(
    tmp_path: Path,
) -> None:
    """The targets read in their report's order; rules without any give the JSON (the
    shards' settings key) they gave before the rule existed."""
    path = tmp_path / "qc.yaml"
    path.write_text("schema_version: 1\nport_targets: [free space, reachability]\n")
    rules = QcRules.load(path)
    assert rules.port_targets == ("reachability", "free space")
    assert json.loads(rules.as_json())["port_targets"] == ["reachability", "free space"]
    assert "port_targets" not in json.loads(QcRules.load().as_json())
    assert QcRules.from_json(rules.as_json()) == rules.__class__(
        **{**rules.__dict__, "source": "<defaults>"}
    )
    assert QcRules.from_json(QcRules.load().as_json()).port_targets == ()


@pytest.mark.parametrize("text", ["[]", "3", "{not json", '{"steps": 3}'])
def test_a_ported_episodes_unreadable_report_is_one_line(text: str) -> None:
    """A ported episode whose metadata holds no port report (JSON that is no object, no
    JSON, a report missing its keys) is one ExportInputError naming the episode and key."""
    from humanoid_teleop.core.bag.metadata import PORT_KEY_PREFIX
    from humanoid_teleop.export.errors import ExportInputError
    from humanoid_teleop.export.qc import port_misses

    custom = {f"{PORT_KEY_PREFIX}report": text}
    with pytest.raises(ExportInputError) as err:
        port_misses(Path("/data/ep_to_g1"), custom, ("contact",))
    line = str(err.value)
    assert line.startswith("/data/ep_to_g1: metadata.yaml custom_data.custom.port.report: "), line
    assert "\n" not in line


def test_frames_holding_a_nan_or_an_infinity_fail_qc_naming_the_feature() -> None:
    """A NaN or an infinity in any numeric feature of the kept frames (a sensor that sent
    them, a damaged recording) fails QC with a reason per feature; trimmed frames and
    non-float features are not judged."""
    import numpy as np

    from humanoid_teleop.export.layout import EpisodeFrames
    from humanoid_teleop.export.qc import nonfinite_reasons

    state = np.zeros((10, 3))
    state[2, 1] = np.nan
    state[8, 0] = np.inf
    wrench = np.zeros((10, 6))
    wrench[0] = np.nan  # trimmed away below
    frames = EpisodeFrames(
        columns={
            "observation.state": state, "observation.wrench": wrench,
            "task_index": np.zeros((10, 1), dtype=np.int64),
        },
        images={}, image_missing={}, grid_ns=np.arange(10, dtype=np.int64), subtasks=[],
    )  # fmt: skip
    assert nonfinite_reasons(frames, slice(1, 10)) == [
        "observation.state: 2 of 9 frames hold a NaN or an infinity"
    ]
    assert nonfinite_reasons(frames, slice(0, 10))[1] == (
        "observation.wrench: 1 of 10 frames hold a NaN or an infinity"
    )
