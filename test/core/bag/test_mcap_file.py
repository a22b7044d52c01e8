"""The MCAP file writer lays message records out itself: the same bytes as the library's."""

from __future__ import annotations

import random
from pathlib import Path

from mcap.writer import CompressionType, Writer

from humanoid_teleop.core.bag.mcap_file import McapFileWriter
from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource
from humanoid_teleop.core.bag.qos import QosProfile, qos_profiles_to_yaml

TOPICS = {
    "/joint_states": "sensor_msgs/msg/JointState",
    "/teleop/ee_target/right": "geometry_msgs/msg/PoseStamped",
    "/right_arm_controller/commands": "std_msgs/msg/Float64MultiArray",
}
CHUNK_BYTES = 3000  # many chunks: every message index and chunk boundary is compared


def _messages(seed: int) -> list[tuple[str, int, int, int, bytes]]:
    """(topic, log, publish [ns], sequence, data): log times mostly rising, some going back,
    sequences past 32 bits, payloads of any length."""
    rng = random.Random(seed)
    out, t = [], 1_700_000_000_000_000_000
    for i in range(1500):
        t += rng.choice((0, 1, 4_000_000, 4_000_000, -3_000_000))
        topic = rng.choice(list(TOPICS))
        sequence = i + 1 if i % 97 else 2**32 + i
        out.append(
            (topic, t, t - rng.randrange(10**6), sequence, rng.randbytes(rng.randrange(200)))
        )
    return out


def test_written_files_equal_the_mcap_librarys_byte_for_byte(tmp_path: Path) -> None:
    """Messages on three channels over many chunks, a flush midway and the summary: the file
    equals the one mcap's own Writer.add_message writes with the same settings."""
    definitions = MessageDefinitionSource()
    qos = [QosProfile(depth=1000)]
    ours = McapFileWriter(tmp_path / "ours.mcap", chunk_size_bytes=CHUNK_BYTES)
    channels = {t: ours.add_topic(t, definitions.get(name), qos) for t, name in TOPICS.items()}
    with (tmp_path / "library.mcap").open("xb") as stream:
        library = Writer(
            stream, chunk_size=CHUNK_BYTES, compression=CompressionType.ZSTD,
            enable_crcs=True, enable_data_crcs=True,
        )  # fmt: skip
        library.start(profile="ros2", library="humanoid_teleop")
        ids = {}
        for topic, name in TOPICS.items():
            definition = definitions.get(name)
            schema = library.register_schema(
                definition.type_name, definition.encoding, definition.text.encode("utf-8")
            )
            metadata = {
                "offered_qos_profiles": qos_profiles_to_yaml(qos),
                "topic_type_hash": definition.type_hash,
            }
            ids[topic] = library.register_channel(topic, "cdr", schema, metadata)
        for i, (topic, log_ns, publish_ns, sequence, data) in enumerate(_messages(5)):
            ours.write(channels[topic], log_ns, publish_ns, sequence, data)
            library.add_message(ids[topic], log_ns, data, publish_ns, sequence & 0xFFFFFFFF)
            if i == 700:
                ours.flush()
                library.flush()
        ours.finish()
        library.finish()
    assert (tmp_path / "ours.mcap").read_bytes() == (tmp_path / "library.mcap").read_bytes()


def test_the_installed_mcap_gets_the_laid_out_records(tmp_path: Path) -> None:
    """With the installed mcap release the writer lays records out itself (an mcap whose
    writer is built differently would silently fall back to the slower add_message)."""
    writer = McapFileWriter(tmp_path / "a.mcap")
    assert writer._layout is not None
    writer.finish()
