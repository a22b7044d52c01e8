"""Reading an episode for export: sparse decoding gives the same frames; the bag is untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.export.layout import build_frames, cameras
from humanoid_teleop.export.runner import ExportRequest, export
from humanoid_teleop.export.shard import robot_model
from humanoid_teleop.export.source import bag_content_hash, read_episode
from test.export.helpers import Episode

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.parametrize("layout", ["robot", "canonical"])
def test_decoding_only_the_samples_frames_use_gives_the_same_frames(
    episodes: list[Episode], layout: str
) -> None:
    """Frames from the sparse read (fps given) equal those from decoding every message."""
    for episode in episodes[:2]:
        model = robot_model(episode.robot)
        keys = tuple(sorted(cameras(model)))
        every = read_episode(episode.path, model.description)
        sparse = read_episode(episode.path, model.description, fps=30)
        a = build_frames(model, every, layout, 30, keys, "task")  # type: ignore[arg-type]
        b = build_frames(model, sparse, layout, 30, keys, "task")  # type: ignore[arg-type]
        assert a.columns.keys() == b.columns.keys()
        for key in a.columns:
            np.testing.assert_array_equal(a.columns[key], b.columns[key], err_msg=key)
        for key in keys:
            assert all(
                np.array_equal(x, y) for x, y in zip(a.images[key], b.images[key], strict=True)
            )


def test_export_leaves_the_recorded_episode_untouched(
    episodes: list[Episode], tmp_path: Path
) -> None:
    """No recorded data is lost or changed: the bag's content hash is the same after export."""
    before = bag_content_hash(episodes[0].path)
    files_before = sorted(p.name for p in episodes[0].path.iterdir())
    export(ExportRequest(sources=(episodes[0].path,), output=tmp_path / "ds", include_failed=True))
    assert bag_content_hash(episodes[0].path) == before
    assert sorted(p.name for p in episodes[0].path.iterdir()) == files_before
