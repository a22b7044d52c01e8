"""vr_bridge_node: WebXR headset → /operator/{head, left_wrist, right_wrist, left_hand, right_hand}.

Serves the WebXR page over HTTP(S) + WebSocket from this process (see
:mod:`humanoid_teleop.devices.webxr.server`), converts each pose frame from WebXR's y-up space
into the REP-103 operator frame and publishes it, stamped at capture (the page's clock mapped
onto this host's, :mod:`humanoid_teleop.devices.webxr.capture_clock`). Controller
buttons and thumbsticks go to ``/operator/joy``. Robot camera images (``camera_topics``:
sensor_msgs/Image, ``compressed_camera_topics``: JPEG CompressedImage; the first is the left /
mono eye, the second the right) are streamed back to the headset at ``camera_rate_hz`` at most.
Frame age, rate, rejected-frame counts and idle disconnects (an operator silent for
``idle_timeout_s``) go to ``/diagnostics`` once a second; rejected frames are logged at most
once a second per reason, with the count since the last line.
"""

from __future__ import annotations

import sys
import time

import cv2
import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseArray, PoseStamped
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image, Joy

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.devices.webxr.conversion import poses_to_operator
from humanoid_teleop.devices.webxr.protocol import Controller, XrFrame
from humanoid_teleop.devices.webxr.server import BridgeConfig, XrBridgeServer
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import operator_topic

FRAME_ID = "operator"
#: Frame age above which the diagnostics report a stale stream [s].
STALE_AFTER_S = 0.5


def _stamp(ns: int) -> Time:
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


