"""ros2 launch humanoid_teleop sim.launch.py robot:=g1"""

from humanoid_teleop.session.launch_support import launch_description
from humanoid_teleop.session.plan import sim_spec


def generate_launch_description():
    return launch_description(lambda args: (sim_spec(args),), "sim.launch.py")
