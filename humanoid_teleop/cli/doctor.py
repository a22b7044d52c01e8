"""``humanoid-teleop doctor``: is this machine ready to teleoperate and record?

Checks the Python libraries, where rclpy comes from, that the shipped files (robots,
profiles, presets, ...) are found and from which share directory, the network isolation, and
runs a real DDS publish/subscribe round trip between two nodes in this process.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from humanoid_teleop.cli.options import positive_float
from humanoid_teleop.isolation.netns import INSIDE_ENV, is_isolated


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check libraries, network isolation and a DDS round trip"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        help="DDS round-trip timeout [s] (default 10)",
    )
    parser.set_defaults(func=_run)


def _library(module: str, attr: str = "__version__") -> Check:
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        return Check(module, False, f"not importable: {err}")
    return Check(module, True, str(getattr(mod, attr, "installed")))


def _rclpy_source() -> Check:
    try:
        import rclpy
    except ImportError as err:
        return Check("rclpy", False, f"not importable ({err}); run `make setup`")
    distro = os.environ.get("ROS_DISTRO")
    origin = f"sourced ROS 2 {distro}" if distro else "PyPI wheels (ROS 2 Kilted)"
    return Check("rclpy", True, f"{origin}: {Path(rclpy.__file__).parent}")


def _shipped_files() -> Check:
    """Every kind of shipped file (robots, profiles, presets, ...) is found, and from where."""
    from humanoid_teleop.core.resources import KINDS, share_roots

    roots = ", ".join(f"{r.path} ({r.origin})" for r in share_roots() if r.path.is_dir())
    missing = [kind.label for kind in KINDS if not kind.names()]
    if missing:
        return Check(
            "shipped files",
            False,
            f"none found for: {', '.join(missing)}; share directories: {roots or 'none'} "
            "(README: Where shipped files are found)",
        )
    return Check("shipped files", True, roots)


def _isolation() -> Check:
    if is_isolated():
        return Check("network isolation", True, "only loopback in this namespace")
    marker = "inside wrapper" if os.environ.get(INSIDE_ENV) else "not isolated"
    return Check(
        "network isolation",
        False,
        f"{marker}: run `humanoid-teleop isolated -- humanoid-teleop doctor`",
    )


def _dds_round_trip(timeout_s: float) -> Check:
    """Publish on a fresh topic from one node and receive it on another, over DDS."""
    try:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.utilities import get_rmw_implementation_identifier
        from std_msgs.msg import String
    except ImportError as err:
        return Check("dds round trip", False, f"rclpy unavailable: {err}")
    topic = f"/humanoid_teleop/doctor_{uuid.uuid4().hex[:8]}"
    context = rclpy.Context()
    rclpy.init(context=context)
    received: list[float] = []
    try:
        talker = rclpy.create_node("doctor_talker", context=context)
        listener = rclpy.create_node("doctor_listener", context=context)
        pub = talker.create_publisher(String, topic, 10)
        listener.create_subscription(
            String, topic, lambda _m: received.append(time.monotonic()), 10
        )
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(talker)
        executor.add_node(listener)
        start = time.monotonic()
        rmw = get_rmw_implementation_identifier()
        while not received and time.monotonic() - start < timeout_s:
            pub.publish(String(data="ping"))
            executor.spin_once(timeout_sec=0.05)
        elapsed = time.monotonic() - start
        executor.shutdown()
        talker.destroy_node()
        listener.destroy_node()
    finally:
        rclpy.shutdown(context=context)
        context.destroy()  # the DDS participant goes now, not whenever the GC gets to it
    if not received:
        return Check("dds round trip", False, f"nothing received on {topic} in {timeout_s:.0f} s")
    return Check("dds round trip", True, f"{rmw}: first message after {elapsed * 1e3:.0f} ms")


def _run(args: argparse.Namespace) -> int:
    checks = [
        _library("numpy"),
        _library("yaml"),
        _library("cv2"),
        _library("pinocchio"),
        _library("mcap"),
        _library("mcap_ros2", "__version__"),
        _rclpy_source(),
        _shipped_files(),
        _isolation(),
    ]
    checks.append(_dds_round_trip(args.timeout))
    ok = all(check.ok for check in checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name:<{width}}  {check.detail}")
        print("all checks passed" if ok else "some checks failed")
    return 0 if ok else 1
