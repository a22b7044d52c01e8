"""Operator-to-robot calibration: relative and absolute modes, arm-length scaling."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.motion.rotation import axis_rotation
from humanoid_teleop.core.retarget.arm_ik import ArmIkRetargeter
from humanoid_teleop.core.retarget.base import RetargetContext
from humanoid_teleop.core.retarget.calibration import (
    CalibrationConfig,
    capture,
    engaged_at,
    later_calibrations_ns,
    recaptured_wrist,
)
from humanoid_teleop.core.retarget.errors import RetargetConfigError

from .conftest import model_of

WRIST0 = Pose(np.array([0.3, -0.2, 1.1]), axis_rotation("z", 0.2))
EE0 = Pose(np.array([0.25, -0.15, 0.1]), axis_rotation("x", 0.5))
HEAD = Pose(np.array([0.0, 0.0, 1.6]), np.eye(3))


def test_relative_mode_scales_displacement_by_arm_length_ratio() -> None:
    """A 10 cm wrist move becomes 10 cm x robot/operator arm length at the EE."""
    config = CalibrationConfig(mode="relative", operator_arm_length_m=0.6)
    cal = capture(config, WRIST0, EE0, HEAD, 0.45, np.zeros(3), np.eye(3))
    moved = Pose(WRIST0.position_m + np.array([0.1, 0.0, 0.0]), WRIST0.rotation)
    assert np.allclose(cal.target(moved).position_m - EE0.position_m, [0.075, 0.0, 0.0])


def test_relative_mode_starts_at_the_robot_pose() -> None:
    """At the calibration pose the target is the EE pose captured at engage."""
    cal = capture(CalibrationConfig(), WRIST0, EE0, HEAD, 0.45, np.zeros(3), np.eye(3))
    target = cal.target(WRIST0)
    assert np.allclose(target.position_m, EE0.position_m)
    assert np.allclose(target.rotation, EE0.rotation)


def test_relative_mode_applies_wrist_rotation_in_operator_axes() -> None:
    """Turning the wrist 0.3 rad about z turns the EE target 0.3 rad about base z."""
    cal = capture(CalibrationConfig(), WRIST0, EE0, HEAD, 0.45, np.zeros(3), np.eye(3))
    turned = Pose(WRIST0.position_m, axis_rotation("z", 0.3) @ WRIST0.rotation)
    assert np.allclose(cal.target(turned).rotation, axis_rotation("z", 0.3) @ EE0.rotation)


def test_absolute_mode_maps_shoulder_relative_position_and_hand_frame() -> None:
    """Absolute: anchor + scale (wrist - operator shoulder centre); R = R_wrist R_ee_hand^T."""
    config = CalibrationConfig(mode="absolute", scale=0.5, shoulder_below_head_m=0.3)
    ee_r_hand = axis_rotation("x", np.pi / 2)
    anchor = np.array([0.0, 0.0, 0.4])
    cal = capture(config, WRIST0, EE0, HEAD, 0.45, anchor, ee_r_hand)
    target = cal.target(WRIST0)
    assert np.allclose(target.position_m, anchor + 0.5 * (WRIST0.position_m - [0.0, 0.0, 1.3]))
    assert np.allclose(target.rotation, WRIST0.rotation @ ee_r_hand.T)


def test_unknown_mode_lists_modes() -> None:
    """mode 'mirror' is refused naming relative and absolute."""
    params = Field.of({"mode": "mirror"}, "vr.yaml", ("params",), RetargetConfigError)
    with pytest.raises(
        RetargetConfigError,
        match=r"vr\.yaml: params\.mode: got 'mirror'; allowed: relative, absolute",
    ):
        CalibrationConfig.from_field(params)


def test_arm_ik_calibrates_each_arm_when_its_wrist_appears() -> None:
    """One wrist calibrates its arm; the other arm is calibrated when its wrist shows up."""
    model = model_of("g1")
    arm = ArmIkRetargeter(RetargetContext(model, ("left_arm", "right_arm")))
    q = model.home_positions()
    assert arm.calibrate(HumanFrame(0.0), q) is False
    assert arm.calibrate(HumanFrame(0.0, right_wrist=WRIST0), q) is True
    assert set(arm.step(HumanFrame(0.01, right_wrist=WRIST0), q)) == {"right_arm"}
    both = HumanFrame(0.02, left_wrist=WRIST0, right_wrist=WRIST0)
    assert set(arm.step(both, q)) == {"left_arm", "right_arm"}


def test_recaptured_wrist_captures_the_recorded_calibration_against_another_pose() -> None:
    """A relative calibration captured at the recaptured wrist against another EE pose maps
    every wrist as the recorded one did (a replay that starts where its recording did)."""
    config = CalibrationConfig()
    recorded = capture(config, WRIST0, EE0, HEAD, 0.45, np.zeros(3), np.eye(3))
    wrist = Pose(WRIST0.position_m + np.array([0.05, 0.1, -0.02]), axis_rotation("y", 0.4))
    elsewhere = Pose(np.array([0.4, -0.3, 0.3]), axis_rotation("z", -0.7))
    scale = config.scale_for(0.45)
    engage = recaptured_wrist(scale, elsewhere, wrist, recorded.target(wrist))
    again = capture(config, engage, elsewhere, HEAD, 0.45, np.zeros(3), np.eye(3))
    moved = Pose(wrist.position_m + np.array([-0.1, 0.02, 0.2]), axis_rotation("x", 0.3))
    for pose in (wrist, moved):
        np.testing.assert_allclose(
            again.target(pose).position_m, recorded.target(pose).position_m, atol=1e-15
        )
        np.testing.assert_allclose(
            again.target(pose).rotation, recorded.target(pose).rotation, atol=1e-15
        )


def test_later_calibrations_leave_out_the_one_the_recording_began_with() -> None:
    """The engage's own calibration (the first after the input starts) is not a later one;
    one at or before the start (latched: engaged before the recorder started) is the one in
    effect, and every one after it is later; without recorded calibrations each engage
    after the start counts (a re-centre was not recorded then)."""
    assert later_calibrations_ns([110, 500, 900], [100, 480], 100) == [500, 900]
    assert later_calibrations_ns([50, 500], [40], 100) == [500]
    assert later_calibrations_ns([110], [100], 100) == []
    assert later_calibrations_ns([], [100, 480, 700], 100) == [480, 700]
    assert later_calibrations_ns([], [], 100) == []


def test_engaged_at_is_the_newest_flag_before_each_time() -> None:
    """Held from just after a disengage until an engage (an input at the disengage's own
    time was used by the step before it, one at the engage's is calibrated on); before
    the first flag and without flags, engaged; an engage at a disengage's time wins."""
    flags = [(100, True), (300, False), (500, True)]
    got = engaged_at([50, 100, 200, 300, 301, 499, 500, 900], flags)
    assert got.tolist() == [True, True, True, True, False, False, True, True]
    assert engaged_at([1, 2], []).tolist() == [True, True]
    assert engaged_at([300, 301], [(300, True), (300, False)]).tolist() == [True, True]
    assert engaged_at([5, 11], [(10, False)]).tolist() == [True, False]
    assert engaged_at([], flags).tolist() == []
