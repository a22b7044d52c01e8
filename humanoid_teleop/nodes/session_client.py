"""A small rclpy client for a running session: teleop and recorder services, annotations.

Used by ``humanoid-teleop demo`` (and tests) to engage, start/stop episodes and annotate as an
operator's foot pedal or UI would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import rclpy
from rclpy.client import Client
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from humanoid_teleop.core.errors import TeleopError

TELEOP_SERVICES = ("engage", "disengage", "estop", "reset_estop", "recalibrate")
RECORDER_SERVICES = ("start_episode", "stop_episode", "discard_episode")


class SessionServiceError(TeleopError):
    """A session service is missing or answered with failure."""


Abort = Callable[[], str]
"""Asked while a wait spins: "" to go on, else why to stop waiting (e.g. a node of the
session exited), raised as :class:`SessionServiceError`."""


def _check(abort: Abort | None) -> None:
    reason = abort() if abort is not None else ""
    if reason:
        raise SessionServiceError(reason)


class SessionClient:
    """Calls ``/teleop/*`` and ``/recorder/*`` services and publishes annotations."""

    def __init__(self, context: rclpy.context.Context, name: str = "session_client") -> None:
        self._node = Node(name, context=context)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self._node)
        self._triggers: dict[str, Client[Any, Any]] = {}
        for service in TELEOP_SERVICES:
            self._triggers[f"/teleop/{service}"] = self._node.create_client(
                Trigger, f"/teleop/{service}"
            )
        for service in RECORDER_SERVICES:
            self._triggers[f"/recorder/{service}"] = self._node.create_client(
                Trigger, f"/recorder/{service}"
            )
        self._mark_success: Client[Any, Any] = self._node.create_client(
            SetBool, "/recorder/mark_success"
        )
        self._annotation = self._node.create_publisher(String, "/recorder/annotation", 10)

    @property
    def node(self) -> Node:
        return self._node

    def wait_for(
        self, services: Iterable[str], timeout_s: float, abort: Abort | None = None
    ) -> None:
        """Block until every named service (e.g. ``/teleop/engage``) is available; ``abort``
        (see :data:`Abort`) is asked between spins."""
        deadline = time.monotonic() + timeout_s
        for service in services:
            client = self._triggers.get(service) or self._mark_success
            while not client.service_is_ready():
                _check(abort)
                if time.monotonic() > deadline:
                    raise SessionServiceError(
                        f"service {service} did not appear within {timeout_s:.0f} s; "
                        "is its node running? (see the [node] log lines above)"
                    )
                self._executor.spin_once(timeout_sec=0.1)

    def wait_for_message(
        self,
        topic: str,
        msg_type: Any,
        timeout_s: float,
        publisher: str,
        abort: Abort | None = None,
    ) -> None:
        """Block until one ``msg_type`` message arrives on ``topic`` (e.g. the robot's joint
        states: a session is up for an operator once the robot says where it is);
        ``publisher`` names the node expected to send it, for the error; ``abort`` (see
        :data:`Abort`) is asked between spins."""
        arrived: list[bool] = []
        subscription = self._node.create_subscription(
            msg_type, topic, lambda _: arrived.append(True), 10, raw=True
        )
        deadline = time.monotonic() + timeout_s
        try:
            while not arrived:
                _check(abort)
                if time.monotonic() > deadline:
                    raise SessionServiceError(
                        f"no message on {topic} within {timeout_s:.0f} s; is {publisher} "
                        "running? (see its log lines above)"
                    )
                self._executor.spin_once(timeout_sec=0.1)
        finally:
            self._node.destroy_subscription(subscription)

    def _call(
        self, client: Client[Any, Any], request: object, name: str, timeout_s: float
    ) -> object:
        future = client.call_async(request)
        self._executor.spin_until_future_complete(future, timeout_sec=timeout_s)
        if not future.done():
            raise SessionServiceError(f"service {name} did not answer within {timeout_s:.0f} s")
        return future.result()

    def trigger(self, service: str, timeout_s: float = 10.0) -> str:
        """Call a Trigger service; returns its message, raises if it reports failure."""
        response = self._call(self._triggers[service], Trigger.Request(), service, timeout_s)
        assert isinstance(response, Trigger.Response)
        if not response.success:
            raise SessionServiceError(f"{service} failed: {response.message}")
        return str(response.message)

    def mark_success(self, success: bool, timeout_s: float = 10.0) -> str:
        """Mark the current episode's outcome."""
        request = SetBool.Request(data=success)
        response = self._call(self._mark_success, request, "/recorder/mark_success", timeout_s)
        assert isinstance(response, SetBool.Response)
        if not response.success:
            raise SessionServiceError(f"/recorder/mark_success failed: {response.message}")
        return str(response.message)

    def annotate(self, text: str) -> None:
        """Publish a timed free-text label on /recorder/annotation."""
        self._annotation.publish(String(data=text))

    def spin_for(self, duration_s: float, abort: Abort | None = None) -> None:
        """Process callbacks for ``duration_s`` [s]; ``abort`` (see :data:`Abort`) is asked
        between spins."""
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            _check(abort)
            self._executor.spin_once(timeout_sec=min(0.05, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self._executor.shutdown()
        self._node.destroy_node()