class VrBridgeNode(Node):
    """Publishes operator poses from the WebXR page; all logic lives in the server module."""

    def __init__(self) -> None:
        super().__init__("vr_bridge_node")
        defaults = BridgeConfig()
        values = {
            key: self.declare_parameter(key, getattr(defaults, key)).value
            for key in BridgeConfig.KEYS
        }
        self._config = BridgeConfig.from_dict(values, source="vr_bridge_node parameters")
        # rclpy infers Parameter[Never] from a list default: the annotation names the type.
        camera_param: Parameter[list[str]] = self.declare_parameter("camera_topics", [""])
        compressed_param: Parameter[list[str]] = self.declare_parameter(
            "compressed_camera_topics", [""]
        )
        cameras = camera_param.value or []
        compressed = compressed_param.value or []
        self._jpeg_quality = int(self.declare_parameter("jpeg_quality", 70).value)

        self._pub_head = self.create_publisher(PoseStamped, operator_topic("head"), 10)
        self._pub_wrist = {
            side: self.create_publisher(PoseStamped, operator_topic(f"{side}_wrist"), 10)
            for side in ("left", "right")
        }
        self._pub_hand = {
            side: self.create_publisher(PoseArray, operator_topic(f"{side}_hand"), 10)
            for side in ("left", "right")
        }
        self._pub_joy = self.create_publisher(Joy, operator_topic("joy"), 10)
        self._pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)

        self._last_encode_s = [0.0, 0.0]
        eyes = [t for t in cameras if t][:2]
        for eye, topic in enumerate(eyes):
            self.create_subscription(
                Image, topic, lambda m, e=eye: self._on_image(e, m), qos_profile_sensor_data
            )
        for eye, topic in enumerate([t for t in compressed if t][: 2 - len(eyes)], len(eyes)):
            self.create_subscription(
                CompressedImage,
                topic,
                lambda m, e=eye: self._on_compressed(e, m),
                qos_profile_sensor_data,
            )

        self._server = XrBridgeServer(self._config, self._on_frame, announce=self._announce)
        self._server.start()
        self.get_logger().info(f"serving {self._server.url.split('#')[0]}")
        self.create_timer(1.0, self._report)

    @staticmethod
    def _announce(text: str) -> None:
        """The token and the address with it go to the console only, never to ROS log files."""
        print(text, file=sys.stderr, flush=True)

    # ------------------------------------------------------------ headset → ROS
    def _on_frame(self, frame: XrFrame, stamp_ns: int) -> None:
        """Publish one headset frame, stamped at capture (``stamp_ns``, see
        devices/webxr/capture_clock.py). Poses go out as ready CDR bytes (core.motion.cdr): an
        rclpy message object costs several times more per message (``bench/kernels.py``)."""
        sec, nanosec = divmod(stamp_ns, 1_000_000_000)
        if frame.head is not None:
            head = poses_to_operator(frame.head)
            self._pub_head.publish(cdr.encode_pose_stamped(sec, nanosec, FRAME_ID, head))
        for side, hand, ctrl in (
            ("left", frame.left_hand, frame.left_controller),
            ("right", frame.right_hand, frame.right_controller),
        ):
            if hand is not None:
                joints = poses_to_operator(hand)
                self._pub_hand[side].publish(cdr.encode_pose_array(sec, nanosec, FRAME_ID, joints))
                wrist_pose = joints[0]
            elif ctrl is not None:
                wrist_pose = poses_to_operator(ctrl.pose)
            else:
                continue
            self._pub_wrist[side].publish(
                cdr.encode_pose_stamped(sec, nanosec, FRAME_ID, wrist_pose)
            )
        if frame.left_controller is not None or frame.right_controller is not None:
            stamp = _stamp(stamp_ns)
            self._pub_joy.publish(self._joy(frame.left_controller, frame.right_controller, stamp))

    @staticmethod
    def _joy(left: Controller | None, right: Controller | None, stamp: Time) -> Joy:
        """axes: left (4) then right (4) thumbstick axes; buttons: left (8) then right (8)."""
        msg = Joy()
        msg.header.stamp, msg.header.frame_id = stamp, FRAME_ID
        axes: list[float] = []
        buttons: list[int] = []
        for ctrl in (left, right):
            if ctrl is None:
                axes += [0.0] * 4
                buttons += [0] * 8
            else:
                axes += [float(a) for a in ctrl.axes]
                buttons += [int(b > 0.5) for b in ctrl.buttons]
        msg.axes, msg.buttons = axes, buttons
        return msg

    # ------------------------------------------------------------ robot camera → headset
    def _due(self, eye: int) -> bool:
        now = time.monotonic()
        rate = self._config.camera_rate_hz
        # 10 % slack so a camera publishing at exactly the limit is not halved by jitter.
        if rate <= 0 or now - self._last_encode_s[eye] < 0.9 / rate:
            return False
        self._last_encode_s[eye] = now
        return True

    def _on_image(self, eye: int, msg: Image) -> None:
        if not self._due(eye):
            return
        channels = {"bgr8": 3, "rgb8": 3, "mono8": 1}.get(msg.encoding)
        if channels is None:
            self.get_logger().warning(
                f"camera image encoding {msg.encoding!r} not streamed (bgr8, rgb8, mono8 are)",
                throttle_duration_sec=10.0,
            )
            return
        pixels = np.frombuffer(bytes(msg.data), dtype=np.uint8)
        rows = pixels.reshape(msg.height, msg.step)[:, : msg.width * channels]
        image: np.ndarray = rows.reshape(msg.height, msg.width, channels)
        if msg.encoding == "rgb8":
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._jpeg_quality])
        if ok:
            stamp_ms = msg.header.stamp.sec * 1e3 + msg.header.stamp.nanosec * 1e-6
            self._server.set_camera_jpeg(eye, jpeg.tobytes(), stamp_ms)

    def _on_compressed(self, eye: int, msg: CompressedImage) -> None:
        if not self._due(eye):
            return
        if "jpeg" not in msg.format.lower() and "jpg" not in msg.format.lower():
            self.get_logger().warning(
                f"compressed camera format {msg.format!r} not streamed (jpeg is)",
                throttle_duration_sec=10.0,
            )
            return
        stamp_ms = msg.header.stamp.sec * 1e3 + msg.header.stamp.nanosec * 1e-6
        self._server.set_camera_jpeg(eye, bytes(msg.data), stamp_ms)

    # ------------------------------------------------------------ diagnostics
    def _report(self) -> None:
        stats = self._server.stats()
        status = DiagnosticStatus(name="vr_bridge", hardware_id=self._server.url.split("#")[0])
        if not stats.operator:
            status.level, status.message = DiagnosticStatus.WARN, "no operator connected"
        elif stats.frames == 0:
            status.level, status.message = DiagnosticStatus.WARN, "operator connected, no frame yet"
        elif stats.frame_age_s > STALE_AFTER_S:
            status.level = DiagnosticStatus.ERROR
            status.message = f"stale: last frame {stats.frame_age_s:.2f} s ago"
        else:
            status.level, status.message = DiagnosticStatus.OK, f"{stats.rate_hz:.0f} Hz"
        values = {
            "operator": stats.operator,
            "frames": str(stats.frames),
            "rate_hz": f"{stats.rate_hz:.1f}",
            "frame_age_s": f"{stats.frame_age_s:.3f}",
            "capture_lag_ms": f"{stats.capture_lag_ms:.1f}",
            "camera_frames_sent": str(stats.camera_frames_sent),
            "idle_disconnects": str(stats.idle_disconnects),
            **{f"rejected_{k}": str(v) for k, v in stats.rejected.items()},
        }
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._pub_diag.publish(array)

    def close(self) -> None:
        """Stop the server (closes the operator's connection)."""
        self._server.stop()


def main(args: list[str] | None = None) -> int:
    return run_node("vr_bridge_node", VrBridgeNode, close=lambda node: node.close(), args=args)


if __name__ == "__main__":
    sys.exit(main())
