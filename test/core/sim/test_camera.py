"""The OpenCV scene renderer: projection, table, capsules, shadows, clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanoid_teleop.core.sim import (
    BODY_TO_OPTICAL,
    Capsule,
    PinholeCamera,
    SceneRenderer,
    SimConfigError,
    TableConfig,
)

CAMERA = PinholeCamera(width_px=320, height_px=240, hfov_rad=math.radians(90.0))
TABLE = TableConfig(height_m=0.0)
BLUE = (40, 60, 220)


def _looking_down(pitch_deg: float = 40.0) -> np.ndarray:
    """Optical-frame rotation of a camera facing +x, pitched down by ``pitch_deg``."""
    p = math.radians(pitch_deg)
    pitch = np.array(
        [[math.cos(p), 0.0, math.sin(p)], [0.0, 1.0, 0.0], [-math.sin(p), 0.0, math.cos(p)]]
    )
    return pitch @ BODY_TO_OPTICAL


EYE = np.array([0.0, 0.0, 0.5])


def _arm(tip_y: float) -> list[Capsule]:
    return [Capsule(np.array([0.2, 0.0, 0.3]), np.array([0.5, tip_y, 0.1]), 0.04, BLUE)]


def test_point_on_the_optical_axis_projects_to_the_principal_point() -> None:
    """A point straight ahead lands on (cx, cy); focal length follows from the fov."""
    uv = CAMERA.project(np.array([[0.0, 0.0, 2.0]]))
    np.testing.assert_allclose(uv[0], CAMERA.center_px)
    assert CAMERA.focal_px == pytest.approx(160.0)
    assert CAMERA.k_matrix()[0] == pytest.approx(160.0)


def test_body_to_optical_maps_forward_to_the_image_centre() -> None:
    """With the body convention (x forward) a point ahead of the camera is in the centre."""
    renderer = SceneRenderer(CAMERA, None)
    ahead = [Capsule(np.array([1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), 0.05, BLUE)]
    image = renderer.render(BODY_TO_OPTICAL, np.zeros(3), ahead)
    cx, cy = (round(c) for c in CAMERA.center_px)
    assert tuple(image[cy, cx]) != tuple(renderer.render(BODY_TO_OPTICAL, np.zeros(3), [])[cy, cx])


def test_image_has_the_camera_size_and_rgb8_layout() -> None:
    """Rendered images are H×W×3 uint8."""
    image = SceneRenderer(CAMERA, TABLE).render(_looking_down(), EYE, _arm(0.0))
    assert image.shape == (240, 320, 3)
    assert image.dtype == np.uint8


def test_table_is_visible_below_the_horizon() -> None:
    """Looking down at the table, the bottom-centre pixel has the table's colour."""
    image = SceneRenderer(CAMERA, TABLE).render(_looking_down(), EYE, [])
    r, g, b = (int(c) for c in image[200, 160])
    assert r > g > b  # brown wood, unlike the grey wall


def test_moving_the_arm_changes_the_image() -> None:
    """Two arm poses 10 cm apart give images differing in many pixels."""
    renderer = SceneRenderer(CAMERA, TABLE)
    before = renderer.render(_looking_down(), EYE, _arm(0.0))
    after = renderer.render(_looking_down(), EYE, _arm(0.1))
    changed = np.any(before != after, axis=2).sum()
    assert changed > 500


def test_same_pose_renders_the_same_image() -> None:
    """Rendering is deterministic: the same scene gives identical pixels."""
    renderer = SceneRenderer(CAMERA, TABLE)
    a = renderer.render(_looking_down(), EYE, _arm(0.05))
    b = renderer.render(_looking_down(), EYE, _arm(0.05))
    np.testing.assert_array_equal(a, b)


def test_capsule_behind_the_camera_is_not_drawn() -> None:
    """Geometry behind the camera leaves the image unchanged."""
    renderer = SceneRenderer(CAMERA, TABLE)
    behind = [Capsule(np.array([-0.5, 0.0, 0.5]), np.array([-0.8, 0.1, 0.4]), 0.05, BLUE)]
    empty = renderer.render(_looking_down(), EYE, [])
    np.testing.assert_array_equal(renderer.render(_looking_down(), EYE, behind), empty)


def test_capsule_crossing_the_camera_plane_is_clipped_not_dropped() -> None:
    """A segment from behind the camera to the table in front is still drawn."""
    renderer = SceneRenderer(CAMERA, TABLE)
    crossing = [Capsule(np.array([-0.3, 0.0, 0.4]), np.array([0.6, 0.0, 0.05]), 0.03, BLUE)]
    empty = renderer.render(_looking_down(), EYE, [])
    drawn = renderer.render(_looking_down(), EYE, crossing)
    assert np.any(drawn != empty, axis=2).sum() > 200


def test_hand_above_the_table_casts_a_shadow_on_it() -> None:
    """A hand hovering over the table darkens the table directly below it."""
    renderer = SceneRenderer(CAMERA, TABLE)
    hover = [Capsule(np.array([0.5, 0.0, 0.02]), np.array([0.5, 0.0, 0.02]), 0.03, BLUE)]
    empty = renderer.render(_looking_down(), EYE, [])
    shadowed = renderer.render(_looking_down(), EYE, hover)
    cam_to_world = _looking_down()
    below = (np.array([0.5, 0.0, 0.0]) - EYE) @ cam_to_world
    u, v = (round(c) for c in CAMERA.project(below[None, :])[0])
    # the hand hides part of its shadow; just below the hand in the image the table is darker
    ratio = shadowed[v + 7, u].astype(float) / empty[v + 7, u].astype(float)
    np.testing.assert_allclose(ratio, 0.55, atol=0.03)


def test_field_of_view_of_180_degrees_is_refused() -> None:
    """A pinhole camera cannot see 180°: SimConfigError names the value."""
    with pytest.raises(SimConfigError, match=r"field of view 3\.14"):
        PinholeCamera(640, 480, math.pi)
