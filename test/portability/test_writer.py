"""The porter's message encoders give the bytes rosbags' ROS 2 type store reads."""

from __future__ import annotations

import numpy as np
from rosbags.typesys import Stores, get_typestore

from humanoid_teleop.core.motion.cdr import encode_forward_command
from humanoid_teleop.portability.source import Float64ArrayDecoder, decode_float64_array
from humanoid_teleop.portability.writer import encode_rgb_image

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)


def test_rgb_image_bytes_equal_rosbags_serialization() -> None:
    """encode_rgb_image writes exactly what rosbags serializes for the same Image."""
    types = TYPESTORE.types
    image = (np.arange(5 * 7 * 3) % 251).astype(np.uint8).reshape(5, 7, 3)
    for frame_id in ("", "head_optical", "abc"):
        message = types["sensor_msgs/msg/Image"](
            header=types["std_msgs/msg/Header"](
                stamp=types["builtin_interfaces/msg/Time"](sec=1_800_000_000, nanosec=5),
                frame_id=frame_id,
            ),
            height=5, width=7, encoding="rgb8", is_bigendian=0, step=21, data=image.ravel(),
        )  # fmt: skip
        expected = bytes(TYPESTORE.serialize_cdr(message, "sensor_msgs/msg/Image"))
        assert encode_rgb_image(1_800_000_000_000_000_005, frame_id, image) == expected


def test_float64_array_decoder_reads_any_layout() -> None:
    """decode_float64_array returns the data of Float64MultiArrays with 0-2 dimensions."""
    types = TYPESTORE.types
    dim = types["std_msgs/msg/MultiArrayDimension"]
    for dims in ([], [dim(label="j", size=3, stride=3)], [dim(label="ab", size=1, stride=1)] * 2):
        for values in (np.zeros(0), np.array([1.5, -2.0, 3.25])):
            message = types["std_msgs/msg/Float64MultiArray"](
                layout=types["std_msgs/msg/MultiArrayLayout"](dim=dims, data_offset=0),
                data=values,
            )
            data = bytes(TYPESTORE.serialize_cdr(message, "std_msgs/msg/Float64MultiArray"))
            assert np.array_equal(decode_float64_array(data, "test"), values)
    assert np.array_equal(decode_float64_array(encode_forward_command([1.0, 2.0]), "t"), [1, 2])


def test_float64_array_stream_decoder_follows_layout_changes() -> None:
    """Float64ArrayDecoder decodes a stream whose dimensions, labels and counts change
    between messages exactly as decode_float64_array decodes each message alone."""
    types = TYPESTORE.types
    dim = types["std_msgs/msg/MultiArrayDimension"]
    layouts = [[], [dim(label="j", size=3, stride=3)], [dim(label="joints", size=2, stride=2)]]
    decoder = Float64ArrayDecoder("stream")
    for step in range(12):
        values = np.arange(step % 4, dtype=np.float64) * 0.5 - step
        message = types["std_msgs/msg/Float64MultiArray"](
            layout=types["std_msgs/msg/MultiArrayLayout"](dim=layouts[step % 3], data_offset=0),
            data=values,
        )
        data = bytes(TYPESTORE.serialize_cdr(message, "std_msgs/msg/Float64MultiArray"))
        assert np.array_equal(decoder.decode(data), decode_float64_array(data, "one"))
        assert np.array_equal(decoder.decode(data), values)
