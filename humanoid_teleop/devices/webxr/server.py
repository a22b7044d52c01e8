"""The vr_bridge server: serves the WebXR page and receives pose frames over a WebSocket.

It runs its own asyncio loop in a background thread, so an rclpy node (or a test, or the
bench) only supplies ``on_frame`` and feeds camera JPEGs. Security rules:

* binds ``127.0.0.1`` by default; any other address needs TLS (operator-supplied certificate
  or a self-signed one generated on first run) and a token (configured, or generated and
  announced once);
* one active operator: a second client is refused while one is connected, and an operator
  that sends no valid frame for ``idle_timeout_s`` is disconnected (close code 4408), which
  frees the slot (a silent or garbage-only client cannot squat it);
* frames larger than ``max_frame_bytes``, malformed, of an unknown version, before or without
  a valid hello are rejected and counted; none of them can stop the server, and their log
  lines are rate-limited (one per second per reason, with the count since the last line);
* WebSocket upgrades from another web page (an ``Origin`` that is not this server) are refused,
  so a page in the operator's browser cannot drive the robot through 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import ipaddress
import json
import logging
import math
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.retarget.input_guard import RejectionLog
from humanoid_teleop.devices import config as cfg
from humanoid_teleop.devices.errors import DeviceError, FrameRejected
from humanoid_teleop.devices.webxr import protocol, tls
from humanoid_teleop.devices.webxr.capture_clock import CaptureClock
from humanoid_teleop.devices.webxr.protocol import XrFrame

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parent / "page"
REJECT_REASONS = (
    "oversized",
    "malformed",
    "wrong_version",
    "wrong_token",
    "busy",
    "no_hello",
    "bad_origin",
)
#: WebSocket close codes sent to refused clients.
CLOSE_WRONG_TOKEN = 4401
CLOSE_BUSY = 4409
CLOSE_BAD_HELLO = 4400
CLOSE_IDLE = 4408
#: Hard limit on any message the WebSocket layer buffers [bytes]; above it the connection is
#: dropped (and counted as oversized). Frames between ``max_frame_bytes`` and this are
#: rejected one by one without dropping the operator.
TRANSPORT_LIMIT_BYTES = 1 << 20
HELLO_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class BridgeConfig:
    """Settings of the vr_bridge server (ROS parameters of ``vr_bridge_node``)."""

    host: str = "127.0.0.1"
    port: int = 8443
    #: Required from clients when non-empty; generated when empty and ``host`` is not loopback.
    token: str = ""
    #: Operator-supplied PEM certificate and key; empty means self-signed (off loopback only).
    tls_cert: str = ""
    tls_key: str = ""
    #: Where the self-signed pair is generated and reused.
    tls_dir: str = "~/.local/state/humanoid_teleop/tls"
    max_frame_bytes: int = protocol.MAX_POSE_FRAME_BYTES
    #: Upper bound on camera frames sent back per eye [Hz].
    camera_rate_hz: float = 15.0
    #: A WebXR emulator script served at /emulator/iwer.js (tests only; empty = not served).
    emulator_script: str = ""
    #: An operator sending no valid frame for this long [s] is disconnected (slot freed).
    idle_timeout_s: float = 3.0

    KEYS = (
        "host",
        "port",
        "token",
        "tls_cert",
        "tls_key",
        "tls_dir",
        "max_frame_bytes",
        "camera_rate_hz",
        "emulator_script",
        "idle_timeout_s",
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> BridgeConfig:
        """Build from a mapping; ``source`` (a file or node name) is named in every error."""
        cfg.reject_unknown(data, cls.KEYS, source)
        d = cls()
        config = cls(
            host=cfg.string(data, "host", d.host, source),
            port=cfg.integer(data, "port", d.port, source, minimum=0),
            token=cfg.string(data, "token", d.token, source),
            tls_cert=cfg.string(data, "tls_cert", d.tls_cert, source),
            tls_key=cfg.string(data, "tls_key", d.tls_key, source),
            tls_dir=cfg.string(data, "tls_dir", d.tls_dir, source),
            max_frame_bytes=cfg.integer(
                data, "max_frame_bytes", d.max_frame_bytes, source, minimum=64
            ),
            camera_rate_hz=cfg.number(
                data, "camera_rate_hz", d.camera_rate_hz, source, minimum=0.0
            ),
            emulator_script=cfg.string(data, "emulator_script", d.emulator_script, source),
            idle_timeout_s=cfg.number(
                data, "idle_timeout_s", d.idle_timeout_s, source, minimum=0.0
            ),
        )
        if not 0 < config.idle_timeout_s < math.inf:
            raise ConfigError(
                f"{cfg.at(source, data, 'idle_timeout_s')}: must be a finite number > 0 [s], "
                f"got {config.idle_timeout_s}"
            )
        if config.port > 65535:
            raise ConfigError(
                f"{cfg.at(source, data, 'port')}: must be <= 65535, got {config.port}"
            )
        if config.max_frame_bytes > TRANSPORT_LIMIT_BYTES:
            raise ConfigError(
                f"{cfg.at(source, data, 'max_frame_bytes')}: must be <= {TRANSPORT_LIMIT_BYTES}, "
                f"got {config.max_frame_bytes}"
            )
        if bool(config.tls_cert) != bool(config.tls_key):
            raise ConfigError(
                f"{cfg.at(source, data, 'tls_cert')}: 'tls_cert' and 'tls_key' go together"
            )
        return config

    @property
    def loopback(self) -> bool:
        """True when the server is reachable from this machine only."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


