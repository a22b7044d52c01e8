"""The vr_bridge server over a real WebSocket: accepted frames, rejected frames, security."""

from __future__ import annotations

import contextlib
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.devices.errors import DeviceError
from humanoid_teleop.devices.webxr import protocol
from humanoid_teleop.devices.webxr.protocol import XrFrame
from humanoid_teleop.devices.webxr.server import (
    CLOSE_BUSY,
    CLOSE_IDLE,
    CLOSE_WRONG_TOKEN,
    TRANSPORT_LIMIT_BYTES,
    BridgeConfig,
    XrBridgeServer,
)

REPO = Path(__file__).resolve().parents[3]
HEAD = np.array([0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 1.0])


def _frame(seq: int = 0) -> bytes:
    return protocol.encode_pose_frame(XrFrame(seq=seq, client_time_ms=0.0, head=HEAD))


class Received:
    def __init__(self) -> None:
        self.frames: list[XrFrame] = []
        self.stamps_ns: list[int] = []
        self.arrivals_ns: list[int] = []

    def __call__(self, frame: XrFrame, stamp_ns: int) -> None:
        self.arrivals_ns.append(time.time_ns())
        self.stamps_ns.append(stamp_ns)
        self.frames.append(frame)

    def wait(self, count: int, timeout_s: float = 5.0) -> bool:
        end = time.monotonic() + timeout_s
        while len(self.frames) < count and time.monotonic() < end:
            time.sleep(0.01)
        return len(self.frames) >= count


def _start(tmp_path: Path, **overrides: object) -> tuple[XrBridgeServer, Received]:
    received = Received()
    config = BridgeConfig.from_dict(
        {"port": 0, "tls_dir": str(tmp_path / "tls"), **overrides}, source="test"
    )
    server = XrBridgeServer(config, received, announce=lambda _text: None)
    server.start()
    return server, received


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[XrBridgeServer, Received]]:
    server, received = _start(tmp_path)
    yield server, received
    server.stop()


@contextlib.contextmanager
def _operator(server: XrBridgeServer, token: str = "") -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{server.port}/ws", max_size=None) as ws:
        ws.send(json.dumps({"type": "hello", "version": 1, "token": token}))
        reply = json.loads(ws.recv(timeout=5))
        assert reply["type"] == "welcome", reply
        yield ws


def _wait_rejected(server: XrBridgeServer, reason: str, count: int = 1) -> int:
    end = time.monotonic() + 5.0
    while server.stats().rejected[reason] < count and time.monotonic() < end:
        time.sleep(0.01)
    return server.stats().rejected[reason]


def test_page_is_served_over_http(bridge: tuple[XrBridgeServer, Received]) -> None:
    """GET / returns the WebXR page and /app.js its script."""
    server, _ = bridge
    page = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=5).read()
    script = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/app.js", timeout=5).read()
    assert b"Enter VR" in page
    assert b"requestSession" in script


def test_emulator_is_not_served_unless_configured(bridge: tuple[XrBridgeServer, Received]) -> None:
    """Without emulator_script, /emulator/iwer.js is a 404."""
    server, _ = bridge
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/emulator/iwer.js", timeout=5)


def test_valid_frames_reach_the_callback(bridge: tuple[XrBridgeServer, Received]) -> None:
    """Ten frames sent are ten frames received, in order, and counted."""
    server, received = bridge
    with _operator(server) as ws:
        for seq in range(10):
            ws.send(_frame(seq))
        assert received.wait(10)
    assert [f.seq for f in received.frames] == list(range(10))
    assert server.stats().frames == 10


