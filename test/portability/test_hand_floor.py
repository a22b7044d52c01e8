"""The port's floor for the target's hand (port._hand_floor): the source hand's lowest
point (core/sim/hand_geometry.py) until the source's hand moves the object (port._first_touch,
for a push port._push_start); and a pushing hand lifted off its resting object until the
source's hand comes down beside its own (port.ObjectClearance, port._side_approach)."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.port import (
    TABLE_CLEARANCE_M,
    ObjectClearance,
    _first_touch,
    _hand_floor,
    _push_start,
    _side_approach,
)


def test_hand_floor_follows_the_source_hand_until_the_object_moves() -> None:
    """Until the source's object has moved more than 2 mm the floor is the source hand's
    lowest point; from that sample on it is the table top plus the clearance."""
    lowest = np.array([0.05, 0.03, 0.01, 0.0, 0.02])
    objects = np.zeros((5, 3))
    objects[3:, 1] = [0.0025, 0.01]  # moves at the fourth sample
    touch = _first_touch(objects)
    assert touch == 3
    floor = _hand_floor(lowest, touch, table_z=-0.12)
    np.testing.assert_array_equal(floor[:3], lowest[:3])
    np.testing.assert_allclose(floor[3:], -0.12 + TABLE_CLEARANCE_M)


def test_hand_floor_without_a_moved_object_is_the_source_hand() -> None:
    """A source whose object never moved (or none recorded) keeps the source hand's floor."""
    lowest = np.array([0.05, 0.03, 0.01])
    assert _first_touch(np.zeros((3, 3))) is None and _first_touch(None) is None
    np.testing.assert_array_equal(_hand_floor(lowest, None, -0.12), lowest)


def test_a_push_starts_where_the_push_began_not_at_a_graze() -> None:
    """A graze that moved the object 4 mm and left it there is not the push: the push starts
    where the motion that carried it past 1 cm had moved it 2 mm (the first touch is the
    graze); an object that was only grazed starts where it first moved 2 mm."""
    objects = np.zeros((12, 3))
    objects[2:, 0] = -0.004  # grazed at sample 2, then at rest
    objects[6:, 1] = [0.001, 0.0025, 0.006, 0.012, 0.02, 0.03]  # pushed from sample 6 on
    assert _first_touch(objects) == 2
    assert _push_start(objects) == 7
    grazed = np.zeros((5, 3))
    grazed[2:, 0] = -0.004
    assert _push_start(grazed) == 2
    assert _push_start(np.zeros((5, 3))) is None
    pushed = np.zeros((5, 3))
    pushed[2:, 1] = [0.003, 0.008, 0.015]  # one motion from rest: where it moved 2 mm
    assert _push_start(pushed) == _first_touch(pushed) == 2


def _bar(z_m: float) -> np.ndarray:
    """Points of a 10 cm bar along x at height ``z_m`` [m], 1 cm apart, from x = 0.02 m
    (relative to a tool point at the origin)."""
    return np.column_stack([np.linspace(0.02, 0.12, 11), np.zeros(11), np.full(11, z_m)])


def test_object_clearance_lifts_a_hand_off_the_object() -> None:
    """A bar reaching from a tool point 7 cm from a puck's axis over the puck, 1 cm below
    its top, is lifted until its lowest point over the footprint is at the top; a bar above
    the top, or one that stays outside the footprint, is left where it is."""
    clear = ObjectClearance(np.zeros(2), radius_m=0.035, top_z=0.03, until=10)
    tool = np.array([-0.07, 0.0, 0.04])
    surface = _bar(-0.02)  # at z = 0.02: 1 cm below the top
    lifted = clear.lift(tool, surface)
    np.testing.assert_allclose(lifted, tool + np.array([0.0, 0.0, 0.01]))
    assert clear.lift(tool, _bar(-0.005)) is tool  # above the top
    far = np.array([-0.2, 0.0, 0.02])
    assert clear.lift(far, surface) is far  # outside the footprint


def test_side_approach_starts_where_the_source_tool_last_came_below_the_top() -> None:
    """The source's tool point above the object's top (2.5 cm over its centre), dipping
    below it, above again, then down beside it until the push: the side approach starts at
    the last descent; a tool above the top at the push has none (``until``); one never above
    the top approaches from the side all along (0), without a recorded object never."""
    objects = np.zeros((10, 3))
    goal = np.zeros((10, 3))
    goal[:, 2] = [0.06, 0.02, 0.04, 0.06, 0.04, 0.02, 0.01, 0.0, 0.0, 0.0]
    assert _side_approach(goal, objects, 0.025, until=8) == 5
    assert _side_approach(goal, objects, 0.025, until=5) == 5
    assert _side_approach(goal * 0.0, objects, 0.025, until=8) == 0
    assert _side_approach(goal, None, 0.025, until=8) == 8
