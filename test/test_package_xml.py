"""package.xml is a valid format-3 ament_python manifest that agrees with setup.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from humanoid_teleop import __version__

from .conftest import REPO

#: requirements/core.txt name -> rosdep key declared in package.xml.
PIP_TO_ROSDEP = {
    "numpy": "python3-numpy",
    "opencv-python-headless": "python3-opencv",
    "pyquaternion": "python3-pyquaternion-pip",
    "mcap": "python3-mcap-pip",
    "mcap-ros2-support": "python3-mcap-ros2-support-pip",
    "pyyaml": "python3-yaml",
    "pin": "pinocchio",
    "example-robot-data": "example-robot-data",
    "websockets": "python3-websockets",
    "cryptography": "python3-cryptography",
    "pyserial": "python3-serial",
    "dynamixel-sdk": "dynamixel_sdk",
    "numba": "python3-numba",
    "rosbags": "python3-rosbags-pip",
    "tqdm": "python3-tqdm",
    "zstandard": "python3-zstandard",
    "lz4": "python3-lz4",
    "mujoco": "python3-mujoco-pip",
    "trimesh": "python3-trimesh",
    "pycollada": "python3-collada",
    "fast-simplification": "python3-fast-simplification-pip",
    "pyarrow": "python3-pyarrow-pip",
    "av": "python3-av",
    "plotly": "python3-plotly",
}

REQUIRED_EXEC_DEPENDS = {
    "rclpy",
    "std_msgs",
    "std_srvs",
    "sensor_msgs",
    "geometry_msgs",
    "trajectory_msgs",
    "diagnostic_msgs",
    "pinocchio",
    "python3-numpy",
    "python3-yaml",
}


def _root() -> ET.Element:
    return ET.parse(REPO / "package.xml").getroot()


def test_package_xml_is_format_3_with_required_elements() -> None:
    """The manifest parses and has every element REP 149 requires, once."""
    root = _root()
    assert root.tag == "package"
    assert root.get("format") == "3"
    for tag in ("name", "version", "description", "maintainer", "license"):
        found = root.findall(tag)
        assert found, f"package.xml lacks <{tag}>"
        assert all((el.text or "").strip() for el in found), f"<{tag}> is empty"
    for tag in ("name", "version", "description"):
        assert len(root.findall(tag)) == 1, f"<{tag}> appears more than once"
    assert root.find("maintainer").get("email")  # type: ignore[union-attr]


def test_package_xml_declares_ament_python_and_runtime_dependencies() -> None:
    """Build type is ament_python and the rosdep keys of every runtime import are declared."""
    root = _root()
    assert root.findtext("export/build_type") == "ament_python"
    declared = {el.text for el in root.findall("exec_depend")}
    assert declared >= REQUIRED_EXEC_DEPENDS, REQUIRED_EXEC_DEPENDS - declared


def test_every_runtime_requirement_has_a_rosdep_key() -> None:
    """Each package in requirements/core.txt is declared in package.xml for rosdep."""
    lines = (REPO / "requirements" / "core.txt").read_text(encoding="utf-8").splitlines()
    names = [re.split(r"[<>=!~ ]", line)[0] for line in lines if line and not line.startswith("#")]
    unmapped = [name for name in names if name not in PIP_TO_ROSDEP]
    assert unmapped == [], f"add a rosdep key for {unmapped} to PIP_TO_ROSDEP and package.xml"
    declared = {el.text for el in _root().findall("exec_depend")}
    missing = sorted(PIP_TO_ROSDEP[name] for name in names if PIP_TO_ROSDEP[name] not in declared)
    assert missing == []


def test_versions_agree() -> None:
    """package.xml, setup.py and humanoid_teleop.__version__ carry one version."""
    setup_py = (REPO / "setup.py").read_text(encoding="utf-8")
    setup_version = re.search(r'version="([^"]+)"', setup_py)
    assert setup_version is not None
    assert _root().findtext("name") == "humanoid_teleop"
    assert _root().findtext("version") == __version__ == setup_version.group(1)


def test_ament_marker_and_setup_cfg_exist() -> None:
    """colcon needs resource/<pkg> and setup.cfg's script dir to find our executables."""
    assert (REPO / "resource" / "humanoid_teleop").is_file()
    assert "lib/humanoid_teleop" in (REPO / "setup.cfg").read_text(encoding="utf-8")
