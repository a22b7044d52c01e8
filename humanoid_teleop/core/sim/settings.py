"""Settings of the simulated robot and of the replay operator, validated in one place.

Both nodes read their ROS parameters into a mapping and build these with ``from_dict``, which
rejects unknown keys and names the source, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.sim.contact import TableConfig
from humanoid_teleop.core.sim.errors import SimConfigError

_T = TypeVar("_T")


def _typed(
    cls: type[_T], data: Mapping[str, Any], source: str, nonfinite: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check keys and value types of ``data`` against the dataclass ``cls`` (the config
    layer's rules: unknown keys listed, numbers finite unless named in ``nonfinite``)."""
    return Field.of(data, source, (), SimConfigError).as_fields_of(cls, nonfinite)


def _positive(source: str, name: str, value: float, unit: str) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise SimConfigError(f"{source}: {name}: {value} must be a finite number > 0 {unit}")


#: Simulator backends of sim_robot_node.
BACKENDS = ("mujoco", "kinematic")


@dataclass(frozen=True)
class SimRobotSettings:
    """Parameters of ``sim_robot_node``.

    ``backend``: ``mujoco`` (physics: contacts, grasps, joint efforts, rendered cameras,
    ``scene`` from ``config/sim/scenes`` or a path, empty for the robot alone; ``seed`` draws
    the objects' start poses; ``publish_depth`` adds a 16UC1 [mm] image per camera on
    ``<topic>/depth``; ``mark_outcome`` reports the task detector's verdict to the recorder)
    or ``kinematic`` (joints follow commands through a lag; capsule drawings; a spring table).
    Rates in [Hz]; ``lag_s`` is the joints' first-order lag [s]; joints move within the
    model's ``motion_limits``. ``camera_width``/``height``
    [px] override robot.yaml's (0 keeps it; the field of view is kept). Table values are in
    the base frame [m]; NaN height / near edge means automatic: 5 cm below the lower hand
    at home, 10 cm behind the nearer wrist.
    """

    robot: str = "g1"
    backend: str = "mujoco"
    scene: str = ""
    seed: int = 0
    publish_depth: bool = False
    mark_outcome: bool = False
    joint_state_rate_hz: float = 250.0
    tf_rate_hz: float = 50.0
    wrench_rate_hz: float = 100.0
    camera_rate_hz: float = 30.0
    lag_s: float = 0.03
    camera_width: int = 0
    camera_height: int = 0
    publish_raw_images: bool = True
    publish_jpeg_images: bool = True
    jpeg_quality: int = 80
    table: bool = True
    table_height_m: float = math.nan
    table_x_min_m: float = math.nan
    table_depth_m: float = 0.6
    table_width_m: float = 1.2
    table_stiffness_n_m: float = 2000.0
    table_damping_n_s_m: float = 40.0
    table_friction: float = 0.5
    table_max_force_n: float = 100.0

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str = "sim_robot_node parameters"
    ) -> SimRobotSettings:
        """Build and validate; errors name ``source`` and the parameter."""
        settings = cls(**_typed(cls, data, source, ("table_height_m", "table_x_min_m")))
        if not settings.robot:
            raise SimConfigError(f"{source}: robot: empty; name a robot (humanoid-teleop robots)")
        if settings.backend not in BACKENDS:
            raise SimConfigError(
                f"{source}: backend: {settings.backend!r}; allowed: {', '.join(BACKENDS)}"
            )
        for name in ("joint_state_rate_hz", "tf_rate_hz", "wrench_rate_hz", "camera_rate_hz"):
            _positive(source, name, getattr(settings, name), "[Hz]")
        if not (math.isfinite(settings.lag_s) and settings.lag_s >= 0.0):
            raise SimConfigError(f"{source}: lag_s: {settings.lag_s} must be >= 0 [s]")
        for name in ("camera_width", "camera_height"):
            if getattr(settings, name) < 0:
                raise SimConfigError(f"{source}: {name}: must be >= 0 (0: use robot.yaml)")
        if not 1 <= settings.jpeg_quality <= 100:
            raise SimConfigError(
                f"{source}: jpeg_quality: {settings.jpeg_quality}; allowed: 1..100"
            )
        _positive(source, "table_depth_m", settings.table_depth_m, "[m]")
        _positive(source, "table_width_m", settings.table_width_m, "[m]")
        for name in (
            "table_stiffness_n_m",
            "table_damping_n_s_m",
            "table_friction",
            "table_max_force_n",
        ):
            value = getattr(settings, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise SimConfigError(f"{source}: {name}: {value} must be >= 0")
        return settings

    def table_config(self, automatic: TableConfig) -> TableConfig:
        """The table: these settings, with NaN height / near edge taken from ``automatic``."""
        height = automatic.height_m if math.isnan(self.table_height_m) else self.table_height_m
        x_min = automatic.x_min_m if math.isnan(self.table_x_min_m) else self.table_x_min_m
        return TableConfig(
            height_m=height,
            x_min_m=x_min,
            x_max_m=x_min + self.table_depth_m,
            y_min_m=-0.5 * self.table_width_m,
            y_max_m=0.5 * self.table_width_m,
            stiffness_n_m=self.table_stiffness_n_m,
            damping_n_s_m=self.table_damping_n_s_m,
            friction=self.table_friction,
            max_force_n=self.table_max_force_n,
        )


@dataclass(frozen=True)
class ReplaySettings:
    """Parameters of ``replay_node``.

    ``motion``: a BVH clip or a recorded bag folder (empty: the clip shipped with the package);
    ``rate_scale``: playback speed (1.0 as recorded); ``skip_frames``: BVH frames dropped at the
    start (CMU clips open with a T-pose and a 4-frame blend); ``calibration_frame``: the frame
    (after skipping) that defines the operator frame; ``frame_id`` of published poses;
    ``wait_for_subscriber``: start playing only once every output topic has a subscriber, or
    2 s after the first one appeared (nothing is lost to discovery; the clip starts when the
    teleop node listens). ``hands``: optional (N, 21, 3) MediaPipe right-hand keypoints in
    dex-retargeting's MANO wrist frame (``.npy``), played at ``hands_rate_hz`` [Hz] on both
    hands (mirrored for the left) at the BVH wrist poses; empty: no hand topics.
    """

    motion: str = ""
    loop: bool = True
    wait_for_subscriber: bool = True
    rate_scale: float = 1.0
    skip_frames: int = 5
    calibration_frame: int = 0
    frame_id: str = "operator"
    hands: str = ""
    hands_rate_hz: float = 30.0

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str = "replay_node parameters"
    ) -> ReplaySettings:
        """Build and validate; errors name ``source`` and the parameter."""
        settings = cls(**_typed(cls, data, source))
        _positive(source, "rate_scale", settings.rate_scale, "(1.0 plays at recorded speed)")
        _positive(source, "hands_rate_hz", settings.hands_rate_hz, "[Hz]")
        if settings.skip_frames < 0:
            raise SimConfigError(f"{source}: skip_frames: {settings.skip_frames} must be >= 0")
        if settings.calibration_frame < 0:
            raise SimConfigError(
                f"{source}: calibration_frame: {settings.calibration_frame} must be >= 0"
            )
        if not settings.frame_id:
            raise SimConfigError(f"{source}: frame_id: must not be empty")
        return settings
