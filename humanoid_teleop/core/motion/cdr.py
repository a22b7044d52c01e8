"""Operator input and joint-state messages read straight from their serialized (CDR) bytes.

The teleop node subscribes to its inputs raw. Building rclpy's message object and reading
its fields costs several times what unpacking the same fields from the bytes does, and in a
250 Hz callback (cold caches) the gap is 150-200 µs per message
(``bench/kernels.py``, the ``... in`` rows). Every callback that runs before the step's
trigger input delays the step, so this is on the input -> command critical path.

Layouts are ROS 2's XCDR1 (plain CDR), little or big endian, after the 4-byte encapsulation
header; offsets align relative to the end of that header. Types read here:
``geometry_msgs/PoseStamped``, ``geometry_msgs/PoseArray``, ``sensor_msgs/Joy``,
``sensor_msgs/JointState`` (names and positions). Malformed bytes raise :class:`ValueError`.
Written here (little endian, for ``Publisher.publish``): ``PoseStamped``, ``PoseArray``,
``Joy`` and ``JointState`` (positions), what the input device nodes publish every frame, the
``Float64MultiArray`` forward command the teleop node publishes per group every step (and
its one-point ``trajectory_msgs/JointTrajectory``, also read here), its
``DiagnosticArray`` state, and ``tf2_msgs/TFMessage`` (the offline episode writer's /tf).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

HEADER_SIZE = 4
"""Bytes of the encapsulation header before the CDR body."""

_BYTE_ORDER = {b"\x00\x01": "<", b"\x00\x00": ">"}
"""Encapsulation (representation id) -> struct byte order: CDR_LE, CDR_BE."""

_STAMP_AND_LENGTH = {e: struct.Struct(e + "iII") for e in "<>"}
_POSE = {e: struct.Struct(e + "7d") for e in "<>"}
_UINT32 = {e: struct.Struct(e + "I") for e in "<>"}
_STAMP = struct.Struct("<iI")
_LITTLE_ENDIAN = b"\x00\x01\x00\x00"
#: The encapsulation (:data:`_LITTLE_ENDIAN`) and a Header's stamp (sec, nanosec): the
#: start of every stamped message an encoder writes, packed in one call.
_ENCAPSULATION_AND_STAMP = struct.Struct("<4siI")


@dataclass(frozen=True)
class Header:
    """``std_msgs/Header``: stamp [s] and frame id."""

    stamp_s: float
    frame_id: str


@dataclass(frozen=True)
class PoseStampedFields:
    """A ``PoseStamped``: position [m] (x, y, z) and orientation quaternion (x, y, z, w)."""

    header: Header
    position: tuple[float, float, float]
    quat_xyzw: tuple[float, float, float, float]


@dataclass(frozen=True)
class JoyFields:
    """A ``sensor_msgs/Joy``."""

    header: Header
    axes: tuple[float, ...]
    buttons: tuple[int, ...]


def byte_order(data: bytes, source: str) -> str:
    """The struct byte-order character of a serialized message.

    Raises:
        ValueError: naming ``source`` for anything but XCDR1 little/big endian.
    """
    order = _BYTE_ORDER.get(bytes(data[:2]))
    if order is None:
        raise ValueError(
            f"{source}: unsupported CDR encapsulation {bytes(data[:4]).hex()} "
            "(expected XCDR1, 0001 little or 0000 big endian)"
        )
    return order


def _align(offset: int, size: int) -> int:
    """``offset`` moved up to a multiple of ``size`` counted from the CDR body's start."""
    return offset + (-(offset - HEADER_SIZE)) % size


def _header(data: bytes, e: str, source: str) -> tuple[Header, int]:
    """The message's leading Header and the offset after it."""
    sec, nanosec, length = _STAMP_AND_LENGTH[e].unpack_from(data, HEADER_SIZE)
    start = HEADER_SIZE + 12
    end = start + length
    if end > len(data):
        raise ValueError(f"{source}: frame_id runs past the message end (truncated message?)")
    frame_id = bytes(data[start : end - 1]).decode() if length else ""
    return Header(sec + nanosec * 1e-9, frame_id), end


