"""Pure parts of the simulated humanoid (integrator, contact, camera) and of clip replay."""

from humanoid_teleop.core.sim.camera import BODY_TO_OPTICAL, Capsule, PinholeCamera, SceneRenderer
from humanoid_teleop.core.sim.contact import TableConfig, TableContact, Wrench
from humanoid_teleop.core.sim.errors import InvalidCommand, SimConfigError, SimError
from humanoid_teleop.core.sim.integrator import JointIntegrator
from humanoid_teleop.core.sim.replay import ReplaySchedule
from humanoid_teleop.core.sim.trajectory import TrajectoryPlayback

__all__ = [
    "BODY_TO_OPTICAL",
    "Capsule",
    "InvalidCommand",
    "JointIntegrator",
    "PinholeCamera",
    "ReplaySchedule",
    "SceneRenderer",
    "SimConfigError",
    "SimError",
    "TableConfig",
    "TableContact",
    "TrajectoryPlayback",
    "Wrench",
]
