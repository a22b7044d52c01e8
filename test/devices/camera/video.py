"""A small test video written with cv2.VideoWriter: frame i is uniformly grey (10 * i) mod 250."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_video(path: Path, frames: int = 20, width: int = 64, height: int = 48) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
    for i in range(frames):
        writer.write(np.full((height, width, 3), (10 * i) % 250, dtype=np.uint8))
    writer.release()
    return path
