"""Plugin discovery: built-ins, hard errors, and a third-party plugin installed with pip."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from humanoid_teleop.core.retarget.errors import PluginError
from humanoid_teleop.core.retarget.registry import available_retargeters, load_retargeter

BUILT_IN = {"arm_ik", "hand", "head", "joystick", "joint_map"}

PLUGIN_SOURCE = '''
"""A tiny third-party retargeter: holds its groups at the robot's home positions."""
from humanoid_teleop.core.motion.frame import Input
from humanoid_teleop.core.retarget.base import Retargeter


class HomeHold(Retargeter):
    name = "home_hold"
    inputs = frozenset({Input.HEAD})

    def step(self, frame, q):
        home = self.model.home_positions()
        return {g: home[self.model.group_indices(g)] for g in self.groups}
'''


def test_built_in_retargeters_are_registered() -> None:
    """The five built-in plugins are found through the entry-point group."""
    assert set(available_retargeters()) >= BUILT_IN


def test_missing_plugin_lists_available_names() -> None:
    """Asking for an unknown plugin is a hard error naming the installed ones."""
    with pytest.raises(PluginError, match=r"no retargeter plugin 'teleport'; available: .*arm_ik"):
        load_retargeter("teleport")


def test_every_built_in_loads_as_a_retargeter_class() -> None:
    """Each built-in entry point loads and declares the name it is registered under."""
    for name in BUILT_IN:
        assert load_retargeter(name).name == name


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _build_wheel(folder: Path) -> Path:
    """A pure-Python wheel of package ``acme_retarget`` with one entry point (no build tool)."""
    dist = "acme_retarget-0.1.dist-info"
    files = {
        "acme_retarget/__init__.py": PLUGIN_SOURCE.encode(),
        f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: acme-retarget\nVersion: 0.1\n",
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": b"[humanoid_teleop.retargeters]\n"
        b"home_hold = acme_retarget:HomeHold\n",
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{dist}/RECORD,,"]
    wheel = folder / "acme_retarget-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.mark.slow
def test_third_party_plugin_installed_with_pip_is_discovered(tmp_path: Path) -> None:
    """A plugin pip-installed into a folder is found and drives the group its profile names."""
    wheel = _build_wheel(tmp_path)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    profile = tmp_path / "acme.yaml"
    profile.write_text(
        "name: acme\ndevice: vr\nretargeters:\n  - {plugin: home_hold, groups: [left_arm]}\n"
    )
    code = (
        "import json\n"
        "from humanoid_teleop.core.retarget.registry import available_retargeters\n"
        "from humanoid_teleop.core.retarget.pipeline import TeleopPipeline\n"
        "from humanoid_teleop.core.robot import load_robot\n"
        f"p = TeleopPipeline.create(load_robot('g1'), profile={str(profile)!r})\n"
        "print(json.dumps({'names': list(available_retargeters()), 'groups': p.groups,\n"
        "                  'class': type(p.retargeters[0]).__module__}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert "home_hold" in found["names"] and set(found["names"]) >= BUILT_IN
    assert found["groups"] == ["left_arm"]
    assert found["class"] == "acme_retarget"


def _load_in_subprocess(tmp_path: Path, module: str, source: str, entry: str) -> str:
    """Put ``module`` (``source``) and a dist-info declaring ``entry`` ("name = module:Class")
    on a fresh interpreter's path, call ``load_retargeter(name)`` there; return its stderr."""
    (tmp_path / f"{module}.py").write_text(source)
    dist = tmp_path / f"{module}-0.1.dist-info"
    dist.mkdir()
    name = module.replace("_", "-")
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[humanoid_teleop.retargeters]\n{entry}\n")
    plugin = entry.split("=")[0].strip()
    code = (
        "from humanoid_teleop.core.retarget.registry import load_retargeter\n"
        f"load_retargeter({plugin!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    return result.stderr


def test_plugin_for_another_api_version_is_refused(tmp_path: Path) -> None:
    """A plugin declaring api_version 2 is rejected with both versions in the message."""
    stderr = _load_in_subprocess(
        tmp_path,
        "old_plugin",
        "from humanoid_teleop.core.retarget.base import Retargeter\n"
        "class Future(Retargeter):\n    api_version = 2\n    def step(self, f, q): return {}\n",
        "future = old_plugin:Future",
    )
    assert "written for API version 2; this humanoid_teleop provides version 1" in stderr


def test_plugin_that_fails_to_import_is_reported(tmp_path: Path) -> None:
    """A plugin whose module raises on import is a hard error naming it and the cause."""
    stderr = _load_in_subprocess(
        tmp_path, "broken_plugin", "import no_such_module_xyz\n", "broken = broken_plugin:Thing"
    )
    assert "'broken' (broken_plugin:Thing) failed to load: ModuleNotFoundError" in stderr
