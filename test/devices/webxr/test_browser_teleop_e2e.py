"""The whole VR chain in a real browser: emulated Quest 3 hand → vr_bridge_node →
teleop_node (arm IK) → sim_robot_node joints, with the robot's head camera streamed back.

Moving the IWER right hand while the left hand stays still must move the simulated G1's
right-arm joints and leave its left arm (nearly) where it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.nodes.ros_conversions import time_to_s
from test.devices.ros_helpers import Listener, free_port, start_node, stop_node
from test.devices.webxr.test_browser_e2e import IWER_BUNDLE, _missing, drive_headset

pytestmark = [
    pytest.mark.ros,
    pytest.mark.slow,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]
ROBOT = "g1"
HOLD_S = 2.0
PHASES = [
    {"name": "start", "position": [0.2, 1.1, -0.35], "move_s": 0.2, "hold_s": 4.0},
    {"name": "moved", "position": [0.3, 1.3, -0.45], "move_s": 1.0, "hold_s": HOLD_S},
]


def _arm_angles(
    messages: list[tuple[float, object]], names: list[str], start: float, end: float
) -> np.ndarray:
    rows = []
    for _, msg in messages:
        if start <= time_to_s(msg.header.stamp) <= end:
            index = {n: i for i, n in enumerate(msg.name)}  # type: ignore[attr-defined]
            rows.append([msg.position[index[n]] for n in names])  # type: ignore[attr-defined]
    assert rows, f"no joint states between {start:.2f} and {end:.2f}"
    return np.mean(rows, axis=0)


def test_emulated_hand_moves_the_simulated_robot_arm(tmp_path: Path) -> None:
    """Right hand 10 cm right, 20 cm up, 10 cm forward moves right-arm joints, not the left."""
    from sensor_msgs.msg import JointState

    from humanoid_teleop.core.robot import load_robot

    groups = load_robot(ROBOT).groups
    right, left = list(groups["right_arm"]), list(groups["left_arm"])
    port = free_port()
    nodes = [
        start_node(
            "sim_robot_node",
            {"robot": ROBOT, "joint_state_rate_hz": 100.0, "camera_rate_hz": 10.0,
             "publish_raw_images": False, "wrench_rate_hz": 20.0},
        ),
        start_node(
            "teleop_node",
            {"robot": ROBOT, "device": "vr", "auto_engage": True, "rate_hz": 100.0},
        ),
        start_node(
            "vr_bridge_node",
            {"port": port, "emulator_script": str(IWER_BUNDLE), "camera_rate_hz": 5.0,
             "compressed_camera_topics": ["/cameras/head/image_raw/compressed"]},
        ),
    ]  # fmt: skip
    listener = Listener({"/joint_states": JointState})
    outputs: list[str] = []
    try:
        # The sim is up (and the listener matched) before the headset starts moving.
        assert listener.spin_until(lambda: bool(listener.messages["/joint_states"]), 60.0)
        held = drive_headset(listener, port, PHASES, tmp_path / "profile", 120.0)
        assert set(held) == {"start", "moved"}, held
        states = listener.messages["/joint_states"]
        # The arm converges under the safety limits while the hand holds: the hold's second half.
        windows = {name: (p.end - 0.5 * HOLD_S, p.end - 0.1) for name, p in held.items()}
        right_delta = np.abs(
            _arm_angles(states, right, *windows["moved"])
            - _arm_angles(states, right, *windows["start"])
        )
        left_delta = np.abs(
            _arm_angles(states, left, *windows["moved"])
            - _arm_angles(states, left, *windows["start"])
        )
        assert right_delta.max() > 0.1, f"right arm barely moved: {right_delta}"
        assert left_delta.max() < 0.5 * right_delta.max(), (left_delta, right_delta)
        assert int(held["moved"].event["cameraFrames"]) > 0, "no robot camera frame in the headset"
    finally:
        listener.close()
        for node in reversed(nodes):
            outputs.append(stop_node(node)[1])
    print("\n".join(o[-1500:] for o in outputs))
