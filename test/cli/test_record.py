"""`humanoid-teleop record`: bad arguments are refused in one line before ROS starts; a full
disk ends the command with exit code 2 and a loss summary equal to what the files hold."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from humanoid_teleop.cli.main import main

from ..conftest import REPO
from ..core.bag.test_disk_full import _can_mount

PROFILE = """
topics:
  - {name: /blob, type: std_msgs/msg/String}
robot_sensors: false
latched: []
sync_reference: null
storage: {compression: none, chunk_size_mib: 0.03, flush_period_s: 0.1}
limits: {queue_max_mib: 64, min_free_mib: 0, warn_free_mib: 1, reserve_mib: 0.06}
"""

PUBLISHER = textwrap.dedent(
    """
    import os, sys, time
    import rclpy
    from std_msgs.msg import String
    rclpy.init()
    node = rclpy.create_node("blob_publisher")
    pub = node.create_publisher(String, "/blob", 1000)
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        pub.publish(String(data=os.urandom(1500).hex()))
        time.sleep(0.001)
    node.destroy_node()
    rclpy.try_shutdown()
    """
)

# Run after `record` exits, still inside the mount namespace that holds the tmpfs.
COUNTER = textwrap.dedent(
    """
    import json, sys
    from collections import Counter
    from pathlib import Path
    from mcap.reader import make_reader
    from humanoid_teleop.core.bag.reader import read_bag
    (bag,) = [p for p in Path(sys.argv[1]).iterdir() if p.is_dir()]
    counts = Counter()
    for file in sorted(bag.glob("*.mcap")):
        with file.open("rb") as stream:
            for _schema, channel, _message in make_reader(stream).iter_messages():
                counts[channel.topic] += 1
    summary = read_bag(bag)
    print(json.dumps({
        "bag": bag.name,
        "in_files": dict(counts),
        "loss": summary.custom_json("loss"),
        "outcome": summary.metadata.custom_data.get("outcome"),
    }))
    """
)


def test_binary_profile_is_refused_before_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record --profile BINARY` exits 2 with one line naming the file; nothing is recorded."""
    profile = tmp_path / "profile.yaml"
    profile.write_bytes(bytes(range(256)) * 3)
    assert main(["record", "--profile", str(profile), "-o", str(tmp_path / "bags")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {profile}: not a UTF-8 text file (byte 0x80 at offset 128); " + (
        "a config file must be YAML text\n"
    )
    assert not (tmp_path / "bags").exists()


def test_output_folder_that_cannot_exist_reports_the_os_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`record -o /proc/x` blames the folder with the real OS error, not free space."""
    assert main(["record", "-o", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /proc/x: cannot create the output folder: ")
    assert err.count("\n") == 1 and "free" not in err


def test_output_under_a_file_reports_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record -o FILE/x` says the parent is not a directory."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["record", "-o", str(blocker / "x")]) == 2
    assert "cannot create the output folder: Not a directory" in capsys.readouterr().err


@pytest.mark.ros
@pytest.mark.skipif(not _can_mount(), reason="needs root and `unshare --mount` to mount a tmpfs")
def test_disk_full_ends_record_with_exit_2_and_exact_loss(tmp_path: Path) -> None:
    """`record` onto a disk that fills exits 2 with one line saying what was kept; the
    episode's outcome is error and its `written` count is what its files hold."""
    mount = tmp_path / "disk"
    mount.mkdir()
    (tmp_path / "profile.yaml").write_text(PROFILE)
    (tmp_path / "publisher.py").write_text(PUBLISHER)
    (tmp_path / "counter.py").write_text(COUNTER)
    py = sys.executable
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {mount} && cd {REPO} && "
        f"{py} -m humanoid_teleop.cli.main record -o {mount}/bags "
        f"--profile {tmp_path}/profile.yaml --quiet /blob 2> {tmp_path}/record.err; "
        f"echo $? > {tmp_path}/record.rc; {py} {tmp_path}/counter.py {mount}/bags"
    )
    publisher = subprocess.Popen([py, str(tmp_path / "publisher.py"), "90"])
    try:
        result = subprocess.run(
            ["unshare", "--mount", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        publisher.kill()
        publisher.wait()
    err = (tmp_path / "record.err").read_text()
    assert result.returncode == 0, result.stderr[-3000:] + err[-3000:]
    assert (tmp_path / "record.rc").read_text().strip() == "2", err[-3000:]
    assert "Traceback" not in err
    out = json.loads(result.stdout.strip().splitlines()[-1])
    (line,) = [x for x in err.splitlines() if x.startswith("recorder_node: episode ")]
    assert "stopped with an error: " in line and "disk full" in line, line
    blob = out["loss"]["topics"]["/blob"]
    assert line.endswith(
        f"; {blob['written']} messages kept in {mount}/bags/{out['bag']}, "
        f"{blob['lost_on_error']} lost (outcome: error)"
    ), line
    assert out["outcome"] == "error"
    assert blob["written"] == out["in_files"]["/blob"] > 0, out
    assert blob["received"] == blob["written"] + blob["dropped"] + blob["lost_on_error"], blob


def test_unknown_profile_name_is_refused_naming_the_shipped_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`record --profile NAME` with no such profile exits 2, listing the shipped profiles."""
    assert main(["record", "--profile", "statoin", "-o", str(tmp_path / "bags")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no recording profile 'statoin' (statoin.yaml); available: ")
    assert "station" in err and err.count("\n") == 1
    assert not (tmp_path / "bags").exists()


def test_shipped_profile_name_becomes_its_file(tmp_path: Path) -> None:
    """`record --profile station` hands the recorder the shipped config/record/station.yaml."""
    from humanoid_teleop.cli.main import build_parser
    from humanoid_teleop.cli.record import node_parameters

    args = build_parser().parse_args(["record", "--profile", "station", "-o", str(tmp_path)])
    assert node_parameters(args)["profile"] == str(REPO / "config" / "record" / "station.yaml")
