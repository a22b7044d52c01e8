"""camera_node: a UVC webcam or a video file through OpenCV → Image / CompressedImage + CameraInfo.

Publishes on ``image_topic`` (sensor_msgs/Image, bgr8), ``image_topic + "/compressed"`` (JPEG)
and the sibling ``camera_info``, every message of a frame stamped with its capture time. The
rate and resolution are parameters (see :class:`CameraConfig`); frames the camera delivered but
nobody published (the node fell behind) are counted as dropped and reported on /diagnostics.
"""

from __future__ import annotations

import sys

import cv2
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from humanoid_teleop.devices.camera.capture import (
    CameraConfig,
    Frame,
    FrameGrabber,
    pinhole_intrinsics,
)
from humanoid_teleop.nodes.executor import run_node


class CameraNode(Node):
    """Publishes the newest captured frame at the configured rate."""

    def __init__(self) -> None:
        super().__init__("camera_node")
        defaults = CameraConfig()
        values = {
            key: self.declare_parameter(key, getattr(defaults, key)).value
            for key in CameraConfig.KEYS
        }
        self._config = CameraConfig.from_dict(values, source="camera_node parameters")
        topic = str(self.declare_parameter("image_topic", "/camera/image_raw").value)
        info_topic = topic.rsplit("/", 1)[0] + "/camera_info" if "/" in topic else "camera_info"
        c = self._config
        self._pub_raw = (
            self.create_publisher(Image, topic, qos_profile_sensor_data)
            if c.publish in ("raw", "both")
            else None
        )
        self._pub_jpeg = (
            self.create_publisher(CompressedImage, topic + "/compressed", qos_profile_sensor_data)
            if c.publish in ("compressed", "both")
            else None
        )
        self._pub_info = self.create_publisher(CameraInfo, info_topic, qos_profile_sensor_data)
        self._pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._info = self._camera_info()
        self._published = 0
        self._grabber = FrameGrabber(c)
        self._grabber.start()
        self.create_timer(1.0 / c.rate_hz, self._tick)
        self.create_timer(1.0, self._report)

    def _camera_info(self) -> CameraInfo:
        c = self._config
        k = pinhole_intrinsics(c.width, c.height, c.fov_deg)
        info = CameraInfo(width=c.width, height=c.height, distortion_model="plumb_bob")
        info.header.frame_id = c.frame_id
        info.d = [0.0] * 5
        info.k = [float(v) for v in k.ravel()]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0, 0.0, 0.0, 1.0, 0.0]
        return info

    def _tick(self) -> None:
        frame = self._grabber.take()
        if frame is None:
            return
        stamp = Time(sec=frame.stamp_ns // 1_000_000_000, nanosec=frame.stamp_ns % 1_000_000_000)
        if self._pub_raw is not None:
            self._pub_raw.publish(self._raw(frame, stamp))
        if self._pub_jpeg is not None:
            ok, jpeg = cv2.imencode(
                ".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self._config.jpeg_quality]
            )
            if ok:
                msg = CompressedImage(format="jpeg", data=jpeg.tobytes())
                msg.header.stamp, msg.header.frame_id = stamp, self._config.frame_id
                self._pub_jpeg.publish(msg)
        self._info.header.stamp = stamp
        self._pub_info.publish(self._info)
        self._published += 1

    def _raw(self, frame: Frame, stamp: Time) -> Image:
        height, width = frame.image.shape[:2]
        msg = Image(height=height, width=width, encoding="bgr8", step=width * 3)
        msg.header.stamp, msg.header.frame_id = stamp, self._config.frame_id
        msg.data = frame.image.tobytes()
        return msg

    def _report(self) -> None:
        stats = self._grabber.stats()
        status = DiagnosticStatus(name="camera", hardware_id=self._config.source)
        if not stats.connected:
            status.level = DiagnosticStatus.ERROR
            status.message = stats.error or "opening"
        elif stats.dropped:
            status.level, status.message = DiagnosticStatus.WARN, f"{stats.dropped} frames dropped"
        else:
            status.level, status.message = DiagnosticStatus.OK, "capturing"
        status.values = [
            KeyValue(key="captured", value=str(stats.captured)),
            KeyValue(key="published", value=str(self._published)),
            KeyValue(key="dropped", value=str(stats.dropped)),
            KeyValue(key="read_failures", value=str(stats.read_failures)),
        ]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._pub_diag.publish(array)

    def close(self) -> None:
        self._grabber.stop()


def main(args: list[str] | None = None) -> int:
    return run_node("camera_node", CameraNode, close=lambda node: node.close(), args=args)


if __name__ == "__main__":
    sys.exit(main())
