"""Robots loaded once per process: one cache keyed by the robot.yaml and its content."""

from __future__ import annotations

from pathlib import Path

import pytest

from humanoid_teleop.core.robot import ROBOTS_PATH_ENV, RobotConfigError
from humanoid_teleop.core.robot.shared import (
    forget_shared_robots,
    models_built,
    shared_model,
    shared_robot,
)

from .toy import toy_config, write_toy


def test_a_robot_is_built_once_by_name_or_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same robot.yaml named by its name on the search path, its folder or its file is
    one description and one model; a second robot is a second model."""
    monkeypatch.setenv(ROBOTS_PATH_ENV, str(tmp_path))
    path = write_toy(tmp_path)
    write_toy(tmp_path, name="toy2")
    forget_shared_robots()
    model = shared_model("toy")
    assert models_built() == 1
    assert shared_model(path) is model and shared_model(path.parent) is model
    assert shared_robot("toy") is model.description
    assert models_built() == 1
    assert shared_model("toy2") is not model and models_built() == 2


def test_an_edited_robot_yaml_is_loaded_anew(tmp_path: Path) -> None:
    """A robot.yaml changed while the process runs gives the new robot (an integrator fixing
    their file between two commands of one session), and a broken edit its file:line error."""
    path = write_toy(tmp_path)
    before = shared_model(path)
    config = toy_config()
    config["home"]["l_shoulder"] = -0.4
    write_toy(tmp_path, config)
    after = shared_model(path)
    assert after is not before
    assert after.description.home["l_shoulder"] == pytest.approx(-0.4)
    assert before.description.home["l_shoulder"] == pytest.approx(-0.2)
    path.write_text(path.read_text().replace("l_shoulder: -0.4", "l_shoulder: [oops"))
    with pytest.raises(RobotConfigError, match=rf"^{path}:\d+"):
        shared_robot(path)
