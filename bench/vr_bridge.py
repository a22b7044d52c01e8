"""vr_bridge latency: WebSocket pose frame in → ROS message out, at 90 Hz.

    .venv/bin/python -m humanoid_teleop.isolation -- \
        .venv/bin/python bench/vr_bridge.py [--seconds 10]

Starts a real ``vr_bridge_node`` process, a WebSocket client sending full frames (head + two
25-joint hands, 1 536 bytes) at 90 Hz, and a subscriber on /operator/head in this process.
Each frame carries its sequence number in the head height, so latency is measured per frame:
client send (wall clock) → subscriber callback (wall clock), same machine. Run once with the
camera stream off and once with a 640x480 camera image published at 30 Hz that the node
JPEG-encodes and streams back to the client at ``camera_rate_hz``. Prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.devices.webxr import protocol
from humanoid_teleop.devices.webxr.protocol import XrFrame
from test.devices.ros_helpers import Listener, free_port, start_node, stop_node

RATE_HZ = 90.0
SEQ_STEP_M = 1e-4
CAMERA_TOPIC = "/bench_camera/image_raw"
FRAME_BYTES = protocol.HEADER.size + 4 * 7 * (1 + 2 * protocol.HAND_JOINTS)


async def _client(
    port: int, seconds: float, sent: dict[int, float], camera: list[int], ready: threading.Event
) -> None:
    import websockets

    for _ in range(100):
        try:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None)
            break
        except OSError:
            await asyncio.sleep(0.1)
    else:
        raise SystemExit(f"vr_bridge_node did not listen on {port}")
    await ws.send(json.dumps({"type": "hello", "version": 1, "token": ""}))
    await ws.recv()
    ready.set()

    async def receive() -> None:
        async for message in ws:
            if isinstance(message, bytes) and message[1] == protocol.KIND_CAMERA:
                camera.append(len(message))

    receiver = asyncio.create_task(receive())
    hand = np.tile([0.1, 1.0, -0.4, 0.0, 0.0, 0.0, 1.0], (25, 1))
    period = 1.0 / RATE_HZ
    start = time.monotonic()
    seq = 0
    while time.monotonic() - start < seconds:
        head = np.array([0.0, seq * SEQ_STEP_M, 0.0, 0.0, 0.0, 0.0, 1.0])
        data = protocol.encode_pose_frame(
            XrFrame(seq, time.time() * 1e3, head=head, left_hand=hand, right_hand=hand)
        )
        sent[seq] = time.time()
        await ws.send(data)
        seq += 1
        await asyncio.sleep(max(0.0, start + seq * period - time.monotonic()))
    await asyncio.sleep(0.3)
    receiver.cancel()
    await ws.close()


def run(seconds: float, camera_on: bool) -> dict[str, float]:
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import Image

    port = free_port()
    params: dict[str, object] = {"port": port, "camera_rate_hz": 30.0}
    if camera_on:
        params["camera_topics"] = [CAMERA_TOPIC]
    node = start_node("vr_bridge_node", params)  # type: ignore[arg-type]
    # A deep queue, so a momentarily starved subscriber does not count as lost frames.
    listener = Listener({"/operator/head": PoseStamped, "/diagnostics": DiagnosticArray}, qos=1000)
    if camera_on:
        pub = listener.node.create_publisher(Image, CAMERA_TOPIC, 10)
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8).tobytes()
        image = Image(height=480, width=640, encoding="bgr8", step=640 * 3, data=pixels)
        listener.node.create_timer(1 / 30, lambda: pub.publish(image))
    # DDS discovery before the timed part: the node's publisher must be matched.
    listener.spin_until(lambda: listener.node.count_publishers("/operator/head") > 0, 30.0)
    listener.spin_for(1.0)
    sent: dict[int, float] = {}
    camera: list[int] = []
    ready = threading.Event()
    client = threading.Thread(
        target=lambda: asyncio.run(_client(port, seconds, sent, camera, ready)), daemon=True
    )
    client.start()
    ready.wait(20)
    listener.spin_until(lambda: not client.is_alive(), seconds + 20)
    listener.spin_for(1.5)
    node_frames = 0
    for _, array in listener.messages["/diagnostics"]:
        for status in array.status:
            if status.name == "vr_bridge":
                values = {kv.key: kv.value for kv in status.values}
                node_frames = max(node_frames, int(values["frames"]))
    latencies_ms = []
    for received_s, msg in listener.messages["/operator/head"]:
        seq = round(msg.pose.position.z / SEQ_STEP_M)
        if seq in sent:
            latencies_ms.append((received_s - sent[seq]) * 1e3)
    listener.close()
    stop_node(node)
    values = np.array(latencies_ms) if latencies_ms else np.array([np.nan])
    return {
        "sent": float(len(sent)),
        "node": float(node_frames),
        "received": float(len(latencies_ms)),
        "p50": float(np.percentile(values, 50)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
        "camera_fps": len(camera) / seconds,
        "camera_kb": (float(np.mean(camera)) / 1e3) if camera else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per run [s] (default 10)")
    args = parser.parse_args()
    rows = [("camera off", run(args.seconds, False)), ("camera on", run(args.seconds, True))]
    print(
        f"\nvr_bridge: WebSocket frame in -> /operator/head out, {RATE_HZ:.0f} Hz, "
        f"{args.seconds:.0f} s per run, head + 2 hands = {FRAME_BYTES} bytes per frame"
    )
    header = (
        f"{'run':<11} {'sent':>6} {'node':>6} {'recv':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'cam fps':>7} {'cam kB':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows:
        print(
            f"{name:<11} {r['sent']:>6.0f} {r['node']:>6.0f} {r['received']:>6.0f} "
            f"{r['p50']:>7.2f} {r['p99']:>7.2f} {r['max']:>7.2f} "
            f"{r['camera_fps']:>7.1f} {r['camera_kb']:>7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
