"""Robot descriptions: ``robots/<name>/robot.yaml`` + a kinematic model, validated.

>>> from humanoid_teleop.core.robot import RobotModel, load_robot
>>> model = RobotModel(load_robot("g1"))
>>> rotation, position = model.fk(model.home_positions(), "left_hand_palm_link")
"""

from humanoid_teleop.core.robot.errors import (
    JointLimitsError,
    RobotConfigError,
    RobotModelError,
    RobotNotFoundError,
)
from humanoid_teleop.core.robot.limits import DEFAULT_VELOCITY_RAD_S, JointLimits
from humanoid_teleop.core.robot.loader import (
    RobotEntry,
    find_robot_file,
    list_robots,
    load_robot,
    robot_model_hash,
)
from humanoid_teleop.core.robot.locate import ROBOTS_PATH_ENV, robot_search_path
from humanoid_teleop.core.robot.model import RobotModel, per_model_and_side
from humanoid_teleop.core.robot.schema import (
    ArmSpec,
    CameraSpec,
    FixedTransform,
    FrameSpec,
    HandSpec,
    HeadSpec,
    InterfaceSpec,
    JointLimitOverride,
    LimitsSpec,
    ModelSource,
    RobotDescription,
    SensorsSpec,
    WrenchSpec,
    rpy_to_matrix,
)

__all__ = [
    "DEFAULT_VELOCITY_RAD_S",
    "ROBOTS_PATH_ENV",
    "ArmSpec",
    "CameraSpec",
    "FixedTransform",
    "FrameSpec",
    "HandSpec",
    "HeadSpec",
    "InterfaceSpec",
    "JointLimitOverride",
    "JointLimits",
    "JointLimitsError",
    "LimitsSpec",
    "ModelSource",
    "RobotConfigError",
    "RobotDescription",
    "RobotEntry",
    "RobotModel",
    "RobotModelError",
    "RobotNotFoundError",
    "SensorsSpec",
    "WrenchSpec",
    "find_robot_file",
    "list_robots",
    "load_robot",
    "per_model_and_side",
    "robot_model_hash",
    "robot_search_path",
    "rpy_to_matrix",
]
