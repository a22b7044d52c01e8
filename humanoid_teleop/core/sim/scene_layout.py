"""Where a scene's table, objects and target go for one robot: :class:`SceneLayout`.

A scene file places them relative to the robot: the table top ``table.below_hand_m`` under
the scene's ``hand`` wrist at home, its near edge 15 cm behind that wrist, and the objects'
and target's ``position_m`` as [x, y] offsets [m] from the point on the table under it. That
fits the adult arms (G1, Alex, TALOS, Romeo: the push lies within 0.73-0.86 of their reach).
A robot whose arm it does not fit gives its own layout in ``physics.yaml`` beside its
robot.yaml (keys left out keep the scene's values)::

    scene_layout:                # where every scene puts the table and objects for this robot
      table_below_hand_m: 0.154  # table top under the wrist at home [m] (the scene's below_hand_m)
      table_near_m: -0.161       # the table's near edge: x [m] from the wrist at home (-0.15)
      shift_m: [-0.171, 0.039]   # objects and target moved by [x, y] [m], base frame ([0, 0])

iCub's does (above): its arm (0.29 m) cannot reach the adults' layout, so its puck starts
17 cm nearer, under its forearm, with the table low enough to clear the forearm at home
(docs/simulation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from humanoid_teleop.core.config import Field
from humanoid_teleop.core.robot import RobotModel
from humanoid_teleop.core.sim.errors import SimConfigError

#: The table's near edge, x [m] from the layout's wrist at home, unless a robot sets it.
TABLE_NEAR_M = -0.15
#: Allowed range of each ``scene_layout`` setting [m] (inclusive; ``shift_m`` per axis).
_RANGES_M = {"table_below_hand_m": (0.0, 0.5), "table_near_m": (-0.5, 0.0), "shift_m": (-0.3, 0.3)}


@dataclass(frozen=True)
class SceneLayoutSettings:
    """A robot's own scene layout (``physics.yaml`` ``scene_layout:``); None keeps the scene's.

    ``table_below_hand_m`` [m]: the table top under the scene hand's wrist at home;
    ``table_near_m`` [m]: the table's near edge, x from that wrist; ``shift_m`` [m]: (x, y)
    added to every object's and the target's position (base frame)."""

    table_below_hand_m: float | None = None
    table_near_m: float | None = None
    shift_m: tuple[float, float] | None = None

    def offset_m(self, below_hand_m: float) -> tuple[float, float, float]:
        """How far [m] (x, y, z; base frame) this layout moves a scene's objects and target
        from where the scene file puts them relative to the wrist at home (``below_hand_m``:
        the scene's table top under it): ``shift_m``, and down by as much as the table is
        lowered. (0, 0, 0) for the scene's own layout."""
        shift = self.shift_m or (0.0, 0.0)
        below = below_hand_m if self.table_below_hand_m is None else self.table_below_hand_m
        return (shift[0], shift[1], below_hand_m - below)

    @classmethod
    def from_field(cls, block: Field) -> SceneLayoutSettings:
        """Read the ``scene_layout`` block: unknown keys and out-of-range values are errors
        naming ``file:line: key``."""
        values: dict[str, object] = {}
        for key in block.as_mapping(allowed=tuple(_RANGES_M)):
            item, (low, high) = block.child(key), _RANGES_M[key]
            if key == "shift_m":
                item.as_vector(2)  # a list of two numbers, before each is range-checked
                values[key] = tuple(axis.as_float_in(low, high, "m") for axis in item.elements())
            else:
                values[key] = item.as_float_in(low, high, "m")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SceneLayout:
    """A scene laid out for one robot, base frame [m]: the table top's height, the x of the
    table's near edge and the y of its middle (the wrist's), and ``anchor_m``, the (x, y) the
    objects' and target's ``position_m`` are offsets from."""

    table_top_m: float
    table_near_x_m: float
    table_middle_y_m: float
    anchor_m: tuple[float, float]

    @classmethod
    def for_robot(
        cls,
        model: RobotModel,
        hand: str,
        below_hand_m: float,
        settings: SceneLayoutSettings | None = None,
        source: str = "<scene>",
    ) -> SceneLayout:
        """The layout from the ``hand`` wrist at home: the scene's ``below_hand_m`` [m] and
        the robot's ``settings`` over it (None or empty: the scene file's layout as is)."""
        description = model.description
        if hand not in description.arms:
            raise SimConfigError(
                f"{source}: hand: {description.name} has no {hand} arm "
                f"(arms: {', '.join(description.arms)})"
            )
        settings = settings or SceneLayoutSettings()
        wrist = model.fk_all(model.home_positions())[description.arms[hand].ee_frame][1]
        below = below_hand_m if settings.table_below_hand_m is None else settings.table_below_hand_m
        near = TABLE_NEAR_M if settings.table_near_m is None else settings.table_near_m
        shift = settings.shift_m or (0.0, 0.0)
        return cls(
            table_top_m=float(wrist[2]) - below,
            table_near_x_m=float(wrist[0]) + near,
            table_middle_y_m=float(wrist[1]),
            anchor_m=(float(wrist[0]) + shift[0], float(wrist[1]) + shift[1]),
        )
