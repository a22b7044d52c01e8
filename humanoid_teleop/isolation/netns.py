"""Private network namespaces for DDS: only loopback, LOCALHOST discovery.

``isolated_command(["pytest"])`` returns the argv that runs pytest in a fresh network
namespace (``unshare --net``) where only ``lo`` exists and is up, with
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``. Nothing started that way can send a packet
to any address but loopback.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from humanoid_teleop.core.errors import EnvironmentProblem

_LOG = logging.getLogger(__name__)

OPT_IN_ENV = "HUMANOID_TELEOP_SHARED_NETWORK"
"""Set to ``1`` to run without a namespace (LOCALHOST discovery only) where namespaces fail."""

INSIDE_ENV = "HUMANOID_TELEOP_ISOLATED"
"""Set to ``1`` in the environment of every process started inside the namespace."""

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ_SIZE = 40


class IsolationUnavailable(EnvironmentProblem):
    """No private network namespace can be made here and the user did not opt out."""


def network_interfaces() -> list[str]:
    """Names of the interfaces in this process's network namespace (netlink, not sysfs)."""
    return sorted(name for _index, name in socket.if_nameindex())


def _loopback_flags(sock: socket.socket) -> int:
    request = struct.pack("16sH", b"lo", 0).ljust(_IFREQ_SIZE, b"\0")
    return int(struct.unpack_from("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1])


def is_isolated() -> bool:
    """True when loopback is the only interface in this namespace and it is up."""
    if network_interfaces() != ["lo"]:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return bool(_loopback_flags(sock) & _IFF_UP)


def bring_loopback_up() -> None:
    """Set ``IFF_UP`` on ``lo`` (what ``ip link set lo up`` does), without needing iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = _loopback_flags(sock) | _IFF_UP
        update = struct.pack("16sH", b"lo", flags).ljust(_IFREQ_SIZE, b"\0")
        fcntl.ioctl(sock, _SIOCSIFFLAGS, update)


def isolated_env(base: Mapping[str, str]) -> dict[str, str]:
    """Environment for a DDS process: LOCALHOST discovery, no static peers, a log dir."""
    env = dict(base)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.pop("ROS_STATIC_PEERS", None)
    env.pop("ROS_LOCALHOST_ONLY", None)  # deprecated; conflicts with the range above
    if "HOME" not in env and "ROS_LOG_DIR" not in env:
        env["ROS_LOG_DIR"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "humanoid_teleop_ros_log")
    return env


def _unshare_prefix() -> list[str] | None:
    """The unshare invocation that works here (root, or an unprivileged user namespace)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ([unshare, "--net"], [unshare, "--net", "--map-root-user"]):
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return prefix
    return None


def isolated_command(command: Sequence[str]) -> list[str]:
    """The argv that runs ``command`` with only loopback networking.

    Already inside a loopback-only namespace, the command is returned as is. Where no
    namespace can be made, raises :class:`IsolationUnavailable` unless ``OPT_IN_ENV=1``,
    in which case the command runs in the shared network with LOCALHOST discovery only.
    """
    if not command:
        raise ValueError("isolated_command needs a command to run")
    if is_isolated():
        return list(command)
    prefix = _unshare_prefix()
    if prefix is not None:
        inside = [sys.executable, "-m", "humanoid_teleop.isolation", "--inside", "--"]
        return [*prefix, *inside, *command]
    if os.environ.get(OPT_IN_ENV) == "1":
        _LOG.warning(
            "no private network namespace; %s=1 so running in the shared network with "
            "ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST only",
            OPT_IN_ENV,
        )
        return list(command)
    raise IsolationUnavailable(
        "cannot create a private network namespace (`unshare --net` and "
        "`unshare --net --map-root-user` both failed: run as root or enable unprivileged "
        "user namespaces, e.g. sysctl kernel.unprivileged_userns_clone=1). DDS discovery must "
        f"not leave this machine. To run anyway with LOCALHOST discovery only, set {OPT_IN_ENV}=1."
    )
