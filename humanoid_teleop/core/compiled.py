"""Every numba-compiled kernel of the core, compiled (or loaded from numba's cache) at once.

A first compile takes ~10 s per machine; ``make setup`` and the test session call
:func:`compile_all` up front so no node, test or benchmark pays it mid-run. Each kernel's
owner also compiles it at construction (``DifferentialIk``, ``ArmIkRetargeter``,
``SafetyFilter``), never inside a step.
"""

from __future__ import annotations


def compile_all() -> None:
    """Compile the IK solver, the arm-target map and the safety move."""
    from humanoid_teleop.core.retarget import arm_kernel, ik_kernel
    from humanoid_teleop.core.safety import move_kernel

    for module in (ik_kernel, arm_kernel, move_kernel):
        module.compile_now()
