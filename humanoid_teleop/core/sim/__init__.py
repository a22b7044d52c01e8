"""Pure parts of the simulated humanoid: joint integrator, contact model, camera renderer."""

from humanoid_teleop.core.sim.camera import BODY_TO_OPTICAL, Capsule, PinholeCamera, SceneRenderer
from humanoid_teleop.core.sim.contact import TableConfig, TableContact, Wrench
from humanoid_teleop.core.sim.errors import InvalidCommand, SimConfigError, SimError
from humanoid_teleop.core.sim.integrator import IntegratorLimits, JointIntegrator

__all__ = [
    "BODY_TO_OPTICAL",
    "Capsule",
    "IntegratorLimits",
    "InvalidCommand",
    "JointIntegrator",
    "PinholeCamera",
    "SceneRenderer",
    "SimConfigError",
    "SimError",
    "TableConfig",
    "TableContact",
    "Wrench",
]
