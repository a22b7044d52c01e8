"""`humanoid-teleop bag info|check|recover` and `record` on real bags."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from humanoid_teleop.cli.main import main
from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig

from ..core.bag.conftest import LATCHED, string_msg


def _episode(root: Path, name: str = "ep", count: int = 50) -> Path:
    recorder = BagRecorder(
        RecorderConfig(
            bag_dir=root,
            files=FileOptions(chunk_size_bytes=2048, reserve_bytes=0),
            min_free_bytes=0,
            warn_free_bytes=0,
        )
    )
    try:
        recorder.add_topic("/chatter", "std_msgs/msg/String", [QosProfile()])
        recorder.add_topic("/robot_description", "std_msgs/msg/String", [LATCHED])
        recorder.submit("/robot_description", string_msg("<robot/>"), time.time_ns())
        recorder.start_episode(EpisodeInfo(task="wipe the table", operator="op3"), name=name)
        for i in range(count):
            recorder.submit("/chatter", string_msg(f"{i:05d}" * 20), time.time_ns(), 0, i + 1)
            time.sleep(0.001)
        recorder.annotate("contact")
        recorder.mark_outcome(True)
        return recorder.stop_episode().path
    finally:
        recorder.close()


def test_info_prints_topics_counts_and_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag info` shows the task, outcome, each topic with its count, and annotations."""
    bag = _episode(tmp_path)
    assert main(["bag", "info", str(bag)]) == 0
    out = capsys.readouterr().out
    assert "task: 'wipe the table'" in out and "outcome: success" in out
    assert "/chatter" in out and " 50 " in out
    assert "contact" in out


def test_info_json_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bag info --json` prints parseable JSON with counts per topic and the loss summary."""
    bag = _episode(tmp_path)
    assert main(["bag", "info", str(bag), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    counts = {t["name"]: t["count"] for t in info["topics"]}
    assert counts == {"/chatter": 50, "/robot_description": 1}
    assert info["loss"]["dropped"] == 0


def test_info_on_a_folder_lists_every_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the folder of episodes, `bag info --json` describes each one, at any depth (a
    station's folder of days), as export and port find them."""
    _episode(tmp_path, "a")
    _episode(tmp_path, "b")
    _episode(tmp_path / "day2" / "station7", "c")
    assert main(["bag", "info", str(tmp_path), "--json"]) == 0
    assert [i["episode"] for i in json.loads(capsys.readouterr().out)] == ["a", "b", "c"]


def test_check_passes_a_good_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bag check --json` exits 0 and reports ok for a clean episode."""
    bag = _episode(tmp_path)
    assert main(["bag", "check", str(bag), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_check_fails_a_cut_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bag whose file was cut short makes `bag check` exit non-zero naming the file."""
    bag = _episode(tmp_path)
    (mcap,) = bag.glob("*.mcap")
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    assert main(["bag", "check", str(bag)]) == 1
    assert f"DEFECT  not closed         {mcap}" in capsys.readouterr().out


