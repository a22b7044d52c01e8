"""A non-editable install works with the source tree out of reach (colcon / distro layout).

The package is built into a wheel and installed into a temporary prefix, which gives the
layout of a plain ``colcon build`` or a distro package: code in
``<prefix>/lib/pythonX.Y/site-packages``, shipped files in ``<prefix>/share/humanoid_teleop``,
the ament index marker in ``<prefix>/share/ament_index/resource_index/packages``. Every child
process then runs from a temporary directory with ``PYTHONPATH`` = that site-packages and
``AMENT_PREFIX_PATH`` = the prefix (what sourcing ``install/setup.bash`` sets); the source
tree is on no path, and this interpreter's ``sys.prefix`` has no ``share/humanoid_teleop``,
so a lookup relative to the code (``__file__``) or to ``sys.prefix`` finds nothing. The
install is made once per module (~15 s: wheel, prefix, numba's kernels for the installed
copy); the module takes ~50 s on an idle 2-core host (`port matrix` of G1 and Alex pushes,
a port of the G1 push to Alex, checked and exported: ~20 s of it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.reader import BagSummary, read_bag
from humanoid_teleop.core.resources import KINDS, SHARE_ENV, ResourceKind
from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.core.robot.locate import ROBOTS_PATH_ENV

from ..conftest import REPO

pytestmark = [pytest.mark.ros, pytest.mark.slow]

PROBE = Path(__file__).with_name("startup_probe.py")
ENGAGE_TIMEOUT_S = 120.0
"""Longest wait for the bringup's teleop node to engage [s] (start-up on a busy host)."""
ENGAGED_S = 3.0
"""How long the session runs engaged before Ctrl-C [s]."""
STOP_TIMEOUT_S = 60.0
"""Longest wait for the session to stop after Ctrl-C [s]."""
# Top-level folders of the checkout the build does not need (copied: everything else).
NOT_BUILT = {".git", ".venv", "test", "bench", "docs", "bags", "build", "install", "log"}
# Each node start-up that loads a shipped file: (name, "module:Class", ROS parameters).
STARTUPS: list[tuple[str, str, dict[str, str]]] = [
    *(
        (
            f"teleop_node device={device} (robot g1, teleop profile {device})",
            "humanoid_teleop.nodes.teleop_node:TeleopNode",
            {"robot": "g1", "device": device},
        )
        for device in ("vr", "gamepad", "exo", "replay")
    ),
    (
        "gamepad_node preset=xbox (gamepad preset)",
        "humanoid_teleop.nodes.gamepad_node:GamepadNode",
        {"preset": "xbox"},
    ),
    (
        "exo_node config=gello_7dof (leader-arm config)",
        "humanoid_teleop.nodes.exo_node:ExoNode",
        {"config": "gello_7dof"},
    ),
    (
        "recorder_node robot=g1 (default recording profile, robot)",
        "humanoid_teleop.nodes.recorder_node:RecorderNode",
        {"robot": "g1", "bag_dir": "bags"},
    ),
    (
        "recorder_node profile=station (recording profile by name)",
        "humanoid_teleop.nodes.recorder_node:RecorderNode",
        {"profile": "station", "bag_dir": "bags"},
    ),
    (
        "sim_robot_node robot=g1 (robot)",
        "humanoid_teleop.nodes.sim_robot_node:SimRobotNode",
        {"robot": "g1"},
    ),
    (
        "sim_robot_node scene=pick_and_place (sim scene)",
        "humanoid_teleop.nodes.sim_robot_node:SimRobotNode",
        {"robot": "g1", "scene": "pick_and_place"},
    ),
    (
        "replay_node (shipped motion clip)",
        "humanoid_teleop.nodes.replay_node:ReplayNode",
        {},
    ),
]


