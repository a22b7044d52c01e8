"""``humanoid-teleop demo``: a whole teleop + recording session on a simulated humanoid.

Starts the recorder, the MuJoCo robot, the teleop node and a stand-in operator inside a
private loopback-only network: by default the scripted demonstrator picking the cube in the
``pick_and_place`` scene (the episode's outcome comes from the scene's success detector), or
with ``--device replay`` a replayed CMU mocap clip (annotated). Records one episode, then
prints ``bag: <path>``, the bag's summary, and how to open it in Foxglove.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from humanoid_teleop.cli.bringup import reexec_isolated_if_asked, report
from humanoid_teleop.core.errors import ConfigError, TeleopError
from humanoid_teleop.core.resources import FOXGLOVE_LAYOUTS
from humanoid_teleop.session.plan import SessionArgs, session_plan, session_scene
from humanoid_teleop.session.supervisor import SessionResult, Supervisor

#: Labels published during the episode: (seconds after engage, text). The shipped clip
#: (CMU 14_05) unscrews a bottle cap, then lifts the bottle to the mouth, then lowers it.
ANNOTATIONS: tuple[tuple[float, str], ...] = (
    (0.5, "unscrew cap"),
    (3.0, "lift bottle to mouth"),
    (6.5, "lower bottle"),
)

#: Default language instruction of a scripted episode, per shipped scene.
SCRIPTED_TASKS = {
    "pick_and_place": "pick up the cube and put it on the green disc",
    "push": "push the puck into the green disc",
}

SERVICES = (
    "/recorder/start_episode",
    "/recorder/stop_episode",
    "/teleop/engage",
    "/teleop/disengage",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a simulated teleop + recording session and print the bag",
        description=__doc__,
    )
    parser.add_argument("--robot", default="g1", help="any shipped robot (robots list)")
    parser.add_argument(
        "--device",
        default="scripted",
        choices=("scripted", "replay"),
        help="stand-in operator: the scripted demonstrator or the CMU clip replay",
    )
    parser.add_argument(
        "--scene", default="", help="simulator scene (default: pick_and_place when scripted)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the scene's object start poses (each seed its own layout)",
    )
    parser.add_argument(
        "--duration", type=float, default=0.0, help="episode length [s] (0: 35 scripted, 25 replay)"
    )
    parser.add_argument("--bag-dir", default="bags", help="folder for the episode")
    parser.add_argument("--task", default="", help="language instruction (default by device)")
    parser.add_argument(
        "--startup-timeout", type=float, default=90.0,
        help="[s] for the session's services and the robot's first joint states",
    )  # fmt: skip
    parser.add_argument(
        "--settle", type=float, default=3.0, help="wait after start-up before recording [s]"
    )
    parser.set_defaults(func=_run, isolated=True)


def _newest_bag(bag_dir: Path) -> Path | None:
    bags = [p.parent for p in bag_dir.glob("*/metadata.yaml")]
    return max(bags, key=lambda p: p.stat().st_mtime) if bags else None


def drive_episode(
    args: argparse.Namespace, stop: threading.Event, abort: Callable[[], str] | None = None
) -> str:
    """Wait for the session, record one annotated episode; returns the recorder's answer.
    ``abort`` is asked while the session starts: "" to go on, else why it cannot (a node
    exited), raised as a :class:`TeleopError` instead of waiting out the start-up timeout."""
    import rclpy
    from sensor_msgs.msg import JointState

    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.nodes.session_client import SessionClient

    joint_state_topic = load_robot(args.robot).sensors.joint_state_topic
    context = rclpy.Context()
    rclpy.init(context=context)
    client = SessionClient(context, "demo_operator")
    try:
        deadline = time.monotonic() + args.startup_timeout
        client.wait_for(SERVICES, args.startup_timeout, abort)
        # the teleop node refuses to engage before the robot's joint states arrive (a loaded
        # host can start the simulated robot seconds after the services are up)
        client.wait_for_message(
            joint_state_topic,
            JointState,
            max(0.0, deadline - time.monotonic()),
            "sim_robot",
            abort,
        )
        # Let every stream be discovered and matched before the episode starts, as an operator
        # would: samples sent while a reliable reader is still matching count as lost.
        client.spin_for(args.settle, abort)
        print(f"demo: session up; recording a {args.duration:.0f} s episode", flush=True)
        client.trigger("/recorder/start_episode")
        client.trigger("/teleop/engage")
        start = time.monotonic()
        scripted = args.device == "scripted"
        pending = [] if scripted else list(ANNOTATIONS)
        while not stop.is_set() and time.monotonic() - start < args.duration:
            elapsed = time.monotonic() - start
            while pending and pending[0][0] <= elapsed:
                client.annotate(pending.pop(0)[1])
            client.spin_for(0.1)
        client.trigger("/teleop/disengage")
        if not scripted:  # the scripted episode's outcome comes from the scene's detector
            client.mark_success(True)
        return client.trigger("/recorder/stop_episode")
    finally:
        client.close()
        rclpy.shutdown(context=context)
        context.destroy()  # the DDS participant goes now, not whenever the GC gets to it


def default_task(device: str, scene: str) -> str:
    """The language instruction of a demo episode when ``--task`` is not given."""
    if device != "scripted":
        return "unscrew the bottle cap and drink"
    return SCRIPTED_TASKS.get(scene or "pick_and_place", f"perform the task of scene {scene}")


def demo_session_args(args: argparse.Namespace, bag_dir: Path) -> SessionArgs:
    """The session the demo runs: the parsed ``demo`` arguments, recording into ``bag_dir``."""
    return SessionArgs(
        robot=args.robot,
        device=args.device,
        bag_dir=str(bag_dir),
        task=args.task,
        operator=os.environ.get("USER", "demo"),
        scene=args.scene,
        seed=args.seed,
    )


def _check_seconds(flag: str, value_s: float, positive: bool, note: str = "") -> None:
    """Refuse (:class:`ConfigError`) a number of seconds that is not finite, or is negative
    (zero too where ``positive``)."""
    if not (math.isfinite(value_s) and (value_s > 0 if positive else value_s >= 0)):
        bound = "> 0" if positive else ">= 0"
        raise ConfigError(f"{flag} {value_s:g}: must be a finite number of seconds {bound}{note}")


def _node_failure(supervisor: Supervisor) -> str:
    """Why the session cannot start: the first node that exited, with its exit code and the
    last line it printed (its reason, e.g. a file:line of a broken config); "" while all
    run."""
    for name, code in supervisor.exited().items():
        said = supervisor.last_line(name) or "(it printed nothing)"
        return f"node {name} exited with code {code} while the session started: {said}"
    return ""


def _run(args: argparse.Namespace) -> int:
    _check_seconds("--duration", args.duration, False, " (0: 35 s scripted, 25 s replay)")
    _check_seconds("--startup-timeout", args.startup_timeout, True)
    _check_seconds("--settle", args.settle, False)
    reexec_isolated_if_asked(args)
    bag_dir = Path(args.bag_dir).resolve()
    scripted = args.device == "scripted"
    if not args.duration:
        args.duration = 35.0 if scripted else 25.0
    if scripted and not args.scene:
        args.scene = session_scene(demo_session_args(args, bag_dir))
        if args.scene != "pick_and_place":
            print(f"demo: {args.robot} has no hand to pick with; scene {args.scene}", flush=True)
    if not args.task:
        args.task = default_task(args.device, args.scene)
    plan = session_plan(demo_session_args(args, bag_dir))
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="humanoid_teleop_demo_") as tmp:
        supervisor = Supervisor(plan, Path(tmp))
        supervisor.start()
        answer = ""
        failure: TeleopError | None = None
        try:
            answer = drive_episode(args, stop, lambda: _node_failure(supervisor))
        except TeleopError as err:
            failure = err
        except KeyboardInterrupt:
            stop.set()
        finally:
            codes = supervisor.stop()
    node_failed = any(code not in (0, -2, 130) for code in codes.values())
    failed = failure is not None or node_failed
    if failure is not None and not node_failed:  # every node ran: the error line says why
        listed = ", ".join(f"{name}={code}" for name, code in codes.items())
        print(f"demo: session stopped on an error; exit codes: {listed}", file=sys.stderr)
    else:
        report(SessionResult("node_died" if failed else "duration", None, codes), "demo")
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    bag = Path(answer) if answer and Path(answer).is_dir() else _newest_bag(bag_dir)
    if bag is None:
        print(f"error: no bag was written under {bag_dir}", file=sys.stderr)
        return 1
    print(f"bag: {bag}")
    from humanoid_teleop.cli.main import main as cli_main

    cli_main(["bag", "info", str(bag)])
    layout = FOXGLOVE_LAYOUTS.find("teleop")
    print(
        "\nOpen it in Foxglove: File → Open local file(s) → pick the .mcap files in the bag "
        f"folder, then Layout → Import from file → {layout}"
    )
    return 1 if failed else 0