def test_frames_are_stamped_at_capture_not_on_arrival(
    bridge: tuple[XrBridgeServer, Received],
) -> None:
    """A frame captured 1 s before it is sent (a stalled headset buffer) is stamped 1 s
    before the frames around it, never after its arrival, and stamps keep increasing."""
    server, received = bridge
    with _operator(server) as ws:
        now_ms = time.time_ns() * 1e-6
        ws.send(protocol.encode_pose_frame(XrFrame(seq=0, client_time_ms=now_ms, head=HEAD)))
        assert received.wait(1)
        time.sleep(1.2)
        sent_ms = time.time_ns() * 1e-6
        ws.send(
            protocol.encode_pose_frame(XrFrame(seq=1, client_time_ms=sent_ms - 1000.0, head=HEAD))
        )
        ws.send(protocol.encode_pose_frame(XrFrame(seq=2, client_time_ms=sent_ms, head=HEAD)))
        assert received.wait(3)
    first, stalled, current = received.stamps_ns
    assert all(s <= a for s, a in zip(received.stamps_ns, received.arrivals_ns, strict=True))
    assert first < stalled < current
    assert 0.95e9 < current - stalled < 1.05e9  # the capture times' spacing, not arrival's
    assert received.arrivals_ns[1] - stalled > 0.95e9  # a second before it arrived
    assert server.stats().capture_lag_ms < 900.0  # the last frame was sent as captured


def test_oversized_frame_is_counted_and_operator_stays(
    bridge: tuple[XrBridgeServer, Received],
) -> None:
    """A frame one byte over the limit is rejected as oversized; the next good one is taken."""
    server, received = bridge
    with _operator(server) as ws:
        ws.send(b"\x01" * (server.config.max_frame_bytes + 1))
        ws.send(_frame(1))
        assert received.wait(1)
    assert server.stats().rejected["oversized"] == 1


def test_frame_beyond_transport_limit_drops_connection_not_server(tmp_path: Path) -> None:
    """A 2 MiB message closes that connection (counted oversized); a new operator still works."""
    server, received = _start(tmp_path)
    try:
        with _operator(server) as ws, pytest.raises(ConnectionClosed):
            ws.send(b"\0" * (2 * TRANSPORT_LIMIT_BYTES))
            for _ in range(100):
                ws.recv(timeout=5)
        assert _wait_rejected(server, "oversized") == 1
        with _operator(server) as again:
            again.send(_frame(3))
            assert received.wait(1)
    finally:
        server.stop()


