"""Pure-Python core: robot descriptions, motion, retargeting, safety and bag handling.

Nothing under this package may import rclpy; ``test/core/test_no_rclpy.py`` enforces it.
"""
