"""gamepad_node over real DDS: a recorded evdev stream, the joy relay, an unplugged pad."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from test.devices.gamepad import recording
from test.devices.ros_helpers import PUBLISH_STAMP_SLACK_S, Listener, start_node, stop_node

pytestmark = pytest.mark.ros
OUT = "/operator/joy"


@pytest.fixture
def listener() -> Iterator[Listener]:
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Joy

    listener = Listener({OUT: Joy, "/diagnostics": DiagnosticArray})
    yield listener
    listener.close()


def _gamepad_status(listener: Listener) -> str:
    for _, array in reversed(listener.messages["/diagnostics"]):
        for status in array.status:
            if status.name == "gamepad":
                return status.message
    return ""


def test_recorded_stream_publishes_joy_then_unplug_stops_it(
    listener: Listener, tmp_path: Path
) -> None:
    """Recorded LB + stick-left give axis 0 = +1; unplugging stops all output; replug resumes."""
    fifo = tmp_path / "pad.events"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    node = start_node("gamepad_node", {"device": str(fifo), "preset": "xbox", "rate_hz": 50.0})
    try:
        os.write(writer, recording.DEADMAN_DOWN + recording.STICK_LEFT)
        assert listener.spin_until(
            lambda: any(m.axes[0] == 1.0 for _, m in listener.messages[OUT]), 15
        )
        joy = listener.messages[OUT][-1][1]
        assert joy.buttons[4] == 1, "LB (dead man) is button 4 in the xbox preset"
        os.close(writer)  # unplug: the stream ends and the device node disappears
        writer = -1
        t_cut = time.time()  # every read from here on sees the end of the stream
        fifo.unlink()
        assert listener.spin_until(lambda: str(fifo) in _gamepad_status(listener), 10)
        listener.spin_for(1.5)  # a node still publishing would be heard by now
        late = listener.stamped_after(OUT, t_cut + PUBLISH_STAMP_SLACK_S)
        assert late == [], f"{len(late)} Joy stamped after the unplug"
        os.mkfifo(fifo)  # plugged back in
        t_replug = time.time()
        writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        os.write(writer, recording.DEADMAN_DOWN + recording.STICK_UP)
        assert listener.spin_until(
            lambda: any(m.axes[1] == 1.0 for m in listener.stamped_after(OUT, t_replug)), 10
        ), "no Joy after the pad came back"
    finally:
        if writer >= 0:
            os.close(writer)
        code, output = stop_node(node)
    assert code == 0, output
    assert "end of input stream (device gone); publishing nothing until it is back" in output


def test_unplugged_pad_publishes_nothing_and_names_the_device(listener: Listener) -> None:
    """With the configured pad absent the node stays up, silent, reporting the path."""
    node = start_node("gamepad_node", {"device": "/dev/input/event999", "preset": "generic"})
    try:
        assert listener.spin_until(lambda: "event999" in _gamepad_status(listener), 10)
        assert listener.messages[OUT] == []
    finally:
        code, output = stop_node(node)
    assert code == 0, output


def test_joy_relay_applies_dead_zone_and_passes_buttons(listener: Listener) -> None:
    """Joy from the joy node is relayed with the dead zone; with LB (4) released the axes are
    still relayed as the operator moves them (the pipeline, not the pad, holds)."""
    from sensor_msgs.msg import Joy

    node = start_node("gamepad_node", {"source": "joy", "joy_topic": "/test_joy", "deadzone": 0.1})
    publisher = listener.node.create_publisher(Joy, "/test_joy", 10)
    try:
        held = Joy(axes=[0.05, 1.0, -0.55], buttons=[0, 0, 0, 0, 1])
        timer = listener.node.create_timer(0.02, lambda: publisher.publish(held))
        assert listener.spin_until(lambda: len(listener.messages[OUT]) > 3, 15)
        assert list(listener.messages[OUT][-1][1].axes) == pytest.approx([0.0, 1.0, -0.5])
        held.buttons = [0, 0, 0, 0, 0]
        assert listener.spin_until(
            lambda: list(listener.messages[OUT][-1][1].buttons) == [0, 0, 0, 0, 0], 5
        )
        assert list(listener.messages[OUT][-1][1].axes) == pytest.approx([0.0, 1.0, -0.5])
        timer.cancel()
        # The node stops 0.5 s (stale_after_s) after the last /joy; the rest is margin for a
        # node or listener that a busy host stalls for a few hundred ms.
        listener.spin_for(2.0)
        listener.clear()
        listener.spin_for(0.5)
        assert listener.messages[OUT] == [], "stale /joy must not be republished"
    finally:
        code, output = stop_node(node)
    assert code == 0, output


def test_auto_discovery_without_pads_reports_and_waits(listener: Listener) -> None:
    """device auto with no pad plugged in reports 'no gamepad found' and publishes nothing."""
    node = start_node("gamepad_node", {"device": "auto", "preset": "auto"})
    try:
        assert listener.spin_until(lambda: "no gamepad found" in _gamepad_status(listener), 10)
        assert listener.messages[OUT] == []
    finally:
        code, output = stop_node(node)
    assert code == 0, output


def _gamepad_values(listener: Listener) -> dict[str, str]:
    for _, array in reversed(listener.messages["/diagnostics"]):
        for status in array.status:
            if status.name == "gamepad":
                return {kv.key: kv.value for kv in status.values}
    return {}


def test_joy_relay_rejects_nan_and_future_stamps_in_few_lines(listener: Listener) -> None:
    """NaN axes and far-future stamps alternating at 50 Hz for 3 s are not relayed, are
    counted on /diagnostics and logged at most once a second per reason; good Joy still is."""
    import math

    from sensor_msgs.msg import Joy

    node = start_node("gamepad_node", {"source": "joy", "joy_topic": "/test_joy"})
    publisher = listener.node.create_publisher(Joy, "/test_joy", 10)
    sent = {"n": 0}

    def publish_bad() -> None:
        msg = Joy(axes=[0.5, 0.0], buttons=[0])
        msg.header.stamp = listener.node.get_clock().now().to_msg()
        if sent["n"] % 2:
            msg.axes = [math.nan, 0.0]
        else:
            msg.header.stamp.sec += 1_000_000
        publisher.publish(msg)
        sent["n"] += 1

    try:
        timer = listener.node.create_timer(0.02, publish_bad)
        assert listener.spin_until(
            lambda: (
                int(_gamepad_values(listener).get("rejected future stamp", "0 ").split()[0]) > 0
            ),
            15,
        )
        listener.spin_for(3.0)
        timer.cancel()
        values = _gamepad_values(listener)
        assert int(values["rejected non-finite"].split()[0]) > 50
        assert "axis 0" in values["rejected non-finite"]
        assert listener.messages[OUT] == [], "a rejected Joy was relayed"
        good = Joy(axes=[0.5, 0.0], buttons=[0])
        timer = listener.node.create_timer(0.02, lambda: publisher.publish(good))
        assert listener.spin_until(lambda: len(listener.messages[OUT]) > 3, 10)
        timer.cancel()
    finally:
        code, output = stop_node(node)
    assert code == 0, output
    lines = [line for line in output.splitlines() if "rejected /test_joy" in line]
    assert 2 <= len(lines) <= 2 * 8, lines  # ~5 s of bad input, 2 reasons, + startup slack
    assert all("since the last line" in line for line in lines)


def test_a_joy_dead_man_parameter_is_a_one_line_start_up_error() -> None:
    """joy_deadman_button (the pad's old second dead man) stops the node at start-up with one
    line naming the parameter and where the dead man lives, exit 2, no traceback."""
    node = start_node("gamepad_node", {"source": "joy", "joy_deadman_button": 4})
    try:
        code = node.wait(timeout=30)
    finally:
        _, output = stop_node(node)
    assert code == 2, output
    assert "parameter 'joy_deadman_button' (4) is gone" in output
    assert "buttons.deadman" in output and "Traceback" not in output


def test_an_unknown_source_is_one_line_naming_the_node_once() -> None:
    """source:=bogus stops the node with one line, `gamepad_node: parameter 'source' ...`
    (the node's name once), exit 2, no traceback."""
    node = start_node("gamepad_node", {"source": "bogus"})
    try:
        code = node.wait(timeout=30)
    finally:
        _, output = stop_node(node)
    assert code == 2, output
    lines = [line for line in output.splitlines() if "parameter 'source'" in line]
    assert lines == ["gamepad_node: parameter 'source' is 'bogus'; allowed: evdev, joy"], output
    assert "Traceback" not in output
