"""A teleop session: which nodes run with which parameters, and a supervisor that runs them.

``plan`` is shared by ``humanoid-teleop bringup`` and the launch files, so both start the same
executables with the same parameters.
"""
