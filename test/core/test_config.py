"""The one config layer (humanoid_teleop/core/config.py): typed access to YAML values whose
errors name file:line and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.config import SHOW_LIMIT, read_yaml, show_value
from humanoid_teleop.core.errors import ConfigError


def test_a_number_out_of_its_range_names_file_line_key_range_and_unit(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a:\n  b: 0.25\n  c: 2\n")
    block = read_yaml(path).child("a")
    assert block.child("b").as_float_in(0.0, 0.3, "m") == 0.25
    with pytest.raises(
        ConfigError, match=r"r\.yaml:3: a\.c: expected a number in \[0\.0, 1\.0\], got 2$"
    ):
        block.child("c").as_float_in(0.0, 1.0)
    with pytest.raises(
        ConfigError, match=r"a\.b: expected a number in \[0\.3, 1\.0\] m, got 0\.25"
    ):
        block.child("b").as_float_in(0.3, 1.0, "m")


def test_a_range_check_still_refuses_text_booleans_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("t: fast\nflag: true\nn: .nan\n")
    root = read_yaml(path)
    with pytest.raises(ConfigError, match=r"r\.yaml:1: t: expected a number, got 'fast'"):
        root.child("t").as_float_in(0.0, 1.0)
    with pytest.raises(ConfigError, match=r"flag: expected a number, got True"):
        root.child("flag").as_float_in(0.0, 1.0)
    with pytest.raises(ConfigError, match=r"n: expected a finite number"):
        root.child("n").as_float_in(0.0, 1.0)


def test_error_messages_quote_long_values_cut_short() -> None:
    shown = show_value("x" * 5000)
    assert len(shown) == SHOW_LIMIT and shown.endswith("...")
    assert show_value("short") == "'short'"
    assert show_value({"a": 1}) == "a mapping"
    assert show_value(list(range(10))) == "[0, 1, 2, 3, 4, 5, ...]"
