"""SessionClient over real DDS: waiting for a session's first message on a topic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.context import Context  # noqa: E402
from sensor_msgs.msg import JointState  # noqa: E402

from humanoid_teleop.nodes.session_client import (  # noqa: E402
    SessionClient,
    SessionServiceError,
)

from .test_sim_robot_node import free_domain  # noqa: E402


@pytest.fixture
def client() -> Iterator[SessionClient]:
    """A session client in its own context and ROS domain."""
    context = Context()
    rclpy.init(context=context, domain_id=free_domain())
    session_client = SessionClient(context, "test_session_client")
    try:
        yield session_client
    finally:
        session_client.close()
        rclpy.shutdown(context=context)
        context.destroy()


def test_wait_for_message_names_the_topic_and_its_publisher_when_none_arrives(
    client: SessionClient,
) -> None:
    """Nobody publishes: one line naming the topic, the wait and the node expected to send
    it (the demo's robot not up: the teleop node would refuse to engage)."""
    with pytest.raises(SessionServiceError) as raised:
        client.wait_for_message("/joint_states", JointState, 1.0, "sim_robot")
    assert str(raised.value) == (
        "no message on /joint_states within 1 s; is sim_robot running? (see its log lines above)"
    )
    assert not list(client.node.subscriptions)  # the wait's subscription is gone


def test_wait_for_message_returns_once_the_topic_publishes(client: SessionClient) -> None:
    """A publisher that starts late (a loaded host): the wait returns at its first message."""
    publisher = client.node.create_publisher(JointState, "/joint_states", 10)
    published: list[float] = []

    def publish() -> None:
        publisher.publish(JointState(name=["j"], position=[0.0]))
        published.append(0.0)

    client.node.create_timer(0.3, publish)
    client.wait_for_message("/joint_states", JointState, 30.0, "sim_robot")
    assert published  # it waited for the late publisher
    assert not list(client.node.subscriptions)
