"""QoS profiles as rosbag2 stores them (metadata.yaml v9 and MCAP ``offered_qos_profiles``).

Policies are the rmw string names (``reliable``, ``transient_local``, ...); durations are
integers in [ns], written as rmw ``{sec, nsec}`` pairs. ``DURATION_INFINITE_NS`` is
RMW_DURATION_INFINITE and ``0`` means "use the rmw default".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import BagFormatError

DURATION_INFINITE_NS = 9_223_372_036_854_775_807
HISTORY = ("system_default", "keep_last", "keep_all", "unknown")
RELIABILITY = ("system_default", "reliable", "best_effort", "unknown", "best_available")
DURABILITY = ("system_default", "transient_local", "volatile", "unknown", "best_available")
LIVELINESS = ("system_default", "automatic", "manual_by_topic", "unknown", "best_available")
_NS = 1_000_000_000


@dataclass(frozen=True)
class QosProfile:
    """One offered or requested QoS profile.

    Durations (``deadline_ns``, ``lifespan_ns``, ``liveliness_lease_duration_ns``) are in [ns].
    """

    history: str = "keep_last"
    depth: int = 10
    reliability: str = "reliable"
    durability: str = "volatile"
    deadline_ns: int = 0
    lifespan_ns: int = 0
    liveliness: str = "automatic"
    liveliness_lease_duration_ns: int = 0
    avoid_ros_namespace_conventions: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("history", HISTORY),
            ("reliability", RELIABILITY),
            ("durability", DURABILITY),
            ("liveliness", LIVELINESS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"QoS {name} {value!r} is not one of {', '.join(allowed)}")
        if self.depth < 0:
            raise ValueError(f"QoS depth {self.depth} must be >= 0")

    @property
    def latched(self) -> bool:
        """True for transient-local durability (late joiners get the last messages)."""
        return self.durability == "transient_local"

    def to_dict(self) -> dict[str, Any]:
        """The rosbag2 v9 YAML mapping of this profile."""
        return {
            "history": self.history,
            "depth": self.depth,
            "reliability": self.reliability,
            "durability": self.durability,
            "deadline": _duration(self.deadline_ns),
            "lifespan": _duration(self.lifespan_ns),
            "liveliness": self.liveliness,
            "liveliness_lease_duration": _duration(self.liveliness_lease_duration_ns),
            "avoid_ros_namespace_conventions": self.avoid_ros_namespace_conventions,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QosProfile:
        """Parse one rosbag2 v9 QoS mapping (string policies, ``{sec, nsec}`` durations)."""
        try:
            return cls(
                history=str(data.get("history", "keep_last")),
                depth=int(data.get("depth", 10)),
                reliability=str(data.get("reliability", "reliable")),
                durability=str(data.get("durability", "volatile")),
                deadline_ns=_nanoseconds(data.get("deadline")),
                lifespan_ns=_nanoseconds(data.get("lifespan")),
                liveliness=str(data.get("liveliness", "automatic")),
                liveliness_lease_duration_ns=_nanoseconds(data.get("liveliness_lease_duration")),
                avoid_ros_namespace_conventions=bool(
                    data.get("avoid_ros_namespace_conventions", False)
                ),
            )
        except (TypeError, ValueError, AttributeError, OverflowError) as err:
            # ``data`` as given: it may be no mapping at all (a string in the list)
            raise BagFormatError(f"invalid QoS profile {data!r}: {err}") from err


def _duration(ns: int) -> dict[str, int]:
    return {"sec": ns // _NS, "nsec": ns % _NS}


def _nanoseconds(node: Any) -> int:
    if node is None:
        return 0
    return int(node["sec"]) * _NS + int(node["nsec"])


def qos_profiles_to_yaml(profiles: Sequence[QosProfile]) -> str:
    """The YAML text rosbag2 stores in an MCAP channel's ``offered_qos_profiles`` entry."""
    if not profiles:
        return ""
    return _profiles_yaml(tuple(profiles))


@functools.lru_cache(maxsize=64)
def _profiles_yaml(profiles: tuple[QosProfile, ...]) -> str:
    """The YAML text of ``profiles``, dumped once per distinct tuple (every file of every
    episode repeats it for each topic; the pure-Python dumper takes ~1 ms)."""
    return yaml.safe_dump([p.to_dict() for p in profiles], sort_keys=False)


def qos_profiles_from_yaml(
    node: str | Sequence[Mapping[str, Any]] | None,
) -> tuple[QosProfile, ...]:
    """Parse ``offered_qos_profiles`` given as YAML text (MCAP) or as a list (metadata.yaml)."""
    if node is None or node == "":
        return ()
    if isinstance(node, str):
        return _profiles_from_text(node)
    return _profiles_from_list(node)


@functools.lru_cache(maxsize=64)
def _profiles_from_text(text: str) -> tuple[QosProfile, ...]:
    """The profiles of one YAML text, parsed once per distinct text (every topic of every
    file repeats the same few; the pure-Python loader takes ~1 ms, which reading or closing
    an episode paid per topic). The profiles are frozen, so sharing them is safe."""
    try:
        node = yaml.safe_load(text)
    except yaml.YAMLError as err:
        what = getattr(err, "problem", None) or str(err).splitlines()[0]  # one line
        raise BagFormatError(f"offered_qos_profiles is not YAML: {what}") from err
    if node is None:
        return ()
    return _profiles_from_list(node)


def _profiles_from_list(node: object) -> tuple[QosProfile, ...]:
    if not isinstance(node, list):
        raise BagFormatError(f"offered_qos_profiles must be a list, got {type(node).__name__}")
    return tuple(QosProfile.from_dict(item) for item in node)
