"""`humanoid-teleop port`: JSON output, and bad input as one line, exit 2, nothing left."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.check import check_bag
from humanoid_teleop.core.bag.reader import bag_content_hash, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.portability.matrix import run_line
from humanoid_teleop.portability.report import PortReport
from humanoid_teleop.portability.resume import LOCK_NAME, hold_output
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.writer import EpisodeOutput
from test.cli.test_robots_integrator import example_robot_yaml
from test.conftest import MATRIX, REPO
from test.core.bag.test_disk_full import _can_mount
from test.portability.conftest import PAIR, copy_without, nan_wrist_copy


def _written(output: Path) -> list[str]:
    """What a run left in ``output`` but its lock file: episodes, ``.partial`` ones, ..."""
    return (
        sorted(p.name for p in output.iterdir() if p.name != LOCK_NAME) if output.exists() else []
    )


def _cli(*args: str, robots_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUMANOID_TELEOP_ROBOTS_PATH": str(robots_path)} if robots_path else None
    return subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "port", *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip


def test_the_integrator_walkthrough_robot_is_a_port_target(
    sources: list[Path], tmp_path: Path
) -> None:
    """robots/README.md's robot (a G1 without hands, added on HUMANOID_TELEOP_ROBOTS_PATH)
    takes a G1 push: its rigid hands' contact frames are its tool points, so its targets are
    within reach. Without them its wrist is sent where the Dex3 fingertips were, 16 cm
    further, out of reach, and the report's note says why."""
    example = example_robot_yaml()
    rigid = "{kind: none, fingertip_frames: {middle: %s_hand_contact}}"
    assert all(rigid % side in example for side in ("left", "right"))
    wrist = example.replace(rigid % "left", "{kind: none}").replace(rigid % "right", "{kind: none}")
    reports = {}
    for variant, text in (("contact", example), ("wrist", wrist)):
        robot = tmp_path / variant / "robots" / "my_g1"
        robot.mkdir(parents=True)
        (robot / "robot.yaml").write_text(text, encoding="utf-8")
        out = tmp_path / variant / "out"
        done = _cli(str(sources[0]), "--to", "my_g1", "-o", str(out), "--no-sim", "--json",
                    robots_path=robot.parent)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        (reports[variant],) = json.loads(done.stdout)["episodes"]
    assert reports["contact"]["reachability_pct"] >= 95.0, reports["contact"]
    assert reports["contact"]["free_p95_m"] <= 0.05, reports["contact"]
    assert reports["contact"]["notes"] == []
    assert reports["wrist"]["reachability_pct"] < 95.0, reports["wrist"]
    (note,) = reports["wrist"]["notes"]
    assert note.startswith(
        "my_g1's right hand names no fingertip_frames: its tool point is its EE frame "
        "right_wrist_yaw_link"
    ), note


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
    assert _written(tmp_path / "out") == []


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
    assert _written(tmp_path / "out") == []


def _ported_hashes(output: Path) -> dict[str, str]:
    return {p.name: bag_content_hash(p) for p in sorted(output.iterdir()) if p.is_dir()}


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


def test_an_episode_that_cannot_be_ported_is_one_line_and_the_others_are(
    sources: list[Path], tmp_path: Path
) -> None:
    """A bad episode between two good ones (its scene seed no integer): one line naming it,
    the other two ported, exit 2, and --json lists it under not_ported."""
    bad = copy_without(sources[0], tmp_path / "src", lambda _t: False, {"scene_seed": "seven"})
    out = tmp_path / "out"
    done = _cli(str(sources[1]), str(bad), str(sources[2]), "--to", PAIR[2], "-o", str(out),
                "--no-sim", "--json")  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"not ported: {bad}"), done.stderr
    result = json.loads(done.stdout)
    assert [Path(e["path"]).name for e in result["episodes"]] == [
        f"{s.name}_to_{PAIR[2]}" for s in (sources[1], sources[2])
    ]
    assert [f["source"] for f in result["not_ported"]] == [str(bad)]
    assert "custom.scene_seed" in result["not_ported"][0]["error"]
    (summary,) = result["summary"]  # the two ported episodes, without physics
    assert (summary["source_robot"], summary["target_robot"], summary["sim"]) == (
        PAIR[1],
        PAIR[2],
        False,
    )
    assert summary["episodes"] == 2 and summary["transfer_ratio"] is None
    assert _written(out) == [f"{s.name}_to_{PAIR[2]}" for s in (sources[1], sources[2])]