def test_check_of_a_folder_checks_every_episode_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag check FOLDER`: each episode under it (at any depth) and each one a killed
    recorder left open (`.partial`) gets its verdict, then a count; exit 1 for the open one.
    It said the folder itself had no metadata.yaml (run `bag recover`) before."""
    good = _episode(tmp_path / "day1", "a")
    other = _episode(tmp_path / "day2" / "station7", "b")
    (mcap,) = good.glob("*.mcap")
    killed = tmp_path / "day2" / "c.partial"
    killed.mkdir()
    (killed / mcap.name).write_bytes(mcap.read_bytes()[:-100])
    assert main(["bag", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: ok (" in out and f"{other}: ok (" in out
    assert f"DEFECT  not closed         {killed}" in out
    assert out.rstrip().endswith(f"{tmp_path}: 3 episodes, 2 ok, 1 with defects")
    assert main(["bag", "check", str(tmp_path / "day1"), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True and [e["path"] for e in document["episodes"]] == [str(good)]


def test_check_of_a_folder_without_episodes_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["bag", "check", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no episode" in err and str(tmp_path / "empty") in err


def test_recover_repairs_a_cut_partial_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag recover` on a cut .partial episode yields a renamed bag that passes check."""
    bag = _episode(tmp_path, count=400)
    partial = bag.with_name("ep2.partial")
    partial.mkdir()
    (mcap,) = bag.glob("*.mcap")
    (partial / mcap.name).write_bytes(mcap.read_bytes()[: mcap.stat().st_size * 2 // 3])
    assert main(["bag", "recover", str(partial), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["path"] == str(tmp_path / "ep2")
    assert result["files"][0]["was_complete"] is False
    assert main(["bag", "check", result["path"], "--json"]) == 0


def test_recover_of_a_folder_repairs_each_partial_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the folder, `bag recover` finds and repairs every .partial episode in it."""
    bag = _episode(tmp_path, count=300)
    (mcap,) = bag.glob("*.mcap")
    for name in ("x.partial", "y.partial"):
        (tmp_path / name).mkdir()
        (tmp_path / name / mcap.name).write_bytes(mcap.read_bytes()[:-100])
    assert main(["bag", "recover", str(tmp_path), "--json"]) == 0
    assert sorted(r["path"] for r in json.loads(capsys.readouterr().out)) == [
        str(tmp_path / "x"),
        str(tmp_path / "y"),
    ]