def _sequence(
    data: bytes, e: str, offset: int, dtype: str, size: int, width: int = 1
) -> tuple[np.ndarray, int]:
    """A sequence at ``offset`` whose items are ``width`` numbers of ``dtype`` (``size`` bytes
    each): ``count * width`` values, and the offset after them."""
    offset = _align(offset, 4)
    (count,) = _UINT32[e].unpack_from(data, offset)
    offset = _align(offset + 4, size) if count else offset + 4
    values = np.frombuffer(data, dtype=e + dtype, count=count * width, offset=offset)
    return values, offset + count * width * size


def decode_pose_stamped(data: bytes, source: str) -> PoseStampedFields:
    """``geometry_msgs/PoseStamped`` from CDR bytes (ValueError naming ``source``)."""
    try:
        e = byte_order(data, source)
        header, offset = _header(data, e, source)
        x, y, z, qx, qy, qz, qw = _POSE[e].unpack_from(data, _align(offset, 8))
    except struct.error as err:
        raise ValueError(f"{source}: malformed PoseStamped: {err}") from err
    return PoseStampedFields(header, (x, y, z), (qx, qy, qz, qw))


def decode_pose_array(data: bytes, source: str) -> tuple[Header, FloatArray]:
    """``geometry_msgs/PoseArray`` from CDR bytes: its header and an N×7 array
    (x, y, z [m], qx, qy, qz, qw per pose). ValueError naming ``source`` when malformed."""
    try:
        e = byte_order(data, source)
        header, offset = _header(data, e, source)
        poses, _end = _sequence(data, e, offset, "f8", 8, width=7)
    except (struct.error, ValueError) as err:
        raise ValueError(f"{source}: malformed PoseArray: {err}") from err
    return header, poses.reshape(-1, 7).astype(np.float64)


def _header_end(data: bytes, e: str, source: str) -> int:
    """The offset after the message's leading Header (its frame id is not decoded)."""
    (length,) = _UINT32[e].unpack_from(data, HEADER_SIZE + 8)
    end: int = HEADER_SIZE + 12 + length
    if end > len(data):
        raise ValueError(f"{source}: frame_id runs past the message end (truncated message?)")
    return end


def pose_stamped_values(data: bytes, source: str) -> tuple[float, ...]:
    """The 7 numbers (x, y, z [m], qx, qy, qz, qw) of a ``geometry_msgs/PoseStamped``, no
    header: :func:`decode_pose_stamped` for readers of whole streams."""
    try:
        e = byte_order(data, source)
        values: tuple[float, ...] = _POSE[e].unpack_from(
            data, _align(_header_end(data, e, source), 8)
        )
    except struct.error as err:
        raise ValueError(f"{source}: malformed PoseStamped: {err}") from err
    return values


def pose_array_values(data: bytes, source: str) -> FloatArray:
    """The N×7 poses of a ``geometry_msgs/PoseArray``, no header: :func:`decode_pose_array`
    for readers of whole streams."""
    try:
        e = byte_order(data, source)
        poses, _end = _sequence(data, e, _header_end(data, e, source), "f8", 8, width=7)
    except (struct.error, ValueError) as err:
        raise ValueError(f"{source}: malformed PoseArray: {err}") from err
    return poses.reshape(-1, 7).astype(np.float64)


def decode_joy(data: bytes, source: str) -> JoyFields:
    """``sensor_msgs/Joy`` from CDR bytes (ValueError naming ``source``)."""
    try:
        e = byte_order(data, source)
        header, offset = _header(data, e, source)
        axes, offset = _sequence(data, e, offset, "f4", 4)
        buttons, offset = _sequence(data, e, offset, "i4", 4)
    except (struct.error, ValueError) as err:
        raise ValueError(f"{source}: malformed Joy: {err}") from err
    return JoyFields(header, tuple(axes.tolist()), tuple(buttons.tolist()))


