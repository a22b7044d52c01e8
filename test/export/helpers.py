"""Helpers of the export tests: recording episodes, the lerobot venv, running the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanoid_teleop.core.bag.reader import read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.robot import robot_model_hash
from humanoid_teleop.export.layout import driven_groups
from humanoid_teleop.export.shard import robot_model
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.writer import (
    IMAGE,
    JOINT_STATE,
    EpisodeOutput,
    RobotEpisode,
)
from test.side_venvs import side_venv

REPO = Path(__file__).resolve().parents[2]
LOAD_SCRIPT = Path(__file__).with_name("lerobot_load.py")
RECORDINGS = (("g1", 4.0), ("talos", 4.0), ("g1", 2.0))
"""(robot, episode length [s]) of the recorded episodes, in this order."""
LENIENT_QC = (
    "schema_version: 1\nmax_loss_ratio: 1.0\nmax_sync_skew_ms: 1000000.0\n"
    "max_missing_image_ratio: 1.0\nmax_saturated_ratio: 1.0\nmax_estops: 1000\n"
)
"""Rules no recorded demo fails, for tests of everything but the gates: on a loaded 2-core
host the simulated session's streams can stall for seconds, which the shipped rules reject."""


OFFLINE_RATE_HZ = 30
"""Rate [Hz] of every stream of :func:`write_offline_episode` (the export's default fps)."""
OFFLINE_DURATION_S = 2.0
"""Length [s] of :func:`write_offline_episode`: whole periods of its 0.5 Hz motion, so no
end is idle (idle frames would be trimmed)."""


def write_offline_episode(
    bag_dir: Path, robot: str, name: str, *, commands: bool, images: bool = True
) -> Path:
    """Write an episode with the offline episode writer (as ``port`` and the scripted sources
    do): joint states swinging 0.05 rad around home on the driven joints and, with ``images``,
    small camera images at :data:`OFFLINE_RATE_HZ` (without: no camera topic, as a kinematic
    port writes), plus, with ``commands``, each group's command through its robot.yaml
    interface (:class:`RobotEpisode`); without, no command topic at all (what the writer wrote
    for TALOS before its trajectory interfaces were written). Returns the episode folder."""
    model = robot_model(robot)
    description = model.description
    info = EpisodeInfo(
        task="wave", operator="test", robot=robot, robot_model_hash=robot_model_hash(description),
        device="scripted", station="offline",
    )  # fmt: skip
    output = EpisodeOutput(bag_dir, name, info, START_NS)
    camera = description.sensors.cameras[0]
    writer = None
    if commands:
        writer = RobotEpisode(output, model, ("right",), None, 1.0 / OFFLINE_RATE_HZ)
        if images:
            writer.cameras()
    else:
        output.topic(description.sensors.joint_state_topic, JOINT_STATE)
        if images:
            output.topic(camera.topic, IMAGE)
    moving = np.zeros(len(model.joint_names))
    for group in driven_groups(model):
        moving[model.group_indices(group)] = 1.0
    steps = round(OFFLINE_DURATION_S * OFFLINE_RATE_HZ)
    t_ns = START_NS
    for k in range(steps + 1):
        t_s = k / OFFLINE_RATE_HZ
        t_ns = START_NS + round(t_s * 1e9)
        q = model.home_positions() + 0.05 * moving * np.sin(np.pi * t_s)
        rgb = np.full((48, 64, 3), (4 * k) % 256, dtype=np.uint8)
        output.joint_state(description.sensors.joint_state_topic, t_ns, model.joint_names, q)
        if images:
            output.image(camera.topic, t_ns, camera.frame_id, rgb)
        if writer is not None:
            writer.command(t_ns, {g: q[model.group_indices(g)] for g in description.interfaces})
    return output.close("success", t_ns)


@dataclass(frozen=True)
class Episode:
    robot: str
    duration_s: float
    path: Path


def record(
    robot: str,
    duration_s: float,
    bag_dir: Path,
    attempts: int = 2,
    device: str = "replay",
    require_success: bool = False,
) -> Path:
    """Record one episode with ``humanoid-teleop demo`` driven by ``device`` (the CMU clip
    replay by default, ``scripted`` for the pick-and-place demonstrator); its bag folder.

    The recording is this module's test input, not what it tests (test/session does), so a
    demo that fails on a host too loaded to start the session in time is run once more; with
    ``require_success`` so is one whose outcome is not success (the scripted demonstrator
    succeeds on every seed offline, but a DDS session on a stalled host is not
    bit-deterministic), the last one returned if none succeeds."""
    logs = []
    for attempt in range(attempts):
        folder = bag_dir / f"attempt_{attempt}"
        command = [
            sys.executable, "-m", "humanoid_teleop.cli.main", "demo", "--robot", robot,
            "--device", device, "--duration", str(duration_s), "--bag-dir", str(folder),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=240)
        printed = re.findall(r"^bag: (\S.*)$", result.stdout, flags=re.MULTILINE)
        if result.returncode == 0 and len(printed) == 1:
            bag = Path(printed[0])
            outcome = read_bag(bag).metadata.custom_data.get("outcome")
            if not require_success or outcome == "success" or attempt == attempts - 1:
                return bag
            logs.append(f"{bag}: outcome {outcome}")
            continue
        logs.append((result.stdout + result.stderr)[-2500:])
    raise AssertionError(f"demo --robot {robot} failed {attempts} times:\n" + "\n---\n".join(logs))


def lerobot_venv() -> Path | None:
    """The venv tools/setup_lerobot.sh made for the current requirements, or None."""
    return side_venv("lerobot-venv", "tools/setup_lerobot.sh")


@dataclass(frozen=True)
class Loaded:
    """What LeRobotDataset returned for every frame (see lerobot_load.py)."""

    meta: dict[str, object]
    arrays: dict[str, np.ndarray]


def load_with_lerobot(python: Path, dataset: Path, tmp_path: Path) -> Loaded:
    """Iterate ``dataset`` with lerobot's LeRobotDataset (PyAV backend, offline)."""
    out = tmp_path / f"{dataset.name}_loaded.npz"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["_ROS_WHEELS_BOOTSTRAP_COMPLETE"] = ""
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_HOME"] = str(tmp_path / "hf_home")
    result = subprocess.run(
        [str(python), str(LOAD_SCRIPT), str(dataset), str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    with np.load(out) as data:
        arrays = {k: data[k] for k in data.files if k != "meta"}
        meta = json.loads(str(data["meta"]))
    return Loaded(meta, arrays)


def run_export(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``humanoid-teleop export lerobot ARGS`` in a subprocess (as a user runs it)."""
    command = [sys.executable, "-m", "humanoid_teleop.cli.main", "export", "lerobot"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=600)
