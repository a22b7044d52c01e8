"""A simulated Dynamixel Protocol 2.0 bus behind a pseudo-terminal.

Open ``SimulatedBus.port`` (a /dev/pts path) like a USB adapter: the simulator answers PING,
READ and SYNC_READ of Present Position with real status packets. ``silent`` makes it stop
answering (a powered-off or unplugged chain); ``mute_ids`` silences single servos (to every
instruction, as if unplugged).
"""

from __future__ import annotations

import os
import select
import struct
import threading
import tty

from test.devices.dynamixel import protocol

MODEL_XL330 = 1200
PRESENT_POSITION = 132


class SimulatedBus:
    def __init__(self, positions: dict[int, int]) -> None:
        self.positions = dict(positions)
        self.silent = False
        self.mute_ids: set[int] = set()
        self.requests = 0
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._reader = protocol.PacketReader()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _reply(self, packet: protocol.Packet) -> bytes:
        out = b""
        if packet.servo_id in self.mute_ids:
            return out
        if packet.instruction == protocol.PING and packet.servo_id in self.positions:
            out = protocol.encode_status(packet.servo_id, 0, struct.pack("<HB", MODEL_XL330, 1))
        elif packet.instruction == protocol.READ and packet.servo_id in self.positions:
            address, length = struct.unpack_from("<HH", packet.params)
            out = protocol.encode_status(
                packet.servo_id, 0, self._table(packet.servo_id, address, length)
            )
        elif packet.instruction == protocol.SYNC_READ:
            address, length = struct.unpack_from("<HH", packet.params)
            for servo_id in packet.params[4:]:
                if servo_id in self.positions and servo_id not in self.mute_ids:
                    out += protocol.encode_status(
                        servo_id, 0, self._table(servo_id, address, length)
                    )
        return out

    def _table(self, servo_id: int, address: int, length: int) -> bytes:
        if address == PRESENT_POSITION and length == 4:
            return struct.pack("<i", self.positions[servo_id])
        return bytes(length)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            for packet in self._reader.feed(data):
                self.requests += 1
                if self.silent or packet.instruction == protocol.STATUS:
                    continue
                reply = self._reply(packet)
                if reply:
                    os.write(self._master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)