def _walk_names(data: bytes, e: str, offset: int, into: list[str] | None = None) -> int:
    """Offset after the joint name sequence (CDR strings, byte order ``e``) starting
    (4-aligned) at ``offset``; decodes the names into ``into`` when given (a JointState
    stream's decoder asks only when they changed: the walk alone is cheaper). ValueError
    when the names run past the message end."""
    unpack = _UINT32[e].unpack_from
    (count,) = unpack(data, offset)
    offset += 4
    for _ in range(count):
        offset = _align(offset, 4)
        (length,) = unpack(data, offset)
        if into is not None:
            into.append(bytes(data[offset + 4 : offset + 3 + length]).decode() if length else "")
        offset += 4 + length
    if offset > len(data):
        raise ValueError("joint names run past the message end (truncated message?)")
    return offset


class JointStateDecoder:
    """Reads ``sensor_msgs/JointState`` names and positions from CDR bytes.

    A stream repeats the same names in every message, so the decoded names are kept: when a
    message's name bytes equal the previous message's, :meth:`decode` returns the very same
    tuple object (callers may cache work keyed on its identity).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._name_bytes = b""
        self._order = ""  # the byte order _name_bytes were read in
        self._names: tuple[str, ...] = ()
        self.positions_span = (0, 0)

    def decode(self, data: bytes) -> tuple[Header, tuple[str, ...], FloatArray]:
        """Header, joint names and positions [rad or m] (as many as the message has; may be
        fewer than names). ValueError naming the source when malformed."""
        try:
            e = byte_order(data, self.source)
            header, names_start = _header(data, e, self.source)
            names_start = _align(names_start, 4)
            known = self._name_bytes
            if known and e == self._order and data[names_start : names_start + len(known)] == known:
                # the known name sequence again (in the same byte order; its padding does not
                # depend on where it starts): the walk would read just those bytes
                names_end = names_start + len(known)
            else:
                names_end = _walk_names(data, e, names_start)
            name_bytes = bytes(data[names_start:names_end])
            if name_bytes != known:
                names: list[str] = []
                _walk_names(data, e, names_start, names)
                self._names = tuple(names)
                self._name_bytes = name_bytes
                self._order = e
            positions, end = _sequence(data, e, names_end, "f8", 8)
        except (struct.error, ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{self.source}: malformed JointState: {err}") from err
        #: Where the last decoded message's positions lay: [start, end) in its bytes.
        self.positions_span = (end - 8 * len(positions), end)
        return header, self._names, positions.astype(np.float64)


@functools.lru_cache(maxsize=256)
def _after_stamp(frame_id: str, align: int) -> bytes:
    """A Header's bytes after its stamp (frame id length and text), padded so what follows
    is ``align``-aligned: the same for every message of a stream."""
    name = frame_id.encode() + b"\x00"
    return struct.pack("<I", len(name)) + name + b"\x00" * (-(12 + len(name)) % align)


def _header_bytes(sec: int, nanosec: int, frame_id: str, align: int) -> bytes:
    """Encapsulation + Header, padded so what follows is ``align``-aligned."""
    return _LITTLE_ENDIAN + _STAMP.pack(sec, nanosec) + _after_stamp(frame_id, align)


def encode_pose_stamped(
    sec: int, nanosec: int, frame_id: str, pose_xyz_xyzw: tuple[float, ...] | FloatArray
) -> bytes:
    """A ``geometry_msgs/PoseStamped`` as CDR bytes: stamp, frame id and the 7 numbers x, y,
    z [m], qx, qy, qz, qw (one message; a stream reuses a :class:`PoseStampedEncoder`)."""
    pose = np.asarray(pose_xyz_xyzw, dtype="<f8")
    if pose.shape != (7,):
        raise ValueError(f"a pose is 7 numbers x, y, z, qx, qy, qz, qw, not shape {pose.shape}")
    return PoseStampedEncoder(frame_id).encode(sec, nanosec, pose[:3], pose[3:])


class PoseStampedEncoder:
    """Writes ``geometry_msgs/PoseStamped`` messages of one frame id as CDR bytes, laid out
    once up to the stamp: :func:`encode_pose_stamped`'s bytes from the position and the
    quaternion arrays, without building a row of seven numbers first."""

    def __init__(self, frame_id: str) -> None:
        self.frame_id = frame_id
        self._after_stamp = _after_stamp(frame_id, 8)

    def encode(
        self, sec: int, nanosec: int, position_m: FloatArray, quat_xyzw: FloatArray
    ) -> bytes:
        """The message at one stamp: position (3,) [m] and quaternion (4,) x, y, z, w."""
        position = np.asarray(position_m, dtype="<f8")
        quat = np.asarray(quat_xyzw, dtype="<f8")
        if position.shape != (3,) or quat.shape != (4,):
            raise ValueError(f"pose of position {position.shape} and quaternion {quat.shape}")
        stamp = _ENCAPSULATION_AND_STAMP.pack(_LITTLE_ENDIAN, sec, nanosec)
        return b"".join((stamp, self._after_stamp, position.tobytes(), quat.tobytes()))


class PoseArrayEncoder:
    """Writes ``geometry_msgs/PoseArray`` messages of one frame id and pose count as CDR
    bytes, laid out once up to the poses: :func:`encode_pose_array`'s bytes."""

    def __init__(self, frame_id: str, count: int) -> None:
        self.frame_id = frame_id
        self.count = count
        self._shape = (count, 7)
        head = _after_stamp(frame_id, 4) + struct.pack("<I", count)
        offset = HEADER_SIZE + 8 + len(head)
        self._after_stamp = head + (b"\x00" * (_align(offset, 8) - offset) if count else b"")

    def encode(self, sec: int, nanosec: int, poses: FloatArray) -> bytes:
        """The message at one stamp from a ``count`` x 7 array (x, y, z [m], qx, qy, qz, qw)."""
        rows = np.ascontiguousarray(poses, dtype="<f8")
        if rows.shape != self._shape:
            raise ValueError(f"{self.count} poses but numbers of shape {rows.shape}")
        stamp = _ENCAPSULATION_AND_STAMP.pack(_LITTLE_ENDIAN, sec, nanosec)
        return b"".join((stamp, self._after_stamp, rows.tobytes()))


