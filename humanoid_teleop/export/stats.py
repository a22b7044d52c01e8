"""Feature statistics in LeRobot's form: min, max, mean, std, count, q01, q10, q50, q90, q99.

Numeric features are computed exactly over their frames (per episode and for the whole
dataset, from the data itself, never by merging per-episode summaries). Images are per
channel in [0, 1], shape (3, 1, 1): they come from exact 256-bin histograms of every pixel
of every frame, which add up exactly across episodes; quantiles are the lowest pixel value
whose cumulative share reaches q. ``count`` is the number of frames.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}


def numeric(values: np.ndarray) -> dict[str, np.ndarray]:
    """Stats over axis 0 of an (n, k) array (bool counts as 0/1)."""
    data = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    out = {
        "min": data.min(axis=0),
        "max": data.max(axis=0),
        "mean": data.mean(axis=0),
        "std": data.std(axis=0),
        "count": np.array([len(data)], dtype=np.int64),
    }
    for key, q in QUANTILES.items():
        out[key] = np.quantile(data, q, axis=0)
    return out


def image_histogram(frames: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.int64]:
    """Pixel-value counts per channel (3, 256) over RGB ``frames`` (a camera frame held over
    several frames, the same array, is counted once and weighted)."""
    hist = np.zeros((3, 256), dtype=np.int64)
    repeats: dict[int, int] = {}
    distinct: list[npt.NDArray[np.uint8]] = []
    for frame in frames:
        if id(frame) not in repeats:
            distinct.append(frame)
        repeats[id(frame)] = repeats.get(id(frame), 0) + 1
    for frame in distinct:
        for c in range(3):
            counts = cv2.calcHist([frame], [c], None, [256], [0, 256])
            hist[c] += np.rint(counts.reshape(-1)).astype(np.int64) * repeats[id(frame)]
    return hist


def image(hist: npt.NDArray[np.int64], frames: int) -> dict[str, np.ndarray]:
    """Per-channel stats (3, 1, 1) in [0, 1] from a (3, 256) histogram of ``frames`` frames."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    total = hist.sum(axis=1).astype(np.float64)
    mean = (hist * levels).sum(axis=1) / total
    var = (hist * (levels[None, :] - mean[:, None]) ** 2).sum(axis=1) / total
    nonzero = hist > 0
    first = np.argmax(nonzero, axis=1)
    last = 255 - np.argmax(nonzero[:, ::-1], axis=1)
    cdf = np.cumsum(hist, axis=1) / total[:, None]
    out: dict[str, np.ndarray] = {
        "min": levels[first],
        "max": levels[last],
        "mean": mean,
        "std": np.sqrt(var),
    }
    for key, q in QUANTILES.items():
        out[key] = levels[np.argmax(cdf >= q - 1e-12, axis=1)]
    shaped = {k: v.reshape(3, 1, 1) for k, v in out.items()}
    shaped["count"] = np.array([frames], dtype=np.int64)
    return shaped


def to_json(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """Stats as JSON-ready nested lists."""
    return {
        feature: {k: np.asarray(v).tolist() for k, v in s.items()} for feature, s in stats.items()
    }
