"""What the simulator derives from each shipped robot: TF tree, capsules, camera view, contacts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from humanoid_teleop.core.motion.rotation import matrix_to_quat, quat_to_matrix
from humanoid_teleop.core.robot import CameraSpec, RobotModel, list_robots, load_robot
from humanoid_teleop.core.sim import PinholeCamera, SceneRenderer, TableContact
from humanoid_teleop.core.sim.robot_scene import RobotScene, bottle_on

ROBOTS = [entry.name for entry in list_robots()]


@pytest.fixture(scope="module", params=ROBOTS)
def scene(request: pytest.FixtureRequest) -> RobotScene:
    return RobotScene(RobotModel(load_robot(request.param)))


def _moved(model: RobotModel, start: np.ndarray | None = None) -> np.ndarray:
    """``start`` (default home) with every arm joint moved 0.3 rad toward its mid-range."""
    q = model.home_positions() if start is None else start.copy()
    for arm in model.description.arms.values():
        for i in model.group_indices(arm.group):
            middle = 0.5 * (model.limits.lower[i] + model.limits.upper[i])
            q[i] += math.copysign(min(0.3, abs(middle - q[i])), middle - q[i])
    return q


def test_every_joint_moves_exactly_one_tf_edge(scene: RobotScene) -> None:
    """Each 1-DoF joint of the model is the parent→child link edge of one moving TF edge."""
    assert len(scene.moving_edges) == scene.model.nq
    children = [edge.child for edge in scene.edges]
    assert len(children) == len(set(children))


def test_sensor_frames_are_static_tf_edges(scene: RobotScene) -> None:
    """Camera optical frames and F/T frames are published on /tf_static."""
    sensors = scene.model.description.sensors
    wanted = {c.frame_id for c in sensors.cameras} | {w.frame_id for w in sensors.wrenches}
    static_children = {edge.child for edge in scene.static_edges}
    assert wanted <= static_children


def test_chaining_tf_edges_reproduces_forward_kinematics(scene: RobotScene) -> None:
    """Composing parent→child transforms from the root gives fk() of every frame."""
    model = scene.model
    q = _moved(model)
    poses = model.fk_all(q)
    by_child = {edge.child: (edge, r, p) for edge, r, p in scene.transforms(poses, scene.edges)}
    for arm in model.description.arms.values():
        frame = arm.ee_frame
        rotation, position = np.eye(3), np.zeros(3)
        while frame in by_child:
            edge, r, p = by_child[frame]
            rotation, position = r @ rotation, r @ position + p
            frame = edge.parent
        root_r, root_p = poses[frame]
        expected_r, expected_p = model.fk(q, arm.ee_frame)
        np.testing.assert_allclose(root_r @ rotation, expected_r, atol=1e-9)
        np.testing.assert_allclose(root_r @ position + root_p, expected_p, atol=1e-9)


def test_static_edges_do_not_change_with_the_joints(scene: RobotScene) -> None:
    """Static transforms are the same at home and in a moved posture."""
    model = scene.model
    home = scene.transforms(model.fk_all(model.home_positions()), scene.static_edges)
    moved = scene.transforms(model.fk_all(_moved(model)), scene.static_edges)
    for (_, r0, p0), (_, r1, p1) in zip(home, moved, strict=True):
        np.testing.assert_allclose(r0, r1, atol=1e-9)
        np.testing.assert_allclose(p0, p1, atol=1e-9)


def _hands_in_view(model: RobotModel, q: np.ndarray, spec: CameraSpec) -> bool:
    poses = model.fk_all(q)
    rotation, position = poses[spec.frame_id]
    camera = PinholeCamera(spec.width, spec.height, spec.fov_rad)
    for arm in model.description.arms.values():
        point = (poses[arm.ee_frame][1] - position) @ rotation
        if point[2] > 0.05:
            u, v = camera.project(point[None, :])[0]
            if 0 <= u < spec.width and 0 <= v < spec.height:
                return True
    return False


def _looking_at_the_hands(model: RobotModel, spec: CameraSpec) -> np.ndarray:
    """Home if the camera sees a hand there, else the first of some seeded random postures
    of the arms and head (within limits) in which it does."""
    home = model.home_positions()
    groups = [arm.group for arm in model.description.arms.values()]
    if model.description.head is not None:
        groups.append(model.description.head.group)
    moving = np.concatenate([model.group_indices(g) for g in groups])
    lower = np.maximum(model.limits.lower[moving], -math.pi)
    upper = np.minimum(model.limits.upper[moving], math.pi)
    rng = np.random.default_rng(7)
    candidates = [home]
    for _ in range(300):
        q = home.copy()
        q[moving] = rng.uniform(lower, upper)
        candidates.append(q)
    return next((q for q in candidates if _hands_in_view(model, q, spec)), home)


def test_every_camera_sees_the_arms_move(scene: RobotScene) -> None:
    """Each robot camera, turned toward the hands, renders a different image when arms move."""
    model = scene.model
    table = scene.default_table()
    for spec in model.description.sensors.cameras:
        start = _looking_at_the_hands(model, spec)
        assert _hands_in_view(model, start, spec), f"camera {spec.name} cannot see a hand"
        camera = PinholeCamera(spec.width, spec.height, spec.fov_rad)
        renderer = SceneRenderer(camera, table, [bottle_on(table)])
        images = []
        for q in (start, _moved(model, start)):
            poses = model.fk_all(q)
            rotation, position = poses[spec.frame_id]
            images.append(renderer.render(rotation, position, scene.capsules(poses)))
        changed = np.any(images[0] != images[1], axis=2).mean()
        assert changed > 0.01, f"camera {spec.name}: only {changed:.2%} of pixels changed"


def test_default_table_does_not_touch_the_hands_at_home(scene: RobotScene) -> None:
    """At home no wrist or fingertip is in contact with the automatic table."""
    model = scene.model
    contact = TableContact(scene.default_table())
    poses = model.fk_all(model.home_positions())
    for side in model.description.arms:
        for point in scene.contact_points(poses, side):
            np.testing.assert_array_equal(contact.force_on_point(point, np.zeros(3)), 0.0)


def test_lowering_a_hand_into_the_table_pushes_back(scene: RobotScene) -> None:
    """A wrist placed 2 cm under the automatic table top feels an upward force."""
    table = scene.default_table()
    poses = scene.model.fk_all(scene.model.home_positions())
    side = next(iter(scene.model.description.arms))
    wrist = scene.contact_points(poses, side)[0].copy()
    wrist[2] = table.height_m - 0.02
    force = TableContact(table).force_on_point(wrist, np.zeros(3))
    assert force[2] == pytest.approx(table.stiffness_n_m * 0.02)


def test_wrench_sensors_are_assigned_to_their_own_arm(scene: RobotScene) -> None:
    """A wrist F/T frame named left/right belongs to the arm of that side."""
    for spec in scene.model.description.sensors.wrenches:
        for side in ("left", "right"):
            if spec.name.startswith(side) or spec.frame_id.startswith(side):
                assert scene.side_of_frame(spec.frame_id) == side


def test_frame_poses_match_forward_kinematics(scene: RobotScene) -> None:
    """The cheap per-frame pose lookup agrees with fk_all for the contact frames."""
    q = _moved(scene.model)
    every = scene.model.fk_all(q)
    frames = [name for names in scene.contact_frames.values() for name in names]
    for name, (rotation, position) in scene.frame_poses(q, frames).items():
        np.testing.assert_allclose(rotation, every[name][0], atol=1e-12)
        np.testing.assert_allclose(position, every[name][1], atol=1e-12)


def test_fast_edge_transforms_match_the_reference_ones(scene: RobotScene) -> None:
    """The vectorised TF path gives the same transforms as composing fk_all poses."""
    q = _moved(scene.model)
    reference = scene.transforms(scene.model.fk_all(q), scene.edges)
    quats, translations = scene.edge_transforms(q, scene.edges)
    for (_, rotation, translation), quat, fast in zip(reference, quats, translations, strict=True):
        np.testing.assert_allclose(fast, translation, atol=1e-12)
        np.testing.assert_allclose(quat, matrix_to_quat(rotation), atol=1e-9)


def test_moving_edges_take_the_one_joint_path_and_match_the_reference(
    scene: RobotScene,
) -> None:
    """The moving edges (each one revolute joint) are computed from their joints alone and
    give the same rotations and translations as composing fk_all poses, at random q."""
    model = scene.model
    rng = np.random.default_rng(7)
    q = rng.uniform(model.limits.lower, model.limits.upper)
    edges = scene.moving_edges
    quats, translations = scene.edge_transforms(q, edges)
    assert scene._moving_plan is not None  # the fast path, not the kinematics pass
    reference = scene.transforms(model.fk_all(q), edges)
    for (_, rotation, translation), quat, fast in zip(reference, quats, translations, strict=True):
        np.testing.assert_allclose(fast, translation, atol=1e-12)
        np.testing.assert_allclose(quat_to_matrix(quat), rotation, atol=1e-12)


def test_one_joint_edges_give_the_array_expressions_numbers_bit_for_bit(
    scene: RobotScene,
) -> None:
    """The compiled one-joint pass gives, to the last bit, the numbers of its parts' numpy
    array expressions (each product rounded, the terms summed in order, the quaternion
    divided by its norm and turned to w >= 0): a port's /tf bytes are pinned to them."""
    plan = scene._moving_plan
    assert plan is not None
    model = scene.model
    rng = np.random.default_rng(11)
    (quat_cos, quat_sin), (fixed, by_sin, by_versine) = plan._quat, plan._translation
    for _ in range(200):
        q = rng.uniform(model.limits.lower - 1.0, model.limits.upper + 1.0)
        angle = q[plan._index]
        quats = quat_cos * np.cos(0.5 * angle)[:, None] + quat_sin * np.sin(0.5 * angle)[:, None]
        quats /= np.sqrt(np.add.reduce(quats * quats, axis=1, keepdims=True))
        quats[quats[:, 3] < 0.0] *= -1.0
        translations = (
            fixed + by_sin * np.sin(angle)[:, None] + by_versine * (1.0 - np.cos(angle))[:, None]
        )
        fast_quats, fast_translations = plan.transforms(q)
        assert fast_quats.tobytes() == quats.tobytes()
        assert fast_translations.tobytes() == translations.tobytes()
