"""A Dynamixel Protocol 2.0 bus through ROBOTIS' ``dynamixel-sdk``.

USB adapters such as the U2D2 appear as ``/dev/ttyUSB*``; tests pass a pseudo-terminal path,
behind which a simulated bus answers with real protocol bytes. SDK result codes and pyserial
failures become :class:`DeviceTimeout`, :class:`DeviceError` or :class:`DeviceDisconnected`
with messages that name the port and the servo IDs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import serial  # type: ignore[import-untyped]
from dynamixel_sdk import (  # type: ignore[import-untyped]
    COMM_RX_TIMEOUT,
    COMM_SUCCESS,
    PacketHandler,
    PortHandler,
)

from humanoid_teleop.devices.errors import DeviceDisconnected, DeviceError, DeviceTimeout

PROTOCOL_VERSION = 2.0

READ_BLOCK_S = 0.001
"""Longest a single port read blocks [s] while the SDK waits for reply bytes."""


class _Port(PortHandler):  # type: ignore[misc]
    """The SDK's port, with our reply timeout [ms] instead of its fixed 16 ms latency timer."""

    def __init__(self, name: str, reply_timeout_ms: float) -> None:
        super().__init__(name)
        self.reply_timeout_ms = reply_timeout_ms

    def setPacketTimeout(self, packet_length: int) -> None:  # noqa: N802 (the SDK's name)
        self.packet_start_time = self.getCurrentTime()
        self.packet_timeout = self.tx_time_per_byte * packet_length + self.reply_timeout_ms


class DynamixelBus:
    """PING, READ and SYNC_READ on one bus; ``timeout_s`` bounds each reply [s]."""

    def __init__(self, port: str, baudrate: int, timeout_s: float) -> None:
        self.name = port
        self._port = _Port(port, timeout_s * 1e3)
        self._packets = PacketHandler(PROTOCOL_VERSION)
        try:
            opened = self._port.openPort() and self._port.setBaudRate(baudrate)
        except (serial.SerialException, OSError) as err:
            raise DeviceDisconnected(f"cannot open serial port {port}: {err}") from err
        if not opened:
            raise DeviceDisconnected(f"cannot open serial port {port} at {baudrate} baud")
        # The SDK polls a non-blocking port in a tight loop while it waits for a reply; a short
        # read timeout lets it block instead (a read still returns as soon as its bytes arrive).
        self._port.ser.timeout = READ_BLOCK_S

    @property
    def timeout_s(self) -> float:
        """Reply timeout [s]."""
        return float(self._port.reply_timeout_ms) / 1e3

    @timeout_s.setter
    def timeout_s(self, value: float) -> None:
        self._port.reply_timeout_ms = value * 1e3

    def _io(self, what: str, call: Callable[..., Any], *args: Any, fresh: bool = True) -> Any:
        """One SDK call (on a cleared receive buffer if ``fresh``); serial failures are
        disconnects naming the port."""
        try:
            if fresh:
                self._port.ser.reset_input_buffer()
            return call(self._port, *args)
        except (serial.SerialException, OSError) as err:
            raise DeviceDisconnected(
                f"serial port {self.name} failed during {what}: {err}"
            ) from err

    def _check(self, what: str, ids: Sequence[int], result: int, error: int = 0) -> None:
        if result == COMM_RX_TIMEOUT:
            raise DeviceTimeout(
                f"{self.name}: no reply to {what} from Dynamixel ID(s) {sorted(ids)} within "
                f"{self.timeout_s * 1e3:.0f} ms (check power, wiring, baud rate and IDs)"
            )
        if result != COMM_SUCCESS:
            raise DeviceError(f"{self.name}: {what} failed: {self._packets.getTxRxResult(result)}")
        if error:
            raise DeviceError(
                f"{self.name}: Dynamixel ID(s) {list(ids)} reported "
                f"{self._packets.getRxPacketError(error).strip()}"
            )

    def ping(self, servo_id: int) -> int:
        """Ping one servo; return its model number."""
        model, result, error = self._io("PING", self._packets.ping, servo_id)
        self._check("PING", [servo_id], result, error)
        return int(model)

    def read(self, servo_id: int, address: int, length: int) -> bytes:
        """Read ``length`` bytes of the control table at ``address`` from one servo."""
        what = f"READ {address}"
        data, result, error = self._io(what, self._packets.readTxRx, servo_id, address, length)
        self._check(what, [servo_id], result, error)
        return bytes(data)

    def sync_read(self, ids: list[int], address: int, length: int) -> dict[int, bytes]:
        """SYNC_READ ``length`` bytes at ``address`` from all ``ids``; all must answer.

        When some do not, each servo is pinged to name the silent ones in the error.
        """
        what = f"SYNC_READ {address}"
        sent = self._io(what, self._packets.syncReadTx, address, length, list(ids), len(ids), False)
        self._check(what, ids, sent)
        out: dict[int, bytes] = {}
        for servo_id in ids:
            data, result, error = self._io(
                what, self._packets.readRx, servo_id, length, fresh=False
            )
            if result == COMM_RX_TIMEOUT:
                self._check(what, self._silent(ids) or ids, result)
            self._check(what, [servo_id], result, error)
            out[servo_id] = bytes(data)
        return out

    def _silent(self, ids: Sequence[int]) -> list[int]:
        """The servos among ``ids`` that do not answer a PING."""
        return [i for i in ids if self._io("PING", self._packets.ping, i)[1] == COMM_RX_TIMEOUT]

    def close(self) -> None:
        self._port.closePort()
