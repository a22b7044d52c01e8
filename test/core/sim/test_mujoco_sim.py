"""MujocoSim: every robot holds home under gravity, matches pinocchio FK, obeys commands;
the F/T convention; rendered cameras."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.robot import RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim import InvalidCommand
from humanoid_teleop.core.sim.errors import SimConfigError
from humanoid_teleop.core.sim.mjcf_build import import_mujoco
from humanoid_teleop.core.sim.mujoco_sim import MujocoSim

ROBOTS = [entry.name for entry in list_robots()]


@pytest.fixture(scope="module", params=ROBOTS)
def robot(request: pytest.FixtureRequest) -> RobotModel:
    return RobotModel(load_robot(request.param))


def _body_names(sim: MujocoSim, model: RobotModel) -> list[str]:
    mujoco = import_mujoco()
    names = [f.name for f in model.pin_model.frames if f.type.name == "BODY"]
    return [n for n in names if mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, n) >= 0]


def test_home_pose_holds_under_gravity(robot: RobotModel) -> None:
    """Every body stays within 1 mm of its start over 5 s of simulated time at home."""
    sim = MujocoSim(robot)
    bodies = _body_names(sim, robot)
    start = {b: sim.body_pose(b)[1] for b in bodies}
    sim.step(round(5.0 / sim.model.opt.timestep))
    drift = max(float(np.linalg.norm(sim.body_pose(b)[1] - start[b])) for b in bodies)
    assert sim.time_s == pytest.approx(5.0, abs=1e-6)
    assert drift < 1e-3


def test_body_poses_equal_pinocchio_fk(robot: RobotModel) -> None:
    """For random joint positions every MuJoCo body is where pinocchio puts it (< 0.1 mm)."""
    mujoco = import_mujoco()
    sim = MujocoSim(robot)
    bodies = _body_names(sim, robot)
    rng = np.random.default_rng(7)
    lower = np.maximum(robot.limits.lower, -np.pi)
    upper = np.minimum(robot.limits.upper, np.pi)
    for _ in range(3):
        q = robot.apply_mimic(rng.uniform(lower, upper))
        sim.data.qpos[sim._qpos_index] = q
        mujoco.mj_kinematics(sim.model, sim.data)
        fk = robot.fk_all(q)
        for body in bodies:
            rotation, position = sim.body_pose(body)
            assert np.linalg.norm(position - fk[body][1]) < 1e-4, body
            assert np.abs(rotation - fk[body][0]).max() < 1e-5, body  # ~2 arcsec


def test_commanded_arm_reaches_its_target() -> None:
    """A left-arm command is tracked by the servos within 2 degrees after 2 s."""
    model = RobotModel(load_robot("g1"))
    sim = MujocoSim(model)
    names = model.description.groups["left_arm"]
    target = [-0.8, 0.3, 0.0, 0.5, 0.0, 0.0, 0.0]
    sim.set_targets(names, target)
    sim.step(1000)
    reached = sim.positions[list(model.index_of(names))]
    np.testing.assert_allclose(reached, target, atol=np.radians(2.0))


def test_every_drive_is_stronger_than_its_joint_friction(robot: RobotModel) -> None:
    """No servo's force limit is used up by its joint's Coulomb friction (TALOS' URDF gives
    its 1 N m gripper drive 1 N m of friction: the jaws crawled at 0.1 of their speed)."""
    sim = MujocoSim(robot)
    m = sim.model
    for a in range(m.nu):
        dof = m.jnt_dofadr[m.actuator_trnid[a, 0]]
        assert m.dof_frictionloss[dof] < 0.5 * m.actuator_forcerange[a, 1], m.actuator(a).name


def test_gripper_follows_its_command_at_full_speed() -> None:
    """TALOS' jaws (no object) close all the way and open again as fast as the command:
    within 0.05 rad of the 1 rad/s reference throughout (URDF friction used up the drive and
    the jaws' convex hulls wedged at 0.65 of the travel before)."""
    model = RobotModel(load_robot("talos"))
    sim = MujocoSim(model)
    joint = model.index_of(["gripper_right_joint"])[0]
    worst = 0.0
    for target in (model.description.hands["right"].closed_positions[0], 0.0):
        sim.set_targets(["gripper_right_joint"], [target])
        for _ in range(650):  # 1.3 s
            sim.step(1)
            worst = max(worst, abs(sim.positions[joint] - sim.integrator.positions[joint]))
        assert sim.positions[joint] == pytest.approx(target, abs=0.02)
    assert worst < 0.05


def test_gripper_holds_its_jaws_against_a_push_on_a_pad() -> None:
    """30 N on TALOS' outer jaw pad, along the way it closes (a puck or the table it is
    pressed on: 20-50 N in scripted pushes), leaves the jaws within 0.05 rad of their command
    (at the URDF's 1 N m the jaws swung shut to -1.0 rad; physics.yaml's 5 N m holds them)."""
    mujoco = import_mujoco()
    model = RobotModel(load_robot("talos"))
    sim = MujocoSim(model)
    m, d = sim.model, sim.data
    joint = model.index_of(["gripper_right_joint"])[0]
    target = -0.078  # the jaws' closure in TALOS' scripted push
    sim.set_targets(["gripper_right_joint"], [target])
    sim.step(250)
    pad = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "gripper_right_fingertip_1_link")
    # the pad's velocity per rad/s of the gripper joint, its mimics moving with it
    jacobian = np.zeros((3, m.nv))
    mujoco.mj_jacBody(m, d, jacobian, None, pad)
    sources = {"gripper_right_joint": 1.0}
    sources |= {x.joint: x.multiplier for x in model.mimics if x.source == "gripper_right_joint"}
    along = np.zeros(3)
    for name, multiplier in sources.items():
        dof = m.jnt_dofadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)]
        along += multiplier * jacobian[:, dof]
    d.xfrc_applied[pad, :3] = -30.0 * along / np.linalg.norm(along)  # q falls as it closes
    worst = 0.0
    for _ in range(250):  # 0.5 s
        sim.step(1)
        worst = max(worst, abs(sim.positions[joint] - target))
    assert worst < 0.05


