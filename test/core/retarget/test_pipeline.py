"""TeleopPipeline: engage, hold, e-stop, recalibrate, and group commands."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from humanoid_teleop.core.motion.frame import HandSkeleton, HumanFrame, JoyState, Pose
from humanoid_teleop.core.retarget.pipeline import PipelineOutput, TeleopPipeline
from humanoid_teleop.core.retarget.profile import load_profile
from humanoid_teleop.core.safety import SafetyError
from humanoid_teleop.devices.scripted.hand_model import hand_points

from .conftest import SHIPPED, model_of


def _pipeline(robot: str = "g1") -> TeleopPipeline:
    return TeleopPipeline(model_of(robot), load_profile("vr"))


def _frame(t: float, dx: float = 0.0) -> HumanFrame:
    left = Pose(np.array([0.3 + dx, 0.2, 1.0]), np.eye(3))
    right = Pose(np.array([0.3 + dx, -0.2, 1.0]), np.eye(3))
    return HumanFrame(
        t_s=t, head=Pose(np.array([0, 0, 1.5]), np.eye(3)), left_wrist=left, right_wrist=right
    )


def test_commands_cover_every_driven_group_in_group_order() -> None:
    """Each driven group gets an array as long as the group, equal to q at its joints."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    for group in p.groups:
        assert np.array_equal(out.commands[group], out.q[p.model.group_indices(group)])


def test_a_steps_output_equals_the_constructors() -> None:
    """The output a step builds without the dataclass __init__ (frozen_record) has every
    field and equals the one its constructor builds from the same fields."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    assert type(out) is PipelineOutput
    assert set(vars(out)) == {f.name for f in dataclasses.fields(PipelineOutput)}
    assert not hasattr(PipelineOutput, "__post_init__")
    rebuilt = PipelineOutput(**vars(out))
    assert all(getattr(rebuilt, name) is value for name, value in vars(out).items())


def test_forward_wrist_motion_moves_end_effector_forward() -> None:
    """After calibration, moving both wrists 5 cm forward moves each EE forward."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    ee = p.model.description.arms["right"].ee_frame
    before = p.model.fk(out.q, ee)[1]
    t = 0.01
    for _ in range(100):
        t += 0.01
        out = p.step(_frame(t, dx=0.05), out.q, t)
    after = p.model.fk(out.q, ee)[1]
    assert after[0] - before[0] > 0.03


def test_not_engaged_output_is_inactive() -> None:
    """Before engage the output is inactive and holds the measured pose."""
    p = _pipeline()
    q = p.model.home_positions()
    out = p.step(_frame(0.0), q, 0.0)
    assert out.active is False
    assert np.allclose(out.q, np.clip(q, p.limits.lower, p.limits.upper))


def test_estop_holds_and_blocks_engage_until_reset() -> None:
    """After estop the pipeline is inactive; engage fails until reset_estop."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    p.step(_frame(0.01), q, 0.01)
    p.estop()
    out = p.step(_frame(0.02, dx=0.1), q, 0.02)
    assert out.active is False and out.report.hold_reason == "e-stop latched"
    with pytest.raises(SafetyError, match="e-stop is latched"):
        p.engage(q, 0.03)
    p.reset_estop()
    p.engage(q, 0.03)
    assert p.engaged


def test_nan_wrist_keeps_previous_target() -> None:
    """A NaN wrist pose does not change that arm's target."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    bad = dataclasses.replace(_frame(0.02, dx=0.1), right_wrist=Pose(np.full(3, np.nan), np.eye(3)))
    out2 = p.step(bad, out.q, 0.02)
    right = p.model.group_indices("right_arm")
    assert np.allclose(out2.targets[right], out.targets[right])