@dataclass
class BridgeStats:
    """Counters and timing of the bridge; read them with :meth:`XrBridgeServer.stats`."""

    frames: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REJECT_REASONS, 0))
    operator: str = ""
    #: Seconds since the last accepted frame (inf before the first).
    frame_age_s: float = float("inf")
    #: Accepted frames per second over the last second.
    rate_hz: float = 0.0
    camera_frames_sent: int = 0
    #: Operators disconnected for sending no valid frame for ``idle_timeout_s``.
    idle_disconnects: int = 0
    #: Arrival minus capture stamp of the last accepted frame [ms]: how late it came.
    capture_lag_ms: float = 0.0


class XrBridgeServer:
    """HTTP(S) + WebSocket server of the WebXR page, running in a background thread.

    ``on_frame(frame, stamp_ns)`` is called from the server thread for each accepted frame,
    with its capture time on this host's wall clock [ns] (:mod:`.capture_clock`: the page's
    capture time plus the smallest recent one-way delay; never after its arrival).
    ``announce`` shows the operator the page address and, once, the token: give it the
    console, not a log file.
    """

    def __init__(
        self,
        config: BridgeConfig,
        on_frame: Callable[[XrFrame, int], None],
        announce: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self._on_frame = on_frame
        self._announce = announce
        self._lock = threading.Lock()
        self._stats = BridgeStats()
        self._recent: collections.deque[float] = collections.deque()
        self._last_frame_s = float("-inf")
        self._rejections = RejectionLog()
        self._operator: ServerConnection | None = None
        self._jpeg: dict[int, tuple[int, float, bytes]] = {}
        self._jpeg_seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port = 0
        self.scheme = "http"
        self.token = config.token
        self._ssl: ssl.SSLContext | None = None
        self._static: dict[str, tuple[str, Path]] = {
            "/": ("text/html; charset=utf-8", PAGE_DIR / "index.html"),
            "/index.html": ("text/html; charset=utf-8", PAGE_DIR / "index.html"),
            "/app.js": ("text/javascript; charset=utf-8", PAGE_DIR / "app.js"),
        }
        if config.emulator_script:
            script = Path(config.emulator_script).expanduser()
            if not script.is_file():
                raise DeviceError(f"emulator_script {script} does not exist")
            self._static["/emulator/iwer.js"] = ("text/javascript; charset=utf-8", script)

    # ---------------------------------------------------------------- lifecycle
    def _prepare_security(self) -> None:
        cert, key = self.config.tls_cert, self.config.tls_key
        if cert:
            self._ssl = tls.server_context(Path(cert).expanduser(), Path(key).expanduser())
        elif not self.config.loopback:
            made = tls.ensure_self_signed(Path(self.config.tls_dir).expanduser(), self.config.host)
            self._ssl = tls.server_context(*made)
        self.scheme = "https" if self._ssl else "http"
        if not self.config.loopback and not self.token:
            self.token = secrets.token_urlsafe(16)

    def start(self, timeout_s: float = 10.0) -> None:
        """Bind and serve in a background thread; raise :class:`DeviceError` if binding fails."""
        self._prepare_security()
        self._thread = threading.Thread(target=self._run, name="vr_bridge", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise DeviceError(f"vr_bridge did not start within {timeout_s} s")
        if self._error is not None:
            raise DeviceError(
                f"vr_bridge cannot listen on {self.config.host}:{self.config.port}: {self._error}"
            ) from self._error
        if self.token and not self.config.token:
            self._announce(f"vr_bridge operator token (shown once): {self.token}")
        self._announce(f"vr_bridge: open {self.url} in the headset browser")

    @property
    def url(self) -> str:
        """The page address, with the token in the fragment when one is required."""
        host = self.config.host if self.config.host != "0.0.0.0" else "<this-machine-address>"
        fragment = f"#token={self.token}" if self.token else ""
        return f"{self.scheme}://{host}:{self.port}/{fragment}"

    def stop(self) -> None:
        """Close every connection and stop the server thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as err:  # reported to start() through _error
            self._error = err
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self._handle,
            self.config.host,
            self.config.port,
            ssl=self._ssl,
            max_size=TRANSPORT_LIMIT_BYTES,
            process_request=self._process_request,
            compression=None,
            logger=logging.getLogger(f"{__name__}.websockets"),
        ) as server:
            self.port = int(next(iter(server.sockets)).getsockname()[1])
            self._ready.set()
            flusher = asyncio.create_task(self._flush_rejection_log())
            await self._stop.wait()
            flusher.cancel()
            self._flush_lines()

    async def _flush_rejection_log(self) -> None:
        """Write the rejection counts owed since each reason's last line, once a second."""
        while True:
            await asyncio.sleep(self._rejections.period_s)
            self._flush_lines()

    def _flush_lines(self) -> None:
        with self._lock:
            lines = self._rejections.flush(time.monotonic())
        for line in lines:
            log.warning("vr_bridge %s", line)

    # ---------------------------------------------------------------- HTTP
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            # Browsers let any page open a WebSocket to 127.0.0.1; accept only our own page
            # (Origin host == Host) or non-browser clients (no Origin header).
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.headers.get("Host"):
                self._reject("bad_origin", f"WebSocket from foreign page {origin}")
                return connection.respond(403, "foreign origin\n")
            return None
        path = request.path.split("?", 1)[0]
        if path == "/favicon.ico":
            return Response(204, "No Content", Headers([("Content-Length", "0")]), b"")
        entry = self._static.get(path)
        if entry is None:
            return connection.respond(404, "not found\n")
        content_type, file = entry
        body = file.read_bytes()
        headers = Headers(
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ]
        )
        return Response(200, "OK", headers, body)

    # ---------------------------------------------------------------- WebSocket
    def _reject(self, reason: str, detail: str) -> None:
        """Count a rejection; log it at most once a second per reason (with the count)."""
        with self._lock:
            self._stats.rejected[reason] += 1
            line = self._rejections.record("frame", reason, detail, time.monotonic())
        if line is not None:
            log.warning("vr_bridge %s", line)

    async def _refuse(self, ws: ServerConnection, code: int, reason: str, detail: str) -> None:
        self._reject(reason, detail)
        try:
            await ws.send(json.dumps({"type": "error", "reason": reason, "detail": detail}))
            await ws.close(code, reason)
        except ConnectionClosed:
            pass

    async def _hello(self, ws: ServerConnection) -> bool:
        try:
            first = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._refuse(ws, CLOSE_BAD_HELLO, "no_hello", "no hello within 5 s")
            return False
        if not isinstance(first, str):
            await self._refuse(ws, CLOSE_BAD_HELLO, "no_hello", "binary frame before the hello")
            return False
        try:
            hello = protocol.parse_hello(first)
        except FrameRejected as err:
            await self._refuse(ws, CLOSE_BAD_HELLO, err.reason, err.detail)
            return False
        if self.token and not hmac.compare_digest(
            str(hello.get("token", "")).encode(), self.token.encode()
        ):
            await self._refuse(ws, CLOSE_WRONG_TOKEN, "wrong_token", "token does not match")
            return False
        with self._lock:
            busy = self._operator is not None
            if not busy:
                self._operator = ws
                self._stats.operator = str(ws.remote_address)
        if busy:
            await self._refuse(ws, CLOSE_BUSY, "busy", "another operator is connected")
            return False
        await ws.send(
            json.dumps(
                {
                    "type": "welcome",
                    "version": protocol.VERSION,
                    "max_frame_bytes": self.config.max_frame_bytes,
                    "camera_rate_hz": self.config.camera_rate_hz,
                }
            )
        )
        log.info("vr_bridge: operator connected from %s", ws.remote_address)
        return True

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            if not await self._hello(ws):
                return
        except ConnectionClosed:
            return
        sender = asyncio.create_task(self._send_camera(ws))
        last_frame_s = [time.monotonic()]  # of this operator's last valid frame (or hello)
        clock = CaptureClock()  # per connection: another headset is another clock
        watchdog = asyncio.create_task(self._drop_when_idle(ws, last_frame_s))
        try:
            async for message in ws:
                if self._receive(message, clock):
                    last_frame_s[0] = time.monotonic()
        except ConnectionClosed as err:
            if (err.rcvd is not None and err.rcvd.code == 1009) or (
                err.sent is not None and err.sent.code == 1009
            ):
                self._reject("oversized", f"message above {TRANSPORT_LIMIT_BYTES} bytes")
        finally:
            sender.cancel()
            watchdog.cancel()
            with self._lock:
                if self._operator is ws:
                    self._operator = None
                    self._stats.operator = ""
            log.info("vr_bridge: operator %s disconnected", ws.remote_address)

    async def _drop_when_idle(self, ws: ServerConnection, last_frame_s: list[float]) -> None:
        """Disconnect the operator once it sent no valid frame for ``idle_timeout_s``; the
        slot is freed at once, before the close handshake (which a squatter may ignore)."""
        timeout = self.config.idle_timeout_s
        while (idle := time.monotonic() - last_frame_s[0]) < timeout:
            await asyncio.sleep(timeout - idle)
        with self._lock:
            self._stats.idle_disconnects += 1
            if self._operator is ws:
                self._operator = None
                self._stats.operator = ""
        log.warning(
            "vr_bridge: operator %s sent no valid frame for %.1f s; disconnected",
            ws.remote_address,
            timeout,
        )
        await ws.close(CLOSE_IDLE, "idle")

    def _receive(self, message: str | bytes, clock: CaptureClock) -> bool:
        """Handle one message from the operator; True when it was a valid pose frame."""
        received_ns = time.time_ns()
        if isinstance(message, str):
            self._reject("malformed", "text message after the hello")
            return False
        if len(message) > self.config.max_frame_bytes:
            self._reject("oversized", f"{len(message)} bytes > limit {self.config.max_frame_bytes}")
            return False
        try:
            frame = protocol.decode_pose_frame(message)
        except FrameRejected as err:
            self._reject(err.reason, err.detail)
            return False
        stamp_ns = clock.stamp(frame.client_time_ms, received_ns)
        now = time.monotonic()
        with self._lock:
            self._stats.capture_lag_ms = clock.lag_ns * 1e-6
            self._stats.frames += 1
            self._last_frame_s = now
            self._recent.append(now)
            while self._recent and self._recent[0] < now - 1.0:
                self._recent.popleft()
        self._on_frame(frame, stamp_ns)
        return True

    async def _send_camera(self, ws: ServerConnection) -> None:
        if self.config.camera_rate_hz <= 0:
            return
        period = 1.0 / self.config.camera_rate_hz
        sent: dict[int, int] = {}
        try:
            while True:
                with self._lock:
                    pending = [
                        (eye, seq, stamp, jpeg)
                        for eye, (seq, stamp, jpeg) in self._jpeg.items()
                        if sent.get(eye) != seq
                    ]
                for eye, seq, stamp, jpeg in pending:
                    await ws.send(protocol.encode_camera_frame(eye, seq, stamp, jpeg))
                    sent[eye] = seq
                    with self._lock:
                        self._stats.camera_frames_sent += 1
                await asyncio.sleep(period)
        except ConnectionClosed:
            return

    # ---------------------------------------------------------------- API
    def set_camera_jpeg(self, eye: int, jpeg: bytes, stamp_ms: float) -> None:
        """Offer the newest JPEG for ``eye`` (0 left/mono, 1 right); older ones are dropped."""
        with self._lock:
            self._jpeg_seq += 1
            self._jpeg[eye] = (self._jpeg_seq, stamp_ms, jpeg)

    def stats(self) -> BridgeStats:
        """A snapshot of the counters, frame age [s] and rate [Hz]."""
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0] < now - 1.0:
                self._recent.popleft()
            return BridgeStats(
                frames=self._stats.frames,
                rejected=dict(self._stats.rejected),
                operator=self._stats.operator,
                frame_age_s=now - self._last_frame_s,
                rate_hz=float(len(self._recent)),
                camera_frames_sent=self._stats.camera_frames_sent,
                idle_disconnects=self._stats.idle_disconnects,
            )
