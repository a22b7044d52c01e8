"""rosbag2-compatible MCAP episodes: writing, metadata.yaml v9, recovery, checks and reading.

Pure Python (no rclpy): the recorder node hands serialized CDR bytes to
:class:`~humanoid_teleop.core.bag.recorder.BagRecorder`, which writes them on its own thread.
"""

from __future__ import annotations
