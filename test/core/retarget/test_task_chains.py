"""Chain kinematics (task_chains + the compiled frame_kinematics / log3) equal pinocchio's."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanoid_teleop.core.retarget.errors import RetargetConfigError
from humanoid_teleop.core.retarget.ik_kernel import frame_kinematics, log3
from humanoid_teleop.core.retarget.task_chains import task_chains
from humanoid_teleop.core.robot import RobotModel

from .conftest import model_of


def test_frame_pose_and_jacobian_match_pinocchio(shipped_model: RobotModel) -> None:
    """Every arm EE frame of every shipped robot, 40 random configurations: pose in the base
    frame and LOCAL_WORLD_ALIGNED Jacobian (base axes) equal pinocchio's to 1e-12, and joints
    outside a chain have zero columns in pinocchio's Jacobian too."""
    pm = shipped_model.pin_model
    base_id = pm.getFrameId(shipped_model.description.base_frame)
    frames = [pm.getFrameId(arm.ee_frame) for arm in shipped_model.description.arms.values()]
    chains = task_chains(pm, base_id, frames)
    data = pm.createData()
    rng = np.random.default_rng(3)
    rotation, position = np.empty((3, 3)), np.empty(3)
    jac = np.empty((6, chains.links.shape[1]))
    for _ in range(40):
        q = rng.uniform(-2.0, 2.0, shipped_model.nq)
        pin.computeJointJacobians(pm, data, shipped_model.to_pinocchio(q))
        pin.framesForwardKinematics(pm, data, shipped_model.to_pinocchio(q))
        base = data.oMf[base_id]
        for t, fid in enumerate(frames):
            frame_kinematics(
                q, chains.links[t], chains.link_index[t], chains.ends[t], rotation, position, jac
            )
            want = base.actInv(data.oMf[fid])
            np.testing.assert_allclose(rotation, want.rotation, atol=1e-12)
            np.testing.assert_allclose(position, want.translation, atol=1e-12)
            world = pin.getFrameJacobian(pm, data, fid, pin.ReferenceFrame.LOCAL_WORLD_ALIGNED)
            in_base = np.vstack((base.rotation.T @ world[:3], base.rotation.T @ world[3:]))
            joints = [int(j) for j in chains.link_index[t, :, 0] if j >= 0]
            np.testing.assert_allclose(jac[:, : len(joints)], in_base[:, joints], atol=1e-12)
            others = np.setdiff1d(np.arange(shipped_model.nq), joints)
            assert np.abs(in_base[:, others]).max() == 0.0


def test_chains_read_from_a_frame_placed_at_a_configuration() -> None:
    """Chains read from G1's right EE frame as placed at a configuration (``root_q``) give
    the fingertips' poses in that frame and their Jacobians in its axes, as pinocchio does."""
    model = model_of("g1")
    pm = model.pin_model
    ee = pm.getFrameId(model.description.arms["right"].ee_frame)
    tips = [pm.getFrameId(f) for f in model.description.hands["right"].fingertip_frames.values()]
    rng = np.random.default_rng(5)
    at = rng.uniform(-1.0, 1.0, model.nq)
    chains = task_chains(pm, ee, tips, model.to_pinocchio(at))
    data = pm.createData()
    pin.computeJointJacobians(pm, data, model.to_pinocchio(at))
    pin.framesForwardKinematics(pm, data, model.to_pinocchio(at))
    frame = data.oMf[ee]
    rotation, position = np.empty((3, 3)), np.empty(3)
    jac = np.empty((6, chains.links.shape[1]))
    for t, fid in enumerate(tips):
        frame_kinematics(
            at, chains.links[t], chains.link_index[t], chains.ends[t], rotation, position, jac
        )
        want = frame.actInv(data.oMf[fid])
        np.testing.assert_allclose(position, want.translation, atol=1e-12)
        np.testing.assert_allclose(rotation, want.rotation, atol=1e-12)
        world = pin.getFrameJacobian(pm, data, fid, pin.ReferenceFrame.LOCAL_WORLD_ALIGNED)
        joints = [int(j) for j in chains.link_index[t, :, 0] if j >= 0]
        in_frame = frame.rotation.T @ world[:3, joints]
        np.testing.assert_allclose(jac[:3, : len(joints)], in_frame, atol=1e-12)


def test_chain_position_finds_a_joint_or_reports_it_outside() -> None:
    model = model_of("g1")
    pm = model.pin_model
    arms = model.description.arms
    frames = [pm.getFrameId(arms[side].ee_frame) for side in ("left", "right")]
    chains = task_chains(pm, pm.getFrameId(model.description.base_frame), frames)
    left = model.group_indices(arms["left"].group)
    assert [chains.chain_position(0, int(j)) >= 0 for j in left] == [True] * len(left)
    assert all(chains.chain_position(1, int(j)) == -1 for j in left)


def test_a_free_flyer_joint_is_refused_with_its_name() -> None:
    """A joint that is not 1-DoF about a fixed axis cannot be in a chain."""
    pm = pin.Model()
    joint = pm.addJoint(0, pin.JointModelFreeFlyer(), pin.SE3.Identity(), "floating")
    pm.addFrame(pin.Frame("ee", joint, pin.SE3.Identity(), pin.FrameType.OP_FRAME))
    pm.addFrame(pin.Frame("base", 0, pin.SE3.Identity(), pin.FrameType.OP_FRAME))
    with pytest.raises(RetargetConfigError, match="'floating'"):
        task_chains(pm, pm.getFrameId("base"), [pm.getFrameId("ee")])


@settings(max_examples=300, deadline=None)
@given(
    axis=st.tuples(*[st.floats(-1.0, 1.0)] * 3).filter(lambda a: np.linalg.norm(a) > 0.1),
    angle=st.one_of(
        st.floats(0.0, np.pi),
        st.floats(0.0, 1e-5),
        st.floats(np.pi - 1e-2, np.pi),
    ),
)
def test_log3_matches_pinocchio(axis: tuple[float, float, float], angle: float) -> None:
    """Any rotation, including near identity and near a half turn."""
    w = np.asarray(axis) / np.linalg.norm(axis) * angle
    r = pin.exp3(w)
    out = np.empty(3)
    log3(r, out)
    np.testing.assert_allclose(out, pin.log3(r), atol=1e-9)
