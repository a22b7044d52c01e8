"""The shipped Foxglove layouts are valid and show what the default profile records."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.profile import RecordingProfile

from ...conftest import REPO

LAYOUTS = sorted((REPO / "config" / "foxglove").glob("*.json"))


def _leaves(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    return _leaves(node["first"]) + _leaves(node["second"])


def _topics(config: dict[str, Any]) -> set[str]:
    text = json.dumps(config)
    found = set(re.findall(r'"(?:imageTopic|topic|topicPath)": "(/[^".\[]+)', text))
    found |= set(re.findall(r'"value": "(/[^".\[]+)', text))
    return found


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_panels_all_have_a_config(path: Path) -> None:
    """Every panel placed in the mosaic has a configuration entry."""
    layout = json.loads(path.read_text())
    assert set(_leaves(layout["layout"])) <= set(layout["configById"])


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_has_cameras_robot_forces_and_joints(path: Path) -> None:
    """Camera, 3D robot from /robot_description, force plots and joint plots are all there."""
    kinds = {key.split("!")[0] for key in json.loads(path.read_text())["configById"]}
    assert {"Image", "3D", "Plot"} <= kinds
    assert "/robot_description" in path.read_text()


@pytest.mark.parametrize("path", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_topics_are_recorded_by_the_default_profile(path: Path) -> None:
    """Each topic a panel shows is one the default recording profile records."""
    profile = RecordingProfile.load(REPO / "config" / "record" / "default.yaml")
    topics = _topics(json.loads(path.read_text()))
    assert topics, "no topics found in the layout"
    assert sorted(t for t in topics if not profile.wants(t)) == []