def encode_pose_array(sec: int, nanosec: int, frame_id: str, poses: FloatArray) -> bytes:
    """A ``geometry_msgs/PoseArray`` as CDR bytes from an N×7 array (x, y, z [m], qx, qy, qz,
    qw per pose; one message: a stream reuses a :class:`PoseArrayEncoder`)."""
    rows = np.ascontiguousarray(poses, dtype="<f8").reshape(-1, 7)
    return PoseArrayEncoder(frame_id, len(rows)).encode(sec, nanosec, rows)


def encode_joy(
    sec: int, nanosec: int, frame_id: str, axes: Sequence[float], buttons: Sequence[int]
) -> bytes:
    """A ``sensor_msgs/Joy`` as CDR bytes (axes as float32, buttons as int32)."""
    head = _header_bytes(sec, nanosec, frame_id, 4)
    axes_bytes = np.asarray(axes, dtype="<f4").tobytes()
    buttons_bytes = np.asarray(buttons, dtype="<i4").tobytes()
    return (
        head
        + struct.pack("<I", len(axes))
        + axes_bytes
        + struct.pack("<I", len(buttons))
        + buttons_bytes
    )


def _names_bytes(names: Sequence[str], offset: int) -> tuple[bytes, int]:
    """A CDR sequence of strings placed at absolute ``offset`` (padding, count, each name's
    padding, length, text and NUL) and the offset after it."""
    pad = _align(offset, 4) - offset
    parts = [b"\x00" * pad + struct.pack("<I", len(names))]
    offset += pad + 4
    for name in names:
        data, offset = _string_at(name, offset)
        parts.append(data)
    return b"".join(parts), offset


