"""Render what a simulated pinhole camera sees: a table, props and the robot as capsules.

Everything is drawn with OpenCV from geometry in the robot's base frame (REP-103). The camera
pose is given as its *optical* frame (x right, y down, z forward, as in ``CameraInfo``) in the
base frame. Capsules are drawn far to near (painter's algorithm) with depth shading, and cast
shadows straight down onto the table, so the image changes visibly whenever the robot moves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from humanoid_teleop.core.sim.contact import TableConfig
from humanoid_teleop.core.sim.errors import SimConfigError

FloatArray = NDArray[np.float64]
ImageRGB = NDArray[np.uint8]
#: Maps base-frame points (N×3) to optical-frame points (N×3).
_ToCam = Callable[[FloatArray], FloatArray]

#: Rotation from a camera body frame (x forward, y left, z up) to its optical frame.
BODY_TO_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])

#: Points closer than this to the camera plane [m] are clipped away.
NEAR_M = 0.02
#: Capsules passing closer than their radius plus this to the camera [m] are not drawn.
CAMERA_CLEARANCE_M = 0.03

_SUBPIXEL_BITS = 4
_SUBPIXEL = float(1 << _SUBPIXEL_BITS)
_TABLE_RGB = (150, 112, 74)
_TABLE_EDGE_RGB = (110, 80, 52)
_GRID_RGB = (132, 97, 63)
_SHADOW_GAIN = 0.55


@dataclass(frozen=True)
class PinholeCamera:
    """An ideal pinhole camera: image size [px] and horizontal field of view [rad]."""

    width_px: int
    height_px: int
    hfov_rad: float

    def __post_init__(self) -> None:
        if self.width_px <= 0 or self.height_px <= 0:
            raise SimConfigError(
                f"camera size {self.width_px}x{self.height_px} px must be positive"
            )
        if not 0.0 < self.hfov_rad < math.pi:
            raise SimConfigError(
                f"camera horizontal field of view {self.hfov_rad} rad must be in (0, pi)"
            )

    @property
    def focal_px(self) -> float:
        """Focal length in [px] (square pixels)."""
        return 0.5 * self.width_px / math.tan(0.5 * self.hfov_rad)

    @property
    def center_px(self) -> tuple[float, float]:
        """Principal point (cx, cy) in [px]."""
        return 0.5 * (self.width_px - 1), 0.5 * (self.height_px - 1)

    def k_matrix(self) -> tuple[float, ...]:
        """Row-major 3×3 intrinsic matrix, as ``sensor_msgs/CameraInfo.k``."""
        f = self.focal_px
        cx, cy = self.center_px
        return (f, 0.0, cx, 0.0, f, cy, 0.0, 0.0, 1.0)

    def p_matrix(self) -> tuple[float, ...]:
        """Row-major 3×4 projection matrix, as ``sensor_msgs/CameraInfo.p`` (monocular)."""
        f = self.focal_px
        cx, cy = self.center_px
        return (f, 0.0, cx, 0.0, 0.0, f, cy, 0.0, 0.0, 0.0, 1.0, 0.0)

    def project(self, points_optical_m: FloatArray) -> FloatArray:
        """Pixel coordinates (N×2) of points (N×3) in the optical frame with z > 0."""
        pts = np.atleast_2d(points_optical_m)
        cx, cy = self.center_px
        f = self.focal_px
        return np.stack([f * pts[:, 0] / pts[:, 2] + cx, f * pts[:, 1] / pts[:, 2] + cy], axis=1)


@dataclass(frozen=True)
class Capsule:
    """A segment with a radius [m] and an RGB colour, endpoints in the base frame [m]."""

    start_m: FloatArray
    end_m: FloatArray
    radius_m: float
    color_rgb: tuple[int, int, int]


class SceneRenderer:
    """Draws the table, static props and moving capsules into an RGB image."""

    def __init__(
        self,
        camera: PinholeCamera,
        table: TableConfig | None,
        props: Sequence[Capsule] = (),
    ) -> None:
        self.camera = camera
        self.table = table
        self.props = tuple(props)
        self._background = _wall_gradient(camera.width_px, camera.height_px)
        self._layer_key = b""
        self._layer: tuple[ImageRGB, NDArray[np.uint8]] = (
            self._background,
            self._background[..., 0],
        )

    def render(
        self,
        optical_rotation: FloatArray,
        optical_position_m: FloatArray,
        capsules: Sequence[Capsule],
    ) -> ImageRGB:
        """Image (H×W×3, uint8, RGB) seen from the optical frame placed in the base frame."""
        rotation = np.asarray(optical_rotation, dtype=np.float64)
        origin = np.asarray(optical_position_m, dtype=np.float64)
        image, table_mask = self._table_layer(rotation, origin)
        everything = (*self.props, *capsules)
        if not everything:
            return image
        world = np.array([[c.start_m, c.end_m] for c in everything], dtype=np.float64)
        radii = np.array([c.radius_m for c in everything], dtype=np.float64)
        colours = np.array([c.color_rgb for c in everything], dtype=np.float64)
        if self.table is not None:
            self._draw_shadows(image, table_mask, rotation, origin, world, radii)
        cam = (world - origin) @ rotation  # rows: points in the optical frame
        keep = _distances_to_origin(cam) >= radii + CAMERA_CLEARANCE_M
        mean_depth = cam[:, :, 2].mean(axis=1)
        shade = np.clip(1.25 - 0.35 * np.clip(mean_depth, NEAR_M, None), 0.45, 1.0)
        base = (colours * shade[:, None]).astype(np.int32)
        light = np.minimum(255.0, colours * shade[:, None] + 60.0).astype(np.int32)
        lines = self._project_segments(cam, radii)
        highlights = self._project_segments(cam, 0.35 * radii)
        for i in np.argsort(-mean_depth, kind="stable"):
            if keep[i]:
                lines.draw(image, int(i), tuple(int(c) for c in base[i]))
                highlights.draw(image, int(i), tuple(int(c) for c in light[i]))
        return image

    def _table_layer(
        self, rotation: FloatArray, origin: FloatArray
    ) -> tuple[ImageRGB, NDArray[np.uint8]]:
        """Background + table (and its mask) for a camera pose; cached while the pose holds."""
        key = rotation.tobytes() + origin.tobytes()
        if self._layer_key != key:
            image = self._background.copy()
            mask = np.zeros(image.shape[:2], dtype=np.uint8)
            if self.table is not None:

                def to_cam(points: FloatArray) -> FloatArray:
                    return (np.atleast_2d(points) - origin) @ rotation

                mask = self._draw_table(image, to_cam, self.table)
            self._layer = (image, mask)
            self._layer_key = key
        return self._layer[0].copy(), self._layer[1]

    def _draw_table(self, image: ImageRGB, to_cam: _ToCam, table: TableConfig) -> NDArray[np.uint8]:
        h = table.height_m
        top = np.array(
            [
                [table.x_min_m, table.y_min_m, h],
                [table.x_max_m, table.y_min_m, h],
                [table.x_max_m, table.y_max_m, h],
                [table.x_min_m, table.y_max_m, h],
            ]
        )
        front = np.array(
            [
                [table.x_min_m, table.y_min_m, h],
                [table.x_min_m, table.y_max_m, h],
                [table.x_min_m, table.y_max_m, h - 0.06],
                [table.x_min_m, table.y_min_m, h - 0.06],
            ]
        )
        mask = np.zeros(image.shape[:2], dtype=np.uint8)
        self._fill_polygon(mask, to_cam(top), 255)
        self._fill_polygon(image, to_cam(top), _TABLE_RGB)
        self._fill_polygon(image, to_cam(front), _TABLE_EDGE_RGB)
        step = 0.1
        for x in np.arange(table.x_min_m + step, table.x_max_m, step):
            self._line(image, to_cam(np.array([[x, table.y_min_m, h], [x, table.y_max_m, h]])))
        for y in np.arange(table.y_min_m + step, table.y_max_m, step):
            self._line(image, to_cam(np.array([[table.x_min_m, y, h], [table.x_max_m, y, h]])))
        return mask

    def _draw_shadows(
        self,
        image: ImageRGB,
        table_mask: NDArray[np.uint8],
        rotation: FloatArray,
        origin: FloatArray,
        world: FloatArray,
        radii: FloatArray,
    ) -> None:
        """Darken the table straight below every capsule that is (partly) above it."""
        assert self.table is not None
        height = self.table.height_m
        above = np.any(world[:, :, 2] >= height, axis=1)
        if not np.any(above):
            return
        flat = world[above].copy()
        flat[:, :, 2] = height
        shadows = self._project_segments((flat - origin) @ rotation, radii[above])
        layer = np.zeros_like(table_mask)
        for i in range(len(flat)):
            shadows.draw(layer, i, 255, cv2.LINE_8)  # a binary mask: no anti-aliasing
        hit = cv2.bitwise_and(layer, table_mask)
        dark = cv2.convertScaleAbs(image, alpha=_SHADOW_GAIN)
        cv2.copyTo(dark, hit, image)  # in place: image takes dark where hit (40× np.copyto)

    def _project_segments(self, cam: FloatArray, radii: FloatArray) -> _PixelSegments:
        """Near-plane clipping, projection and pixel thickness of N segments (N×2×3)."""
        a, b = cam[:, 0, :], cam[:, 1, :]
        za, zb = a[:, 2], b[:, 2]
        behind_a, behind_b = za < NEAR_M, zb < NEAR_M
        visible = ~(behind_a & behind_b)
        dz = zb - za
        t = np.divide(NEAR_M - za, dz, out=np.zeros_like(dz), where=dz != 0.0)
        cut = a + t[:, None] * (b - a)
        a = np.where(behind_a[:, None], cut, a)
        b = np.where(behind_b[:, None], cut, b)
        depth = np.where(visible, 0.5 * (a[:, 2] + b[:, 2]), 1.0)
        a = np.where(visible[:, None], a, 1.0)  # placeholders in front of the camera
        b = np.where(visible[:, None], b, 1.0)
        uv_a, uv_b = self.camera.project(a), self.camera.project(b)
        thickness = np.maximum(1, np.round(2.0 * radii * self.camera.focal_px / depth))
        limit = 4 * max(self.camera.width_px, self.camera.height_px)
        drawable = (
            visible
            & (thickness <= limit)  # larger: the camera is inside the capsule
            & np.all(np.abs(uv_a) < 1e6, axis=1)
            & np.all(np.abs(uv_b) < 1e6, axis=1)
        )
        return _PixelSegments(
            np.round(uv_a * _SUBPIXEL).astype(np.int64),
            np.round(uv_b * _SUBPIXEL).astype(np.int64),
            np.where(drawable, thickness, 0).astype(np.int64),
        )

    def _line(self, image: ImageRGB, ends_cam: FloatArray) -> None:
        clipped = _clip_segment(ends_cam)
        if clipped is None:
            return
        uv = self.camera.project(clipped)
        if not _inside_drawable(uv):
            return
        cv2.line(
            image,
            _fixed_point(uv[0]),
            _fixed_point(uv[1]),
            _GRID_RGB,
            1,
            cv2.LINE_AA,
            _SUBPIXEL_BITS,
        )

    def _fill_polygon(
        self, image: NDArray[np.uint8], corners_cam: FloatArray, color: tuple[int, ...] | int
    ) -> None:
        clipped = _clip_polygon(corners_cam)
        if len(clipped) < 3:
            return
        uv = self.camera.project(clipped)
        if not _inside_drawable(uv):
            return
        points = np.round(uv * _SUBPIXEL).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(image, [points], color, cv2.LINE_AA, _SUBPIXEL_BITS)


@dataclass(frozen=True)
class _PixelSegments:
    """Segments in fixed-point pixels (``_SUBPIXEL_BITS``); thickness 0 means not drawable."""

    start: NDArray[np.int64]
    end: NDArray[np.int64]
    thickness: NDArray[np.int64]

    def draw(
        self,
        image: NDArray[np.uint8],
        i: int,
        color: tuple[int, ...] | int,
        line_type: int = cv2.LINE_AA,
    ) -> None:
        width = int(self.thickness[i])
        if width > 0:
            a = (int(self.start[i, 0]), int(self.start[i, 1]))
            b = (int(self.end[i, 0]), int(self.end[i, 1]))
            cv2.line(image, a, b, color, width, line_type, _SUBPIXEL_BITS)


def _distances_to_origin(segments: FloatArray) -> FloatArray:
    """Distance [m] from the camera centre to each segment (N×2×3, optical frame)."""
    a, b = segments[:, 0, :], segments[:, 1, :]
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.divide(
        -np.einsum("ij,ij->i", a, ab), length2, out=np.zeros_like(length2), where=length2 > 0
    )
    closest = a + np.clip(t, 0.0, 1.0)[:, None] * ab
    return np.asarray(np.linalg.norm(closest, axis=1))


def _clip_segment(ends: FloatArray) -> FloatArray | None:
    """The part of a segment (2×3, optical frame) in front of the near plane, or None."""
    a, b = ends[0], ends[1]
    if a[2] < NEAR_M and b[2] < NEAR_M:
        return None
    if a[2] < NEAR_M or b[2] < NEAR_M:
        t = (NEAR_M - a[2]) / (b[2] - a[2])
        cut = a + t * (b - a)
        a, b = (cut, b) if a[2] < NEAR_M else (a, cut)
    return np.stack([a, b])


def _clip_polygon(corners: FloatArray) -> FloatArray:
    """Sutherland–Hodgman clip of a polygon (N×3, optical frame) by the near plane."""
    out: list[FloatArray] = []
    n = len(corners)
    for i in range(n):
        cur, nxt = corners[i], corners[(i + 1) % n]
        cur_in, nxt_in = cur[2] >= NEAR_M, nxt[2] >= NEAR_M
        if cur_in:
            out.append(cur)
        if cur_in != nxt_in:
            t = (NEAR_M - cur[2]) / (nxt[2] - cur[2])
            out.append(cur + t * (nxt - cur))
    return np.array(out).reshape(-1, 3)


def _inside_drawable(uv: FloatArray) -> bool:
    """OpenCV fixed-point coordinates must fit in int32 after the sub-pixel shift."""
    return bool(np.all(np.abs(uv) < 1e6))


def _fixed_point(uv: FloatArray) -> tuple[int, int]:
    return round(float(uv[0]) * _SUBPIXEL), round(float(uv[1]) * _SUBPIXEL)


def _wall_gradient(width_px: int, height_px: int) -> ImageRGB:
    """A light wall above a darker floor tone, so the background is not a flat colour."""
    t = np.linspace(0.0, 1.0, height_px, dtype=np.float32)[:, None]
    top = np.array([205, 214, 224], dtype=np.float32)
    bottom = np.array([120, 124, 132], dtype=np.float32)
    column = top[None, :] * (1.0 - t) + bottom[None, :] * t
    return np.repeat(column[:, None, :], width_px, axis=1).astype(np.uint8)
