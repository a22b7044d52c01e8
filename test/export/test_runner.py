"""Planning an export: which cameras go into the dataset (``--cameras``), and a state-only
dataset of episodes without camera images (kinematic ports) that lerobot loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.reader import iter_messages
from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.export.errors import ExportError, ExportInputError
from humanoid_teleop.export.runner import ExportRequest, chosen_cameras, export
from test.export.helpers import load_with_lerobot, write_offline_episode


def test_chosen_cameras_keep_the_layouts_order() -> None:
    """The asked cameras come in the layout's order, whatever order they were asked in."""
    available = ("head", "left_wrist", "right_wrist")
    assert chosen_cameras(("right_wrist", "head"), available, "robot") == ("head", "right_wrist")
    assert chosen_cameras((), available, "robot") == ()


def test_a_camera_the_episodes_lack_is_one_error_naming_it_and_what_they_have() -> None:
    with pytest.raises(ExportError) as err:
        chosen_cameras(("head", "chest"), ("head",), "canonical")
    assert str(err.value) == (
        "--cameras chest: not a camera of the canonical layout's episodes (they have: head)"
    )


@pytest.fixture(scope="module")
def imageless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TALOS episode of the offline writer with commands and no camera topic."""
    root = tmp_path_factory.mktemp("imageless")
    return write_offline_episode(root, "talos", "talos_imageless", commands=True, images=False)


def test_an_episode_without_images_names_the_camera_and_the_option(
    imageless: Path, tmp_path: Path
) -> None:
    """By default every camera of the robot is exported: an episode without its images is one
    error naming the episode, the camera and how to export without it; nothing is written."""
    out = tmp_path / "ds"
    with pytest.raises(ExportInputError) as err:
        export(ExportRequest(sources=(imageless,), output=out, include_failed=True))
    camera = load_robot("talos").sensors.cameras[0].name
    assert str(err.value) == (
        f"{imageless}: no images of camera {camera!r} (to export without it: --cameras with "
        "the others, or --cameras none)"
    )
    assert not (out / "meta").exists()


def test_cameras_none_exports_a_state_only_dataset_that_lerobot_loads(
    imageless: Path, lerobot_python: Path, tmp_path: Path
) -> None:
    """``cameras=()``: no video feature, no camera-gap column; lerobot 0.6.1 iterates every
    frame and its states are the recorded joint states."""
    out = tmp_path / "ds"
    request = ExportRequest(sources=(imageless,), output=out, include_failed=True, cameras=())
    summary = export(request)
    assert summary["episodes"] == 1
    assert not (out / "videos").exists()
    loaded = load_with_lerobot(lerobot_python, out, tmp_path)
    assert loaded.meta["camera_keys"] == []
    assert loaded.meta["num_episodes"] == 1
    description = load_robot("talos")
    topic = description.sensors.joint_state_topic
    recorded = sum(1 for _ in iter_messages(imageless, topics=[topic]))
    state = loaded.arrays["state"]
    # the 30 Hz episode on the 30 Hz grid: one frame per joint state (idle ends trimmed: none)
    assert len(state) == recorded
    assert np.isfinite(state).all() and np.ptp(state, axis=0).max() > 0.09


@pytest.mark.parametrize("inside", [False, True], ids=["is_a_file", "inside_a_file"])
def test_an_output_that_is_a_file_is_one_error_naming_it_before_any_work(
    tmp_path: Path, inside: bool
) -> None:
    """``-o`` naming an existing file (or a path inside one) is one ExportError naming it,
    raised before the sources are read (a missing source is not reached)."""
    file = tmp_path / "ds"
    file.write_text("not a dataset")
    out = file / "inner" if inside else file
    with pytest.raises(ExportError) as err:
        export(ExportRequest(sources=(tmp_path / "missing",), output=out))
    where = f"is inside {file}, which is" if inside else "is"
    assert str(err.value) == f"{out}: {where} a file, not a folder (-o names the dataset folder)"
    assert file.read_text() == "not a dataset"
