"""Episodes for the annotation and catalog tests: small synthetic ones written by the core
recorder (no DDS), with the metadata, start time and length a test asks for."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig
from test.core.bag.conftest import joint_state

NS = 1_000_000_000


def utc_ns(text: str) -> int:
    """ns since the epoch of an ISO 8601 UTC time such as ``2026-12-01T09:00:00``."""
    when = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp()) * NS


def record_synthetic(
    bag_dir: Path, name: str, start: str = "2026-12-01T09:00:00", duration_s: float = 3.0,
    outcome: bool | None = True, live_labels: tuple[tuple[float, str], ...] = (),
    burst_s: float = 0.0, **info: str,
) -> Path:  # fmt: skip
    """Record one episode of /joint_states at 10 Hz starting at ``start`` (UTC) for
    ``duration_s`` [s]; ``info`` sets EpisodeInfo fields (task, operator, robot, ...). With
    ``burst_s`` [s] the recorder receives each window of that length's messages at its end
    (log times bunched, as on a loaded host), each stamped when it was sampled."""
    clock = [utc_ns(start)]
    recorder = BagRecorder(
        RecorderConfig(
            bag_dir=bag_dir,
            files=FileOptions(reserve_bytes=4096),
            warn_free_bytes=0,
            min_free_bytes=0,
        ),
        clock_ns=lambda: clock[0],
    )
    try:
        recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
        recorder.start_episode(EpisodeInfo(**info), name=name)
        steps = int(duration_s * 10)
        for i in range(steps + 1):
            t = utc_ns(start) + i * NS // 10
            received = t
            if burst_s:
                window_ns = int(burst_s * NS)
                received = utc_ns(start) + ((t - utc_ns(start)) // window_ns + 1) * window_ns
            recorder.submit("/joint_states", joint_state(t, [0.01 * i, 0.2]), received)
        for offset_s, text in live_labels:
            recorder.annotate(text, utc_ns(start) + int(offset_s * NS))
        if outcome is not None:
            recorder.mark_outcome(outcome)
        clock[0] = utc_ns(start) + int(duration_s * NS)
        return recorder.stop_episode().path
    finally:
        recorder.close()


def mcap_digest(episode: Path) -> str:
    """sha256 over the episode's MCAP files and metadata.yaml (to show they never change)."""
    digest = hashlib.sha256()
    for path in [*sorted(episode.glob("*.mcap")), episode / "metadata.yaml"]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()
