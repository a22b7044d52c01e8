"""Operator devices: the hardware and browser side of the device nodes.

One folder per device, each pure Python behind an injectable transport (a socket, an evdev
file descriptor, a serial port, a video capture) so tests drive the real code with recorded
or simulated input. Nothing here imports rclpy; the nodes in ``humanoid_teleop.nodes`` do.
"""
