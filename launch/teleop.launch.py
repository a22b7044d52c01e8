"""ros2 launch humanoid_teleop teleop.launch.py robot:=g1 device:=vr record:=true sim:=true"""

from humanoid_teleop.session.launch_support import launch_description
from humanoid_teleop.session.plan import session_plan


def generate_launch_description():
    return launch_description(session_plan, "teleop.launch.py")
