"""The port's floor for the target's hand (port._hand_floor): the source hand's lowest
point (core/sim/hand_geometry.py) until the source's object moves."""

from __future__ import annotations

import numpy as np

from humanoid_teleop.portability.port import TABLE_CLEARANCE_M, _hand_floor


def test_hand_floor_follows_the_source_hand_until_the_object_moves() -> None:
    """Until the source's object has moved more than 2 mm the floor is the source hand's
    lowest point; from that sample on it is the table top plus the clearance."""
    lowest = np.array([0.05, 0.03, 0.01, 0.0, 0.02])
    objects = np.zeros((5, 3))
    objects[3:, 1] = [0.0025, 0.01]  # moves at the fourth sample
    floor = _hand_floor(lowest, objects, table_z=-0.12)
    np.testing.assert_array_equal(floor[:3], lowest[:3])
    np.testing.assert_allclose(floor[3:], -0.12 + TABLE_CLEARANCE_M)


def test_hand_floor_without_a_moved_object_is_the_source_hand() -> None:
    """A source whose object never moved (or none recorded) keeps the source hand's floor."""
    lowest = np.array([0.05, 0.03, 0.01])
    np.testing.assert_array_equal(_hand_floor(lowest, np.zeros((3, 3)), -0.12), lowest)
    np.testing.assert_array_equal(_hand_floor(lowest, None, -0.12), lowest)
