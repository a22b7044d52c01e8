"""Recording profiles: shipped ones load, malformed ones give precise errors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from humanoid_teleop.core.bag.errors import ProfileError
from humanoid_teleop.core.bag.profile import RecordingProfile, TopicRule
from humanoid_teleop.core.bag.qos import QosProfile

from ...conftest import REPO

SHIPPED = sorted((REPO / "config" / "record").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_profile_loads(path: Path, tmp_path: Path) -> None:
    """Each config/record/*.yaml validates and yields a recorder config."""
    profile = RecordingProfile.load(path)
    assert profile.recorder_config(tmp_path).flush_period_s <= 1.0


def test_there_are_shipped_profiles() -> None:
    """The package ships at least the default and station profiles."""
    assert {"default", "station"} <= {p.stem for p in SHIPPED}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topicz": []}, r"p\.yaml: topicz: unknown key 'topicz'; allowed keys: topics, include"),
        ({"topics": "/a"}, r"p\.yaml: topics: expected a list"),
        ({"topics": ["no_slash"]}, r"p\.yaml: topics\[0\]: 'no_slash' is not an absolute topic"),
        ({"topics": [{"type": "std_msgs/String"}]}, r"topics\[0\]: missing required key 'name'"),
        ({"topics": [{"name": "/a", "type": "String"}]}, r"topics\[0\]\.type: .*pkg/msg/Type"),
        (
            {"topics": [{"name": "/a", "qos": {"reliability": "sometimes"}}]},
            r"topics\[0\]\.qos\.reliability: got 'sometimes'; allowed: .*best_effort",
        ),
        ({"include": ["("]}, r"include\[0\]: '\(' is not a valid regex"),
        ({"storage": {"compression": "gzip"}}, r"storage\.compression: got 'gzip'; allowed: zstd"),
        (
            {"storage": {"flush_period_s": "fast"}},
            r"storage\.flush_period_s: expected a number, got 'fast'",
        ),
        (
            {"limits": {"queue_max_mib": -1}},
            r"limits\.queue_max_mib: expected a number >= 0\.0, got -1",
        ),
        (
            {"check": {"max_loss_ratio": 2}},
            r"check\.max_loss_ratio: expected a number in \[0\.0, 1\.0\], got 2",
        ),
        ({"robot_sensors": "yes"}, r"robot_sensors: expected true or false, got 'yes'"),
    ],
)
def test_malformed_profile_names_file_key_and_value(data: object, message: str) -> None:
    """Every malformed entry is reported with file, key path, bad value and what is allowed."""
    with pytest.raises(ProfileError, match=message):
        RecordingProfile.from_dict(data, "p.yaml")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    """A profile that is not YAML is reported with its path."""
    path = tmp_path / "bad.yaml"
    path.write_text("topics: [\n")
    with pytest.raises(ProfileError, match=r"bad\.yaml:2:1: invalid YAML"):
        RecordingProfile.load(path)


def test_include_exclude_and_explicit_topics_decide_what_is_recorded() -> None:
    """Explicit topics win, excludes beat includes, /rosout is never recorded."""
    profile = RecordingProfile.from_dict(
        {
            "topics": ["/secret/ok"],
            "include": ["^/operator/", "^/secret/"],
            "exclude": ["^/secret/"],
        }
    )
    assert profile.wants("/operator/head")
    assert profile.wants("/secret/ok")
    assert not profile.wants("/secret/key")
    assert not profile.wants("/rosout")
    assert not profile.wants("/other")


def test_subscription_is_reliable_unless_a_publisher_is_best_effort() -> None:
    """Matching publishers: reliable by default, best effort only when one offers it."""
    profile = RecordingProfile.from_dict({})
    assert profile.subscription_qos("/cam", [QosProfile()]).reliability == "reliable"
    offered = [QosProfile(reliability="best_effort")]
    assert profile.subscription_qos("/cam", offered).reliability == "best_effort"


def test_transient_local_publishers_get_a_transient_local_subscription() -> None:
    """A latched publisher is matched with transient-local durability to get its history."""
    profile = RecordingProfile.from_dict({})
    offered = [QosProfile(durability="transient_local", depth=1)]
    assert profile.subscription_qos("/tf_static", offered).durability == "transient_local"


def test_per_topic_qos_override_applies() -> None:
    """A topic's qos entry replaces the matched reliability and depth."""
    profile = RecordingProfile.from_dict(
        {"topics": [{"name": "/cam", "qos": {"reliability": "best_effort", "depth": 5}}]}
    )
    qos = profile.subscription_qos("/cam", [QosProfile()])
    assert (qos.reliability, qos.depth) == ("best_effort", 5)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(200, 256)), r"not a UTF-8 text file \(byte 0xc8 at offset 0\)"),
        (b"topics: [/a]\x00\x01", r"not a YAML text file: character #x0000 at offset 12"),
        (b"x" * 5000, r"expected a mapping, got 'x+\.\.\.$"),
    ],
    ids=["binary", "nul", "huge-scalar"],
)
def test_binary_or_garbage_profile_is_one_clear_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """A binary or garbage profile file is refused in one short line naming the file."""
    path = tmp_path / "profile.yaml"
    path.write_bytes(content)
    with pytest.raises(
        ProfileError, match=rf"^{re.escape(str(path))}(:\d+)?: .*{message}"
    ) as caught:
        RecordingProfile.load(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200 + len(str(path))


def test_reader_history_of_a_topic_outside_the_profile_is_bounded_in_bytes() -> None:
    """A raw-image topic matched only by `include` gets limits.reader_queue_mib worth of depth."""
    profile = RecordingProfile.load(REPO / "config" / "record" / "default.yaml")
    topic = "/camera/left/image_raw"
    assert profile.rule(topic) is None and profile.wants(topic)
    assert profile.subscription_qos(topic, []).depth == profile.default_depth
    frame = 640 * 480 * 3
    bounded = profile.subscription_qos(topic, [], message_bytes=frame)
    assert bounded.depth == int(profile.reader_queue_mib * 1024 * 1024) // frame
    assert bounded.depth * frame <= profile.reader_queue_mib * 1024 * 1024


def test_reader_history_bound_applies_to_explicit_depths_and_spares_small_messages() -> None:
    """An explicit qos.depth is capped by bytes too; small messages keep the full depth."""
    profile = RecordingProfile.from_dict(
        {
            "topics": [{"name": "/img", "qos": {"depth": 60}}, "/joint_states"],
            "default_depth": 1000,
            "limits": {"reader_queue_mib": 8},
        }
    )
    assert profile.subscription_qos("/img", [], message_bytes=4 * 1024 * 1024).depth == 2
    assert profile.subscription_qos("/img", [], message_bytes=20 * 1024 * 1024).depth == 1
    assert profile.subscription_qos("/joint_states", [], message_bytes=2000).depth == 1000


def test_reader_queue_limit_must_be_positive() -> None:
    """limits.reader_queue_mib: 0 is refused with the key and the minimum."""
    with pytest.raises(
        ProfileError, match=r"limits\.reader_queue_mib: expected a number >= 0\.001, got 0"
    ):
        RecordingProfile.from_dict({"limits": {"reader_queue_mib": 0}}, "p.yaml")


def test_expected_message_size_bounds_the_reader_before_any_message() -> None:
    """A rule's expected_bytes (a robot camera's frame) bounds its depth from the start."""
    profile = RecordingProfile.from_dict(
        {"default_depth": 1000, "limits": {"reader_queue_mib": 64}}
    )
    frame = 1280 * 720 * 3
    profile = replace(profile, topics=(TopicRule("/cam", expected_bytes=frame),))
    assert profile.subscription_qos("/cam", []).depth == 64 * 1024 * 1024 // frame
    assert profile.subscription_qos("/cam", [], message_bytes=2 * frame).depth == 12


def test_bad_value_in_a_file_names_its_line_and_key_path(tmp_path: Path) -> None:
    """An infinite storage value in a profile file names file:line and storage.<key>."""
    path = tmp_path / "p.yaml"
    path.write_text("topics: [/a]\nstorage:\n  flush_period_s: .inf\n")
    with pytest.raises(
        ProfileError, match=r"p\.yaml:3: storage\.flush_period_s: expected a finite number, got inf"
    ):
        RecordingProfile.load(path)
