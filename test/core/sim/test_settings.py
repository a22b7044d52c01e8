"""Node settings: defaults, unknown keys, wrong types and out-of-range values."""

from __future__ import annotations

import math

import pytest

from humanoid_teleop.core.sim import SimConfigError, TableConfig
from humanoid_teleop.core.sim.settings import ReplaySettings, SimRobotSettings


def test_sim_defaults_are_valid() -> None:
    """An empty parameter set gives the documented defaults."""
    settings = SimRobotSettings.from_dict({})
    assert settings.robot == "g1"
    assert settings.joint_state_rate_hz == 250.0


def test_unknown_parameter_is_named_with_the_allowed_ones() -> None:
    """A misspelt parameter is rejected, naming it and the source."""
    with pytest.raises(
        SimConfigError,
        match=r"sim_robot_node parameters: rate: unknown key 'rate'; allowed keys: robot",
    ):
        SimRobotSettings.from_dict({"rate": 10.0})


def test_wrong_type_is_named() -> None:
    """A string where a rate is expected is rejected with the key and value."""
    with pytest.raises(
        SimConfigError,
        match=r"sim_robot_node parameters: tf_rate_hz: expected a number, got 'fast'",
    ):
        SimRobotSettings.from_dict({"tf_rate_hz": "fast"})


def test_integer_is_accepted_for_a_float() -> None:
    """YAML's `30` for a rate is taken as 30.0 Hz."""
    assert SimRobotSettings.from_dict({"camera_rate_hz": 30}).camera_rate_hz == 30.0


def test_zero_rate_is_rejected() -> None:
    """Rates must be positive."""
    with pytest.raises(SimConfigError, match=r"camera_rate_hz: 0\.0 must be a finite number > 0"):
        SimRobotSettings.from_dict({"camera_rate_hz": 0.0})


def test_jpeg_quality_outside_1_to_100_is_rejected() -> None:
    """jpeg_quality 0 names the allowed range."""
    with pytest.raises(SimConfigError, match=r"jpeg_quality: 0; allowed: 1\.\.100"):
        SimRobotSettings.from_dict({"jpeg_quality": 0})


def test_nan_table_values_come_from_the_automatic_table() -> None:
    """NaN height and near edge take the automatic table's; sizes come from the settings."""
    auto = TableConfig(height_m=0.1, x_min_m=0.2, x_max_m=0.5)
    table = SimRobotSettings.from_dict({"table_width_m": 1.0}).table_config(auto)
    assert (table.height_m, table.x_min_m, table.x_max_m) == (0.1, 0.2, pytest.approx(0.8))
    assert (table.y_min_m, table.y_max_m) == (-0.5, 0.5)


def test_explicit_table_height_wins() -> None:
    """A numeric table height replaces the automatic one."""
    auto = TableConfig(height_m=0.1)
    settings = SimRobotSettings.from_dict({"table_height_m": -0.2})
    assert settings.table_config(auto).height_m == -0.2
    assert math.isnan(SimRobotSettings().table_height_m)


def test_replay_rejects_negative_skip() -> None:
    """skip_frames < 0 is rejected naming the parameter."""
    with pytest.raises(SimConfigError, match=r"replay_node parameters: skip_frames: -1"):
        ReplaySettings.from_dict({"skip_frames": -1})


def test_replay_rejects_zero_rate_scale() -> None:
    """rate_scale 0 would never advance: rejected."""
    with pytest.raises(SimConfigError, match=r"rate_scale: 0\.0 must be"):
        ReplaySettings.from_dict({"rate_scale": 0.0})


def test_replay_rejects_zero_hands_rate() -> None:
    """hands_rate_hz must be positive."""
    with pytest.raises(SimConfigError, match=r"hands_rate_hz: 0\.0 must be"):
        ReplaySettings.from_dict({"hands_rate_hz": 0.0})


def test_infinite_rate_is_refused_but_nan_table_height_means_automatic() -> None:
    """tf_rate_hz inf is refused naming the key; table_height_m NaN stays (automatic)."""
    with pytest.raises(SimConfigError, match=r"tf_rate_hz: expected a finite number, got inf"):
        SimRobotSettings.from_dict({"tf_rate_hz": float("inf")})
    assert math.isnan(SimRobotSettings.from_dict({"table_height_m": math.nan}).table_height_m)
