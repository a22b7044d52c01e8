"""What the kinematic port's hot path produces, pinned byte for byte: the porter's speed
work (issue 19: recorder hot path and batches, CDR layouts, stream decoders, FK of the used
frames only, the hand solver's work arrays) must not change a single message or number.

One synthetic step loop, as a kinematic port runs it: operator intent (a right wrist on a
circle, a hand closing and opening) -> the target's real ``TeleopPipeline`` (``replay``
profile) -> ``RobotEpisode`` (joint states, /tf, /teleop/state, intent, commands, EE
targets); then the episode is read back with ``read_source`` and its commands go through
``ArmTool`` FK. No MuJoCo, no scripted demonstrator and not the porter's goal logic, so
only the code above decides the bytes. When a change is *meant* to change them, replace
:data:`EXPECTED` with the hashes the failing assertion prints (and say why in the commit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from humanoid_teleop.core.bag.reader import iter_messages, read_bag
from humanoid_teleop.core.bag.recorder import EpisodeInfo
from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame, Pose
from humanoid_teleop.core.motion.rotation import quat_to_matrix
from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.portability.scripted import START_NS
from humanoid_teleop.portability.source import read_source
from humanoid_teleop.portability.tool import ArmTool
from humanoid_teleop.portability.writer import EpisodeOutput, RobotEpisode

RATE_HZ = 250.0
STEPS = 300

#: Target robot -> topic (the loss / sync summaries, the read-back arrays, the FK) -> the
#: first 16 hex digits of its sha256.
EXPECTED: dict[str, dict[str, str]] = {
    "alex": {
        "/head_controller/commands": "3015f7751c596fe3",
        "/joint_states": "e8950ca7e5300032",
        "/left_arm_controller/commands": "91ca21888292bc03",
        "/left_hand_controller/commands": "86b622853a5fef67",
        "/right_arm_controller/commands": "cf60b783811902a6",
        "/right_hand_controller/commands": "f4e34c364986fe40",
        "/robot_description": "9a654321e09e179d",
        "/teleop/ee_target/right": "1c1c6d70dc7376fe",
        "/teleop/intent/calibrated": "4ac9ecaa266f7e72",
        "/teleop/intent/engaged": "ea8a911b08eb9bdc",
        "/teleop/intent/right_hand": "b8d4002c0c952d7b",
        "/teleop/intent/right_wrist": "0642937790e76ebe",
        "/teleop/state": "9e90a4b4a00df1f8",
        "/tf": "0a2c7d5244661d42",
        "/tf_static": "8dddd83220e526d6",
        "loss": "18961051014620dc",
        "sync": "94fd78fb7f13ea07",
        "read_source": "6d42adeb3f700da9",
        "fk": "200731aeec310ae6",
    },
    "g1": {
        "/joint_states": "646dfdac59cb882e",
        "/left_arm_controller/commands": "3406c9a338e172a4",
        "/left_hand_controller/commands": "2c173f12a14683df",
        "/right_arm_controller/commands": "8af6abc022427df2",
        "/right_hand_controller/commands": "149ef671b6bbbb12",
        "/robot_description": "218e24948599107e",
        "/teleop/ee_target/right": "66e9a615ee653d44",
        "/teleop/intent/calibrated": "242d14aaf8b10bf7",
        "/teleop/intent/engaged": "ea8a911b08eb9bdc",
        "/teleop/intent/right_hand": "b8d4002c0c952d7b",
        "/teleop/intent/right_wrist": "0642937790e76ebe",
        "/teleop/state": "db6d185d6309bb49",
        "/tf": "2b37ebf20b5e2096",
        "/tf_static": "b64c94b106e44961",
        "loss": "8ba7e4859602729a",
        "sync": "94fd78fb7f13ea07",
        "read_source": "2be7bf57b0068ede",
        "fk": "ce06e243887809ef",
    },
}


def _hand(t_s: float, wrist_p: np.ndarray, wrist_r: np.ndarray) -> np.ndarray:
    """25 WebXR joints [m]: five straight fingers (x forward, thumb at +y) curling with time."""
    curl = 0.5 * (1.0 - np.cos(2.0 * t_s))
    local = np.zeros((25, 3))
    for finger, side_m in enumerate((0.035, 0.02, 0.0, -0.02, -0.035)):
        for joint in range(5):
            reach = 0.02 + 0.022 * joint
            local[5 * finger + joint] = (reach, side_m, -curl * 0.012 * joint * joint)
    local[0] = 0.0
    out: np.ndarray = wrist_p + local @ wrist_r.T
    return out


def _record(target: RobotModel, out: Path) -> Path:
    """The step loop of a kinematic port on ``target``, written as an episode."""
    description = target.description
    pipeline = TeleopPipeline.create(description, target, "replay", "replay")
    output = EpisodeOutput(out, "stream", EpisodeInfo(robot=description.name), START_NS)
    writer = RobotEpisode(output, target, ("right",), None, 1 / RATE_HZ)
    writer.begin(START_NS)
    q = target.home_positions()
    pipeline.engage(q, 0.0)
    for step in range(1, STEPS + 1):
        t = step / RATE_HZ
        t_ns = START_NS + round(t * 1e9)
        wrist_p = np.array([0.35 + 0.05 * np.cos(t), -0.2 + 0.05 * np.sin(t), 1.1])
        wrist_r = quat_to_matrix(np.array([0.0, 0.1 * np.sin(t), 0.0, 1.0]))
        hand = _hand(t, wrist_p, wrist_r)
        frame = HumanFrame(t, right_wrist=Pose(wrist_p, wrist_r), right_hand=HandSkeleton(hand))
        result = pipeline.step(frame, q, t)
        q = result.q
        writer.state(t_ns, target.joint_names, q)
        writer.tf(t_ns, q)
        writer.teleop_state(t_ns, pipeline, result)
        writer.intent(t_ns, "right", (wrist_r, wrist_p), hand)
        writer.command(t_ns, result.commands)
        ee = pipeline.ee_targets().get("right")
        if ee is not None:
            writer.ee_target(t_ns, "right", ee.rotation, ee.position_m)
    end_ns = START_NS + round(STEPS / RATE_HZ * 1e9)
    writer.end(end_ns)
    return output.close(None, end_ns)


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:16]


def _hashes(episode: Path, target: RobotModel) -> dict[str, str]:
    """Per topic: times, sequences and bytes; the metadata summaries; what read_source and
    ArmTool make of the episode."""
    digests: dict[str, hashlib._Hash] = {}
    for message in iter_messages(episode, log_time_order=True):
        digest = digests.setdefault(message.topic, hashlib.sha256())
        digest.update(
            f"{message.log_time_ns},{message.publish_time_ns},{message.sequence};".encode()
        )
        digest.update(message.data)
    out = {topic: d.hexdigest()[:16] for topic, d in sorted(digests.items())}
    custom = read_bag(episode).metadata.custom_data
    out["loss"], out["sync"] = _sha(custom["loss"].encode()), _sha(custom["sync"].encode())
    source = read_source(episode, target.description)
    streams = [source.joints, *source.commands.values(), *source.wrists.values()]
    streams += [*source.hands.values(), *source.ee_targets.values()]
    out["read_source"] = _sha(*(s.t_s.tobytes() + s.values.tobytes() for s in streams))
    tool = ArmTool(target, "right")
    frames = [tool.frames(row) for row in source.joints.values]
    out["fk"] = _sha(*(a.tobytes() for f in frames for a in f))
    return out


@pytest.mark.parametrize("robot", ["alex", "g1"])
def test_kinematic_step_loop_writes_the_pinned_bytes(
    robot: str, models: Callable[[str], RobotModel], tmp_path: Path
) -> None:
    """Every topic, summary, read-back array and FK result hashes as pinned."""
    target = models(robot)
    got = _hashes(_record(target, tmp_path), target)
    assert got == EXPECTED[robot], f"{robot}: {got}"