def test_malformed_frame_is_counted(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A truncated frame is rejected as malformed and later frames still arrive."""
    server, received = bridge
    with _operator(server) as ws:
        ws.send(_frame(1)[:-3])
        ws.send(b"garbage")
        ws.send(_frame(2))
        assert received.wait(1)
    assert server.stats().rejected["malformed"] == 2
    assert [f.seq for f in received.frames] == [2]


def test_text_after_hello_is_malformed(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A JSON text message after the hello is counted as malformed."""
    server, _ = bridge
    with _operator(server) as ws:
        ws.send('{"type": "pose"}')
        assert _wait_rejected(server, "malformed") == 1


def test_wrong_version_frame_is_counted(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A version-2 frame is rejected as wrong_version."""
    server, _ = bridge
    data = protocol.encode_pose_frame(XrFrame(seq=0, client_time_ms=0.0, head=HEAD), version=2)
    with _operator(server) as ws:
        ws.send(data)
        assert _wait_rejected(server, "wrong_version") == 1


def test_wrong_version_hello_is_refused(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A hello of version 2 gets an error reply naming wrong_version and is closed."""
    server, _ = bridge
    with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        ws.send(json.dumps({"type": "hello", "version": 2}))
        assert json.loads(ws.recv(timeout=5))["reason"] == "wrong_version"
    assert server.stats().rejected["wrong_version"] == 1


def test_binary_before_hello_is_refused(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A pose frame sent before the hello is refused (no_hello) and not delivered."""
    server, received = bridge
    with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        ws.send(_frame(0))
        assert json.loads(ws.recv(timeout=5))["reason"] == "no_hello"
    assert received.frames == []


def test_wrong_token_is_refused_with_4401(tmp_path: Path) -> None:
    """With a token configured, a hello with another token is closed with code 4401."""
    server, received = _start(tmp_path, token="s3cret")
    try:
        with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
            ws.send(json.dumps({"type": "hello", "version": 1, "token": "guess"}))
            assert json.loads(ws.recv(timeout=5))["reason"] == "wrong_token"
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == CLOSE_WRONG_TOKEN
        assert server.stats().rejected["wrong_token"] == 1
        with _operator(server, token="s3cret") as ws_ok:
            ws_ok.send(_frame(0))
            assert received.wait(1)
    finally:
        server.stop()


def test_second_operator_is_refused_while_first_connected(
    bridge: tuple[XrBridgeServer, Received],
) -> None:
    """One operator per robot: a second client gets 4409 until the first disconnects."""
    server, received = bridge
    with _operator(server), connect(f"ws://127.0.0.1:{server.port}/ws") as second:
        second.send(json.dumps({"type": "hello", "version": 1}))
        assert json.loads(second.recv(timeout=5))["reason"] == "busy"
        with pytest.raises(ConnectionClosed) as info:
            second.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == CLOSE_BUSY
    end = time.monotonic() + 5
    while server.stats().operator and time.monotonic() < end:
        time.sleep(0.01)
    with _operator(server) as third:
        third.send(_frame(9))
        assert received.wait(1)


def test_non_loopback_bind_requires_tls_and_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Binding 0.0.0.0 generates a self-signed certificate and a token; wss with it works.

    The server's and the client's WebSocket logs are kept at DEBUG: in one of ~10 full
    runs the second connection's opening handshake went unanswered for 10 s (not
    reproduced in 40 runs alone under load); a failure then shows both sides' frames."""
    caplog.set_level("DEBUG", logger="humanoid_teleop.devices.webxr.server.websockets")
    caplog.set_level("DEBUG", logger="websockets.client")
    server, received = _start(tmp_path, host="0.0.0.0")
    try:
        assert server.scheme == "https"
        assert len(server.token) >= 16
        cert = tmp_path / "tls" / "vr_bridge.crt"
        assert (tmp_path / "tls" / "vr_bridge.key").stat().st_mode & 0o077 == 0
        context = ssl.create_default_context(cafile=str(cert))
        url = f"wss://localhost:{server.port}/ws"
        with connect(url, ssl=context) as ws:
            ws.send(json.dumps({"type": "hello", "version": 1, "token": server.token}))
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"
            ws.send(_frame(0))
            assert received.wait(1)
        with connect(url, ssl=context) as ws:
            ws.send(json.dumps({"type": "hello", "version": 1, "token": ""}))
            assert json.loads(ws.recv(timeout=5))["reason"] == "wrong_token"
    finally:
        server.stop()


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    """Off loopback the server speaks TLS only: a plain ws:// client cannot connect."""
    server, _ = _start(tmp_path, host="0.0.0.0")
    try:
        with (
            pytest.raises(InvalidMessage, match="did not receive a valid HTTP response"),
            connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5),
        ):
            pass
    finally:
        server.stop()


def test_camera_frames_are_rate_bounded(tmp_path: Path) -> None:
    """Offering JPEGs at 200 Hz with camera_rate_hz 10 sends about 10 per second per eye."""
    server, _ = _start(tmp_path, camera_rate_hz=10.0)
    try:
        with _operator(server) as ws:
            eyes: list[int] = []
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                server.set_camera_jpeg(0, b"\xff\xd8left", 0.0)
                server.set_camera_jpeg(1, b"\xff\xd8right", 0.0)
                try:
                    while True:
                        message = ws.recv(timeout=0.005)
                        assert isinstance(message, bytes)
                        eyes.append(message[2])
                except TimeoutError:
                    pass
        assert 3 <= eyes.count(0) <= 12
        assert 3 <= eyes.count(1) <= 12
    finally:
        server.stop()


def test_unknown_config_key_names_source_and_allowed_keys() -> None:
    """A typo in the config is an error naming the file and listing the allowed keys."""
    with pytest.raises(
        ConfigError, match=r"vr.yaml: prot: unknown key 'prot'; allowed keys: .*port"
    ):
        BridgeConfig.from_dict({"prot": 1}, source="vr.yaml")


def test_shipped_parameter_file_builds_a_config() -> None:
    """config/devices/vr_bridge.yaml (minus the node-only keys) is a valid BridgeConfig."""
    path = REPO / "config" / "devices" / "vr_bridge.yaml"
    params = yaml.safe_load(path.read_text())["vr_bridge_node"]["ros__parameters"]
    node_only = {"camera_topics", "compressed_camera_topics", "jpeg_quality"}
    config = BridgeConfig.from_dict(
        {k: v for k, v in params.items() if k not in node_only}, source=str(path)
    )
    assert config.loopback
    assert config.max_frame_bytes == protocol.MAX_POSE_FRAME_BYTES


def test_tiny_frame_limit_is_refused() -> None:
    """max_frame_bytes below 64 is a config error naming the key and the minimum."""
    with pytest.raises(ConfigError, match="max_frame_bytes: expected an integer >= 64, got 10"):
        BridgeConfig.from_dict({"max_frame_bytes": 10}, source="vr.yaml")


def test_websocket_from_a_foreign_page_is_refused(
    bridge: tuple[XrBridgeServer, Received],
) -> None:
    """A browser page from another origin cannot open the socket (HTTP 403, bad_origin)."""
    server, _ = bridge
    with (
        pytest.raises(InvalidStatus, match="403"),
        connect(f"ws://127.0.0.1:{server.port}/ws", origin="https://evil.example"),  # type: ignore[arg-type]
    ):
        pass
    assert server.stats().rejected["bad_origin"] == 1


def test_websocket_from_our_own_page_is_accepted(
    bridge: tuple[XrBridgeServer, Received],
) -> None:
    """The page's own origin (same host:port) may connect."""
    server, _ = bridge
    origin = f"http://127.0.0.1:{server.port}"
    with connect(f"ws://127.0.0.1:{server.port}/ws", origin=origin) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"type": "hello", "version": 1}))
        assert json.loads(ws.recv(timeout=5))["type"] == "welcome"


