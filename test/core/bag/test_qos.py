"""offered_qos_profiles YAML: written and read back, bad text refused each time it is read."""

from __future__ import annotations

from typing import Any

import pytest

from humanoid_teleop.core.bag.errors import BagFormatError
from humanoid_teleop.core.bag.qos import (
    QosProfile,
    qos_profiles_from_yaml,
    qos_profiles_to_yaml,
)


def test_profiles_round_trip_through_their_yaml_text() -> None:
    """Profiles written as YAML text read back equal, however often the text is read."""
    profiles = (QosProfile(depth=1000), QosProfile(durability="transient_local", depth=1))
    text = qos_profiles_to_yaml(profiles)
    assert qos_profiles_from_yaml(text) == profiles
    assert qos_profiles_from_yaml(text) == profiles


@pytest.mark.parametrize("text", ["[{history: keep_last", "{depth: 3}"])
def test_bad_text_is_refused_every_time(text: str) -> None:
    """Text that is not YAML, or not a list of profiles, raises on every read (never cached
    as a good answer)."""
    for _ in range(2):
        with pytest.raises(BagFormatError, match="offered_qos_profiles"):
            qos_profiles_from_yaml(text)


@pytest.mark.parametrize("node", [["fast"], [{"depth": float("inf")}]])
def test_a_bad_profile_in_the_list_is_refused(node: list[Any]) -> None:
    """A list item that is no mapping, or an infinite depth, raises BagFormatError (not the
    AttributeError or OverflowError of reading it)."""
    with pytest.raises(BagFormatError, match="invalid QoS profile"):
        qos_profiles_from_yaml(node)


def test_text_that_is_not_yaml_is_refused_in_one_line() -> None:
    """The error for offered_qos_profiles text that is not YAML is one line."""
    with pytest.raises(BagFormatError, match="offered_qos_profiles is not YAML") as info:
        qos_profiles_from_yaml("[{history: keep_last")
    assert "\n" not in str(info.value)
