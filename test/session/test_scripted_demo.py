"""The scripted demo over DDS (`humanoid-teleop demo --robot g1`, what `make demo` runs,
for 20 s: test/conftest.py ``scripted_g1_episode``): MuJoCo sim + scripted demonstrator +
teleop + recorder record an episode with rendered images, wrenches, object poses and the
detector's outcome, and the bag passes ``bag check`` and decodes with Foxglove's libraries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import BagSummary, iter_messages, read_bag
from test.core.bag.foxglove import assert_foxglove_reads

pytest.importorskip("rclpy")


@pytest.fixture(scope="module")
def demo(scripted_g1_episode: Path) -> BagSummary:
    """The session's `humanoid-teleop demo --robot g1 --duration 20` (scripted,
    pick_and_place, seed 0; test/conftest.py ``scripted_g1_episode``)."""
    return read_bag(scripted_g1_episode)


@pytest.mark.ros
@pytest.mark.slow
def test_episode_outcome_comes_from_the_detector(demo: BagSummary) -> None:
    """The scripted G1 picks and places the cube; the detector's success is the outcome."""
    assert demo.metadata.custom_data.get("outcome") == "success", (
        demo.metadata.custom_data, demo.counts,
    )  # fmt: skip


@pytest.mark.ros
@pytest.mark.slow
def test_episode_holds_images_wrenches_and_object_poses(demo: BagSummary) -> None:
    """Rendered head images, wrist wrenches, /sim/objects and the outcome topic are recorded;
    the cube rose at least 5 cm in the object poses."""
    counts = demo.counts
    for topic in ("/cameras/head/image_raw", "/ft/right_wrist", "/sim/objects"):
        assert counts.get(topic, 0) > 10, (topic, counts)
    assert counts.get("/sim/task/outcome", 0) >= 1
    from geometry_msgs.msg import PoseArray
    from rclpy.serialization import deserialize_message

    heights = [
        deserialize_message(m.data, PoseArray).poses[0].position.z
        for m in iter_messages(demo.path, ["/sim/objects"])
    ]
    assert max(heights) - heights[0] >= 0.05


@pytest.mark.ros
@pytest.mark.slow
def test_grasp_shows_in_the_wrist_wrench(demo: BagSummary) -> None:
    """While the cube is held the right wrist reads more force than before the grasp."""
    from geometry_msgs.msg import WrenchStamped
    from rclpy.serialization import deserialize_message

    forces = np.array(
        [
            np.linalg.norm([w.wrench.force.x, w.wrench.force.y, w.wrench.force.z])
            for w in (
                deserialize_message(m.data, WrenchStamped)
                for m in iter_messages(demo.path, ["/ft/right_wrist"])
            )
        ]
    )
    assert forces.max() > forces[:20].mean() + 0.5  # cube weight 0.98 N + grip


@pytest.mark.ros
@pytest.mark.slow
def test_bag_checks_clean_and_decodes_in_foxglove(demo: BagSummary) -> None:
    """`bag check` finds no defect and Foxglove's readers decode every message."""
    report = check_bag(demo.path)
    assert report.ok, [d.__dict__ for d in report.defects]
    totals = assert_foxglove_reads(demo.path)
    assert totals["/sim/objects"] == demo.counts["/sim/objects"]