@dataclass(frozen=True)
class Install:
    """A wheel installed into ``prefix``, and how to run Python from it."""

    prefix: Path
    site_packages: Path
    env: dict[str, str]
    cwd: Path

    @property
    def share(self) -> Path:
        return self.prefix / "share" / "humanoid_teleop"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``python *args`` from the installed prefix (source tree on no path)."""
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _skip_in_source_dirs(directory: str, names: list[str]) -> set[str]:
    """copytree filter: build output, caches and the top-level folders the build ignores."""
    skipped = {n for n in names if n in ("__pycache__", "node_modules") or n.endswith(".egg-info")}
    if Path(directory) == REPO:
        skipped |= {n for n in names if n in NOT_BUILT}
    return skipped


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "--no-index", "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """Build a wheel from a copy of the checkout and install it into a temporary prefix."""
    if (Path(sys.prefix) / "share" / "humanoid_teleop").exists():
        pytest.skip(
            f"{sys.prefix}/share/humanoid_teleop exists (a non-editable install in this venv), "
            "so a lookup through sys.prefix would pass unnoticed; run with an editable install"
        )
    root = tmp_path_factory.mktemp("install")
    # A copy: building in the checkout would leave build/ and an .egg-info that shadows the
    # editable install's metadata.
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_skip_in_source_dirs, symlinks=True)
    _pip("wheel", "--no-build-isolation", "-w", str(root / "wheel"), str(source), cwd=root)
    wheel = next((root / "wheel").glob("humanoid_teleop-*.whl"))
    prefix = root / "prefix"
    # --ignore-installed: without it pip uninstalls the venv's editable install (same name),
    # which every other test and helper in this venv then misses.
    _pip("install", "--prefix", str(prefix), "--ignore-installed", str(wheel), cwd=root)
    shutil.rmtree(source)
    site_packages = next(prefix.glob("lib/python*/site-packages"))
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", SHARE_ENV, ROBOTS_PATH_ENV)
    }
    # A sourced distro's PYTHONPATH stays (its rclpy), after the prefix; the checkout does not.
    kept = [
        entry
        for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
        if entry and not Path(entry).resolve().is_relative_to(REPO)
    ]
    env["PYTHONPATH"] = os.pathsep.join([str(site_packages), *kept])
    ament = [str(prefix), *filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep))]
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(ament)
    cwd = root / "cwd"
    cwd.mkdir()
    install = Install(prefix, site_packages, env, cwd)
    # numba caches kernels beside their source: compile the installed copy's once, up front.
    compiled = install.run("-c", "from humanoid_teleop.core.compiled import compile_all as c; c()")
    assert compiled.returncode == 0, compiled.stderr
    return install


@pytest.fixture(scope="module")
def probe(installed: Install) -> list[dict[str, Any]]:
    """The start-up probe's JSON lines, run once from the installed prefix."""
    result = installed.run(str(PROBE), json.dumps(STARTUPS), timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@dataclass(frozen=True)
class Session:
    """A short `bringup --device replay` run from the installed prefix."""

    returncode: int
    output: str
    bag: Path | None

    @property
    def log(self) -> str:
        return self.output[-4000:]


@pytest.fixture(scope="module")
def session(installed: Install) -> Session:
    """`humanoid-teleop bringup` with the replayed clip, engaged, recording one episode.

    Stopped with Ctrl-C (SIGINT) once the teleop node has been engaged for ENGAGED_S, so a
    slow start on a busy host shortens nothing that is checked.
    """
    bag_dir = installed.cwd / "session_bags"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "humanoid_teleop.cli.main", "bringup", "--robot", "g1",
            "--device", "replay", "--engage", "--start-episode", "--bag-dir", str(bag_dir),
        ],
        cwd=installed.cwd, env=installed.env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    engaged = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("[teleop]") and line.rstrip().endswith("engaged"):
                engaged.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if engaged.wait(ENGAGE_TIMEOUT_S):
        time.sleep(ENGAGED_S)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    bags = sorted(bag_dir.glob("episode_*")) if bag_dir.is_dir() else []
    return Session(process.returncode, "".join(lines), bags[-1] if bags else None)


