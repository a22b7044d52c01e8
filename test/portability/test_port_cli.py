"""`humanoid-teleop port`: JSON output, and bad input as one line, exit 2, nothing left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from humanoid_teleop.core.bag.reader import bag_content_hash, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.writer import EpisodeOutput
from test.portability.conftest import PAIR, copy_without


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "port", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_json_lists_each_ported_episode_with_its_report(
    sources: list[Path], tmp_path: Path
) -> None:
    """--no-sim --json prints one object: the target and per episode its path and report."""
    done = _cli(str(sources[0]), "--to", PAIR[2], "-o", str(tmp_path), "--no-sim", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["target"] == PAIR[2]
    (episode,) = result["episodes"]
    assert read_bag(Path(episode["path"])).metadata.custom_data["robot"] == PAIR[2]
    assert 0.0 <= episode["reachability_pct"] <= 100.0 and episode["sim"] is False


def test_missing_episode_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A path that is no episode: one error line naming it, exit 2, no traceback."""
    done = _cli(str(tmp_path / "nothing"), "--to", "g1", "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "nothing") in lines[0], done.stderr


def test_unknown_target_robot_is_one_line_and_exit_2(sources: list[Path], tmp_path: Path) -> None:
    """An unknown --to robot: one error line naming it, exit 2."""
    done = _cli(str(sources[0]), "--to", "no_such_robot", "-o", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no_such_robot" in done.stderr


def test_undecodable_joint_state_names_the_topic_and_leaves_no_episode(tmp_path: Path) -> None:
    """A joint state that does not decode: one line naming file and topic, exit 2, the source
    unchanged and no (partial) episode written."""
    output = EpisodeOutput(tmp_path / "src", "broken", EpisodeInfo(robot="g1"), START_NS)
    output.topic("/joint_states", "sensor_msgs/msg/JointState")
    output.raw("/joint_states", START_NS + 1000, b"\x00\x01\x00\x00garbage")
    source = output.close(None, START_NS + 2000)
    before = bag_content_hash(source)
    done = _cli(str(source), "--to", "g1", "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "/joint_states" in done.stderr, done.stderr
    assert str(source) in done.stderr
    assert bag_content_hash(source) == before
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_malformed_scene_seed_names_the_key_and_leaves_no_episode(
    sources: list[Path], tmp_path: Path
) -> None:
    """A scene seed in metadata that is no integer: one line naming the file and the key,
    exit 2, no episode written (it was read as seed 0 before)."""
    source = copy_without(
        sources[0], tmp_path / "src", lambda _topic: False, {"scene_seed": "seven"}
    )
    done = _cli(str(source), "--to", PAIR[1], "-o", str(tmp_path / "out"), "--no-sim")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1, done.stderr
    assert str(source) in done.stderr and "custom.scene_seed: 'seven'" in done.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _ported_hashes(output: Path) -> dict[str, str]:
    return {p.name: bag_content_hash(p) for p in sorted(output.iterdir())}


def test_workers_and_ray_port_the_same_episodes_as_one_process(
    sources: list[Path], tmp_path: Path
) -> None:
    """--workers 2 (local processes) and --ray local write the same episodes, message for
    message, as one process, and --json lists them in the order given."""
    outputs = {
        "one": ["--workers", "1"],
        "pool": ["--workers", "2"],
        "ray": ["--ray", "local", "--workers", "2"],
    }
    listed = {}
    for name, extra in outputs.items():
        done = _cli(*map(str, sources[:2]), "--to", PAIR[2], "-o", str(tmp_path / name),
                    "--no-sim", "--json", *extra)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        listed[name] = [Path(e["path"]).name for e in json.loads(done.stdout)["episodes"]]
    expected = _ported_hashes(tmp_path / "one")
    assert len(expected) == 2
    assert _ported_hashes(tmp_path / "pool") == expected
    assert _ported_hashes(tmp_path / "ray") == expected
    assert (
        listed["one"]
        == listed["pool"]
        == listed["ray"]
        == [f"{s.name}_to_{PAIR[2]}" for s in sources[:2]]
    )


def test_bad_workers_count_is_a_usage_error_and_nothing_is_written(
    sources: list[Path], tmp_path: Path
) -> None:
    """--workers 0: argparse's usage and an error line naming the option, exit 2, nothing
    written."""
    done = _cli(str(sources[0]), "--to", PAIR[2], "-o", str(tmp_path / "out"), "--workers", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("error: argument --workers: 0 must be > 0")
    assert not (tmp_path / "out").exists()