def test_recalibrate_keeps_the_robot_still() -> None:
    """Recalibrating on a displaced operator pose does not move the robot."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    p.recalibrate(_frame(0.02, dx=0.2))
    out2 = p.step(_frame(0.02, dx=0.2), out.q, 0.02)
    assert np.max(np.abs(out2.q - out.q)) < 1e-3


def test_each_capture_of_the_operators_neutral_pose_is_counted_once() -> None:
    """An engage's first frame and each re-centre capture the calibration anew (counted, so a
    node records each); steps in between capture nothing; a new engage captures again."""
    p = _pipeline()
    q = p.model.home_positions()
    assert p.calibrations == 0
    p.engage(q, 0.0)
    assert p.calibrations == 0  # captured at the next frame, not at the engage
    out = p.step(_frame(0.01), q, 0.01)
    assert p.calibrations == 1
    out = p.step(_frame(0.02, dx=0.01), out.q, 0.02)
    assert p.calibrations == 1
    p.recalibrate(_frame(0.03, dx=0.2))
    assert p.calibrations == 2
    out = p.step(_frame(0.03, dx=0.2), out.q, 0.03)
    assert p.calibrations == 2
    p.disengage()
    p.engage(out.q, 0.04)
    p.step(_frame(0.05, dx=0.3), out.q, 0.05)
    assert p.calibrations == 3


def test_stale_input_holds_the_command() -> None:
    """Input older than the profile's timeout holds the last command."""
    p = _pipeline()
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_frame(0.01), q, 0.01)
    out2 = p.step(_frame(0.01, dx=0.1), out.q, 5.0)
    assert out2.report.hold_reason is not None and "stale" in out2.report.hold_reason
    assert np.array_equal(out2.q, out.q)


def _joy_frame(t: float, deadman: bool) -> HumanFrame:
    buttons = tuple(int(deadman and i == 4) for i in range(11))
    return HumanFrame(t_s=t, joy=JoyState((0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), buttons))


def test_released_pad_deadman_holds_through_the_retargeter() -> None:
    """The gamepad profile's deadman is the pad preset's: released, the pipeline holds."""
    p = TeleopPipeline(model_of("g1"), load_profile("gamepad"))
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(_joy_frame(0.01, deadman=True), q, 0.01)
    assert out.report.hold_reason is None
    out = p.step(_joy_frame(0.02, deadman=False), out.q, 0.02)
    assert out.report.hold_reason == "deadman released"


def test_released_dead_man_on_the_pad_holds_with_the_stick_pushed() -> None:
    """The pad's own samples (recorded evdev, xbox preset) with LB released and the stick still
    up: the gamepad profile's pipeline holds and the command does not move."""
    from humanoid_teleop.devices.gamepad.evdev import AbsInfo, parse_events
    from humanoid_teleop.devices.gamepad.mapping import PadState, load_preset
    from test.devices.gamepad import recording

    events, _ = parse_events(recording.SESSION)
    stick = AbsInfo(-32768, 32767)
    samples = PadState(load_preset("xbox"), dict.fromkeys((0, 1, 3, 4), stick)).apply(events)
    held, released = samples[1], samples[-1]
    assert released.buttons[4] == 0 and released.axes[1] == 1.0
    p = TeleopPipeline(model_of("g1"), load_profile("gamepad"))
    q = p.model.home_positions()
    p.engage(q, 0.0)
    out = p.step(HumanFrame(t_s=0.01, joy=JoyState(held.axes, held.buttons)), q, 0.01)
    assert out.report.hold_reason is None
    for k in range(2, 30):
        t = k * 0.01
        last = out.q
        out = p.step(HumanFrame(t_s=t, joy=JoyState(released.axes, released.buttons)), last, t)
        assert out.report.hold_reason == "deadman released"
        assert np.array_equal(out.q, last)


def _hands_frame(t: float, closure: float) -> HumanFrame:
    """Both wrists still, head straight, both hands at ``closure`` (0 flat open, 1 pinch)."""
    frame = _frame(t)
    hands = {}
    for side in ("left", "right"):
        wrist = frame.wrist(side)
        assert wrist is not None
        hands[f"{side}_hand"] = HandSkeleton(wrist.position_m + hand_points(side, closure))
    return dataclasses.replace(frame, **hands)


@pytest.mark.parametrize("robot", SHIPPED)
def test_retargeters_aim_inside_the_bounds_the_filter_commands(robot: str) -> None:
    """Open and closed hands, still wrists and head: no target is clipped by the safety
    filter (open Dex3 fingers and grippers aimed at their URDF bounds were clipped on every
    step): the retargeters aim inside the profile's margin."""
    profile = load_profile("vr")
    profile = dataclasses.replace(
        profile, safety=dataclasses.replace(profile.safety, position_margin_rad=0.05)
    )
    p = TeleopPipeline(model_of(robot), profile)
    lower, upper = p.limits.inner_bounds(0.05)
    q = p.model.home_positions()
    p.engage(q, 0.0)
    t = 0.0
    for closure in (0.0, 1.0):
        for _ in range(50):
            t += 0.004
            out = p.step(_hands_frame(t, closure), q, t)
            q = out.q
            assert out.report.position_clamped == (), (closure, out.report.position_clamped)
            assert np.all(out.targets >= lower) and np.all(out.targets <= upper)
