"""`humanoid-teleop retarget` on the shared CMU clips for every shipped robot."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from humanoid_teleop.cli.main import main
from humanoid_teleop.core.robot import list_robots

from ..conftest import SHARED_DATA
from ..core.bag.foxglove import assert_foxglove_reads

MOCAP = SHARED_DATA / "mocap"
CLIPS = sorted(MOCAP.glob("*.bvh")) if MOCAP.is_dir() else []
ROBOTS = [entry.name for entry in list_robots()]
needs_mocap = pytest.mark.skipif(not CLIPS, reason=f"shared mocap data absent: {MOCAP}")
DRINK = MOCAP / "cmu_14_05_unscrew_cap_drink_soda.bvh"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["retarget", *args, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


@needs_mocap
@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
@pytest.mark.parametrize("robot", ROBOTS)
def test_mocap_clip_gives_no_limit_violation(
    robot: str, clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every shipped robot retargets every clip (30 Hz) with no joint outside its limits."""
    report = _json(capsys, "--robot", robot, "--motion", str(clip), "--stride", "4")
    assert report["limit_violations"] == 0
    assert isinstance(report["max_velocity_ratio"], float)
    assert report["max_velocity_ratio"] <= 1.0


@needs_mocap
def test_json_report_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON object carries robot, frames, errors per arm and timing percentiles."""
    report = _json(capsys, "--robot", "g1", "--motion", str(DRINK), "--stride", "8")
    assert report["robot"] == "g1"
    assert report["frames"] == 106
    for key in ("wrist_position_error_m", "wrist_orientation_error_deg"):
        value = report[key]
        assert isinstance(value, dict)
        assert set(value) == {"left", "right"}
        assert set(value["left"]) == {"p50", "p95", "max"}
    timing = report["time_per_frame_ms"]
    assert isinstance(timing, dict) and set(timing) == {"p50", "p99"}


@needs_mocap
def test_out_csv_has_one_row_per_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out q.csv writes a header of t_s + joint names and one row per frame."""
    out = tmp_path / "q.csv"
    _json(capsys, "--robot", "talos", "--motion", str(DRINK), "--stride", "8", "--out", str(out))
    rows = list(csv.reader(out.open()))
    assert rows[0][0] == "t_s" and "arm_left_1_joint" in rows[0]
    assert len(rows) == 1 + 106


@needs_mocap
def test_out_mcap_reads_back_with_mcap_ros2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out q.mcap holds /joint_states JointState messages readable by mcap_ros2."""
    out = tmp_path / "q.mcap"
    _json(capsys, "--robot", "g1", "--motion", str(DRINK), "--stride", "8", "--out", str(out))
    with out.open("rb") as handle:
        reader = make_reader(handle, decoder_factories=[DecoderFactory()])
        messages = [m for _s, _c, _r, m in reader.iter_decoded_messages(topics=["/joint_states"])]
    assert len(messages) == 106
    first = messages[0]
    assert "left_elbow_joint" in first.name and len(first.position) == len(first.name)
    assert assert_foxglove_reads(out) == {"/joint_states": 106}


def test_unsupported_motion_format_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .txt motion file is refused naming the supported formats."""
    path = tmp_path / "motion.txt"
    path.write_text("nothing")
    assert main(["retarget", "--robot", "g1", "--motion", str(path)]) == 2
    assert "supported: .bvh, a bag folder or .mcap" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 a zip, not a bag" * 10, "not an MCAP file (it does not start with the MCAP"),
        (b"", "empty file, not an MCAP bag"),
    ],
    ids=["not-mcap", "empty"],
)
def test_mcap_motion_that_is_not_mcap_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """`--motion x.mcap` that is not MCAP exits 2 with one line naming the file."""
    path = tmp_path / "x.mcap"
    path.write_bytes(content)
    assert main(["retarget", "--robot", "g1", "--motion", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}: {message}" + err.split(message, 1)[1]
    assert err.count("\n") == 1


def test_bag_folder_with_a_non_mcap_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bag folder whose .mcap file is not MCAP names that file."""
    (tmp_path / "bag").mkdir()
    (tmp_path / "bag" / "bag_0.mcap").write_bytes(b"\x00" * 64)
    assert main(["retarget", "--robot", "g1", "--motion", str(tmp_path / "bag")]) == 2
    assert f"{tmp_path / 'bag' / 'bag_0.mcap'}: not an MCAP file" in capsys.readouterr().err


def test_text_report_names_robot_and_violations(capsys: pytest.CaptureFixture[str]) -> None:
    """The human-readable report names the robot and the violation count."""
    if not DRINK.exists():
        pytest.skip(f"shared mocap data absent: {DRINK}")
    assert main(["retarget", "--robot", "icub", "--motion", str(DRINK), "--stride", "8"]) == 0
    out = capsys.readouterr().out
    assert "robot icub" in out and "joint-limit violations: 0" in out


def test_bag_input_retargets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A recorded operator bag drives the pipeline like a BVH clip."""
    from ..core.motion.test_bag_input import write_operator_bag

    bag = tmp_path / "ep.mcap"
    write_operator_bag(bag, seconds=1.0)
    report = _json(capsys, "--robot", "g1", "--motion", str(bag), "--profile", "replay")
    assert report["limit_violations"] == 0
    assert isinstance(report["frames"], int) and report["frames"] >= 95
