"""The annotators' preview video (annotation/preview.py)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from humanoid_teleop.annotation.preview import write_preview
from humanoid_teleop.core.bag.episode import FileOptions
from humanoid_teleop.core.bag.qos import QosProfile
from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig
from humanoid_teleop.core.robot import load_robot
from humanoid_teleop.portability.writer import encode_rgb_image
from test.core.bag.conftest import joint_state


def test_the_preview_shows_each_image_at_its_capture_time(tmp_path: Path) -> None:
    """A head camera whose image turns from black to white 1 s in, every image received
    0.3 s after it was captured (a loaded host's delivery): the 10 fps preview turns white at
    frame 11 (1.0 s), when the image was captured, not at frame 14 (when it was received)."""
    camera = load_robot("g1").sensors.cameras[0]
    start_ns, delay_ns = 1_800_000_000_000_000_000, 300_000_000
    clock = [start_ns]
    recorder = BagRecorder(
        RecorderConfig(bag_dir=tmp_path / "bags", files=FileOptions(reserve_bytes=4096),
                       warn_free_bytes=0, min_free_bytes=0),
        clock_ns=lambda: clock[0],
    )  # fmt: skip
    try:
        recorder.add_topic(camera.topic, "sensor_msgs/msg/Image", [QosProfile()])
        recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
        recorder.start_episode(EpisodeInfo(robot="g1"), name="late_images")
        # the episode's time 0: a joint state received as it was sampled
        recorder.submit("/joint_states", joint_state(start_ns, [0.0]), start_ns)
        for i in range(21):  # 10 Hz for 2 s
            t_ns = start_ns + i * 100_000_000
            rgb = np.full((48, 64, 3), 255 if i >= 10 else 0, dtype=np.uint8)
            recorder.submit(camera.topic, encode_rgb_image(t_ns, camera.frame_id, rgb),
                            t_ns + delay_ns)  # fmt: skip
        clock[0] = start_ns + 2_300_000_000
        episode = recorder.stop_episode().path
    finally:
        recorder.close()
    video = tmp_path / "preview.mp4"
    write_preview(episode, video, 10)
    with av.open(str(video)) as container:
        brightness = [f.to_ndarray(format="rgb24")[:200].mean() for f in container.decode(video=0)]
    first_white = next(k for k, b in enumerate(brightness, start=1) if b > 128)
    assert first_white == 11, brightness
