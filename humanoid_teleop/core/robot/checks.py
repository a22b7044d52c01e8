"""Warnings about a robot that loads but looks suspicious (``humanoid-teleop robots check``).

A loaded description is already consistent with its model (the loader raises otherwise);
these checks look for things that are legal but probably wrong: a commanded joint without a
velocity limit, an EE frame its arm cannot move, a group nobody commands, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from humanoid_teleop.core.robot.model import RobotModel

# A Jacobian column below this norm [m/rad or rad/rad] means "this joint does not move it".
_STILL = 1e-6


@dataclass(frozen=True)
class Finding:
    """One remark about a robot: ``warning`` (probably wrong) or ``info`` (worth knowing)."""

    level: Literal["warning", "info"]
    message: str


def check_robot(model: RobotModel) -> list[Finding]:
    """Every warning and note about ``model``'s description, most important first."""
    findings: list[Finding] = []
    description = model.description
    q = model.home_positions()
    limits = model.limits
    for joint in description.group_joints:
        i = int(model.index_of([joint])[0])
        group = description.group_of(joint)
        velocity = float(limits.velocity[i])
        if velocity <= 0.0 or not np.isfinite(velocity):
            findings.append(
                Finding(
                    "warning",
                    f"joint {joint!r} (group {group!r}) has a "
                    f"{'zero' if velocity <= 0.0 else 'infinite'} velocity limit: the model "
                    "does not say; set limits.joints.<joint>.velocity",
                )
            )
        if limits.upper[i] - limits.lower[i] <= 1e-9:
            findings.append(
                Finding("warning", f"joint {joint!r} (group {group!r}) has no range of motion")
            )
    for side, arm in description.arms.items():
        columns = model.jacobian(q, arm.ee_frame)[:, model.group_indices(arm.group)]
        norms = np.linalg.norm(columns, axis=0)
        still = [j for j, n in zip(description.groups[arm.group], norms, strict=True) if n < _STILL]
        if still:
            findings.append(
                Finding(
                    "warning",
                    f"{side} EE frame {arm.ee_frame!r} does not move with joint(s) "
                    f"{', '.join(still)} of its arm group {arm.group!r} at home",
                )
            )
    for side, arm in description.arms.items():
        hand = description.hands.get(side)
        if hand is None or not hand.fingertip_frames:
            findings.append(
                Finding(
                    "info",
                    f"{side} hand names no fingertip_frames: its tool point (porting, the "
                    f"scripted demonstrator) is EE frame {arm.ee_frame!r}, which goes where "
                    "another robot's fingertips went; a rigid hand names the frame that "
                    "touches objects (robots/icub/robot.yaml)",
                )
            )
    for side, hand in description.hands.items():
        if hand.group is None:
            continue
        hand_columns = model.group_indices(hand.group)
        # a gripper's tips only say where it grasps: they may sit still on its base (TALOS)
        # or ride fingers its motor drives through URDF mimics (Romeo)
        tips = hand.fingertip_frames if hand.kind == "dexterous" else {}
        for finger, frame in tips.items():
            jac = model.jacobian(q, frame)[:, hand_columns]
            if np.linalg.norm(jac[:3]) < _STILL:
                findings.append(
                    Finding(
                        "warning",
                        f"{side} {finger} fingertip frame {frame!r} does not move with "
                        f"hand group {hand.group!r}",
                    )
                )
        if np.allclose(hand.open_positions, hand.closed_positions):
            findings.append(
                Finding("warning", f"{side} hand: open and closed positions are the same")
            )
    if description.head is not None:
        head = description.head
        jac = model.jacobian(q, head.frame)[3:, model.group_indices(head.group)]
        if np.linalg.matrix_rank(jac, tol=1e-6) < min(2, jac.shape[1]):
            findings.append(
                Finding(
                    "warning",
                    f"head frame {head.frame!r} cannot both pan and tilt with group {head.group!r}",
                )
            )
    commanded = {
        *(arm.group for arm in description.arms.values()),
        *(hand.group for hand in description.hands.values() if hand.group),
        *((description.head.group,) if description.head else ()),
    }
    for group in sorted(commanded - set(description.interfaces)):
        findings.append(
            Finding("warning", f"group {group!r} is used by teleoperation but has no interface")
        )
    topics: dict[str, str] = {}
    for group, interface in description.interfaces.items():
        if interface.topic in topics:
            findings.append(
                Finding(
                    "warning",
                    f"groups {topics[interface.topic]!r} and {group!r} share command topic "
                    f"{interface.topic}",
                )
            )
        topics[interface.topic] = group
    for mimic in model.mimics:
        group = description.group_of(mimic.joint)
        if group is not None:
            findings.append(
                Finding(
                    "warning",
                    f"joint {mimic.joint!r} in group {group!r} mimics {mimic.source!r} in the "
                    "URDF: commanding it fights the mimic; list only the source joint",
                )
            )
    for mimic in model.broken_mimics:
        findings.append(
            Finding(
                "info",
                f"URDF mimic of {mimic.joint!r} names joint {mimic.source!r}, which the model "
                "does not have; ignored",
            )
        )
    mimicked = {m.joint for m in model.mimics}
    ungrouped = [
        j for j in model.joint_names if description.group_of(j) is None and j not in mimicked
    ]
    if ungrouped:
        shown = ", ".join(ungrouped[:6]) + (", ..." if len(ungrouped) > 6 else "")
        findings.append(
            Finding(
                "info",
                f"{len(ungrouped)} model joint(s) in no group, held at home: {shown}",
            )
        )
    followers = [j for j in model.joint_names if description.group_of(j) is None and j in mimicked]
    if followers:
        findings.append(
            Finding(
                "info",
                f"{len(followers)} passive joint(s) follow their URDF mimic source "
                "(RobotModel.apply_mimic)",
            )
        )
    return findings
