"""gamepad_node: a Linux evdev gamepad (or the ROS ``joy`` node) → sensor_msgs/Joy on /operator/joy.

Parameters:
  ``source``: ``evdev`` (default) reads ``device`` (a /dev/input/event* path, or ``auto``:
  the first pad matching ``preset``, or any shipped preset) with the mapping ``preset``
  (a shipped name: xbox, dualshock4, generic, or a YAML path, or ``auto`` by device name);
  ``joy`` relays ``joy_topic`` (from the standard ``joy`` node) applying ``deadzone``.
  ``rate_hz``: publish rate while the pad is connected and fresh [Hz].
  ``stale_after_s`` (joy source): stop publishing when /joy is older than this [s].
  ``future_tolerance_s`` (joy source): a /joy stamped more than this ahead of the clock [s]
  is rejected.

The node publishes what the operator does: every axis (after the dead zone) and every button,
dead man held or not, so a recording keeps the operator's intent. The dead man is the teleop
profile's pad preset ``buttons.deadman`` (``config/teleop/pads/``), one place for the button:
the teleop pipeline holds the robot while it is released. (``joy_deadman_button``, which
zeroed the relayed axes, is gone: setting it is a start-up error.) An unplugged pad logs an
error and publishes nothing until it is back (retried every second). The relay rejects a /joy
with a NaN/inf axis, a stamp ahead of the clock or older than the last relayed one (the
stamp rules of :mod:`humanoid_teleop.core.retarget.input_guard`): it is not relayed, it is
counted on ``/diagnostics`` (``rejected <reason>``) and logged at most once a second per
reason with the count since the last line.
"""

from __future__ import annotations

import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import Joy

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.frame import JoyState
from humanoid_teleop.core.retarget.input_guard import RejectionLog, check_message
from humanoid_teleop.devices.errors import DeviceError
from humanoid_teleop.devices.gamepad.evdev import EvdevDevice
from humanoid_teleop.devices.gamepad.mapping import (
    GamepadPreset,
    PadState,
    find_gamepad,
    load_preset,
    preset_for,
)
from humanoid_teleop.nodes import ros_conversions as conv
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import operator_topic

RETRY_PERIOD_S = 1.0


