"""The minimal plugin printed in README.md works as written."""

from __future__ import annotations

import re
import types

import numpy as np

from humanoid_teleop.core.motion.frame import HumanFrame, Pose
from humanoid_teleop.core.retarget.base import RetargetContext, Retargeter

from ...conftest import REPO
from .conftest import model_of


def _readme_plugin() -> type[Retargeter]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Writing a retargeter plugin", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "README has no python block under 'Writing a retargeter plugin'"
    module = types.ModuleType("acme_teleop.look_at_hand")
    exec(compile(code.group(1), "README.md", "exec"), module.__dict__)
    cls: type[Retargeter] = module.LookAtHand
    return cls


def test_readme_plugin_turns_head_toward_the_hand() -> None:
    """The README's LookAtHand yaws Talos' head toward a hand held to the operator's left."""
    model = model_of("talos")
    plugin = _readme_plugin()(RetargetContext(model, ("head",), {"gain": 1.0}))
    frame = HumanFrame(
        0.0,
        head=Pose(np.array([0.0, 0.0, 1.5]), np.eye(3)),
        right_wrist=Pose(np.array([0.3, 0.3, 1.2]), np.eye(3)),
    )
    out = plugin.step(frame, model.home_positions())
    assert out["head"][0] == np.arctan2(0.3, 0.3)
