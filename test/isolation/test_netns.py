"""The isolated-network wrapper gives a loopback-only namespace or refuses clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from humanoid_teleop.isolation import netns

PROBE = (
    "import json, os\n"
    "from humanoid_teleop.isolation.netns import network_interfaces, is_isolated\n"
    "env = os.environ.get('ROS_AUTOMATIC_DISCOVERY_RANGE')\n"
    "print(json.dumps([network_interfaces(), is_isolated(), env]))\n"
)


def test_wrapped_command_sees_only_loopback_and_localhost_discovery() -> None:
    """A command run through the wrapper sees only `lo`, up, and LOCALHOST discovery."""
    result = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.isolation", "--", sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == '[["lo"], true, "LOCALHOST"]'


def test_isolated_env_sets_localhost_range_and_drops_static_peers() -> None:
    """The environment drops static peers and forces LOCALHOST discovery."""
    env = netns.isolated_env({"ROS_STATIC_PEERS": "10.0.0.2", "HOME": "/root"})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert "ROS_STATIC_PEERS" not in env


def test_isolated_env_gives_rclpy_a_log_dir_without_home() -> None:
    """rclpy needs HOME or ROS_LOG_DIR; without HOME the wrapper provides ROS_LOG_DIR."""
    env = netns.isolated_env({"PATH": "/usr/bin"})
    assert env["ROS_LOG_DIR"].endswith("humanoid_teleop_ros_log")


def test_empty_command_is_rejected() -> None:
    """Asking to isolate nothing is a programming error, not a silent no-op."""
    with pytest.raises(ValueError, match="needs a command"):
        netns.isolated_command([])


def _in_namespace_with_extra_interface(code: str, path: str) -> subprocess.CompletedProcess[str]:
    """Run python code in a nested namespace with a (down, unconnected) veth pair besides lo."""
    ip = shutil.which("ip")
    unshare = shutil.which("unshare")
    if ip is None or unshare is None:
        pytest.skip(
            "needs iproute2 `ip` and util-linux `unshare` to build a non-isolated namespace"
        )
    add_veth = f"{ip} link add htveth0 type veth peer name htveth1"
    script = f'{add_veth} && PATH={path} exec {sys.executable} -c "$0"'
    result = subprocess.run(
        [unshare, "--net", "sh", "-c", script, code],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != netns.OPT_IN_ENV},
    )
    refusals = ("Unknown device type", "Operation not permitted", "RTNETLINK")
    if any(text in result.stderr for text in refusals):
        pytest.skip(f"kernel refuses a veth pair here: {result.stderr.strip()}")
    return result


def test_refuses_with_clear_message_when_no_namespace_can_be_made(tmp_path: Path) -> None:
    """With other interfaces present and no `unshare` on PATH, the wrapper refuses."""
    code = (
        "from humanoid_teleop.isolation.netns import isolated_command\nisolated_command(['true'])\n"
    )
    result = _in_namespace_with_extra_interface(code, str(tmp_path))
    assert result.returncode != 0
    assert "IsolationUnavailable" in result.stderr
    assert netns.OPT_IN_ENV in result.stderr


def test_opt_in_runs_in_shared_network_with_localhost_only(tmp_path: Path) -> None:
    """With the explicit opt-in, the command runs unwrapped (LOCALHOST set by the caller)."""
    code = (
        "import os\n"
        f"os.environ['{netns.OPT_IN_ENV}'] = '1'\n"
        "from humanoid_teleop.isolation.netns import isolated_command\n"
        "print(isolated_command(['true']))\n"
    )
    result = _in_namespace_with_extra_interface(code, str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['true']"
    assert "LOCALHOST" in result.stderr