def test_missing_bag_gives_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag info` on a folder without bags exits 2 with a message naming the folder."""
    assert main(["bag", "info", str(tmp_path)]) == 2
    assert f"{tmp_path}: no episode (a folder with metadata.yaml) in it" in capsys.readouterr().err


def _one_line_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for name in names:
        assert name in err, err
    return err


@pytest.mark.parametrize("action", ["info", "check", "recover"])
@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\xff\xfe", b"{[: not yaml\n  - ]"])
def test_garbage_metadata_yaml_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str, content: bytes
) -> None:
    """Binary or garbage metadata.yaml: one line naming the file, non-zero exit."""
    bag = _episode(tmp_path)
    (bag / "metadata.yaml").write_bytes(content)
    assert main(["bag", action, str(bag)]) != 0
    _one_line_error(capsys, str(bag / "metadata.yaml"))


@pytest.mark.parametrize("action", ["check", "recover"])
def test_damaged_summary_section_is_handled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """A flipped byte in the summary: check reports it, recover rebuilds it; no traceback."""
    bag = _episode(tmp_path)
    (mcap,) = bag.glob("*.mcap")
    data = bytearray(mcap.read_bytes())
    data[-200] ^= 0xFF
    mcap.write_bytes(bytes(data))
    code = main(["bag", action, str(bag)])
    assert "Traceback" not in capsys.readouterr().err
    if action == "check":
        assert code == 1
    else:
        assert code == 0 and main(["bag", "check", str(bag)]) == 0


def test_check_of_a_file_that_is_not_mcap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag check x.mcap` on a text file reports it unreadable, exit 1."""
    bad = tmp_path / "x.mcap"
    bad.write_text("hello, not a bag\n")
    assert main(["bag", "check", str(bad)]) == 1
    assert f"{bad}: not an MCAP file" in capsys.readouterr().out


@pytest.mark.parametrize("action", ["info", "check", "recover"])
def test_nonexistent_path_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """A path that does not exist: 'no such file or directory', exit 2."""
    missing = tmp_path / "nope"
    assert main(["bag", action, str(missing)]) == 2
    _one_line_error(capsys, f"{missing}: no such file or directory")


def test_check_json_prints_errors_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bag check --json` on a bad path prints a JSON document with the error."""
    missing = tmp_path / "nope"
    assert main(["bag", "check", str(missing), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and "no such file or directory" in doc["error"]


def test_info_on_a_single_mcap_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bag info x.mcap` describes the file from its own summary."""
    (mcap,) = _episode(tmp_path).glob("*.mcap")
    assert main(["bag", "info", str(mcap), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {t["name"]: t["count"] for t in info["topics"]}["/chatter"] == 50
    assert info["task"] == "wipe the table"


def test_recover_of_a_single_mcap_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bag recover x.mcap` repairs that one file in place."""
    (mcap,) = _episode(tmp_path, count=200).glob("*.mcap")
    single = tmp_path / "single.mcap"
    single.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    assert main(["bag", "recover", str(single), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["files"]
    assert report["was_complete"] is False and report["in_place"] is True
    assert main(["bag", "check", str(single)]) == 0


def test_recover_beside_says_where_the_original_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repair that skips a damaged chunk names the kept original and the per-topic loss."""
    bag = _episode(tmp_path, count=200)
    (mcap,) = bag.glob("*.mcap")
    data = bytearray(mcap.read_bytes())
    data[400] ^= 0xFF
    mcap.write_bytes(bytes(data))
    assert main(["bag", "recover", str(bag)]) == 0
    out = capsys.readouterr().out
    assert f"original kept as {mcap}.damaged" in out
    assert "/chatter: kept " in out


def test_info_warns_when_metadata_and_files_disagree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A count in metadata.yaml that the files do not hold gives a warning on stderr."""
    bag = _episode(tmp_path)
    text = (bag / "metadata.yaml").read_text()
    (bag / "metadata.yaml").write_text(text.replace("message_count: 50", "message_count: 70"))
    assert main(["bag", "info", str(bag)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "/chatter: 70 listed, 50 in files" in err


@pytest.mark.ros
def test_record_closes_the_bag_cleanly_on_sigterm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record -o DIR TOPIC` records until SIGTERM, then leaves a closed, valid episode."""
    from diagnostic_msgs.msg import DiagnosticArray

    from ..devices.ros_helpers import Listener

    talker = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "nodes" / "dds_peer.py"),
            "talk",
            "/record_cli",
            "5",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    record = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "humanoid_teleop.cli.main",
            "record",
            "-o",
            str(tmp_path),
            "--task",
            "demo",
            "--quiet",
            "/record_cli",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The talker says when the recorder's reader matched (discovery time varies with
        # load); its transient-local history of 5 reaches the reader right after.
        ready, _, _ = select.select([talker.stdout], [], [], 60.0)
        assert ready and talker.stdout is not None
        assert talker.stdout.readline().strip() == "subscribed"
        # Stop once the recorder says it wrote all 5 (its /recorder/status), not after a
        # fixed wait that a busy machine can outlast.
        status = Listener({"/recorder/status": DiagnosticArray})
        try:
            written = lambda: any(  # noqa: E731
                kv.key == "messages_written" and int(kv.value) >= 5
                for _t, m in status.messages["/recorder/status"]
                for kv in m.status[0].values
            )
            assert status.spin_until(written, timeout_s=60.0), "recorder never wrote 5 messages"
        finally:
            status.close()
        record.send_signal(signal.SIGTERM)
        out, _ = record.communicate(timeout=60)
    finally:
        talker.kill()
        talker.wait()
    assert record.returncode == 0, out
    (bag,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert not bag.name.endswith(".partial")
    assert main(["bag", "check", str(bag), "--json"]) == 0
    assert main(["bag", "info", str(bag), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.split("\n}\n", 1)[1])
    assert {t["name"]: t["count"] for t in info["topics"]}["/record_cli"] == 5
    assert info["task"] == "demo"


def test_check_into_a_pipe_prints_no_bar_and_its_error_line_alone(tmp_path: Path) -> None:
    """`bag check` whose stderr is a pipe or a log file draws no progress bar: the error
    line of a missing episode is the whole of stderr (it was glued onto the bar's line)."""
    missing = tmp_path / "nosuch"
    done = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "bag", "check", str(missing)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"error: {missing}: no such file or directory\n"
    ok = subprocess.run(
        [sys.executable, "-m", "humanoid_teleop.cli.main", "bag", "check",
         str(_episode(tmp_path))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
