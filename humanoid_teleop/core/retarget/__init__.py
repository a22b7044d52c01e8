"""Retargeting: plugin API and registry, built-in retargeters, teleop profiles, the pipeline.

Import the pipeline from :mod:`humanoid_teleop.core.retarget.pipeline`; this package's
``__init__`` stays light so that plugins can import the base class cheaply.
"""

from humanoid_teleop.core.retarget.base import API_VERSION, RetargetContext, Retargeter
from humanoid_teleop.core.retarget.errors import PluginError, RetargetConfigError, RetargetError

__all__ = [
    "API_VERSION",
    "PluginError",
    "RetargetConfigError",
    "RetargetContext",
    "RetargetError",
    "Retargeter",
]