@dataclass(frozen=True)
class PortRun:
    """`port matrix` of G1 and Alex pushes from the install, and `port --to alex` of its G1
    source (physics)."""

    matrix: subprocess.CompletedProcess[str]
    source: Path
    output: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def port_run(installed: Install) -> PortRun:
    """The data engineer's commands from the install: both robots' models and meshes, the
    scene and each robot's physics.yaml are looked up under the prefix's share/."""
    folder = installed.cwd / "matrix"
    matrix = installed.run(
        "-m", "humanoid_teleop.cli.main", "port", "matrix", "--robots", "g1", "alex",
        "--tasks", "push", "--episodes", "1", "--workers", "2", "-o", str(folder), "--json",
        timeout=600,
    )  # fmt: skip
    source = folder / "sources" / "scripted_g1_push_0001"
    output = installed.cwd / "ported"
    result = installed.run(
        "-m", "humanoid_teleop.cli.main", "port", str(source), "--to", "alex",
        "-o", str(output), "--json", timeout=600,
    )  # fmt: skip
    return PortRun(matrix, source, output, result)


def _files(folder: Path) -> list[str]:
    """Files below ``folder`` (relative), without bytecode caches."""
    files = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return sorted(str(f) for f in files if "__pycache__" not in f.parts)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.folder)
def test_install_puts_every_shipped_file_under_share(
    installed: Install, kind: ResourceKind
) -> None:
    """Each kind's folder is installed under share/humanoid_teleop with all its files."""
    shipped = _files(REPO / kind.folder)
    assert shipped
    assert _files(installed.share / kind.folder) == shipped


def test_install_leaves_this_venvs_own_install_alone(installed: Install) -> None:
    """After the prefix install, this interpreter still has its humanoid_teleop and plugins."""
    code = (
        "from importlib.metadata import entry_points; import humanoid_teleop; "
        "print(humanoid_teleop.__file__); "
        "print(sorted(e.name for e in entry_points(group='humanoid_teleop.retargeters')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=installed.cwd, env=env, capture_output=True, text=True
    )
    package, plugins = result.stdout.splitlines()
    assert Path(package).is_relative_to(REPO)
    assert "arm_ik" in plugins and "joystick" in plugins


def test_install_registers_the_package_in_the_ament_index(installed: Install) -> None:
    """The ament index marker, package.xml and the launch files are installed as colcon does."""
    marker = installed.prefix / "share/ament_index/resource_index/packages/humanoid_teleop"
    assert marker.is_file()
    assert (installed.share / "package.xml").is_file()
    assert _files(installed.share / "launch") == _files(REPO / "launch")


def test_code_is_imported_from_the_prefix_not_the_source_tree(
    installed: Install, probe: list[dict[str, Any]]
) -> None:
    """humanoid_teleop comes from the prefix and the only share directory is the ament one."""
    assert Path(probe[0]["package"]).is_relative_to(installed.site_packages)
    assert probe[0]["roots"] == [str(installed.share)]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.folder)
def test_every_shipped_file_resolves_inside_the_prefix(
    installed: Install, probe: list[dict[str, Any]], kind: ResourceKind
) -> None:
    """From the install, each kind lists its shipped names and finds them under share/."""
    files = [Path(f) for f in probe[0]["files"][kind.folder]]
    assert files, kind.label
    assert all(f.is_relative_to(installed.share / kind.folder) for f in files), files


@pytest.mark.parametrize("startup", [s[0] for s in STARTUPS])
def test_node_starts_from_the_install(probe: list[dict[str, Any]], startup: str) -> None:
    """The node's start-up finds its shipped files (profile, preset, config, robot, clip)."""
    errors = {line["startup"]: line["error"] for line in probe[1:]}
    assert errors.get(startup) == "", errors.get(startup, "probe did not reach this start-up")


