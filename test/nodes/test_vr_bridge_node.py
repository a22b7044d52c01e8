"""vr_bridge_node over real DDS: WebSocket frames in, operator-frame poses out."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from websockets.sync.client import connect

from humanoid_teleop.devices.webxr import protocol
from humanoid_teleop.devices.webxr.protocol import Controller, XrFrame
from humanoid_teleop.nodes.ros_conversions import time_to_s
from test.devices.ros_helpers import Listener, free_port, start_node, stop_node

pytestmark = pytest.mark.ros
IDENTITY = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def running_bridge() -> Iterator[tuple[int, Listener]]:
    """One node for the module (starting one costs seconds); each test gets a clean slate."""
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PoseArray, PoseStamped
    from sensor_msgs.msg import Joy

    port = free_port()
    node = start_node("vr_bridge_node", {"port": port})
    listener = Listener(
        {
            "/operator/head": PoseStamped,
            "/operator/left_wrist": PoseStamped,
            "/operator/right_wrist": PoseStamped,
            "/operator/right_hand": PoseArray,
            "/operator/joy": Joy,
            "/diagnostics": DiagnosticArray,
        }
    )
    yield port, listener
    listener.close()
    code, output = stop_node(node)
    assert code == 0, output


@pytest.fixture
def bridge(running_bridge: tuple[int, Listener]) -> tuple[int, Listener]:
    running_bridge[1].clear()
    return running_bridge


def _connect(port: int) -> object:
    for _ in range(100):
        try:
            return connect(f"ws://127.0.0.1:{port}/ws")
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"vr_bridge_node never listened on {port}")


@contextmanager
def _operator(port: int) -> Iterator[Any]:
    """A WebSocket to the bridge, past the hello."""
    with _connect(port) as ws:  # type: ignore[attr-defined]
        ws.send(json.dumps({"type": "hello", "version": 1, "token": ""}))
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
        yield ws


#: A frame to send: raw bytes as they are, a pose frame encoded at send time with the page's
#: clock then (as the page does: the bridge stamps frames at their capture time).
Frame = bytes | XrFrame


def _wire(frame: Frame) -> bytes:
    if isinstance(frame, bytes):
        return frame
    return protocol.encode_pose_frame(replace(frame, client_time_ms=time.time() * 1e3))


def _send_until(ws: Any, listener: Listener, frames: list[Frame], done: Callable[[], bool]) -> bool:
    """Send ``frames`` repeatedly until ``done()`` (15 s at most); return whether it is."""
    end = time.monotonic() + 15
    while not done() and time.monotonic() < end:
        for frame in frames:
            ws.send(_wire(frame))
        listener.spin_for(0.05)
    return done()


def _stamped_since(listener: Listener, topics: tuple[str, ...], start_s: float) -> bool:
    """Whether the last message of each of ``topics`` was stamped at or after ``start_s``."""
    return all(
        listener.messages[t] and time_to_s(listener.messages[t][-1][1].header.stamp) >= start_s
        for t in topics
    )


def _stream(port: int, listener: Listener, frames: list[Frame], *topics: str) -> None:
    """Send ``frames`` repeatedly until each of ``topics`` has a message made from them (DDS
    discovery takes a moment).

    Only a message the bridge stamped after this stream began counts, so one left over from the
    previous test (delivered late by a busy host) does not end the wait; and as one writer
    delivers in order, the last message of each topic is then one of ours.
    """
    start_s = time.time()
    with _operator(port) as ws:
        _send_until(ws, listener, frames, lambda: _stamped_since(listener, topics, start_s))


def test_hand_frame_publishes_hand_and_wrist_in_operator_frame(
    bridge: tuple[int, Listener],
) -> None:
    """A WebXR hand 0.5 m ahead, 0.1 m right, 1.2 m up is published at (0.5, -0.1, 1.2)."""
    port, listener = bridge
    hand = np.tile(IDENTITY, (25, 1))
    hand[:, :3] = [0.1, 1.2, -0.5]
    hand[9, :3] = [0.1, 1.2, -0.6]  # index tip 10 cm further forward
    frame = XrFrame(seq=0, client_time_ms=0.0, head=IDENTITY, right_hand=hand)
    _stream(port, listener, [frame], "/operator/right_hand", "/operator/right_wrist")
    poses = listener.messages["/operator/right_hand"][-1][1].poses
    assert len(poses) == 25
    assert (poses[9].position.x, poses[9].position.y) == pytest.approx((0.6, -0.1), abs=1e-6)
    wrist = listener.messages["/operator/right_wrist"][-1][1]
    assert wrist.header.frame_id == "operator"
    p = wrist.pose.position
    assert (p.x, p.y, p.z) == pytest.approx((0.5, -0.1, 1.2), abs=1e-6)


def test_messages_are_stamped_at_capture(bridge: tuple[int, Listener]) -> None:
    """The head pose stamp is the wall-clock time the page captured its frame (the page and
    this test share a clock here), between sending and receiving it."""
    port, listener = bridge
    first = XrFrame(seq=0, client_time_ms=0.0, head=IDENTITY)
    head = IDENTITY.copy()
    head[1] = 1.6  # 1.6 m up: tells this frame's pose from the first one's
    timed = XrFrame(seq=1, client_time_ms=0.0, head=head)

    def timed_poses() -> list[Any]:
        return [m for _, m in listener.messages["/operator/head"] if m.pose.position.z > 1.5]

    with _operator(port) as ws:
        start_s = time.time()
        # First until DDS has matched, so the timed frame's pose is not waiting on discovery.
        _send_until(
            ws, listener, [first], lambda: _stamped_since(listener, ("/operator/head",), start_s)
        )
        t0 = time.time()
        assert _send_until(ws, listener, [timed], lambda: bool(timed_poses()))
        t1 = time.time()
    # Captured after t0 and received before t1, so stamped in between (0.05 s slack).
    stamp_s = time_to_s(timed_poses()[0].header.stamp)
    assert t0 - 0.05 <= stamp_s <= t1, (t0, stamp_s, t1)


def test_controller_gives_wrist_and_joy(bridge: tuple[int, Listener]) -> None:
    """Without hand tracking, the left controller grip is the left wrist; buttons go to Joy."""
    port, listener = bridge
    pose = np.array([0.0, 1.0, -0.3, 0.0, 0.0, 0.0, 1.0])
    buttons = np.array([1.0, 0, 0, 0, 0, 0, 0, 0])
    ctrl = Controller(pose, buttons, np.array([0.0, 0.0, 0.25, -1.0]))
    frame = XrFrame(seq=0, client_time_ms=0.0, left_controller=ctrl)
    _stream(port, listener, [frame], "/operator/joy", "/operator/left_wrist")
    joy = listener.messages["/operator/joy"][-1][1]
    assert list(joy.buttons)[:2] == [1, 0] and len(joy.buttons) == 16
    assert list(joy.axes)[2:4] == [0.25, -1.0]
    wrist = listener.messages["/operator/left_wrist"][-1][1].pose.position
    assert (wrist.x, wrist.z) == pytest.approx((0.3, 1.0), abs=1e-6)


def test_bad_frames_are_counted_in_diagnostics_and_node_survives(
    bridge: tuple[int, Listener],
) -> None:
    """Garbage, oversized and wrong-version frames show in /diagnostics; good ones still flow."""
    port, listener = bridge
    good = XrFrame(seq=0, client_time_ms=0.0, head=IDENTITY)
    bad = [b"garbage", b"\0" * 5000, bytes([9]) + _wire(good)[1:]]
    _stream(port, listener, [*bad, good], "/operator/head")

    def counts() -> dict[str, str]:
        for _, array in reversed(listener.messages["/diagnostics"]):
            for status in array.status:
                if status.name == "vr_bridge":
                    return {kv.key: kv.value for kv in status.values}
        return {}

    assert listener.spin_until(lambda: int(counts().get("rejected_wrong_version", 0)) > 0, 5)
    values = counts()
    assert int(values["rejected_malformed"]) > 0
    assert int(values["rejected_oversized"]) > 0
    assert int(values["frames"]) > 0


FLOOD_RATE_HZ = 10_000
FLOOD_S = 5.0
IDLE_S = 1.5


class _Lines:
    """Collects a node's output lines with their arrival time, from a reader thread."""

    def __init__(self, stream: Any) -> None:
        import threading

        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append((time.monotonic(), line.rstrip()))

    def between(self, start: float, end: float) -> list[str]:
        return [line for t, line in self.lines if start <= t <= end]


