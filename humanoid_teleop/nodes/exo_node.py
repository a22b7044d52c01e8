"""exo_node: Dynamixel leader arm / exoskeleton → JointState on /operator/leader_joints.

Reads every servo with one SYNC_READ per cycle at ``rate_hz`` (from the leader YAML named by
the ``config`` parameter: a path, or a name such as ``gello_7dof`` for the shipped
``config/devices/exo_gello_7dof.yaml``; ``port`` overrides its serial port). A cycle whose
read fails or times out publishes nothing, so consumers see the stream stop rather than
frozen values; after ``stale_after_s`` without a complete read the node logs an error and
reports it on ``/diagnostics``. A vanished port (unplugged adapter) is reopened once a second.
Each failed or rejected reading (a timeout, a garbled packet, a non-finite angle) is counted on
``/diagnostics`` (``rejected <reason>``) and logged at most once a second per reason, with the
count since the last line, so a flaky bus that never goes stale is still seen.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import JointState

from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.retarget.input_guard import NON_FINITE, RejectionLog
from humanoid_teleop.devices.dynamixel.bus import DynamixelBus
from humanoid_teleop.devices.dynamixel.leader import (
    LeaderArm,
    LeaderArmConfig,
    find_leader_config,
)
from humanoid_teleop.devices.errors import DeviceDisconnected, DeviceError, DeviceTimeout
from humanoid_teleop.nodes import ros_conversions as conv
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import operator_topic

REOPEN_PERIOD_S = 1.0


class ExoNode(Node):
    """Publishes calibrated leader joint angles; nothing when the reading is not fresh."""

    def __init__(self) -> None:
        super().__init__("exo_node")
        config_name = str(self.declare_parameter("config", "gello_7dof").value)
        port = str(self.declare_parameter("port", "").value)
        topic = str(self.declare_parameter("topic", operator_topic("leader_joints")).value)
        config = LeaderArmConfig.load(find_leader_config(config_name))
        self._config = dataclasses.replace(config, port=port) if port else config
        self._pub = self.create_publisher(JointState, topic, 10)
        # Readings go out as ready CDR bytes (names laid out once), like the headset's poses.
        self._encoder = cdr.JointStateEncoder(self._config.names)
        self._pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._arm: LeaderArm | None = None
        self._last_open_try_s = float("-inf")
        self._last_ok_s = time.monotonic()
        self._error = ""
        self._published = 0
        self._failed_reads = 0
        self._stale = False
        self._rejections = RejectionLog()
        self.create_timer(1.0 / self._config.rate_hz, self._tick)
        self.create_timer(1.0, self._report)

    def _open(self) -> None:
        now = time.monotonic()
        if now - self._last_open_try_s < REOPEN_PERIOD_S:
            return
        self._last_open_try_s = now
        try:
            bus = DynamixelBus(self._config.port, self._config.baudrate, self._config.timeout_s)
        except DeviceDisconnected as err:
            self._fail(str(err))
            return
        self._arm = LeaderArm(self._config, bus)
        self.get_logger().info(f"opened {self._config.port} ({len(self._config.joints)} servos)")

    def _fail(self, message: str, reason: str = "disconnected") -> None:
        self._failed_reads += 1
        self._error = message
        line = self._rejections.record(self._config.port, reason, message, time.monotonic())
        if line is not None:
            self.get_logger().warning(line)
        if time.monotonic() - self._last_ok_s > self._config.stale_after_s and not self._stale:
            self._stale = True
            self.get_logger().error(
                f"leader arm stale: no complete read for more than "
                f"{self._config.stale_after_s:.3f} s; publishing nothing ({message})"
            )

    def _tick(self) -> None:
        if self._arm is None:
            self._open()
            if self._arm is None:
                return
        try:
            positions = self._arm.read_rad()
        except DeviceDisconnected as err:
            self._arm.bus.close()
            self._arm = None
            self._fail(str(err))
            return
        except DeviceTimeout as err:
            self._fail(str(err), "timeout")
            return
        except DeviceError as err:
            self._fail(str(err), "bad reading")
            return
        bad = [
            n for n, v in zip(self._config.names, positions, strict=True) if not math.isfinite(v)
        ]
        if bad:
            self._fail(f"joint(s) {', '.join(bad)} not finite", NON_FINITE)
            return
        now = time.monotonic()
        if self._stale:
            self.get_logger().info("leader arm readings are back")
        self._stale = False
        self._last_ok_s = now
        sec, nanosec = conv.clock_stamp(self.get_clock())
        self._pub.publish(self._encoder.encode(sec, nanosec, positions))
        self._published += 1

    def _report(self) -> None:
        for line in self._rejections.flush(time.monotonic()):
            self.get_logger().warning(line)
        status = DiagnosticStatus(name="exo", hardware_id=self._config.port)
        if self._stale or self._arm is None:
            status.level, status.message = DiagnosticStatus.ERROR, self._error or "not open"
        else:
            status.level, status.message = DiagnosticStatus.OK, "reading"
        age = time.monotonic() - self._last_ok_s
        status.values = [
            KeyValue(key="published", value=str(self._published)),
            KeyValue(key="failed_reads", value=str(self._failed_reads)),
            KeyValue(key="reading_age_s", value=f"{age:.3f}"),
        ]
        status.values += [
            KeyValue(key=f"rejected {reason}", value=f"{count} (last: {detail})")
            for (_port, reason), (count, detail) in self._rejections.counts().items()
        ]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._pub_diag.publish(array)

    def close(self) -> None:
        if self._arm is not None:
            self._arm.bus.close()


def main(args: list[str] | None = None) -> int:
    return run_node("exo_node", ExoNode, close=lambda node: node.close(), args=args)


if __name__ == "__main__":
    sys.exit(main())
