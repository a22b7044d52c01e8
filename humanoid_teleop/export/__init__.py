"""Recorded episodes (MCAP bags) -> LeRobot v3.0 training datasets.

Pure Python (no rclpy, no torch): bags are read with :mod:`humanoid_teleop.core.bag.reader`
and decoded with rosbags; frames are written with pyarrow and videos with PyAV. The unit of
work is one episode (:mod:`.shard`); :mod:`.aggregate` merges shards into the dataset's files;
:mod:`.runner` runs the units in this process, local processes or Ray tasks. The format and
schema are documented in ``docs/dataset-export.md``.
"""

from __future__ import annotations