class _NamedPositionsEncoder:
    """A stamped message of fixed joint names and one float64 array of positions, laid out
    once but for the stamp and the positions: Header, the names, the sequence counts before
    the positions (``counts``), the positions (8-aligned), then ``tail``."""

    def __init__(
        self, names: Sequence[str], frame_id: str, counts: tuple[int, ...], tail: bytes
    ) -> None:
        self.names = tuple(names)
        self._shape = (len(self.names),)  # of the positions
        head = _header_bytes(0, 0, frame_id, 4)
        body, offset = _names_bytes(self.names, len(head))
        pad = _align(offset, 4) - offset
        body += b"\x00" * pad + struct.pack(f"<{len(counts)}I", *counts)
        offset += pad + 4 * len(counts)
        if self.names:
            body += b"\x00" * (_align(offset, 8) - offset)
        self._after_stamp = head[HEADER_SIZE + 8 :] + body
        self._tail = tail

    def encode(self, sec: int, nanosec: int, positions: Sequence[float] | FloatArray) -> bytes:
        """The message at one stamp: one position per name [rad or m]."""
        values = np.asarray(positions, dtype="<f8")
        if values.shape != self._shape:
            raise ValueError(f"{len(self.names)} joint names but positions of shape {values.shape}")
        stamp = _ENCAPSULATION_AND_STAMP.pack(_LITTLE_ENDIAN, sec, nanosec)
        return b"".join((stamp, self._after_stamp, values.tobytes(), self._tail))


class JointStateEncoder(_NamedPositionsEncoder):
    """Writes ``sensor_msgs/JointState`` messages with fixed joint names and frame id as CDR
    bytes (positions only; velocity and effort empty)."""

    def __init__(self, names: Sequence[str], frame_id: str = "") -> None:
        # the positions' count, then (after them) empty velocity and effort
        super().__init__(names, frame_id, (len(names),), struct.pack("<II", 0, 0))


class JointTrajectoryEncoder(_NamedPositionsEncoder):
    """Writes the one-point ``trajectory_msgs/JointTrajectory`` the teleop node commands a
    ``trajectory`` interface with (``nodes.ros_conversions.trajectory_command``) as CDR bytes:
    fixed joint names, frame id "", one point of positions (velocities, accelerations and
    effort empty) reached ``time_from_start`` after the stamp."""

    def __init__(self, names: Sequence[str], sec: int, nanosec: int) -> None:
        # one point, then its positions' count; after the positions empty velocities,
        # accelerations and effort, then the Duration (int32 sec, uint32 nanosec): the
        # float64 positions end 8-aligned, so no padding
        tail = struct.pack("<IIIiI", 0, 0, 0, sec, nanosec)
        super().__init__(names, "", (1, len(names)), tail)


def decode_joint_trajectory(data: bytes, source: str) -> tuple[tuple[str, ...], FloatArray]:
    """A ``trajectory_msgs/JointTrajectory``'s joint names and its last point's positions [rad
    or m] in the message's joint order (empty when it has no point; the export reads the last
    point too). ValueError naming ``source`` when malformed."""
    names, positions, _ = decode_joint_trajectory_span(data, source)
    return names, positions


