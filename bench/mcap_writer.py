"""The episode writer's MCAP layer: the ``mcap`` package's ``Writer`` vs this project's
``ChunkedMcapWriter`` (humanoid_teleop/core/bag/mcap_writer.py), side by side.

    .venv/bin/python bench/mcap_writer.py [--seconds 60] [--repeat 5]

Both get the same calls with the episode writer's settings (zstd chunks of 4 MiB, every
index, chunk, data and summary CRCs): ``--seconds`` of a 250 Hz teleop episode's messages as
a port writes them (per step: the joint states of a 43-joint robot, four group commands, two
intent poses, a 25-joint hand, an EE target; sizes of the real CDR messages, random bytes),
into memory. Prints CPU time per message [us] (median of ``--repeat`` runs) and whether the
two files are the same bytes. No ROS import: runs anywhere.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from mcap.writer import CompressionType, Writer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanoid_teleop.core.bag.mcap_writer import ChunkedMcapWriter

RATE_HZ = 250
#: (topic, CDR size [bytes]) of one port step's messages.
STEP = (
    ("/joint_states", 1452),
    ("/left_arm_controller/commands", 88),
    ("/right_arm_controller/commands", 88),
    ("/left_hand_controller/commands", 88),
    ("/right_hand_controller/commands", 88),
    ("/teleop/intent/right_wrist", 92),
    ("/teleop/intent/left_wrist", 92),
    ("/teleop/intent/right_hand", 740),
    ("/teleop/ee_target/right", 92),
)


def _run(writer: Writer | ChunkedMcapWriter, payloads: list[bytes], steps: int) -> float:
    """CPU seconds to write ``steps`` steps with ``writer``."""
    start = time.process_time()
    writer.start(profile="ros2", library="bench")
    schema = writer.register_schema("std_msgs/msg/String", "ros2msg", b"string data\n")
    channels = [writer.register_channel(t, "cdr", schema, {}) for t, _ in STEP]
    t_ns = 1_700_000_000_000_000_000
    for sequence in range(1, steps + 1):
        t_ns += 1_000_000_000 // RATE_HZ
        for channel, data in zip(channels, payloads, strict=True):
            writer.add_message(channel, t_ns, data, t_ns, sequence)
    writer.finish()
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="episode length [s]")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    payloads = [rng.bytes(size) for _, size in STEP]
    steps = round(args.seconds * RATE_HZ)
    messages = steps * len(STEP)
    times: dict[str, list[float]] = {"mcap Writer": [], "ChunkedMcapWriter": []}
    files: dict[str, bytes] = {}
    for _ in range(args.repeat):
        for name in times:
            out = io.BytesIO()
            writer: Writer | ChunkedMcapWriter = (
                Writer(
                    out,
                    chunk_size=4 * 1024 * 1024,
                    compression=CompressionType.ZSTD,
                    enable_crcs=True,
                    enable_data_crcs=True,
                )
                if name == "mcap Writer"
                else ChunkedMcapWriter(out, 4 * 1024 * 1024, "zstd")
            )
            times[name].append(_run(writer, payloads, steps))
            files[name] = out.getvalue()
    print(f"\n{messages} messages ({args.seconds:g} s at {RATE_HZ} Hz x {len(STEP)} topics), "
          f"{len(files['mcap Writer']) / 1e6:.1f} MB, median of {args.repeat}\n")  # fmt: skip
    print("| writer | CPU s | us / message | episode s per CPU s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        cpu = statistics.median(values)
        print(f"| {name} | {cpu:.3f} | {1e6 * cpu / messages:.2f} | {args.seconds / cpu:.0f} |")
    same = files["mcap Writer"] == files["ChunkedMcapWriter"]
    print(f"\nsame bytes: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
