"""ros2 launch humanoid_teleop record.launch.py robot:=g1 bag_dir:=bags task:='wipe the table'"""

from humanoid_teleop.session.launch_support import launch_description
from humanoid_teleop.session.plan import recorder_spec


def generate_launch_description():
    return launch_description(lambda args: (recorder_spec(args),), "record.launch.py")
