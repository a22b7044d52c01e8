"""A Dynamixel Protocol 2.0 bus over an injectable serial transport.

:class:`SerialTransport` is all the bus needs from a port; :class:`PySerialTransport` is the real
one (USB adapters such as the U2D2 appear as ``/dev/ttyUSB*``), and tests pass a pseudo-terminal
path to it, behind which a simulated bus answers with real protocol bytes.
"""

from __future__ import annotations

import logging
import struct
import time
from typing import Protocol

from humanoid_teleop.devices.dynamixel import protocol
from humanoid_teleop.devices.errors import DeviceDisconnected, DeviceError, DeviceTimeout

log = logging.getLogger(__name__)


class SerialTransport(Protocol):
    """The few operations the bus needs from a serial port."""

    name: str

    def write(self, data: bytes) -> None:
        """Send all of ``data``."""

    def read_available(self, wait_s: float) -> bytes:
        """Bytes that arrived within ``wait_s`` [s] (possibly none)."""

    def discard_input(self) -> None:
        """Drop whatever is waiting in the receive buffer."""

    def close(self) -> None:
        """Release the port."""


class PySerialTransport:
    """A real serial port through pyserial; errors name the port."""

    def __init__(self, port: str, baudrate: int) -> None:
        import serial  # type: ignore[import-untyped]

        self.name = port
        self._serial_error = serial.SerialException
        try:
            self._port = serial.Serial(port, baudrate=baudrate, timeout=0, write_timeout=1.0)
        except (serial.SerialException, OSError) as err:
            raise DeviceDisconnected(f"cannot open serial port {port}: {err}") from err

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (self._serial_error, OSError) as err:
            raise DeviceDisconnected(f"serial port {self.name} failed on write: {err}") from err

    def read_available(self, wait_s: float) -> bytes:
        try:
            self._port.timeout = max(wait_s, 0.0)
            first = self._port.read(1)
            if not first:
                return b""
            return bytes(first + self._port.read(self._port.in_waiting))
        except (self._serial_error, OSError) as err:
            raise DeviceDisconnected(f"serial port {self.name} failed on read: {err}") from err

    def discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except (self._serial_error, OSError) as err:
            raise DeviceDisconnected(f"serial port {self.name} failed: {err}") from err

    def close(self) -> None:
        self._port.close()


class DynamixelBus:
    """Instructions and replies on one bus; ``timeout_s`` bounds each transaction [s]."""

    def __init__(self, transport: SerialTransport, timeout_s: float) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self._reader = protocol.PacketReader()

    def _replies(self, wanted: set[int], what: str) -> dict[int, protocol.Packet]:
        replies: dict[int, protocol.Packet] = {}
        deadline = time.monotonic() + self.timeout_s
        while len(replies) < len(wanted):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = sorted(wanted - set(replies))
                raise DeviceTimeout(
                    f"{self.transport.name}: no reply to {what} from Dynamixel ID(s) "
                    f"{missing} within {self.timeout_s * 1e3:.0f} ms "
                    "(check power, wiring, baud rate and IDs)"
                )
            for packet in self._reader.feed(self.transport.read_available(remaining)):
                if packet.instruction == protocol.STATUS and packet.servo_id in wanted:
                    replies[packet.servo_id] = packet
        for packet in replies.values():
            packet.check_error(self.transport.name)
        return replies

    def ping(self, servo_id: int) -> int:
        """Ping one servo; return its model number."""
        self.transport.discard_input()
        self.transport.write(protocol.encode_packet(servo_id, protocol.PING))
        reply = self._replies({servo_id}, "PING")[servo_id]
        if len(reply.data) < 2:
            raise DeviceError(f"{self.transport.name}: short PING reply from ID {servo_id}")
        return int(struct.unpack_from("<H", reply.data)[0])

    def read(self, servo_id: int, address: int, length: int) -> bytes:
        """Read ``length`` bytes of the control table at ``address`` from one servo."""
        self.transport.discard_input()
        self.transport.write(protocol.read_packet(servo_id, address, length))
        data = self._replies({servo_id}, f"READ {address}")[servo_id].data
        if len(data) != length:
            raise DeviceError(
                f"{self.transport.name}: ID {servo_id} answered {len(data)} bytes, asked {length}"
            )
        return data

    def sync_read(self, ids: list[int], address: int, length: int) -> dict[int, bytes]:
        """SYNC_READ ``length`` bytes at ``address`` from all ``ids``; all must answer."""
        self.transport.discard_input()
        self.transport.write(protocol.sync_read_packet(ids, address, length))
        replies = self._replies(set(ids), f"SYNC_READ {address}")
        out: dict[int, bytes] = {}
        for servo_id, packet in replies.items():
            if len(packet.data) != length:
                raise DeviceError(
                    f"{self.transport.name}: ID {servo_id} answered {len(packet.data)} bytes, "
                    f"asked {length}"
                )
            out[servo_id] = packet.data
        return out

    def close(self) -> None:
        self.transport.close()