class GamepadNode(Node):
    """Publishes the pad state at a fixed rate while connected, nothing otherwise."""

    def __init__(self) -> None:
        super().__init__("gamepad_node")
        self._source = str(self.declare_parameter("source", "evdev").value)
        self._device_param = str(self.declare_parameter("device", "auto").value)
        self._preset_param = str(self.declare_parameter("preset", "auto").value)
        rate_hz = float(self.declare_parameter("rate_hz", 50.0).value)
        joy_topic = str(self.declare_parameter("joy_topic", "/joy").value)
        self._joy_topic = joy_topic
        self._deadzone = float(self.declare_parameter("deadzone", 0.05).value)
        removed = self.declare_parameter(
            "joy_deadman_button", None, ParameterDescriptor(dynamic_typing=True)
        ).value
        if removed is not None:
            raise ConfigError(
                f"parameter 'joy_deadman_button' ({removed}) is gone: the dead man"
                " is the teleop pad preset's buttons.deadman (config/teleop/pads/); remove it"
            )
        self._stale_after_s = float(self.declare_parameter("stale_after_s", 0.5).value)
        self._future_tolerance_s = float(self.declare_parameter("future_tolerance_s", 0.05).value)
        if self._source not in ("evdev", "joy"):
            raise ConfigError(f"parameter 'source' is {self._source!r}; allowed: evdev, joy")
        if rate_hz <= 0:
            raise ConfigError(f"parameter 'rate_hz' must be > 0, got {rate_hz}")
        if self._preset_param != "auto":
            load_preset(self._preset_param)  # fail at start-up on a bad preset
        self._pub = self.create_publisher(Joy, operator_topic("joy"), 10)
        self._pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._device: EvdevDevice | None = None
        self._state: PadState | None = None
        self._last_try_s = float("-inf")
        self._error = ""
        self._last_joy: tuple[float, Joy] | None = None
        self._last_joy_stamp_s: float | None = None
        self._rejections = RejectionLog()
        if self._source == "joy":
            self.create_subscription(Joy, joy_topic, self._on_joy, 10)
            self.create_timer(1.0 / rate_hz, self._tick_joy)
        else:
            self.create_timer(1.0 / rate_hz, self._tick_evdev)
        self.create_timer(1.0, self._report)

    # ------------------------------------------------------------ evdev
    def _choose(self) -> tuple[str, GamepadPreset]:
        if self._device_param != "auto":
            return self._device_param, self._preset("")
        wanted = None if self._preset_param == "auto" else load_preset(self._preset_param)
        path, name = find_gamepad(wanted)
        return path, self._preset(name)

    def _preset(self, device_name: str) -> GamepadPreset:
        if self._preset_param != "auto":
            return load_preset(self._preset_param)
        return preset_for(device_name)

    def _connect(self) -> None:
        now = time.monotonic()
        if now - self._last_try_s < RETRY_PERIOD_S:
            return
        self._last_try_s = now
        try:
            path, preset = self._choose()
            device = EvdevDevice(path)
            if device.name and self._preset_param == "auto":
                preset = preset_for(device.name)
        except DeviceError as err:
            self._lost(str(err))
            return
        ranges = {a.code: info for a in preset.axes if (info := device.absinfo(a.code))}
        self._device, self._state = device, PadState(preset, ranges)
        self._error = ""
        self.get_logger().info(
            f"gamepad {device.name or path!r} on {path} with preset {preset.name!r}"
        )

    def _lost(self, message: str) -> None:
        if message != self._error:
            self.get_logger().error(f"gamepad: {message}; publishing nothing until it is back")
        self._error = message
        if self._device is not None:
            self._device.close()
        self._device, self._state = None, None

    def _tick_evdev(self) -> None:
        if self._device is None or self._state is None:
            self._connect()
            if self._device is None or self._state is None:
                return
        try:
            events = self._device.read(0.0)
        except DeviceError as err:
            self._lost(str(err))
            return
        self._state.apply(events)
        sample = self._state.sample(time.time())
        sec, nanosec = conv.clock_stamp(self.get_clock())
        self._pub.publish(cdr.encode_joy(sec, nanosec, "gamepad", sample.axes, sample.buttons))

    # ------------------------------------------------------------ joy relay
    def _on_joy(self, msg: Joy) -> None:
        now_s = self.get_clock().now().nanoseconds * 1e-9
        stamp_s = conv.time_to_s(msg.header.stamp) or now_s  # unset: taken as captured now
        joy = JoyState(tuple(float(a) for a in msg.axes), tuple(int(b) for b in msg.buttons))
        rejection = check_message(
            stamp_s, self._last_joy_stamp_s, now_s, joy, self._future_tolerance_s
        )
        if rejection is not None:
            line = self._rejections.record(
                self._joy_topic, rejection.reason, rejection.detail, time.monotonic()
            )
            if line is not None:
                self.get_logger().error(line)
            return
        self._last_joy_stamp_s = stamp_s
        self._last_joy = (time.monotonic(), msg)

    def _tick_joy(self) -> None:
        if self._last_joy is None:
            return
        received_s, joy = self._last_joy
        if time.monotonic() - received_s > self._stale_after_s:
            if not self._error:
                self._error = f"no Joy for more than {self._stale_after_s} s"
                self.get_logger().error(f"gamepad: {self._error}; publishing nothing")
            return
        self._error = ""
        dz = self._deadzone
        axes = [
            0.0 if abs(a) <= dz else (1.0 if a > 0 else -1.0) * (min(abs(a), 1.0) - dz) / (1.0 - dz)
            for a in joy.axes
        ]
        out = Joy(axes=axes, buttons=list(joy.buttons))
        out.header = joy.header
        self._pub.publish(out)

    # ------------------------------------------------------------ diagnostics
    def _report(self) -> None:
        for line in self._rejections.flush(time.monotonic()):
            self.get_logger().error(line)
        status = DiagnosticStatus(name="gamepad", hardware_id=self._device_param)
        if self._error or (self._source == "evdev" and self._device is None):
            status.level, status.message = DiagnosticStatus.ERROR, self._error or "connecting"
        else:
            status.level, status.message = DiagnosticStatus.OK, "connected"
        values: dict[str, str] = {}
        for (_topic, reason), (count, detail) in self._rejections.counts().items():
            values[f"rejected {reason}"] = f"{count} (last: {detail})"
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._pub_diag.publish(array)

    def close(self) -> None:
        if self._device is not None:
            self._device.close()


def main(args: list[str] | None = None) -> int:
    return run_node("gamepad_node", GamepadNode, close=lambda node: node.close(), args=args)


if __name__ == "__main__":
    sys.exit(main())
