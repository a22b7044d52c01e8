"""Feature statistics in LeRobot's form."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.export import stats


def test_image_stats_from_histograms_equal_numpy_over_every_pixel() -> None:
    """Per-channel image stats from histograms equal numpy's over the pixels, in [0, 1]."""
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(5)]
    result = stats.image(stats.image_histogram(frames), len(frames))
    pixels = np.stack(frames).reshape(-1, 3) / 255.0
    np.testing.assert_allclose(result["mean"].reshape(3), pixels.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(result["std"].reshape(3), pixels.std(axis=0), atol=1e-12)
    np.testing.assert_allclose(result["max"].reshape(3), pixels.max(axis=0))
    assert result["q50"].shape == (3, 1, 1) and result["count"].tolist() == [5]
    q = np.quantile(pixels, 0.5, axis=0, method="inverted_cdf")
    np.testing.assert_allclose(result["q50"].reshape(3), q)


def test_histograms_of_two_episodes_add_up_to_the_dataset_stats() -> None:
    """Adding per-episode histograms gives exactly the stats of all frames together."""
    rng = np.random.default_rng(4)
    a = [rng.integers(0, 200, (8, 8, 3), dtype=np.uint8) for _ in range(3)]
    b = [rng.integers(50, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2)]
    merged = stats.image(stats.image_histogram(a) + stats.image_histogram(b), 5)
    together = stats.image(stats.image_histogram(a + b), 5)
    for key, value in together.items():
        np.testing.assert_array_equal(merged[key], value)


def test_held_frames_count_like_their_copies() -> None:
    """A frame array repeated in the list counts exactly as that many equal copies."""
    rng = np.random.default_rng(5)
    a, b = (rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2))
    held = [a, a, b, a, b, b, b]
    np.testing.assert_array_equal(
        stats.image_histogram(held), stats.image_histogram([f.copy() for f in held])
    )


def test_numeric_stats_have_every_lerobot_key_per_dimension() -> None:
    """Vector features get min/max/mean/std/count and q01..q99 per dimension."""
    result = stats.numeric(np.arange(20.0).reshape(10, 2))
    assert set(result) == {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"}
    assert result["mean"].tolist() == [9.0, 10.0] and result["count"].tolist() == [10]
