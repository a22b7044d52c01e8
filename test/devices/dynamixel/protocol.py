"""Dynamixel Protocol 2.0 packets: CRC-16, byte stuffing, instruction encoding, status parsing.

Packet layout (Robotis e-Manual, "Protocol 2.0")::

    FF FF FD 00 | ID | LEN_L LEN_H | INST | PARAM... | CRC_L CRC_H

``LEN`` counts INST + PARAM (after byte stuffing) + 2 CRC bytes. The CRC-16 (polynomial
0x8005, initial value 0, not reflected) covers everything from the header through the last
parameter. Byte stuffing inserts ``FD`` after any ``FF FF FD`` inside INST/PARAM so a header
never appears inside a packet. Status packets use INST ``0x55`` followed by an error byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from humanoid_teleop.devices.errors import DeviceError

HEADER = b"\xff\xff\xfd\x00"
BROADCAST_ID = 0xFE

PING = 0x01
READ = 0x02
WRITE = 0x03
SYNC_READ = 0x82
STATUS = 0x55

#: Names of the status error codes (bits 0-6); bit 7 is the hardware alert flag.
STATUS_ERRORS = {
    1: "result fail",
    2: "instruction error",
    3: "CRC error",
    4: "data range error",
    5: "data length error",
    6: "data limit error",
    7: "access error",
}
ALERT_BIT = 0x80


def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """The Protocol 2.0 CRC-16 of ``data``."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]) & 0xFFFF
    return crc


def stuff(data: bytes) -> bytes:
    """Insert ``FD`` after every ``FF FF FD`` in ``data``."""
    out = bytearray()
    for byte in data:
        out.append(byte)
        if byte == 0xFD and out[-3:] == b"\xff\xff\xfd":
            out.append(0xFD)
    return bytes(out)


def unstuff(data: bytes) -> bytes:
    """Remove the ``FD`` that :func:`stuff` inserted after each ``FF FF FD``."""
    out = bytearray()
    i = 0
    while i < len(data):
        out.append(data[i])
        if out[-3:] == b"\xff\xff\xfd" and i + 1 < len(data) and data[i + 1] == 0xFD:
            i += 1
        i += 1
    return bytes(out)


def encode_packet(servo_id: int, instruction: int, params: bytes = b"") -> bytes:
    """One complete packet (header, stuffed body, CRC) for ``servo_id``."""
    if not 0 <= servo_id <= BROADCAST_ID:
        raise ValueError(f"Dynamixel ID must be 0-{BROADCAST_ID}, got {servo_id}")
    body = stuff(bytes([instruction]) + params)
    head = HEADER + struct.pack("<BH", servo_id, len(body) + 2)
    crc = crc16(head + body)
    return head + body + struct.pack("<H", crc)


def encode_status(servo_id: int, error: int, params: bytes = b"") -> bytes:
    """A status packet, as a servo sends it (used by the simulated bus in tests)."""
    return encode_packet(servo_id, STATUS, bytes([error]) + params)


def sync_read_packet(ids: list[int], address: int, length: int) -> bytes:
    """SYNC_READ of ``length`` bytes at ``address`` from every servo in ``ids``."""
    return encode_packet(BROADCAST_ID, SYNC_READ, struct.pack("<HH", address, length) + bytes(ids))


def read_packet(servo_id: int, address: int, length: int) -> bytes:
    """READ of ``length`` bytes at ``address`` from one servo."""
    return encode_packet(servo_id, READ, struct.pack("<HH", address, length))


@dataclass(frozen=True)
class Packet:
    """A decoded packet: ``instruction`` is ``STATUS`` for replies; ``params`` are unstuffed."""

    servo_id: int
    instruction: int
    params: bytes

    @property
    def error(self) -> int:
        """The status error byte (status packets only)."""
        return self.params[0] if self.instruction == STATUS and self.params else 0

    @property
    def data(self) -> bytes:
        """The payload after the error byte of a status packet."""
        return self.params[1:] if self.instruction == STATUS else self.params

    def check_error(self, port: str) -> None:
        """Raise :class:`DeviceError` when a status packet reports an error."""
        code = self.error & 0x7F
        if code:
            name = STATUS_ERRORS.get(code, f"error {code}")
            raise DeviceError(f"{port}: Dynamixel ID {self.servo_id} reported {name}")
        if self.error & ALERT_BIT:
            raise DeviceError(
                f"{port}: Dynamixel ID {self.servo_id} raised its hardware alert "
                "(overheat, overload or voltage; read Hardware Error Status)"
            )


class PacketReader:
    """Incremental parser: feed bytes as they arrive, take complete valid packets out.

    Garbage before a header and packets with a bad CRC are skipped and counted.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.crc_errors = 0
        self.skipped_bytes = 0

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets: list[Packet] = []
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:
                keep = 3 if len(self._buffer) >= 3 else len(self._buffer)
                self.skipped_bytes += len(self._buffer) - keep
                del self._buffer[: len(self._buffer) - keep]
                return packets
            if start:
                self.skipped_bytes += start
                del self._buffer[:start]
            if len(self._buffer) < 7:
                return packets
            servo_id, length = struct.unpack_from("<BH", self._buffer, 4)
            total = 7 + length
            if length < 3:
                self.skipped_bytes += 1
                del self._buffer[:1]
                continue
            if len(self._buffer) < total:
                return packets
            raw = bytes(self._buffer[:total])
            (crc,) = struct.unpack_from("<H", raw, total - 2)
            if crc16(raw[:-2]) != crc:
                self.crc_errors += 1
                del self._buffer[:1]
                continue
            del self._buffer[:total]
            body = unstuff(raw[7:-2])
            packets.append(Packet(servo_id, body[0], body[1:]))
