"""``humanoid-teleop robots list|check|show``: the robots this installation knows.

Robots come from ``HUMANOID_TELEOP_ROBOTS_PATH`` (colon-separated folders of
``<name>/robot.yaml``) and the package's own ``robots/``.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.robot import (
    RobotConfigError,
    RobotDescription,
    RobotModel,
    list_robots,
    load_robot,
    robot_search_path,
)
from humanoid_teleop.core.robot.checks import Finding, check_robot
from humanoid_teleop.core.sim.physics_config import load_physics


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "robots",
        help="list, check and show robot descriptions",
        description="Robots are found in $HUMANOID_TELEOP_ROBOTS_PATH (colon-separated) "
        "and in the package's robots/ folder.",
    )
    sub = parser.add_subparsers(dest="robots_command", metavar="ACTION", required=True)
    list_parser = sub.add_parser("list", help="name, maker, DoF per group, hands, model")
    list_parser.add_argument("--json", action="store_true", help="print a JSON list")
    list_parser.set_defaults(func=_list)
    check_parser = sub.add_parser(
        "check", help="load and validate robots (all when none given); warn on odd things"
    )
    check_parser.add_argument("robots", nargs="*", metavar="NAME|PATH")
    check_parser.add_argument("--json", action="store_true", help="print a JSON list")
    check_parser.set_defaults(func=_check)
    show_parser = sub.add_parser("show", help="groups, limits, frames and home-pose FK")
    show_parser.add_argument("robot", metavar="NAME|PATH")
    show_parser.set_defaults(func=_show)


def _summary(description: RobotDescription) -> dict[str, Any]:
    return {
        "name": description.name,
        "display_name": description.display_name,
        "maker": description.maker,
        "dof": description.dof(),
        "dof_total": sum(description.dof().values()),
        "hands": {side: hand.kind for side, hand in description.hands.items()},
        "model": description.model.describe(),
        "file": str(description.source_file),
    }


def _list(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    failed = False
    for entry in list_robots():
        try:
            rows.append(_summary(load_robot(entry.file)))
        except RobotConfigError as err:
            failed = True
            rows.append({"name": entry.name, "file": str(entry.file), "error": _one_line(err)})
        except Exception as err:  # one broken folder must not hide the other robots
            failed = True
            reason = f"{entry.file}: cannot load ({type(err).__name__}: {_one_line(err)})"
            rows.append({"name": entry.name, "file": str(entry.file), "error": reason})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if failed else 0
    if not rows:
        print("no robots found in: " + ", ".join(str(p) for p in robot_search_path()))
        return 1
    width = max(len(r["name"]) for r in rows)
    maker_width = max(len(r.get("maker", "")) for r in rows)
    for row in rows:
        if "error" in row:
            print(f"{row['name']:<{width}}  INVALID: {row['error']}")
            continue
        dof = " ".join(f"{group}={n}" for group, n in row["dof"].items())
        hands = _hands_row(row["hands"])
        print(
            f"{row['name']:<{width}}  {row['maker']:<{maker_width}}  {row['dof_total']:>2} DoF "
            f"({dof})  hands: {hands}  model: {row['model']}"
        )
    makers = {r["maker"] for r in rows if "maker" in r}
    broken = sum("error" in r for r in rows)
    note = f" ({broken} invalid)" if broken else ""
    print(f"{len(rows)} robots from {len(makers)} makers{note}")
    return 1 if failed else 0


def _one_line(err: Exception) -> str:
    """An error message on one line (YAML and pinocchio messages may span several)."""
    return " ".join(str(err).split())


def _hands_row(hands: dict[str, str]) -> str:
    kinds = set(hands.values())
    if len(kinds) == 1 and len(hands) == 2:
        return kinds.pop()
    return ", ".join(f"{side} {kind}" for side, kind in hands.items()) or "none"


def _check(args: argparse.Namespace) -> int:
    targets: list[str] = list(args.robots) or [str(e.file) for e in list_robots()]
    results: list[dict[str, Any]] = []
    for target in targets:
        result: dict[str, Any] = {"robot": target, "ok": False, "warnings": [], "info": []}
        try:
            description = load_robot(target)
            result["robot"] = description.name
            result["file"] = str(description.source_file)
            findings: list[Finding] = check_robot(RobotModel(description))
            # physics.yaml beside it: what the simulator and the scripted demonstrator read
            load_physics(description.source_file, tuple(description.groups))
        except ConfigError as err:  # robot.yaml's (RobotConfigError) or physics.yaml's
            result["error"] = _one_line(err)
        except Exception as err:  # one broken robot must not stop the check of the others
            result["error"] = f"{target}: cannot load ({type(err).__name__}: {_one_line(err)})"
        else:
            result["ok"] = True
            result["warnings"] = [f.message for f in findings if f.level == "warning"]
            result["info"] = [f.message for f in findings if f.level == "info"]
        results.append(result)
    ok = all(r["ok"] for r in results) and bool(results)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0 if ok else 1
    for r in results:
        if not r["ok"]:
            print(f"FAIL  {r['robot']}\n      {r['error']}")
            continue
        note = f" ({len(r['warnings'])} warning(s))" if r["warnings"] else ""
        print(f"ok    {r['robot']}{note}")
        for message in r["warnings"]:
            print(f"      warning: {message}")
        for message in r["info"]:
            print(f"      note: {message}")
    if not results:
        print("no robots to check")
    failed = sum(not r["ok"] for r in results)
    print(f"{len(results) - failed} of {len(results)} robots passed")
    return 0 if ok else 1


def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{v:+.3f}" for v in np.asarray(values, dtype=float)) + "]"


def _limit(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.3f}"


def _show(args: argparse.Namespace) -> int:
    description = load_robot(args.robot)
    model = RobotModel(description)
    q = model.home_positions()
    lim = model.limits
    print(f"{description.display_name} ({description.name}) by {description.maker}")
    print(f"  file:       {description.source_file}")
    print(f"  model:      {description.model.describe()} ({description.model.path})")
    print(f"  base frame: {description.base_frame}")
    print(f"  joints:     {model.nq} in the model, {len(description.group_joints)} in groups")
    print("groups (joint: lower..upper [rad|m], velocity, acceleration, effort; home):")
    for group, joints in description.groups.items():
        interface = description.interfaces.get(group)
        how = f"{interface.kind} -> {interface.topic}" if interface else "not commanded"
        print(f"  {group} ({len(joints)} DoF, {how})")
        for joint, i in zip(joints, model.index_of(joints), strict=True):
            print(
                f"    {joint:<28} {_limit(lim.lower[i]):>7}..{_limit(lim.upper[i]):<7} "
                f"v={lim.velocity[i]:<6.3g} a={lim.acceleration[i]:<6.3g} "
                f"e={lim.effort[i]:<6.3g} home={q[i]:+.3f}"
            )
    print("arms (home pose, in the base frame; hand axes follow the human hand convention):")
    for side, arm in description.arms.items():
        rotation, position = model.fk(q, arm.ee_frame)
        hand = rotation @ arm.hand_frame_rotation()
        print(
            f"  {side}: ee_frame {arm.ee_frame}, elbow {arm.elbow_joint}, "
            f"hand_frame_rpy {_fmt(arm.hand_frame_rpy)}"
        )
        print(f"    position {_fmt(position)} m")
        print(f"    hand +x (to fingers) {_fmt(hand[:, 0])}  +z (back of hand) {_fmt(hand[:, 2])}")
    print("hands:")
    for side, hand_spec in description.hands.items():
        if hand_spec.kind == "none":  # rigid: at most the frame where it meets an object
            tips = ", ".join(f"{f} {t}" for f, t in hand_spec.fingertip_frames.items())
            print(f"  {side}: none" + (f" (rigid, tip {tips})" if tips else ""))
            continue
        print(
            f"  {side}: {hand_spec.kind}, group {hand_spec.group}, open "
            f"{_fmt(hand_spec.open_positions)}, closed {_fmt(hand_spec.closed_positions)}"
        )
        for finger, joints in hand_spec.fingers.items():
            tip = hand_spec.fingertip_frames.get(finger, "-")
            print(f"    {finger}: {', '.join(joints)} (tip {tip})")
    if description.head is not None:
        _, head_position = model.fk(q, description.head.frame)
        print(
            f"head: group {description.head.group}, frame {description.head.frame} at "
            f"{_fmt(head_position)} m"
        )
    print(f"sensors (joint states on {description.sensors.joint_state_topic}):")
    for camera in description.sensors.cameras:
        rotation, position = model.fk(q, camera.frame_id)
        print(
            f"  camera {camera.name}: {camera.topic} ({camera.width}x{camera.height} "
            f"{camera.encoding}, hfov {math.degrees(camera.fov_rad):.1f}°), frame "
            f"{camera.frame_id} at {_fmt(position)} m looking {_fmt(rotation[:, 2])}"
        )
    for wrench in description.sensors.wrenches:
        _, position = model.fk(q, wrench.frame_id)
        print(
            f"  wrench {wrench.name}: {wrench.topic}, frame {wrench.frame_id} at {_fmt(position)} m"
        )
    return 0
