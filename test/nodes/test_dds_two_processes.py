"""Real DDS works between two separate processes inside the isolated network."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

PEER = Path(__file__).with_name("dds_peer.py")


@pytest.mark.ros
def test_messages_cross_from_one_process_to_another() -> None:
    """A listener process receives, in order, all 20 messages a talker process published."""
    topic = f"/test_dds_{uuid.uuid4().hex[:8]}"
    listener = subprocess.Popen(
        [sys.executable, str(PEER), "listen", topic, "20", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The talker stays up (transient-local history) until the listener is done; killed then.
    talker = subprocess.Popen([sys.executable, str(PEER), "talk", topic, "20", "60"])
    try:
        out, err = listener.communicate(timeout=60)
    finally:
        talker.kill()
        talker.wait()
    assert listener.returncode == 0, f"listener got:\n{out}\nstderr:\n{err}"
    assert out.split("\n")[:2] == ["msg 0", "msg 1"]