def test_export_quality_rules_load_from_the_install(installed: Install) -> None:
    """`export lerobot`'s default QC rules are the installed config/export/qc.yaml."""
    code = "from humanoid_teleop.export.qc import QcRules; print(QcRules.load().source)"
    result = installed.run("-c", code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Path(result.stdout.strip()) == installed.share / "config" / "export" / "qc.yaml"


def test_doctor_reports_the_installed_share_directory(installed: Install) -> None:
    """`humanoid-teleop doctor` from the install finds every shipped kind under its share/."""
    result = installed.run("-m", "humanoid_teleop.cli.main", "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["shipped files"] == {
        "name": "shipped files",
        "ok": True,
        "detail": f"{installed.share} (ament index)",
    }


def test_bringup_replay_session_ends_cleanly(session: Session) -> None:
    """A short replay session from the install engages, and Ctrl-C ends it with exit code 0."""
    assert session.returncode == 0, session.log
    assert "session ended (stopped)" in session.output, session.log


def test_bringup_replay_session_records_commands(session: Session) -> None:
    """The installed session's episode holds the teleop commands of both arms."""
    assert session.bag is not None, session.log
    summary: BagSummary = read_bag(session.bag)
    description = load_robot("g1")
    topics = [description.interfaces[arm.group].topic for arm in description.arms.values()]
    assert all(summary.counts.get(topic, 0) > 0 for topic in topics), summary.counts


def test_port_matrix_runs_from_the_install(port_run: PortRun) -> None:
    """`port matrix --robots g1 alex --tasks push --episodes 1`, from the install: both
    pushes recorded and each ported to both robots in physics, every port a success."""
    assert port_run.matrix.returncode == 0, port_run.matrix.stderr[-4000:]
    matrix = json.loads(port_run.matrix.stdout)
    assert [(s["robot"], s["outcome"]) for s in matrix["sources"]] == [
        ("g1", "success"), ("alex", "success"),
    ]  # fmt: skip
    assert [(p["source"], p["target"], p["transfer_ratio"]) for p in matrix["pairs"]] == [
        ("g1", "g1", 1.0), ("g1", "alex", 1.0), ("alex", "g1", 1.0), ("alex", "alex", 1.0),
    ]  # fmt: skip


def test_port_with_physics_runs_from_the_install(port_run: PortRun) -> None:
    """`port --to alex` of the matrix's G1 push, from the install: replayed in Alex's
    physics scene, the episode written with its report (the matrix's own for the pair),
    the push reproduced."""
    assert port_run.result.returncode == 0, port_run.result.stderr[-4000:]
    (report,) = json.loads(port_run.result.stdout)["episodes"]
    pair = next(p for p in json.loads(port_run.matrix.stdout)["pairs"] if p["target"] == "alex")
    assert (report["contact_p95_m"], report["free_p95_m"]) == (
        pair["contact_p95_m"], pair["free_p95_m"],
    )  # fmt: skip
    assert report["sim"] is True, report
    assert report["outcome"] == "success", report
    (episode,) = sorted(p for p in port_run.output.iterdir() if p.is_dir())
    summary = read_bag(episode)
    assert summary.counts.get("/sim/objects", 0) > 0, summary.counts


def test_ported_episode_checks_and_exports_from_the_install(
    installed: Install, port_run: PortRun
) -> None:
    """The installed `bag check` passes the ported episode and the installed `export lerobot`
    (its QC rules from share/) makes a dataset of it."""
    assert port_run.result.returncode == 0, port_run.result.stderr[-4000:]
    (episode,) = sorted(p for p in port_run.output.iterdir() if p.is_dir())
    checked = installed.run("-m", "humanoid_teleop.cli.main", "bag", "check", str(episode))
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    dataset = installed.cwd / "dataset"
    exported = installed.run(
        "-m", "humanoid_teleop.cli.main", "export", "lerobot", str(port_run.output),
        "-o", str(dataset), timeout=600,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stdout[-2000:] + exported.stderr[-2000:]
    assert (dataset / "meta" / "info.json").is_file()
