"""Turn a session plan into a ROS 2 launch description (needs a sourced distro's ``launch``).

The launch files in ``launch/`` are three lines each: they pick which nodes of the plan to
start. Arguments are the fields of :class:`SessionArgs`, so ``ros2 launch`` and
``humanoid-teleop bringup`` accept the same names and defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from humanoid_teleop.session.plan import NodeSpec, SessionArgs

Selector = Callable[[SessionArgs], tuple[NodeSpec, ...]]


def launch_arguments() -> dict[str, str]:
    """Launch argument name → default value as launch text (``true``/``false`` for flags)."""
    defaults: dict[str, str] = {}
    for f in dataclasses.fields(SessionArgs):
        value = f.default
        defaults[f.name] = str(value).lower() if isinstance(value, bool) else str(value)
    return defaults


def launch_description(select: Selector, source: str) -> Any:
    """A ``LaunchDescription`` declaring every session argument and starting ``select(args)``."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def nodes(context: Any) -> list[Any]:
        values = {name: LaunchConfiguration(name).perform(context) for name in launch_arguments()}
        args = SessionArgs.from_strings(values, source)
        return [
            Node(
                package="humanoid_teleop",
                executable=spec.executable,
                name=spec.name,
                parameters=[dict(spec.parameters)],
                output="screen",
            )
            for spec in select(args)
        ]

    declared = [
        DeclareLaunchArgument(name, default_value=default)
        for name, default in launch_arguments().items()
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=nodes)])
