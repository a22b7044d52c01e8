"""Porting an episode the live stack recorded (`humanoid-teleop demo`: the simulated robot,
the teleop and recorder nodes over DDS), not one the offline writer wrote: its messages
reach the recorder late and in bursts, so the port must read them at their sample times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.reader import iter_messages
from humanoid_teleop.core.motion.topics import CALIBRATED_TOPIC
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.port import PortOptions, port_episode
from humanoid_teleop.portability.source import read_source

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(900)]

LIVE_ROBOT = "g1"
"""The robot of test/conftest.py's ``scripted_g1_episode``."""
SELF_REPLAY_CONTACT_P95_M = 0.01
"""A self-replay at sample times: 0.4 cm contact p95 (2026-12-06); at log times 8.0 cm."""


def test_a_live_recording_replays_on_its_own_robot_in_physics(
    scripted_g1_episode: Path, models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """A live scripted pick on G1, ported onto G1 in physics: the recorded success again,
    both grasp events reproduced, none spurious, the hand on the cube's path within 1 cm.
    The recording holds the teleop node's calibration (/teleop/intent/calibrated)."""
    bag = scripted_g1_episode
    source = read_source(bag)
    assert source.outcome == "success" and source.objects is not None
    # the teleop node recorded its calibration (the engage's own: no later one to follow)
    calibrations = list(iter_messages(bag, [CALIBRATED_TOPIC]))
    assert calibrations and source.recalibrations_s == ()
    model = models(LIVE_ROBOT)
    result = port_episode(source, model, model, tmp_path / "ported", PortOptions(cameras=False))
    report = result.report
    assert report.outcome == "success", report.text()
    assert report.missed_events == 0 and report.spurious_events == 0, report.text()
    assert report.contact_steps > 0, report.text()
    assert report.contact_p95_m <= SELF_REPLAY_CONTACT_P95_M, report.text()