def test_a_run_of_several_episodes_ends_with_their_summary(
    sources: list[Path], tmp_path: Path
) -> None:
    """Ported as text, several episodes end with their summary against the targets: per
    source robot, the task, reachability, the episodes below each target, the EE p95s."""
    done = _cli(*map(str, sources[:2]), "--to", PAIR[2], "-o", str(tmp_path), "--no-sim")
    assert done.returncode == 0, done.stderr[-2000:]
    tail = done.stdout.strip().splitlines()[-6:]
    assert tail[0] == f"summary: 2 episodes {PAIR[1]} -> {PAIR[2]} (no physics)", tail
    assert tail[1] == "  task success: not simulated (--no-sim)"
    assert tail[2].startswith("  reachable (>= 95% of steps): 2 of 2; meeting every")
    assert tail[3].startswith("  episodes below target by: reachability 0, contact ")
    assert tail[4].startswith("  EE p95 (median / worst episode): contact ")
    assert tail[5] == f"2 of 2 episodes ported to {PAIR[2]} (0 kept from an earlier run)"


def test_a_source_wrist_with_a_nan_is_ported_without_it_and_the_report_says_so(
    sources: list[Path], tmp_path: Path
) -> None:
    """A source whose intent wrist holds a NaN in one message: ported, exit 0; the report's
    notes (text and JSON) name the topic and the count; the ported episode checks clean."""
    copy, _ = nan_wrist_copy(sources[0], tmp_path / "src")
    out = tmp_path / "out"
    done = _cli(str(copy), "--to", PAIR[2], "-o", str(out), "--no-sim", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    (episode,) = json.loads(done.stdout)["episodes"]
    noted = [n for n in episode["notes"] if n.startswith("/teleop/intent/right_wrist: 1 of ")]
    assert noted and "hold a NaN or an infinity" in noted[0], episode["notes"]
    assert check_bag(Path(episode["path"])).defects == []
    text = _cli(str(copy), "--to", PAIR[2], "-o", str(tmp_path / "text"), "--no-sim")
    assert "  note: /teleop/intent/right_wrist: 1 of " in text.stdout, text.stdout


def _popen_port(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "port", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_killed_run_is_finished_by_running_it_again(sources: list[Path], tmp_path: Path) -> None:
    """A port killed (SIGKILL) while writing an episode in physics leaves its ``.partial``;
    the same command again says it removes it, ports that episode, keeps the one the killed
    run had finished, and a third run keeps both with the reports they hold."""
    out = tmp_path / "out"
    args = [str(sources[0]), str(sources[1]), "--to", PAIR[2], "-o", str(out), "--json"]
    names = [f"{s.name}_to_{PAIR[2]}" for s in sources[:2]]
    run = _popen_port(*args)
    second_partial = out / f"{names[1]}.partial"
    deadline = time.monotonic() + 240
    while not second_partial.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    run.kill()
    _, stderr = run.communicate(timeout=60)
    assert second_partial.is_dir(), f"the run ended before its second episode: {stderr[-2000:]}"
    first_hash = bag_content_hash(out / names[0])

    done = _cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{second_partial}: left unfinished by an earlier run; removed" in done.stderr
    episodes = json.loads(done.stdout)["episodes"]
    assert [Path(e["path"]).name for e in episodes] == names
    assert [e["ported_before"] for e in episodes] == [True, False]
    assert episodes[0]["sim"] is True and episodes[1]["outcome"] in ("success", "failure")
    assert not second_partial.exists() and check_bag(out / names[1]).defects == []
    assert bag_content_hash(out / names[0]) == first_hash

    again = _cli(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    kept = json.loads(again.stdout)["episodes"]
    assert [e["ported_before"] for e in kept] == [True, True]
    drop = {"ported_before", "wall_s"}
    assert [{k: v for k, v in e.items() if k not in drop} for e in kept] == [
        {k: v for k, v in e.items() if k not in drop} for e in episodes
    ]


def test_a_port_of_another_source_under_the_name_stops_the_run_and_stays(
    sources: list[Path], tmp_path: Path
) -> None:
    """An output name that holds another source's port (a copy of the source without its
    images, same name): one line naming it, exit 2, the episode as it was."""
    out = tmp_path / "out"
    first = _cli(str(sources[0]), "--to", PAIR[2], "-o", str(out), "--no-sim")
    assert first.returncode == 0, first.stderr[-2000:]
    before = _ported_hashes(out)
    other = copy_without(sources[0], tmp_path / "other", lambda t: t.startswith("/camera"))
    assert other.name == sources[0].name and bag_content_hash(other) != bag_content_hash(sources[0])
    done = _cli(str(other), "--to", PAIR[2], "-o", str(out), "--no-sim")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "custom.port.source_content_hash" in done.stderr
    assert _ported_hashes(out) == before


def test_a_port_into_a_robot_whose_robot_yaml_changed_since_is_one_line_and_stays(
    sources: list[Path], tmp_path: Path
) -> None:
    """A port into robots/README.md's walkthrough robot, its robot.yaml changed, the same
    command again: the kept episode was ported to the robot as it was, so one line naming
    it and both hashes, exit 2, the episode as it was."""
    robot = tmp_path / "robots" / "my_g1"
    robot.mkdir(parents=True)
    (robot / "robot.yaml").write_text(example_robot_yaml(), encoding="utf-8")
    out = tmp_path / "out"
    args = (str(sources[0]), "--to", "my_g1", "-o", str(out), "--no-sim")
    first = _cli(*args, robots_path=robot.parent)
    assert first.returncode == 0, first.stderr[-2000:]
    before = _ported_hashes(out)
    (robot / "robot.yaml").write_text(example_robot_yaml() + "# tuned\n", encoding="utf-8")
    done = _cli(*args, robots_path=robot.parent)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    episode = out / f"{sources[0].name}_to_my_g1"
    assert line.startswith(f"not ported: {episode}/metadata.yaml: robot_model_hash sha256:"), line
    assert "is not my_g1's robot.yaml now (sha256:" in line, line
    assert _ported_hashes(out) == before


def test_a_folder_another_run_writes_is_refused(sources: list[Path], tmp_path: Path) -> None:
    """While a run holds the output folder (here this test, through the same lock), a second
    run stops with one line and writes nothing."""
    out = tmp_path / "out"
    with hold_output(out):
        done = _cli(str(sources[0]), "--to", PAIR[2], "-o", str(out), "--no-sim")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "another port run is writing" in done.stderr
    assert [p.name for p in out.iterdir()] == [LOCK_NAME]  # nothing written, the lock kept


def test_two_sources_of_one_name_are_refused_before_anything_is_written(
    sources: list[Path], tmp_path: Path
) -> None:
    other = copy_without(sources[0], tmp_path / "other", lambda _t: False)
    done = _cli(str(sources[0]), str(other), "--to", PAIR[2], "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "both would be ported as" in done.stderr
    assert not (tmp_path / "out").exists()


FULL_DISK = textwrap.dedent(
    """
    set -e
    mount -t tmpfs -o size={size} tmpfs {mnt}
    head -c {filler} /dev/zero > {mnt}/filler
    set +e
    {port} > {kept}/full.out 2> {kept}/full.err
    echo $? > {kept}/full.rc
    ls -A {mnt}/out > {kept}/full.ls
    rm {mnt}/filler
    {port} > {kept}/again.out 2> {kept}/again.err
    echo $? > {kept}/again.rc
    cp -r {mnt}/out {kept}/out
    """
)


@pytest.mark.skipif(not _can_mount(), reason="needs root and `unshare --mount` to mount a tmpfs")
def test_a_full_disk_is_one_line_and_the_run_again_finishes(
    sources: list[Path], tmp_path: Path
) -> None:
    """Porting in physics into a tmpfs (private mount namespace) left 1 MiB by a filler: one
    line naming the file and the full disk, exit 2, no episode or ``.partial`` left; with
    the filler gone the same command ports the episode, which checks clean."""
    mnt, kept = tmp_path / "mnt", tmp_path / "kept"
    mnt.mkdir()
    kept.mkdir()
    port = " ".join(
        shlex.quote(a)
        for a in [sys.executable, "-m", "humanoid_teleop.cli.main", "port", str(sources[0]),
                  "--to", PAIR[2], "-o", str(mnt / "out")]
    )  # fmt: skip
    script = FULL_DISK.format(size="64m", filler=63 * 1024 * 1024, mnt=mnt, kept=kept, port=port)
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, timeout=600,
        check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (kept / "full.rc").read_text().strip() == "2"
    err = (kept / "full.err").read_text()
    assert err.count("\n") == 1 and "disk full" in err and str(mnt / "out") in err, err
    assert (kept / "full.ls").read_text().split() == [LOCK_NAME]
    assert (kept / "again.rc").read_text().strip() == "0", (kept / "again.err").read_text()
    ported = kept / "out" / f"{sources[0].name}_to_{PAIR[2]}"
    assert check_bag(ported).defects == []
    assert read_bag(ported).metadata.custom_data["custom.port.physics"] == "mujoco"


def test_port_matrix_prints_the_matrix_of_a_run(matrix_run: tuple[Path, Any]) -> None:
    """`port matrix` into a folder an earlier run filled: everything kept, the same matrix
    printed (text), and as JSON each pair with its transfer ratio and reasons."""
    folder, run = matrix_run
    robots, tasks, episodes = MATRIX
    args = ("matrix", "--robots", *robots, "--tasks", *tasks, "--episodes", str(episodes),
            "-o", str(folder))  # fmt: skip
    text = _cli(*args)
    assert text.returncode == 0, text.stderr[-2000:]
    assert text.stdout.startswith(
        f"# Portability matrix: {episodes} scripted episode per robot and task, ported in "
        f"physics ({folder})\n"
    )
    assert run.text() in text.stdout
    assert "(4 kept from an earlier run)" in text.stderr
    as_json = _cli(*args, "--json")
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    matrix = json.loads(as_json.stdout)
    assert [(p["source"], p["target"]) for p in matrix["pairs"]] == [
        (s, t) for s in robots for t in robots
    ]
    for pair, summary in zip(matrix["pairs"], run.summaries, strict=True):
        assert pair["transfer_ratio"] == summary.transfer_ratio
        assert pair["below_target"] == summary.below_target()
        assert pair["contact_p95_m"] == summary.contact_p95_m
    assert all(s["kept"] for s in matrix["sources"]) and matrix["kept_ports"] == 4


def test_port_matrix_compares_with_an_earlier_run(
    matrix_run: tuple[Path, Any], tmp_path: Path
) -> None:
    """`--compare` an earlier run's reports.jsonl: the same ports, so none changed; one
    g1 -> alex report made worse in the earlier file shows as that seed's change."""
    folder, run = matrix_run
    robots, tasks, episodes = MATRIX
    args = ("matrix", "--robots", *robots, "--tasks", *tasks, "--episodes", str(episodes),
            "-o", str(folder))  # fmt: skip
    same = _cli(*args, "--compare", str(folder / "reports.jsonl"))
    assert same.returncode == 0, same.stderr[-2000:]
    assert f"## Against {folder / 'reports.jsonl'}" in same.stdout
    assert "ports compared: 4 (only in before: 0, only in after: 0)" in same.stdout
    assert same.stdout.rstrip().endswith("no port changed")
    earlier = dict(run.reports)
    key = ("push", "g1", 1, "alex")
    worse = earlier[key].to_dict() | {"outcome": "failure"}
    earlier[key] = PortReport.from_dict(worse, "test")
    before = tmp_path / "before.jsonl"
    before.write_text("".join(f"{run_line(k, r)}\n" for k, r in earlier.items()))
    changed = _cli(*args, "--compare", str(before), "--json")
    assert changed.returncode == 0, changed.stderr[-2000:]
    lines = json.loads(changed.stdout)["compare"]
    g1_alex = next(p for p in run.summaries if (p.source, p.target) == ("g1", "alex"))
    meets = int(not g1_alex.below_target())
    assert lines[0] == (
        f"push: cross-robot successes 1 -> 2 of 2; pairs meeting every target 0 -> {meets}"
    ), lines
    assert any(line.startswith("| push | g1 -> alex | 0 -> 1 of 1 |") for line in lines), lines


def test_port_matrix_compare_with_a_missing_file_is_one_line(tmp_path: Path) -> None:
    done = _cli("matrix", "--robots", "g1", "-o", str(tmp_path / "m"),
                "--compare", str(tmp_path / "none.jsonl"))  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    missing = tmp_path / "none.jsonl"
    assert line == (
        f"error: {missing}: cannot read a matrix run's reports (No such file or directory)"
    )
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("flag", "values", "message"),
    [
        ("--robots", ["no_such_robot"], "no_such_robot"),
        ("--tasks", ["no_such_scene"], "no scene 'no_such_scene'; scenes: pick_and_place, push"),
        ("--robots", ["g1", "alex", "g1"], "the matrix names the robot g1 twice"),
        ("--tasks", ["push", "push"], "the matrix names the task push twice"),
    ],
)
def test_port_matrix_of_an_unknown_or_repeated_robot_or_scene_is_one_line_and_writes_nothing(
    tmp_path: Path, flag: str, values: list[str], message: str
) -> None:
    """An unknown robot or scene, or one named twice (its episodes would be written twice
    under one name), stops `port matrix` before anything is recorded."""
    out = tmp_path / "matrix"
    done = _cli("matrix", flag, *values, "-o", str(out))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line, line
    assert not out.exists()
