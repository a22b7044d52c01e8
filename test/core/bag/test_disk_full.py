"""A full disk stops the episode with an error, keeps its data, and spares earlier episodes.

Runs in a 2 MiB tmpfs mounted inside a private mount namespace (``unshare --mount``), so
the real disk is never filled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.reader import iter_messages

from ...conftest import REPO
from .foxglove import assert_foxglove_reads

SCENARIO = textwrap.dedent(
    """
    import json, os, shutil, sys, time
    from collections import Counter
    import yaml
    from pathlib import Path
    from mcap.reader import make_reader
    from humanoid_teleop.core.bag.check import check_bag
    from humanoid_teleop.core.bag.episode import FileOptions
    from humanoid_teleop.core.bag.qos import QosProfile
    from humanoid_teleop.core.bag.reader import iter_messages, read_bag
    from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig

    root = Path(sys.argv[1])
    kept = Path(sys.argv[2])  # outside the tmpfs, which goes with the mount namespace
    files = FileOptions(compression="none", chunk_size_bytes=16 * 1024, reserve_bytes=64 * 1024)
    rec = BagRecorder(RecorderConfig(bag_dir=root, files=files, flush_period_s=0.05,
                                     min_free_bytes=0, warn_free_bytes=1024 * 1024))
    rec.add_topic("/blob", "std_msgs/msg/String", [QosProfile()])
    rec.add_topic("/quiet", "std_msgs/msg/String", [QosProfile()])  # a channel, no message
    def blob(i):
        text = (os.urandom(600).hex() + str(i)).encode()
        return b"\\x00\\x01\\x00\\x00" + (len(text) + 1).to_bytes(4, "little") + text + b"\\x00"
    rec.start_episode(EpisodeInfo(task="first"), name="first")
    for i in range(100):
        rec.submit("/blob", blob(i), time.time_ns())
    first = rec.stop_episode().path
    first_bytes = {p.name: p.read_bytes() for p in first.iterdir()}
    rec.start_episode(EpisodeInfo(task="second"), name="second")
    sent = 0
    deadline = time.monotonic() + 60
    while rec.status().state != "error" and time.monotonic() < deadline:
        rec.submit("/blob", blob(sent), time.time_ns())
        sent += 1
        time.sleep(0.0005)
    status = rec.status()
    rec.close()
    second = root / "second"

    def in_files(bag):
        # Messages per topic in the closed files, read with the mcap library's reader.
        counts = Counter()
        for file in sorted(bag.glob("*.mcap")):
            with file.open("rb") as stream:
                for _schema, channel, _message in make_reader(stream).iter_messages():
                    counts[channel.topic] += 1
        return dict(counts)

    def in_file_custom_data(bag):
        # custom_data of the last file's `rosbag2` record (what rosbag2 rebuilds
        # metadata.yaml from), read with the mcap library.
        file = sorted(bag.glob("*.mcap"))[-1]
        with file.open("rb") as stream:
            records = [r for r in make_reader(stream).iter_metadata() if r.name == "rosbag2"]
        text = records[-1].metadata["serialized_metadata"]
        return yaml.safe_load(text)["custom_data"]

    result = rec.last_result
    out = {
        "state": status.state,
        "error": status.error,
        "sent": sent,
        "first_unchanged": first_bytes == {p.name: p.read_bytes() for p in first.iterdir()},
        "first_defects": [d.kind for d in check_bag(first).defects],
        "second_exists": second.is_dir(),
        "second_defects": [d.kind for d in check_bag(second).defects] if second.is_dir() else [],
        "second_messages": sum(1 for _ in iter_messages(second)) if second.is_dir() else 0,
        "second_outcome": (
            read_bag(second).metadata.custom_data.get("outcome") if second.is_dir() else ""
        ),
        "partials": [p.name for p in root.iterdir() if p.name.endswith(".partial")],
        "in_files": in_files(second),
        "loss": read_bag(second).custom_json("loss"),
        "in_file_loss": json.loads(in_file_custom_data(second).get("loss", "null")),
        "in_file_outcome": in_file_custom_data(second).get("outcome"),
        "metadata_counts": read_bag(second).counts,
        "result": [result.outcome, result.messages, str(result.path)] if result else None,
    }
    if second.is_dir():
        shutil.copytree(second, kept / "second")
    print(json.dumps(out))
    """
)


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs root and `unshare --mount` to mount a tmpfs")
def test_disk_full_keeps_written_data_and_earlier_episodes(
    tmp_path: Path,
) -> None:
    """Filling a 2 MiB tmpfs: error status, second episode closed and valid, first untouched."""
    out = _run_scenario(tmp_path)
    assert out["state"] == "error" and "disk full" in out["error"], out
    assert out["first_unchanged"] and out["first_defects"] == [], out
    # Messages lost when the disk filled are counted: a true "loss" defect, nothing else.
    assert out["second_exists"] and set(out["second_defects"]) <= {"loss"}, out
    assert out["second_outcome"] == "error"
    assert 0 < out["second_messages"] <= out["sent"]
    assert out["partials"] == []


def _run_scenario(tmp_path: Path) -> dict[str, Any]:
    """Run SCENARIO in a 2 MiB tmpfs of a private mount namespace; returns its JSON report.

    A copy of the episode closed by the full disk is left in ``tmp_path / "second"`` for
    readers run from the test process.
    """
    mount = tmp_path / "disk"
    mount.mkdir()
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    command = (
        f"mount -t tmpfs -o size=2m tmpfs {mount} && cd {REPO} && "
        f"{sys.executable} {script} {mount} {tmp_path}"
    )
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    out["stderr"] = result.stderr
    return out


@pytest.mark.skipif(not _can_mount(), reason="needs root and `unshare --mount` to mount a tmpfs")
def test_disk_full_loss_summary_equals_the_files(tmp_path: Path) -> None:
    """After a disk-full stop, `written` is what the closed files hold, per topic and in total,
    and every other accepted message is counted as `lost_on_error`."""
    out = _run_scenario(tmp_path)
    loss, in_files = out["loss"], out["in_files"]
    blob = loss["topics"]["/blob"]
    assert blob["written"] == in_files["/blob"] == out["metadata_counts"]["/blob"], out
    assert loss["written"] == sum(in_files.values()), out
    assert blob["received"] == blob["written"] + blob["dropped"] + blob["lost_on_error"], blob
    assert loss["lost_on_error"] == blob["lost_on_error"]
    # What the files were counted to hold before the repair is what the repair kept.
    assert "a sequential read found" not in out["stderr"], out["stderr"][-2000:]
    if blob["lost_on_error"]:
        assert "loss" in out["second_defects"], out  # bag check counts them as lost
    # The repaired file carries the same summary and outcome as metadata.yaml.
    assert out["in_file_loss"] == loss and out["in_file_outcome"] == "error", out
    assert out["result"][:2] == ["error", blob["written"]], out
    # The copy outside the tmpfs (for readers run here) holds the same messages.
    assert sum(1 for _ in iter_messages(tmp_path / "second")) == blob["written"]
    assert sum(assert_foxglove_reads(tmp_path / "second").values()) == blob["written"]
