"""Dynamixel Protocol 2.0 codec: CRC, byte stuffing, packets, incremental parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humanoid_teleop.devices.errors import DeviceError
from test.devices.dynamixel import protocol


def test_ping_packet_matches_the_robotis_manual() -> None:
    """PING to ID 1 is FF FF FD 00 01 03 00 01 19 4E (e-Manual Protocol 2.0 example)."""
    assert protocol.encode_packet(1, protocol.PING) == bytes.fromhex("FFFFFD000103000119 4E")


def test_read_packet_matches_the_robotis_manual() -> None:
    """READ 4 bytes at 132 from ID 1 is FF FF FD 00 01 07 00 02 84 00 04 00 1D 15 (e-Manual)."""
    expected = bytes.fromhex("FFFFFD00 01 0700 02 8400 0400 1D15")
    assert protocol.read_packet(1, 132, 4) == expected


def test_status_with_header_bytes_in_data_is_stuffed_and_round_trips() -> None:
    """A payload containing FF FF FD gets an extra FD on the wire and decodes unchanged."""
    payload = b"\xff\xff\xfd\x01"
    wire = protocol.encode_status(3, 0, payload)
    assert b"\xff\xff\xfd\xfd" in wire[4:]
    (packet,) = protocol.PacketReader().feed(wire)
    assert packet.data == payload and packet.servo_id == 3


@given(st.binary(max_size=64))
def test_stuff_then_unstuff_is_identity(data: bytes) -> None:
    """Byte stuffing is reversible for any payload."""
    assert protocol.unstuff(protocol.stuff(data)) == data


@given(st.binary(max_size=32), st.integers(1, 40))
def test_reader_finds_packets_split_anywhere_after_garbage(params: bytes, cut: int) -> None:
    """Garbage then a packet fed in two arbitrary pieces yields exactly that packet."""
    wire = b"\x00\x13\xff" + protocol.encode_status(7, 0, params)
    reader = protocol.PacketReader()
    packets = reader.feed(wire[:cut]) + reader.feed(wire[cut:])
    assert [(p.servo_id, p.data) for p in packets] == [(7, params)]


def test_corrupted_packet_is_dropped_and_counted() -> None:
    """A flipped bit fails the CRC: no packet, one CRC error; the next good packet still parses."""
    good = protocol.encode_status(1, 0, b"\x10\x00\x00\x00")
    bad = bytearray(good)
    bad[9] ^= 0x01
    reader = protocol.PacketReader()
    assert reader.feed(bytes(bad)) == []
    assert reader.crc_errors == 1
    assert [p.servo_id for p in reader.feed(good)] == [1]


def test_status_error_names_the_servo_and_error() -> None:
    """A status with error code 4 raises 'data range error' naming the ID and port."""
    (packet,) = protocol.PacketReader().feed(protocol.encode_status(5, 4))
    with pytest.raises(DeviceError, match="/dev/ttyX: Dynamixel ID 5 reported data range error"):
        packet.check_error("/dev/ttyX")


def test_hardware_alert_is_reported() -> None:
    """The alert bit (0x80) raises a hardware-alert error."""
    (packet,) = protocol.PacketReader().feed(protocol.encode_status(2, 0x80))
    with pytest.raises(DeviceError, match="hardware alert"):
        packet.check_error("bus")
