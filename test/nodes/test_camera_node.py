"""camera_node over real DDS, capturing a small video file written in the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from test.devices.camera.video import write_video
from test.devices.ros_helpers import Listener, start_node, stop_node

pytestmark = pytest.mark.ros


def test_video_file_is_published_as_image_jpeg_and_camera_info(tmp_path: Path) -> None:
    """Raw, JPEG and camera_info of each frame share the capture stamp and configured size."""
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, CompressedImage, Image

    video = write_video(tmp_path / "v.avi", frames=30)
    node = start_node(
        "camera_node",
        {
            "source": str(video),
            "width": 32,
            "height": 24,
            "rate_hz": 15.0,
            "image_topic": "/test_cam/image_raw",
            "fov_deg": 60.0,
        },
    )
    listener = Listener(
        {
            "/test_cam/image_raw": Image,
            "/test_cam/image_raw/compressed": CompressedImage,
            "/test_cam/camera_info": CameraInfo,
        },
        qos=qos_profile_sensor_data,
    )
    try:
        assert listener.spin_until(lambda: all(len(m) >= 5 for m in listener.messages.values()), 20)
        image = listener.messages["/test_cam/image_raw"][-1][1]
        assert (image.width, image.height, image.encoding) == (32, 24, "bgr8")
        assert len(image.data) == 32 * 24 * 3
        jpeg = listener.messages["/test_cam/image_raw/compressed"][-1][1]
        assert jpeg.format == "jpeg" and bytes(jpeg.data[:2]) == b"\xff\xd8"
        info = listener.messages["/test_cam/camera_info"][-1][1]
        assert (info.width, info.height) == (32, 24)
        raw_stamps = {
            (m.header.stamp.sec, m.header.stamp.nanosec)
            for _, m in listener.messages["/test_cam/image_raw"]
        }
        info_stamps = {
            (m.header.stamp.sec, m.header.stamp.nanosec)
            for _, m in listener.messages["/test_cam/camera_info"]
        }
        assert raw_stamps & info_stamps, "camera_info must carry the image's capture stamp"
    finally:
        listener.close()
        code, output = stop_node(node)
    assert code == 0, output


def test_missing_camera_is_reported_not_fatal(tmp_path: Path) -> None:
    """A video source that does not exist keeps the node up, publishing no image."""
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image

    node = start_node(
        "camera_node", {"source": str(tmp_path / "nope.avi"), "image_topic": "/nocam/image_raw"}
    )
    from rclpy.qos import qos_profile_sensor_data

    listener = Listener(
        {"/nocam/image_raw": Image, "/diagnostics": DiagnosticArray},
        qos_by_topic={"/nocam/image_raw": qos_profile_sensor_data},
    )

    def message() -> str:
        for _, array in reversed(listener.messages["/diagnostics"]):
            for status in array.status:
                if status.name == "camera":
                    return status.message
        return ""

    try:
        assert listener.spin_until(lambda: "nope.avi does not exist" in message(), 10)
        assert listener.messages["/nocam/image_raw"] == []
    finally:
        listener.close()
        code, output = stop_node(node)
    assert code == 0, output
