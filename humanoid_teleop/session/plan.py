"""What a session runs: session arguments → an ordered list of node specifications.

Pure Python (no rclpy, no launch): used by ``humanoid-teleop bringup``, ``humanoid-teleop demo``
and ``launch/*.launch.py`` alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humanoid_teleop.core.errors import ConfigError, TeleopError

DEVICES: tuple[str, ...] = ("vr", "gamepad", "exo", "replay", "scripted")
"""Operator devices a session can use."""

DEVICE_NODES: Mapping[str, str] = {
    "vr": "vr_bridge_node",
    "gamepad": "gamepad_node",
    "exo": "exo_node",
    "replay": "replay_node",
    "scripted": "scripted_demo_node",
}
"""Executable that turns each device into ``/operator/*`` topics."""

ParamValue = str | int | float | bool


@dataclass(frozen=True)
class SessionArgs:
    """The arguments of ``teleop.launch.py`` and ``humanoid-teleop bringup``.

    Attributes:
        robot: Robot name (a folder under ``robots/`` or ``HUMANOID_TELEOP_ROBOTS_PATH``).
        device: One of :data:`DEVICES`.
        record: Start the recorder.
        sim: Start the simulated robot (otherwise the real robot's drivers must be running).
        profile: Teleop profile name or path; empty means the device's default profile.
        bag_dir: Folder for recorded episodes.
        motion: BVH clip or bag for ``device=replay``; empty: the clip shipped with the package.
        task: Language instruction stored with each episode.
        operator: Operator id stored with each episode.
        station: Station id stored with each episode; its episodes are named after it
            (``<station>_<UTC start>_<n>``), so that a centre's stations keep apart in one
            archive.
        rate_hz: Teleop command rate [Hz].
        engage: Engage the teleop node as soon as input arrives (for replay and demos).
        start_episode: Start recording an episode as soon as the recorder is up.
        scene: Simulator scene (config/sim/scenes) or a path; empty: none, or
            ``pick_and_place`` for the ``scripted`` device, whose task it performs.
        seed: Seed of the scene's randomised object start poses (the same seed, the same
            poses).
    """

    robot: str = "g1"
    device: str = "replay"
    record: bool = True
    sim: bool = True
    profile: str = ""
    bag_dir: str = "bags"
    motion: str = ""
    task: str = ""
    operator: str = ""
    station: str = ""
    rate_hz: float = 250.0
    engage: bool = False
    start_episode: bool = False
    scene: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(
                f"session argument 'device': {self.device!r} is not a device; "
                f"choose one of {', '.join(DEVICES)}"
            )
        if not self.robot:
            raise ConfigError("session argument 'robot' is empty; name a robot (robots list)")
        if not self.rate_hz > 0:
            raise ConfigError(f"session argument 'rate_hz': {self.rate_hz!r} must be > 0 [Hz]")

    @classmethod
    def from_strings(cls, values: Mapping[str, str], source: str = "arguments") -> SessionArgs:
        """Build from string values (launch configurations, CLI ``key:=value`` pairs)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(
                f"{source}: unknown session argument(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(fields)}"
            )
        parsed: dict[str, Any] = {}
        for key, text in values.items():
            default = fields[key].default
            if isinstance(default, bool):
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0"):
                    raise ConfigError(f"{source}: '{key}' must be true or false, got {text!r}")
                parsed[key] = lowered in ("true", "1")
            elif isinstance(default, int):
                try:
                    parsed[key] = int(text)
                except ValueError:
                    raise ConfigError(
                        f"{source}: '{key}' must be an integer, got {text!r}"
                    ) from None
            elif isinstance(default, float):
                try:
                    parsed[key] = float(text)
                except ValueError:
                    raise ConfigError(f"{source}: '{key}' must be a number, got {text!r}") from None
            else:
                parsed[key] = text
        return cls(**parsed)


@dataclass(frozen=True)
class NodeSpec:
    """One process of a session.

    Attributes:
        name: ROS node name, also the log prefix.
        executable: Console script installed by ``setup.py`` (what ``ros2 launch`` runs).
        module: Python module with ``main()`` (what ``bringup`` runs with ``python -m``).
        parameters: ROS parameters for the node.
        stop_rank: Lower stops first: operator input, then teleop, the robot, the recorder last.
        python_module: Module to run instead of ``humanoid_teleop.nodes.<executable>``.
    """

    name: str
    executable: str
    parameters: Mapping[str, ParamValue] = field(default_factory=dict)
    stop_rank: int = 0
    python_module: str = ""

    @property
    def module(self) -> str:
        return self.python_module or f"humanoid_teleop.nodes.{self.executable}"


def _device_spec(args: SessionArgs) -> NodeSpec:
    executable = DEVICE_NODES[args.device]
    params: dict[str, ParamValue] = {}
    if args.device == "replay":
        params = {"motion": args.motion, "loop": True}
    elif args.device == "scripted":
        params = {"robot": args.robot, "scene": session_scene(args)}
    return NodeSpec(args.device, executable, params, stop_rank=0)


def session_scene(args: SessionArgs) -> str:
    """The simulator scene of a session: the argument, else the scripted device's default
    (:func:`scripted_default_scene`)."""
    if args.scene or args.device != "scripted":
        return args.scene
    return scripted_default_scene(args.robot)


def scripted_default_scene(robot: str) -> str:
    """``pick_and_place``, or ``push`` for a robot without a hand on the side that scene
    grasps with (the shipped iCub model has no finger joints): push needs no grasp. A robot
    or scene that does not load gives ``pick_and_place``; the nodes then name the problem."""
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.core.sim.scene import load_scene

    try:
        hand = load_robot(robot).hands.get(load_scene("pick_and_place").hand)
    except TeleopError:
        return "pick_and_place"
    return "pick_and_place" if hand is not None and hand.kind != "none" else "push"


#: Teleop profile of devices without one of their own (their intent looks like replay's).
DEVICE_PROFILES: Mapping[str, str] = {"scripted": "replay"}


def teleop_spec(args: SessionArgs) -> NodeSpec:
    """The teleop node: retargeting + safety at ``rate_hz``."""
    return NodeSpec(
        "teleop",
        "teleop_node",
        {
            "robot": args.robot,
            "device": args.device,
            "profile": args.profile or DEVICE_PROFILES.get(args.device, ""),
            "rate_hz": args.rate_hz,
            "auto_engage": args.engage,
        },
        stop_rank=1,
    )


SIM_CAMERA_SIZE = (320, 240)
"""Simulated camera images [px] in a session. A 640×480 rgb8 frame (0.9 MB) exceeds Fast DDS's
shared-memory segment and goes as fragmented UDP over loopback, which on two cores floods the
socket buffers and loses small messages sent beside it; 320×240 fits. Full-size raw images
are exercised by the recorder's tests and ``bench/record.py``."""


def sim_spec(args: SessionArgs) -> NodeSpec:
    """The simulated humanoid (MuJoCo), in the session's scene; with a scene and a recorder
    the task detector's verdict becomes the episode's outcome."""
    width, height = SIM_CAMERA_SIZE
    params: dict[str, ParamValue] = {
        "robot": args.robot,
        "camera_width": width,
        "camera_height": height,
    }
    scene = session_scene(args)
    if scene:
        params["scene"] = scene
        params["seed"] = args.seed
        params["mark_outcome"] = args.record
    return NodeSpec("sim_robot", "sim_robot_node", params, stop_rank=2)


def recorder_spec(args: SessionArgs) -> NodeSpec:
    """The recorder; it stops last so it sees everything and closes the bag cleanly."""
    return NodeSpec(
        "recorder",
        "recorder_node",
        {
            "robot": args.robot,
            "bag_dir": str(Path(args.bag_dir)),
            "device": args.device,
            "task": args.task,
            "operator": args.operator,
            "station": args.station,
            "auto_start_episode": args.start_episode,
        },
        stop_rank=3,
    )


def session_plan(args: SessionArgs) -> tuple[NodeSpec, ...]:
    """Nodes of a full teleop session, in start order (recorder first, operator input last)."""
    specs: list[NodeSpec] = []
    if args.record:
        specs.append(recorder_spec(args))
    if args.sim:
        specs.append(sim_spec(args))
    specs.append(teleop_spec(args))
    specs.append(_device_spec(args))
    return tuple(specs)


def params_file_text(specs: tuple[NodeSpec, ...]) -> dict[str, Any]:
    """A ROS parameters file (``--params-file``) content for ``specs``, keyed by node name."""
    return {spec.name: {"ros__parameters": dict(spec.parameters)} for spec in specs}