def _flood(ws: Any, good: XrFrame, stop_at: float) -> dict[str, int]:
    """Send malformed frames at FLOOD_RATE_HZ with a valid frame every 20 ms until
    ``stop_at`` (monotonic); return how many of each went out."""
    # Three kinds of malformed frame: garbage, a cut header, a head frame one float short.
    bad = [b"garbage", b"\x01\x01\x00\x00" + bytes(4), _wire(good)[:-4]]
    sent, good_sent, start = 0, 0, time.monotonic()
    next_good = start
    while (now := time.monotonic()) < stop_at:
        due = int((now - start) * FLOOD_RATE_HZ)
        while sent < due:
            ws.send(bad[sent % len(bad)])
            sent += 1
        if now >= next_good:
            ws.send(_wire(good))
            good_sent += 1
            next_good += 0.02
        time.sleep(0.001)
    return {"sent": sent, "good": good_sent}


def test_flood_of_malformed_frames_is_counted_in_few_lines_and_squatter_is_dropped() -> None:
    """10k malformed frames/s for 5 s: the operator's valid frames keep flowing, the page is
    still served, the node writes at most 20 log lines; then the operator goes silent, is
    dropped after idle_timeout_s (counted in /diagnostics) and a second client connects."""
    import urllib.request

    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PoseStamped
    from websockets.exceptions import ConnectionClosed

    port = free_port()
    node = start_node("vr_bridge_node", {"port": port, "idle_timeout_s": IDLE_S})
    output = _Lines(node.stdout)
    # A deep history: this process's GIL is busy sending, so the listener spins in bursts.
    listener = Listener(
        {"/operator/head": PoseStamped, "/diagnostics": DiagnosticArray},
        qos_by_topic={"/operator/head": 1000},
    )
    good = XrFrame(seq=0, client_time_ms=0.0, head=IDENTITY)
    try:
        with _operator(port) as ws:
            _send_until(ws, listener, [good], lambda: bool(listener.messages["/operator/head"]))
            started = time.monotonic()
            flood_started_s = time.time()
            flood: dict[str, int] = {}
            import threading

            sender = threading.Thread(
                target=lambda: flood.update(_flood(ws, good, started + FLOOD_S))
            )
            sender.start()
            time.sleep(FLOOD_S / 2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                assert page.status == 200  # the server still answers other clients
            while sender.is_alive():
                listener.spin_for(0.05)
            ended = time.monotonic()
            # Silent from here on: the bridge must drop this operator IDLE_S after the last
            # valid frame it handled (a busy host may still be working through the flood, so
            # keep listening for its operator poses meanwhile).
            close_code, dropped_s = None, math.inf
            while time.time() < flood_started_s + FLOOD_S + IDLE_S + 15:
                try:
                    ws.recv(timeout=0.02)
                except TimeoutError:
                    listener.spin_for(0.02)
                except ConnectionClosed as err:
                    close_code = err.rcvd.code if err.rcvd is not None else None
                    dropped_s, ended = time.time(), time.monotonic()
                    break
        assert flood["sent"] >= 0.5 * FLOOD_RATE_HZ * FLOOD_S, flood  # a flood it was
        heads = listener.stamped_after("/operator/head", flood_started_s)
        # The operator's valid frames kept flowing (this process's GIL, shared by the sender
        # and the listener, may send fewer than 50 Hz of them on a busy host).
        assert flood["good"] >= 0.3 * 50 * FLOOD_S, flood
        assert len(heads) >= 0.8 * flood["good"], (len(heads), flood)
        assert close_code == 4408
        last_valid_s = time_to_s(heads[-1].header.stamp)  # stamped when the bridge took it
        assert IDLE_S * 0.9 <= dropped_s - last_valid_s <= IDLE_S + 3.0
        with _operator(port) as second:
            _send_until(
                second,
                listener,
                [good],
                lambda: bool(listener.stamped_after("/operator/head", time.time() - 0.2)),
            )

        def vr_status() -> dict[str, str]:
            for _, array in reversed(listener.messages["/diagnostics"]):
                for status in array.status:
                    if status.name == "vr_bridge":
                        return {kv.key: kv.value for kv in status.values}
            return {}

        assert listener.spin_until(lambda: vr_status().get("idle_disconnects") == "1", 5)
        rejected = sum(int(v) for k, v in vr_status().items() if k.startswith("rejected_"))
        assert rejected >= flood["sent"]
        lines = output.between(started, ended + 1.5)
        assert len(lines) <= 20, lines
        assert any("since the last line" in line for line in lines)
    finally:
        listener.close()
        code, _ = stop_node(node)
    assert code == 0
