"""The vr_bridge wire format: encode/decode round trip and rejection of bad frames."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from humanoid_teleop.devices.errors import FrameRejected
from humanoid_teleop.devices.webxr import protocol
from humanoid_teleop.devices.webxr.protocol import Controller, XrFrame

IDENTITY = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def _full_frame() -> XrFrame:
    rng = np.random.default_rng(7)
    hand = np.tile(IDENTITY, (25, 1))
    hand[:, :3] = rng.uniform(-1, 1, (25, 3))
    ctrl = Controller(IDENTITY.copy(), np.linspace(0, 1, 8), np.array([0.5, -0.5, 0.0, 1.0]))
    return XrFrame(
        seq=42,
        client_time_ms=1.7e12,
        head=np.array([0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 1.0]),
        left_hand=hand,
        right_hand=hand[::-1].copy(),
        left_controller=ctrl,
        right_controller=ctrl,
    )


def test_full_frame_round_trips() -> None:
    """Every part of a frame with all flags set survives encode → decode (float32 precision)."""
    frame = _full_frame()
    decoded = protocol.decode_pose_frame(protocol.encode_pose_frame(frame))
    assert decoded.seq == 42
    assert decoded.client_time_ms == frame.client_time_ms
    assert decoded.right_hand is not None and frame.right_hand is not None
    np.testing.assert_allclose(decoded.right_hand, frame.right_hand, atol=1e-6)
    assert decoded.left_controller is not None
    np.testing.assert_allclose(decoded.left_controller.axes, [0.5, -0.5, 0.0, 1.0])


def test_full_frame_is_the_documented_maximum_size() -> None:
    """A frame with every part is exactly MAX_POSE_FRAME_BYTES long."""
    assert len(protocol.encode_pose_frame(_full_frame())) == protocol.MAX_POSE_FRAME_BYTES


def test_absent_parts_decode_as_none() -> None:
    """A head-only frame decodes with no hands and no controllers."""
    frame = XrFrame(seq=1, client_time_ms=0.0, head=IDENTITY)
    decoded = protocol.decode_pose_frame(protocol.encode_pose_frame(frame))
    assert decoded.left_hand is None and decoded.right_controller is None
    assert decoded.head is not None


def test_wrong_version_is_rejected_as_wrong_version() -> None:
    """A frame whose version byte is not 1 is refused with reason wrong_version."""
    data = protocol.encode_pose_frame(XrFrame(seq=1, client_time_ms=0.0, head=IDENTITY), 2)
    with pytest.raises(FrameRejected, match="wrong_version: version 2") as info:
        protocol.decode_pose_frame(data)
    assert info.value.reason == "wrong_version"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x01\x01", "shorter than the header"),
        (struct.pack("<BBHId", 1, 9, 0, 0, 0.0), "kind 9"),
        (struct.pack("<BBHId", 1, 1, 0x40, 0, 0.0), "unknown flag bits"),
        (struct.pack("<BBHId", 1, 1, 1, 0, 0.0) + b"\0" * 12, "need exactly 44"),
        (struct.pack("<BBHId", 1, 1, 0, 0, float("nan")), "client time"),
    ],
)
def test_malformed_frames_are_rejected(data: bytes, match: str) -> None:
    """Truncated, unknown-kind, unknown-flag, wrong-length or NaN-time frames are malformed."""
    with pytest.raises(FrameRejected, match=match) as info:
        protocol.decode_pose_frame(data)
    assert info.value.reason == "malformed"


def test_nan_pose_is_rejected() -> None:
    """A NaN anywhere in a hand is malformed, naming the hand."""
    frame = _full_frame()
    assert frame.left_hand is not None
    frame.left_hand[3, 1] = np.nan
    with pytest.raises(FrameRejected, match="left hand has a NaN"):
        protocol.decode_pose_frame(protocol.encode_pose_frame(frame))


def test_non_unit_quaternion_is_normalised() -> None:
    """A head quaternion of norm 2 (finite, non-zero) is normalised, not rejected."""
    head = np.array([0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 2.0])
    data = protocol.encode_pose_frame(XrFrame(seq=1, client_time_ms=0.0, head=head))
    frame = protocol.decode_pose_frame(data)
    assert frame.head is not None
    assert frame.head[3:] == pytest.approx([0.0, 0.0, 0.0, 1.0])


def test_zero_quaternion_is_rejected() -> None:
    """A head quaternion (0, 0, 0, 0) has no orientation: malformed."""
    head = np.array([0.0, 1.6, 0.0, 0.0, 0.0, 0.0, 0.0])
    data = protocol.encode_pose_frame(XrFrame(seq=1, client_time_ms=0.0, head=head))
    with pytest.raises(FrameRejected, match="zero quaternion"):
        protocol.decode_pose_frame(data)


def test_hello_with_other_version_is_wrong_version() -> None:
    """A hello announcing version 7 is refused as wrong_version."""
    with pytest.raises(FrameRejected, match="hello version 7"):
        protocol.parse_hello(json.dumps({"type": "hello", "version": 7}))


def test_hello_that_is_not_json_is_malformed() -> None:
    """A hello that is not JSON is malformed."""
    with pytest.raises(FrameRejected, match="not JSON"):
        protocol.parse_hello("{hello")


def test_camera_frame_carries_eye_and_jpeg() -> None:
    """A camera message is the 16-byte header with the eye, then the JPEG bytes unchanged."""
    data = protocol.encode_camera_frame(1, 5, 1000.0, b"\xff\xd8jpeg")
    version, kind, eye, _, seq, stamp = protocol.CAMERA_HEADER.unpack_from(data)
    assert (version, kind, eye, seq, stamp) == (1, protocol.KIND_CAMERA, 1, 5, 1000.0)
    assert data[protocol.CAMERA_HEADER.size :] == b"\xff\xd8jpeg"