def decode_joint_trajectory_span(
    data: bytes, source: str
) -> tuple[tuple[str, ...], FloatArray, tuple[int, int]]:
    """:func:`decode_joint_trajectory`, and where the last point's positions lie in ``data``:
    [start, stop) of their bytes ((0, 0) without a point), for a reader that takes them from
    many messages of one layout at once."""
    try:
        e = byte_order(data, source)
        names: list[str] = []
        offset = _walk_names(data, e, _align(_header_end(data, e, source), 4), names)
        offset = _align(offset, 4)
        (count,) = _UINT32[e].unpack_from(data, offset)
        offset += 4
        positions = np.zeros(0)
        span = (0, 0)
        for _ in range(count):  # each point: 4 float64 sequences, then a Duration
            positions, offset = _sequence(data, e, offset, "f8", 8)
            span = (offset - 8 * len(positions), offset)
            for _skipped in range(3):
                _values, offset = _sequence(data, e, offset, "f8", 8)
            offset = _align(offset, 4) + 8
        if offset > len(data):
            raise ValueError("points run past the message end (truncated message?)")
    except (struct.error, ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{source}: malformed JointTrajectory: {err}") from err
    return tuple(names), positions.astype(np.float64), span


FORWARD_COMMAND_LABEL = "joints"
"""``layout.dim[0].label`` of every forward command."""


@functools.lru_cache(maxsize=64)
def _forward_command_prefix(n: int) -> bytes:
    """The serialized ``std_msgs/Float64MultiArray`` of ``n`` values, up to its values.

    CDR, little endian: one dimension (label, size n, stride n), ``data_offset`` 0, the data
    sequence length, then padding so the float64 values start 8-aligned.
    """
    label = FORWARD_COMMAND_LABEL.encode() + b"\x00"
    body = struct.pack("<II", 1, len(label)) + label
    body += b"\x00" * (-len(body) % 4)
    body += struct.pack("<IIII", n, n, 0, n)
    body += b"\x00" * (-len(body) % 8)
    return _LITTLE_ENDIAN + body


def encode_forward_command(values: Sequence[float] | FloatArray) -> bytes:
    """ros2_control forward controller command (positions in the group's joint order) as a
    serialized ``std_msgs/Float64MultiArray``, for ``Publisher.publish``.

    Built from a cached prefix plus the raw float64 values, ~20x cheaper than filling the
    message and letting rclpy convert and serialize it (``bench/kernels.py``; the
    teleop node publishes one per group each step, on the input -> command critical path).
    """
    return _forward_command_prefix(len(values)) + np.asarray(values, dtype="<f8").tobytes()


def _string_at(text: str, offset: int) -> tuple[bytes, int]:
    """A CDR string placed at absolute ``offset`` (padding, length, text and its NUL) and the
    offset after it."""
    data = text.encode() + b"\x00"
    pad = _align(offset, 4) - offset
    return b"\x00" * pad + struct.pack("<I", len(data)) + data, offset + pad + 4 + len(data)


class TfMessageEncoder:
    """Writes ``tf2_msgs/TFMessage`` messages of fixed (parent, child) frame pairs as CDR
    bytes, every transform with the message's one stamp. Everything but the stamp and the
    numbers is laid out once, in a message buffer that each :meth:`encode` fills in place
    (one encoder per stream: the buffer is not shared between threads)."""

    def __init__(self, frames: Sequence[tuple[str, str]]) -> None:
        self.frames = tuple(frames)
        offset = HEADER_SIZE + 4  # after the transform count
        self._between: list[bytes] = []  # per transform: after its stamp, up to its numbers
        stamps_at: list[int] = []  # per transform: where its stamp and its numbers start
        numbers_at: list[int] = []
        for parent, child in self.frames:
            stamps_at.append(offset)
            offset += 8  # the stamp (every transform starts 4-aligned: 8-byte numbers end it)
            parent_bytes, offset = _string_at(parent, offset)
            child_bytes, offset = _string_at(child, offset)
            pad = _align(offset, 8) - offset
            self._between.append(parent_bytes + child_bytes + b"\x00" * pad)
            offset += pad
            numbers_at.append(offset)
            offset += 7 * 8
        self._head = _LITTLE_ENDIAN + struct.pack("<I", len(self.frames))
        # The message with zero stamps and numbers, and views of its body (the numbers are
        # 8-aligned in it, the stamps 4-aligned) where encode writes them: the stamps as
        # pairs of uint32 (sec, nanosec), the numbers as float64 (translation, quaternion).
        self._message = bytearray(self._encode_parts(b"\x00" * 8, bytes(offset)))
        body = len(self._message) - HEADER_SIZE
        self._u32 = np.frombuffer(self._message, "<u4", body // 4, HEADER_SIZE)
        self._f64 = np.frombuffer(self._message, "<f8", body // 8, HEADER_SIZE)
        stamp_words = (np.array(stamps_at, dtype=np.intp) - HEADER_SIZE) // 4
        self._stamp_words = stamp_words[:, None] + np.arange(2)
        first = (np.array(numbers_at, dtype=np.intp) - HEADER_SIZE) // 8
        self._translation_words = first[:, None] + np.arange(3)
        self._quat_words = first[:, None] + np.arange(3, 7)

    def _encode_parts(self, stamp: bytes, numbers: bytes) -> bytes:
        """The message from its stamp's 8 bytes and the transforms' numbers (56 bytes each,
        in order), put together piece by piece."""
        parts = [self._head]
        for i, between in enumerate(self._between):
            parts += (stamp, between, numbers[56 * i : 56 * i + 56])
        return b"".join(parts)

    def encode(
        self, sec: int, nanosec: int, translations: FloatArray, quats_xyzw: FloatArray
    ) -> bytes:
        """The message at one stamp: per frame pair its child's translation (n×3 [m]) and
        rotation (n×4 quaternions x, y, z, w) in the parent frame."""
        stamp = _STAMP.pack(sec, nanosec)
        count = len(self.frames)
        if (
            isinstance(translations, np.ndarray)
            and isinstance(quats_xyzw, np.ndarray)
            and translations.dtype == np.float64
            and quats_xyzw.dtype == np.float64
            and translations.shape == (count, 3)
            and quats_xyzw.shape == (count, 4)
        ):  # the writer's numbers: written into the laid-out message
            self._u32[self._stamp_words] = np.frombuffer(stamp, "<u4")
            self._f64[self._translation_words] = translations
            self._f64[self._quat_words] = quats_xyzw
            return bytes(self._message)
        rows = np.hstack([translations, quats_xyzw]).astype("<f8", copy=False)
        if rows.shape != (count, 7):
            raise ValueError(f"{count} transforms but numbers of shape {rows.shape}")
        return self._encode_parts(stamp, rows.tobytes())


#: ``diagnostic_msgs/DiagnosticStatus`` levels.
DIAGNOSTIC_OK, DIAGNOSTIC_WARN, DIAGNOSTIC_ERROR, DIAGNOSTIC_STALE = 0, 1, 2, 3


@dataclass(frozen=True)
class DiagnosticStatusFields:
    """One ``diagnostic_msgs/DiagnosticStatus``: level (``DIAGNOSTIC_*``), texts and the
    key/value pairs in order."""

    level: int
    name: str
    message: str
    hardware_id: str
    values: tuple[tuple[str, str], ...]


def encode_diagnostic_array(
    sec: int, nanosec: int, frame_id: str, statuses: Sequence[DiagnosticStatusFields]
) -> bytes:
    """A ``diagnostic_msgs/DiagnosticArray`` as CDR bytes."""
    head = _header_bytes(sec, nanosec, frame_id, 4) + struct.pack("<I", len(statuses))
    parts = [head]
    offset = len(head)
    for status in statuses:
        parts.append(struct.pack("<B", status.level))
        offset += 1
        for text in (status.name, status.message, status.hardware_id):
            data, offset = _string_at(text, offset)
            parts.append(data)
        pad = _align(offset, 4) - offset
        parts.append(b"\x00" * pad + struct.pack("<I", len(status.values)))
        offset += pad + 4
        for key, value in status.values:
            for text in (key, value):
                data, offset = _string_at(text, offset)
                parts.append(data)
    return b"".join(parts)
