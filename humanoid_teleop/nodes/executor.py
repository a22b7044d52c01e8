"""The rclpy executor our nodes spin with."""

from __future__ import annotations

from rclpy.executors import Executor, SingleThreadedExecutor


def preferred_executor() -> Executor:
    """The C++ events executor when this rclpy has it (far less CPU per callback than the
    Python executors), else the standard single-threaded one."""
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor()
    executor: Executor = EventsExecutor()
    return executor
