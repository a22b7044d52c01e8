"""End to end in a real browser: headless Chromium + IWER (emulated Quest 3 with hands).

An emulated hand movement in the headset moves the poses vr_bridge_node publishes on
/operator/right_wrist and /operator/right_hand, in the REP-103 operator frame; the page
shows the robot camera stream the node sends back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from humanoid_teleop.nodes.ros_conversions import time_to_s
from test.devices.ros_helpers import Listener, free_port, start_node, stop_node, wait_for_port

HARNESS = Path(__file__).resolve().parent
IWER_BUNDLE = HARNESS / "node_modules" / "iwer" / "build" / "iwer.min.js"
PLAYWRIGHT = HARNESS / "node_modules" / "playwright-core"
CHROMIUM = Path("/usr/bin/chromium")
HOLD_S = 1.0
PHASES = [
    # Settle at the start pose first: on a loaded machine the first hand frames can arrive
    # after a short first phase has already ended.
    {"name": "settle", "position": [0.2, 1.2, -0.4], "move_s": 0.2, "hold_s": HOLD_S},
    {"name": "start", "position": [0.2, 1.2, -0.4], "move_s": 0.2, "hold_s": HOLD_S},
    {"name": "right", "position": [0.4, 1.2, -0.4], "move_s": 0.5, "hold_s": HOLD_S},
    {"name": "up", "position": [0.4, 1.4, -0.4], "move_s": 0.5, "hold_s": HOLD_S},
    {"name": "pinch", "position": [0.4, 1.4, -0.4], "move_s": 0.1, "hold_s": HOLD_S,
     "pose": "pinch"},
]  # fmt: skip


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} missing (tools/setup_browser.sh installs the Debian package)"
    if shutil.which("node") is None:
        return "node (Node.js) is not installed"
    if not IWER_BUNDLE.is_file() or not PLAYWRIGHT.is_dir():
        return f"npm harness not installed in {HARNESS} (run tools/setup_browser.sh)"
    return None


pytestmark = [
    pytest.mark.ros,
    pytest.mark.slow,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


class Phase(NamedTuple):
    """When one driven phase held still, as wall times [s] the driver printed with each event."""

    hold_start: float  # the move has ended; the pose stays put from here
    end: float  # the hold ended (at least hold_s, and enough frames sent at this pose)
    event: dict[str, object]  # the page's status at the end

    def window(self, settle_s: float = 0.2) -> tuple[float, float]:
        """The hold, less ``settle_s`` [s] for in-flight frames of the move."""
        return self.hold_start + settle_s, self.end


def drive_headset(
    listener: Listener, port: int, phases: list[dict[str, object]], profile: Path, timeout_s: float
) -> dict[str, Phase]:
    """Run ``drive_hand.mjs`` (Chromium + IWER) on the bridge's page while ``listener`` spins.

    Returns each phase's name -> its hold. Asserts the driver exited 0; kills it if it is
    still running when anything fails.
    """
    # the bridge node binds its port seconds after it starts on a busy host
    assert wait_for_port(port, 60.0), f"nothing listens on 127.0.0.1:{port} after 60 s"
    events: list[dict[str, object]] = []
    driver = subprocess.Popen(
        ["node", str(HARNESS / "drive_hand.mjs"), f"http://127.0.0.1:{port}/?emulate=quest3",
         json.dumps(phases), str(profile)],
        cwd=HARNESS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def read_events() -> None:
        assert driver.stdout is not None
        for line in driver.stdout:
            events.append(json.loads(line))

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    try:
        listener.spin_until(lambda: driver.poll() is not None, timeout_s=timeout_s)
        reader.join(timeout=5.0)
        stderr = driver.stderr.read() if driver.stderr else ""
        assert driver.returncode == 0, f"browser driver failed:\n{stderr[-3000:]}"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    holds = {str(e["phase"]): float(e["t"]) for e in events if e.get("event") == "hold"}  # type: ignore[arg-type]
    return {
        str(e["phase"]): Phase(holds[str(e["phase"])], float(e["t"]), e)  # type: ignore[arg-type]
        for e in events
        if e.get("event") == "phase"
    }


def _median_position(
    messages: list[tuple[float, object]], window: tuple[float, float]
) -> np.ndarray:
    """Median position of the poses stamped in ``window`` (robust to a late frame of a move).

    Header stamps, not the listener's receive times: a stalled listener would shift those.
    """
    start, end = window
    points = [
        [m.pose.position.x, m.pose.position.y, m.pose.position.z]  # type: ignore[attr-defined]
        for _, m in messages
        if start <= time_to_s(m.header.stamp) <= end
    ]
    assert points, f"no messages between {start:.2f} and {end:.2f}"
    return np.median(points, axis=0)


def test_emulated_hand_motion_moves_published_operator_poses(tmp_path: Path) -> None:
    """Moving the IWER right hand +0.2 m right then +0.2 m up, then pinching, shows in ROS."""
    from geometry_msgs.msg import PoseArray, PoseStamped
    from sensor_msgs.msg import Image

    port = free_port()
    node = start_node(
        "vr_bridge_node",
        {
            "port": port,
            "emulator_script": str(IWER_BUNDLE),
            "camera_topics": ["/e2e_camera/image_raw"],
            "camera_rate_hz": 10.0,
        },
    )
    listener = Listener(
        {
            "/operator/head": PoseStamped,
            "/operator/right_wrist": PoseStamped,
            "/operator/right_hand": PoseArray,
        }
    )
    camera = listener.node.create_publisher(Image, "/e2e_camera/image_raw", 10)
    image = Image(height=48, width=64, encoding="bgr8", step=64 * 3, data=bytes(48 * 64 * 3))
    listener.node.create_timer(0.05, lambda: camera.publish(image))
    try:
        held = drive_headset(listener, port, PHASES, tmp_path / "chromium-profile", 90.0)
        assert list(held) == [p["name"] for p in PHASES], held
        wrists = listener.messages["/operator/right_wrist"]
        at = {
            name: _median_position(wrists, phase.window())
            for name, phase in held.items()
            if name != "settle"
        }
        # WebXR +x (right) is operator -y; WebXR +y (up) is operator +z.
        np.testing.assert_allclose(at["right"] - at["start"], [0.0, -0.2, 0.0], atol=0.02)
        np.testing.assert_allclose(at["up"] - at["right"], [0.0, 0.0, 0.2], atol=0.02)

        hands = listener.messages["/operator/right_hand"]
        assert all(len(m.poses) == 25 for _, m in hands)

        def pinch_gap(phase: str) -> float:
            start, end = held[phase].window()
            last = [m for _, m in hands if start <= time_to_s(m.header.stamp) <= end][-1]
            thumb, index = last.poses[4].position, last.poses[9].position
            return float(np.linalg.norm([thumb.x - index.x, thumb.y - index.y, thumb.z - index.z]))

        assert pinch_gap("pinch") < 0.02 < pinch_gap("up")
        head = listener.messages["/operator/head"][-1][1].pose.position
        assert 1.0 < head.z < 2.2, "head height in the operator frame is z"
        last_event = held["pinch"].event
        assert int(last_event["cameraFrames"]) > 0, "the page received no robot camera frame"
    finally:
        listener.close()
        code, output = stop_node(node)
    assert code == 0, output


CONTROLLER_PHASES = [
    # Settle at the start pose first: on a loaded machine the first controller frames can
    # arrive after a short first phase has already ended.
    {"name": "settle", "input": "controller", "position": [0.2, 1.0, -0.3], "move_s": 0.2,
     "hold_s": HOLD_S},
    {"name": "start", "input": "controller", "position": [0.2, 1.0, -0.3], "move_s": 0.2,
     "hold_s": HOLD_S},
    {"name": "moved", "input": "controller", "position": [0.2, 1.0, -0.5], "move_s": 0.5,
     "hold_s": HOLD_S, "buttons": {"trigger": 1.0}, "axes": {"thumbstick": [0.5, 0.0]}},
]  # fmt: skip


def test_emulated_controller_gives_wrist_and_buttons(tmp_path: Path) -> None:
    """With hands not tracked, the right controller moves the right wrist and its trigger and
    thumbstick show on /operator/joy (right trigger = button 8, right stick x = axis 6)."""
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import Joy

    port = free_port()
    node = start_node("vr_bridge_node", {"port": port, "emulator_script": str(IWER_BUNDLE)})
    listener = Listener({"/operator/right_wrist": PoseStamped, "/operator/joy": Joy})
    try:
        held = drive_headset(listener, port, CONTROLLER_PHASES, tmp_path / "chromium-profile", 90.0)
        wrists = listener.messages["/operator/right_wrist"]
        at = {
            name: _median_position(wrists, phase.window())
            for name, phase in held.items()
            if name != "settle"
        }
        # WebXR -z (forward) is operator +x.
        np.testing.assert_allclose(at["moved"] - at["start"], [0.2, 0.0, 0.0], atol=0.02)
        joys = [
            m
            for _, m in listener.messages["/operator/joy"]
            if time_to_s(m.header.stamp) > held["start"].end
        ]
        assert joys, "no /operator/joy from the controllers"
        last = joys[-1]
        assert len(last.buttons) == 16 and len(last.axes) == 8
        assert last.buttons[8] == 1, f"right trigger not pressed in {list(last.buttons)}"
        assert last.axes[6] == pytest.approx(0.5), f"right thumbstick x in {list(last.axes)}"
    finally:
        listener.close()
        code, output = stop_node(node)
    assert code == 0, output
