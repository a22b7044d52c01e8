"""ament_python build for humanoid_teleop (works with colcon and plain pip)."""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "humanoid_teleop"
HERE = Path(__file__).resolve().parent


def _tree(folder: str) -> list[tuple[str, list[str]]]:
    """Every file below ``folder`` as data_files entries under share/<package>/<folder>."""
    entries: list[tuple[str, list[str]]] = []
    for root, _dirs, files in os.walk(HERE / folder):
        if not files or "__pycache__" in root:
            continue
        rel = Path(root).relative_to(HERE)
        entries.append(
            (str(Path("share") / PACKAGE / rel), [str(rel / name) for name in sorted(files)])
        )
    return entries


def _requirements(name: str) -> list[str]:
    lines = (HERE / "requirements" / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


NODES = {
    # executable name: module in humanoid_teleop.nodes with a main()
    "vr_bridge_node": "vr_bridge_node",
    "recorder_node": "recorder_node",
    "exo_node": "exo_node",
    "gamepad_node": "gamepad_node",
    "camera_node": "camera_node",
    "sim_robot_node": "sim_robot_node",
    "replay_node": "replay_node",
    "teleop_node": "teleop_node",
    "scripted_demo_node": "scripted_demo_node",
}

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    # Inside the package: only what its code serves (the WebXR page). Every file looked up by
    # humanoid_teleop.core.resources goes to share/humanoid_teleop/ (colcon's layout).
    package_data={PACKAGE: ["py.typed", "devices/webxr/page/*"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *_tree("launch"),
        *_tree("config"),
        *_tree("robots"),
        *_tree("data"),
    ],
    install_requires=_requirements("core.txt"),
    extras_require={"test": _requirements("test.txt"), "ray": ["ray>=2.9"]},
    python_requires=">=3.10",
    zip_safe=False,
    maintainer="humanoid_teleop maintainers",
    maintainer_email="maintainers@humanoid-teleop.invalid",
    description="Humanoid teleoperation and synchronized MCAP recording for ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "humanoid-teleop = humanoid_teleop.cli.main:main",
            *(f"{exe} = {PACKAGE}.nodes.{module}:main" for exe, module in NODES.items()),
        ],
        "humanoid_teleop.retargeters": [
            "arm_ik = humanoid_teleop.core.retarget.arm_ik:ArmIkRetargeter",
            "hand = humanoid_teleop.core.retarget.hand:HandRetargeter",
            "head = humanoid_teleop.core.retarget.head:HeadRetargeter",
            "joystick = humanoid_teleop.core.retarget.joystick:JoystickRetargeter",
            "joint_map = humanoid_teleop.core.retarget.joint_map:JointMapRetargeter",
        ],
    },
)