def test_port_in_use_is_a_clear_error(bridge: tuple[XrBridgeServer, Received]) -> None:
    """A second server on a taken port fails to start, naming host and port."""
    server, _ = bridge
    config = BridgeConfig.from_dict({"port": server.port}, source="test")
    second = XrBridgeServer(config, Received(), announce=lambda _text: None)
    with pytest.raises(DeviceError, match=rf"cannot listen on 127\.0\.0\.1:{server.port}"):
        second.start()


def test_silent_operator_is_dropped_after_the_idle_timeout(tmp_path: Path) -> None:
    """An authenticated client that sends nothing is closed with 4408, counted, and the slot
    goes to the next client."""
    server, received = _start(tmp_path, idle_timeout_s=0.5)
    try:
        # before the hello: the server's idle clock starts when it reads it, which can be a
        # few ms before this client has the welcome (0.498 s at load in a clean-clone run)
        started = time.monotonic()
        with _operator(server) as silent:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    silent.recv(timeout=5)  # camera frames, if any, until the close
            assert info.value.rcvd is not None and info.value.rcvd.code == CLOSE_IDLE
            assert 0.5 <= time.monotonic() - started < 3.0
        assert server.stats().idle_disconnects == 1
        with _operator(server) as second:
            second.send(_frame(1))
            assert received.wait(1)
    finally:
        server.stop()


def test_garbage_does_not_keep_an_operator_connected(tmp_path: Path) -> None:
    """Only valid frames count as activity: a client sending garbage is dropped too."""
    server, _received = _start(tmp_path, idle_timeout_s=0.5)
    try:
        with _operator(server) as ws, pytest.raises(ConnectionClosed):
            end = time.monotonic() + 5.0
            while time.monotonic() < end:
                ws.send(b"garbage")
                time.sleep(0.01)
        assert server.stats().idle_disconnects == 1
    finally:
        server.stop()


def test_rejection_log_lines_are_rate_limited(
    bridge: tuple[XrBridgeServer, Received], caplog: pytest.LogCaptureFixture
) -> None:
    """2,000 malformed frames give one log line per second at most, and all are counted."""
    server, _received = bridge
    logger = "humanoid_teleop.devices.webxr.server"
    with caplog.at_level("WARNING", logger=logger), _operator(server) as ws:
        started = time.monotonic()
        for _ in range(2000):
            ws.send(b"garbage")
        assert _wait_rejected(server, "malformed", 2000) == 2000
        elapsed = time.monotonic() - started
    lines = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert 1 <= len(lines) <= 2 + elapsed, lines  # the first at once, then one a second
    assert "malformed" in lines[0]


def test_infinite_camera_rate_is_refused() -> None:
    """camera_rate_hz inf (a ROS parameter can be .inf) is refused naming the key."""
    with pytest.raises(
        ConfigError, match=r"node: camera_rate_hz: expected a finite number, got inf"
    ):
        BridgeConfig.from_dict({"camera_rate_hz": float("inf")}, source="node")