def test_bad_command_changes_nothing() -> None:
    """A command with NaN is rejected and the servo references keep their values."""
    model = RobotModel(load_robot("g1"))
    sim = MujocoSim(model)
    names = model.description.groups["left_arm"]
    before = sim.integrator.targets
    with pytest.raises(InvalidCommand, match="non-finite"):
        sim.set_targets(names, [float("nan")] * len(names))
    np.testing.assert_array_equal(sim.integrator.targets, before)


def test_hanging_hand_reads_its_weight_downward() -> None:
    """At rest the wrist F/T reads the hand's weight pointing down (hand-on-arm convention)."""
    mujoco = import_mujoco()
    model = RobotModel(load_robot("g1"))
    sim = MujocoSim(model)
    sim.step(200)
    spec = model.description.sensors.wrenches[0]
    force, _ = sim.wrench(spec.name)
    body = mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, spec.parent)
    subtree_mass = float(sim.model.body_subtreemass[body])
    site = sim.data.site(f"ft_{spec.name}")
    world_force = np.array(site.xmat).reshape(3, 3) @ force
    np.testing.assert_allclose(world_force, [0.0, 0.0, -9.81 * subtree_mass], atol=0.05)


def test_neighbouring_links_do_not_lock_a_bent_elbow() -> None:
    """Alex's elbow bends fully: its upper-arm hull never catches the wrist (within 2 joints)."""
    model = RobotModel(load_robot("alex"))
    sim = MujocoSim(model)
    names = model.description.groups["left_arm"]
    target = [0.0, 0.3, 0.0, -2.2, 1.5, 0.0, 0.0]
    sim.set_targets(names, target)
    sim.step(1500)
    reached = sim.positions[list(model.index_of(names))]
    np.testing.assert_allclose(reached, target, atol=0.01)


def test_start_at_puts_the_robot_there_at_rest_and_holds_its_drives() -> None:
    """A sim started away from home (a replay that begins where a recording did) has its
    joints there at rest, its drives at the given command, and holds them; once stepped it
    refuses to start over."""
    model = RobotModel(load_robot("g1"))
    sim = MujocoSim(model)
    arm = list(model.index_of(model.description.groups["left_arm"]))
    measured = model.home_positions()
    measured[arm] = [-0.8, 0.3, 0.0, 0.5, 0.0, 0.0, 0.0]
    commanded = measured.copy()
    commanded[arm[3]] += 0.05
    sim.start_at(measured, commanded)
    np.testing.assert_array_equal(sim.positions, measured)
    assert not sim.velocities.any()
    np.testing.assert_array_equal(sim.integrator.targets, commanded)
    sim.step(1000)
    np.testing.assert_allclose(sim.positions[arm], commanded[arm], atol=np.radians(2.0))
    with pytest.raises(SimConfigError, match="start_at after"):
        sim.start_at(measured)
