"""teleop_node over real DDS with a wrist that never arrives: named missing on the log and
the state, its arm holds, the other arm follows, and the fault clears when it comes.

Its own teleop_node process (robot g1, the vr profile), not test_teleop_node_stamps'
module node: that one has received right wrists, which would be stale, not missing.
"""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import pytest

from humanoid_teleop.core.robot import RobotModel, load_robot
from test.nodes.ros_helpers import teleop_node_process
from test.nodes.test_teleop_node_stamps import (
    NODE_PARAMS,
    Headset,
    _left_swing,
    _moves,
    _still,
    _swing,
)


@pytest.mark.ros
def test_a_wrist_that_never_arrives_is_named_and_its_arm_holds(tmp_path: Path) -> None:
    """A teleop node (its own: no right wrist ever reached it) engaged on the head and the
    left wrist: once the stale timeout has passed since the engage, one log line and the
    state name /operator/right_wrist as missing and the right arm holding; the left arm
    follows; when the wrist arrives, the fault clears and the right arm follows it."""
    with (
        teleop_node_process(tmp_path, NODE_PARAMS) as log,
        closing(Headset(RobotModel(load_robot("g1")), log)) as fresh,
    ):
        fresh.client.wait_for(["/teleop/engage", "/teleop/disengage"], timeout_s=60)
        fresh.run(0.5, _still, send_right=False)
        fresh.client.trigger("/teleop/engage")
        engaged = time.monotonic()
        fresh.run(2.0, _left_swing, send_right=False)
        assert _moves(fresh.commands["right"], engaged) == 0.0
        assert _moves(fresh.commands["left"], engaged + 0.5) > 0.01
        named = [v for _t, v, _m in fresh.states if "missing /operator/right_wrist" in v]
        assert named, fresh.states[-1:]
        detail = named[-1]["missing /operator/right_wrist"]
        assert detail.startswith("no accepted message since the engage"), detail
        assert "right_arm (right_wrist missing)" in named[-1]["held_groups"]
        lines = [
            line for line in log.read_text().splitlines()
            if "not using /operator/right_wrist: missing: no accepted message since" in line
        ]  # fmt: skip
        assert len(lines) == 1, lines
        assert "holding right_arm" in lines[0]

        arrived = time.monotonic()
        fresh.run(2.0, _swing)
        assert _moves(fresh.commands["right"], arrived + 0.5) > 0.01
        last = fresh.states[-1][1]
        assert "missing /operator/right_wrist" not in last
        assert "right_arm" not in last.get("held_groups", "")
