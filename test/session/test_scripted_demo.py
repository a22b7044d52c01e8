"""The scripted demo over DDS: MuJoCo sim + scripted demonstrator + teleop + recorder record
an episode with rendered images, wrenches, object poses and the detector's outcome, and the
bag passes ``bag check`` and decodes with Foxglove's libraries."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import BagSummary, iter_messages, read_bag
from test.core.bag.foxglove import assert_foxglove_reads

pytest.importorskip("rclpy")


@dataclass(frozen=True)
class DemoRun:
    output: str
    bag: BagSummary


def _run_demo(bag_dir: Path) -> DemoRun:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from humanoid_teleop.cli.main import main; sys.exit(main(sys.argv[1:]))",
            "demo",
            "--robot",
            "g1",
            "--bag-dir",
            str(bag_dir),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    bags = [p.parent for p in bag_dir.glob("*/metadata.yaml")]
    assert len(bags) == 1, output[-4000:]
    return DemoRun(output, read_bag(bags[0]))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """A `humanoid-teleop demo` (G1, scripted, pick_and_place, seed 0) recorded into a temp
    dir: the demonstrator succeeds on every seed of bench/sim.py (0..79 offline). Run once
    more when the teleop node used none of the hand input: in one of four full-suite runs of
    session 26 (a loaded host, joint states at 175 Hz) it received none of
    /operator/right_hand for the whole episode while the recorder received all 2091
    messages, so the hand never closed (no fault reported: the input never arrived, a DDS
    match that did not come); alone, and in the other runs, the first run succeeds."""
    run = _run_demo(tmp_path_factory.mktemp("scripted_demo"))
    if not run.bag.counts.get("/teleop/intent/right_hand"):
        run = _run_demo(tmp_path_factory.mktemp("scripted_demo_again"))
    yield run


@pytest.mark.ros
@pytest.mark.slow
def test_episode_outcome_comes_from_the_detector(demo: DemoRun) -> None:
    """The scripted G1 picks and places the cube; the detector's success is the outcome."""
    assert demo.bag.metadata.custom_data.get("outcome") == "success", demo.output[-3000:]


@pytest.mark.ros
@pytest.mark.slow
def test_episode_holds_images_wrenches_and_object_poses(demo: DemoRun) -> None:
    """Rendered head images, wrist wrenches, /sim/objects and the outcome topic are recorded;
    the cube rose at least 5 cm in the object poses."""
    counts = demo.bag.counts
    for topic in ("/cameras/head/image_raw", "/ft/right_wrist", "/sim/objects"):
        assert counts.get(topic, 0) > 10, (topic, counts)
    assert counts.get("/sim/task/outcome", 0) >= 1
    from geometry_msgs.msg import PoseArray
    from rclpy.serialization import deserialize_message

    heights = [
        deserialize_message(m.data, PoseArray).poses[0].position.z
        for m in iter_messages(demo.bag.path, ["/sim/objects"])
    ]
    assert max(heights) - heights[0] >= 0.05


@pytest.mark.ros
@pytest.mark.slow
def test_grasp_shows_in_the_wrist_wrench(demo: DemoRun) -> None:
    """While the cube is held the right wrist reads more force than before the grasp."""
    from geometry_msgs.msg import WrenchStamped
    from rclpy.serialization import deserialize_message

    forces = np.array(
        [
            np.linalg.norm([w.wrench.force.x, w.wrench.force.y, w.wrench.force.z])
            for w in (
                deserialize_message(m.data, WrenchStamped)
                for m in iter_messages(demo.bag.path, ["/ft/right_wrist"])
            )
        ]
    )
    assert forces.max() > forces[:20].mean() + 0.5  # cube weight 0.98 N + grip


@pytest.mark.ros
@pytest.mark.slow
def test_bag_checks_clean_and_decodes_in_foxglove(demo: DemoRun) -> None:
    """`bag check` finds no defect and Foxglove's readers decode every message."""
    report = check_bag(demo.bag.path)
    assert report.ok, [d.__dict__ for d in report.defects]
    totals = assert_foxglove_reads(demo.bag.path)
    assert totals["/sim/objects"] == demo.bag.counts["/sim/objects"]
