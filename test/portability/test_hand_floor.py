"""The port's floor for the target's hand (port._hand_floor): the source hand's lowest
point (core/sim/hand_geometry.py) until the source's hand moves the object (port._first_touch,
for a push port._push_start)."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.port import (
    TABLE_CLEARANCE_M,
    _first_touch,
    _hand_floor,
    _push_start,
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
