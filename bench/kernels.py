"""The teleop step's hot pieces before and after this project compiled or replaced them.

    .venv/bin/python bench/kernels.py [--repeat 3000]

Runs inside the isolated-network wrapper (it imports rclpy for message serialization; no node
is created). Prints one table, each row two ways side by side, median per call [us]: ``hot``
over ``--repeat`` back-to-back calls, ``paced`` over ``--paced`` calls 4 ms apart, as a
250 Hz teleop step makes them (on this VM, caches are cold again after 4 ms, and code that
touches much memory, such as Python-level calls, pays several times its hot cost):

* ``IK solve``: G1's two-arm solve toward a target 5 cm off, the tests' reference (pinocchio
  whole-model kinematics + the numpy step, as the code before the compiled solve did it) vs
  ``DifferentialIk.solve`` (chain kinematics and step compiled).
* ``arm target``: wrist pose -> EE target (calibration map + reach limit), the tests' Python
  statement vs the numba kernel (``arm_kernel.arm_target``).
* ``IK task step``: one damped least-squares step of one 7-joint arm, the plain numpy
  statement the tests hold the kernel to vs the numba kernel (``ik_kernel.task_step``).
* ``safety move``: the per-joint limited move over G1's 43 joints, the tests' numpy statement
  vs the numba kernel (``move_kernel.limited_move``).

The numpy rows are the tests' reference statements (``np.linalg.inv``, ``np.clip``), written
for clarity; the numpy code the kernels replaced used a hand-written 3 x 3 inverse and a
cheaper clip, so it was somewhat faster than these rows.
* ``forward command``: a 7-joint ``Float64MultiArray`` built and serialized by rclpy vs
  ``cdr.encode_forward_command`` (what ``Publisher.publish`` gets either way).
* ``wrist pose in`` / ``joint states in``: what teleop_node's input callbacks do with one
  message, a right-wrist ``PoseStamped`` and G1's 43-joint ``JointState``: rclpy's message
  object (``deserialize_message``, the same CDR -> Python conversion a subscription's take
  does) + the part / positions from its fields, as the node did before, vs reading the
  fields from the bytes a raw subscription gets (``messages.CdrPartReader``,
  ``cdr.JointStateDecoder`` + index arrays).
* ``wrist pose out``: what an input device node does to publish one wrist pose: fill an rclpy
  ``PoseStamped`` and serialize it (what ``Publisher.publish`` does with a message object) vs
  ``cdr.encode_pose_stamped`` (vr_bridge, replay).
* ``full GC pass`` [ms]: ``gc.collect()`` in a process holding teleop_node's start-up
  objects (G1 pipeline, rclpy, message types), as is vs after ``gc.freeze()``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.isolation.netns import is_isolated, isolated_command

PACE_S = 0.004
"""Gap between calls [s] in the ``paced`` columns: one 250 Hz period."""

Pair = tuple[Callable[[], object], Callable[[], object]]


def _median_us(call: Callable[[], object], repeat: int, gap_s: float = 0.0) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        if gap_s:
            time.sleep(gap_s)
    return statistics.median(times) * 1e6


def _solve_pair() -> Pair:
    from humanoid_teleop.core.motion.frame import Pose
    from humanoid_teleop.core.retarget.ik import DifferentialIk, arm_tasks
    from humanoid_teleop.core.retarget.ik_config import IkConfig
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from test.core.retarget.test_ik_kernel import _reference_solve

    model = RobotModel(load_robot("g1"))
    ik = DifferentialIk(model, arm_tasks(model), IkConfig())
    start = ik.home.copy()
    targets: list[Pose | None] = [
        Pose(p.position_m + np.array([0.05, 0.0, 0.0]), p.rotation) for p in ik.forward(start)
    ]
    return (lambda: _reference_solve(ik, start, targets), lambda: ik.solve(start, targets))


def _arm_target_pair() -> Pair:
    from humanoid_teleop.core.motion.frame import Pose
    from humanoid_teleop.core.retarget.arm_kernel import arm_target, side_map
    from humanoid_teleop.core.retarget.calibration import ArmCalibration
    from test.core.retarget.test_arm_kernel import _reference

    calibration = ArmCalibration(
        "relative", 1.2, Pose.identity(), Pose.identity(), np.zeros(3), np.zeros(3), np.eye(3)
    )
    wrist = Pose(np.array([0.3, 0.1, 0.2]), np.eye(3))
    shoulder, reach = np.zeros(3), 0.5
    side, out = side_map(*calibration.affine(), shoulder, reach), np.empty(12)
    return (
        lambda: _reference(calibration, wrist, shoulder, reach),
        lambda: arm_target(wrist.position_m, wrist.rotation, side, out),
    )


def _step_pair() -> Pair:
    from humanoid_teleop.core.retarget.ik_config import IkConfig
    from humanoid_teleop.core.retarget.ik_kernel import kernel_settings, task_step
    from test.core.retarget.test_ik_kernel import _case, _reference_step

    qj, jac, error, bounds = _case(7, 7, 0.05)
    config = IkConfig()
    settings = kernel_settings(config)
    return (
        lambda: _reference_step(qj.copy(), jac, error, bounds, config),
        lambda: task_step(qj, jac, error, bounds, settings),
    )


def _safety_pair() -> Pair:
    from humanoid_teleop.core.safety.move_kernel import limited_move
    from test.core.safety.test_move_kernel import _reference

    rng = np.random.default_rng(3)
    n = 43
    lo = rng.uniform(-3.0, 0.0, n)
    hi = lo + rng.uniform(0.1, 4.0, n)
    command, target = rng.uniform(lo, hi), rng.uniform(lo - 1.0, hi + 1.0)
    vmax, v_prev, amax = rng.uniform(0.1, 5.0, n), rng.uniform(-6.0, 6.0, n), np.full(n, 50.0)
    args = (command, v_prev, target, lo, hi, vmax, amax, 0.004)
    return (lambda: _reference(*args), lambda: limited_move(*args))


def _command_pair() -> Pair:
    from rclpy.serialization import serialize_message
    from std_msgs.msg import Float64MultiArray, MultiArrayDimension

    from humanoid_teleop.core.motion.cdr import encode_forward_command

    values = np.linspace(-1.0, 1.0, 7)

    def as_message() -> bytes:
        msg = Float64MultiArray(data=[float(v) for v in values])
        msg.layout.dim = [MultiArrayDimension(label="joints", size=7, stride=7)]
        return serialize_message(msg)

    return (as_message, lambda: encode_forward_command(values))


def _wrist_in_pair() -> Pair:
    from geometry_msgs.msg import PoseStamped
    from rclpy.serialization import deserialize_message, serialize_message

    from humanoid_teleop.core.motion.messages import CdrPartReader, part_from_message

    msg = PoseStamped()
    msg.header.frame_id = "operator"
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1_790_000_000, 123_456_789
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = 0.35, -0.2, 1.1
    msg.pose.orientation.z, msg.pose.orientation.w = 0.6, 0.8
    data = serialize_message(msg)
    topic = "/operator/right_wrist"
    reader = CdrPartReader("right_wrist", topic)

    def as_message() -> object:
        received = deserialize_message(data, PoseStamped)
        return part_from_message("right_wrist", received, topic)

    return (as_message, lambda: reader.read(data))


def _wrist_out_pair() -> Pair:
    from geometry_msgs.msg import PoseStamped
    from rclpy.serialization import serialize_message

    from humanoid_teleop.core.motion.cdr import encode_pose_stamped

    pose = np.array([0.35, -0.2, 1.1, 0.0, 0.0, 0.6, 0.8])

    def as_message() -> bytes:
        msg = PoseStamped()
        msg.header.stamp.sec, msg.header.stamp.nanosec = 1_790_000_000, 123_456_789
        msg.header.frame_id = "operator"
        p, q = msg.pose.position, msg.pose.orientation
        p.x, p.y, p.z = (float(v) for v in pose[0:3])
        q.x, q.y, q.z, q.w = (float(v) for v in pose[3:7])
        return serialize_message(msg)

    return (as_message, lambda: encode_pose_stamped(1_790_000_000, 123_456_789, "operator", pose))


def _joint_states_in_pair() -> Pair:
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import JointState

    from humanoid_teleop.core.motion.cdr import JointStateDecoder
    from humanoid_teleop.core.robot import RobotModel, load_robot
    from humanoid_teleop.nodes.ros_conversions import joint_slots

    model = RobotModel(load_robot("g1"))
    names = list(model.joint_names)
    index_of = {name: i for i, name in enumerate(names)}
    data = serialize_message(JointState(name=names, position=[0.1] * len(names)))
    measured = np.zeros(len(names))
    decoder = JointStateDecoder("/joint_states")
    robot, message, _unknown = joint_slots(names, index_of)

    def as_message() -> None:
        received = deserialize_message(data, JointState)
        for name, value in zip(received.name, received.position, strict=False):
            index = index_of.get(name)
            if index is not None:
                measured[index] = value

    def from_bytes() -> None:
        _header, _names, positions = decoder.decode(data)
        measured[robot] = positions[message]

    return (as_message, from_bytes)


def _gc_rows() -> tuple[float, float]:
    import rclpy  # noqa: F401  (its objects are part of a node's start-up graph)

    from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
    from humanoid_teleop.core.robot import load_robot
    from humanoid_teleop.nodes import teleop_node  # noqa: F401  (message types, conversions)

    keep = TeleopPipeline.create(load_robot("g1"), device="vr")
    gc.collect()
    before = min(_median_us(gc.collect, 1) for _ in range(5)) / 1e3
    gc.freeze()
    after = min(_median_us(gc.collect, 1) for _ in range(5)) / 1e3
    del keep
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3000, help="back-to-back calls per cell")
    parser.add_argument("--paced", type=int, default=400, help="calls 4 ms apart per cell")
    args = parser.parse_args()
    if not is_isolated():
        argv = isolated_command([sys.executable, __file__, *sys.argv[1:]])
        os.execvp(argv[0], argv)
    from humanoid_teleop.core.compiled import compile_all

    compile_all()  # compiled (or loaded) before timing
    pairs = [
        ("IK solve g1 [us]", "pin+numpy", "numba", _solve_pair()),
        ("arm target [us]", "python", "numba", _arm_target_pair()),
        ("IK task step [us]", "numpy ref", "numba", _step_pair()),
        ("safety move [us]", "numpy ref", "numba", _safety_pair()),
        ("forward command [us]", "rclpy", "CDR bytes", _command_pair()),
        ("wrist pose in [us]", "rclpy msg", "CDR read", _wrist_in_pair()),
        ("joint states in [us]", "rclpy msg", "CDR read", _joint_states_in_pair()),
        ("wrist pose out [us]", "rclpy msg", "CDR bytes", _wrist_out_pair()),
    ]
    print(
        "\n| piece                | before    |     hot |  paced | after     |     hot |  paced "
        "| ratio hot / paced |"
    )
    print(
        "|----------------------|-----------|---------|--------|-----------|---------|--------"
        "|-------------------|"
    )
    for name, how_before, how_after, (before, after) in pairs:
        hot = _median_us(before, args.repeat), _median_us(after, args.repeat)
        paced = _median_us(before, args.paced, PACE_S), _median_us(after, args.paced, PACE_S)
        print(
            f"| {name:<20} | {how_before:<9} | {hot[0]:>7.2f} | {paced[0]:>6.1f} | "
            f"{how_after:<9} | {hot[1]:>7.2f} | {paced[1]:>6.1f} | "
            f"{hot[0] / hot[1]:>7.0f} / {paced[0] / paced[1]:>7.0f} |"
        )
    before_ms, after_ms = _gc_rows()
    print(
        f"| {'full GC pass [ms]':<20} | {'as is':<9} | {before_ms:>7.2f} |      — | "
        f"{'frozen':<9} | {after_ms:>7.2f} |      — |                 — |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
