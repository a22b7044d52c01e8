"""humanoid_teleop: humanoid teleoperation and synchronized recording for ROS 2."""

__version__ = "0.1.0"
