"""Recorder benchmark: station load with zero loss, CPU and RSS; raw-image throughput.

    .venv/bin/python bench/record.py [--duration 60] [--ramp-seconds 5] [--skip-ramp]

Runs inside the isolated network (re-executes itself through the wrapper if needed). Every
publisher is its own process publishing pre-serialized messages (stamps patched in place) at
a deadline-driven rate, reliable with depth 10 like a typical driver:

1. Station profile for ``--duration`` s: 3 cameras 640x480 rgb8 at 30 Hz, 2 wrist wrenches at
   1 kHz, 43-joint /joint_states at 500 Hz, a 43-joint command at 250 Hz and /tf at 100 Hz
   (tf2_msgs/TFMessage when importable, else geometry_msgs/PoseArray as a stand-in, printed).
   Reports per-topic sent / recorded / lost, recorder CPU [cores] and peak RSS [MiB].
2. Image ramp: one 640x480 rgb8 stream at increasing rates into (a) recorder_node and (b) a
   baseline that deserializes every message and writes it with mcap-ros2-support's Writer.
   Reports the highest rate each keeps with 0 loss, in MB/s.
3. Raw disk write speed of the output folder (buffered, then fsync'd), for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
IMAGE_BYTES = 640 * 480 * 3
MB = 1e6
RAMP_HZ = (30, 60, 90, 120, 150, 180, 240, 300)


# ---------------------------------------------------------------- publishers (child process)


def _message(kind: str) -> tuple[Any, str]:
    """A representative message of ``kind`` and its ROS type name."""
    import numpy as np

    rng = np.random.default_rng(1)
    if kind == "image":
        from sensor_msgs.msg import Image

        img = Image(height=480, width=640, encoding="rgb8", step=640 * 3)
        img.data = rng.integers(0, 255, IMAGE_BYTES, dtype=np.uint8).tobytes()
        img.header.frame_id = "camera"
        return img, "sensor_msgs/msg/Image"
    if kind == "wrench":
        from geometry_msgs.msg import WrenchStamped

        w = WrenchStamped()
        w.header.frame_id = "wrist"
        w.wrench.force.z = 9.81
        return w, "geometry_msgs/msg/WrenchStamped"
    if kind == "joints":
        from sensor_msgs.msg import JointState

        js = JointState(name=[f"joint_{i:02d}" for i in range(43)])
        js.position = rng.normal(size=43).tolist()
        js.velocity = rng.normal(size=43).tolist()
        js.effort = rng.normal(size=43).tolist()
        return js, "sensor_msgs/msg/JointState"
    if kind == "command":
        from std_msgs.msg import Float64MultiArray

        return Float64MultiArray(
            data=rng.normal(size=43).tolist()
        ), "std_msgs/msg/Float64MultiArray"
    if kind == "tf":
        try:
            from geometry_msgs.msg import TransformStamped
            from tf2_msgs.msg import TFMessage

            transforms = []
            for i in range(20):
                t = TransformStamped()
                t.header.frame_id = "base"
                t.child_frame_id = f"link_{i}"
                t.transform.rotation.w = 1.0
                transforms.append(t)
            return TFMessage(transforms=transforms), "tf2_msgs/msg/TFMessage"
        except ImportError:
            from geometry_msgs.msg import Pose, PoseArray

            pa = PoseArray(poses=[Pose() for _ in range(20)])
            pa.header.frame_id = "base"
            return pa, "geometry_msgs/msg/PoseArray"
    raise ValueError(kind)


def tf_type() -> str:
    try:
        import tf2_msgs.msg  # noqa: F401

        return "tf2_msgs/msg/TFMessage"
    except ImportError:
        return "geometry_msgs/msg/PoseArray (stand-in: no tf2_msgs)"


def run_publisher(spec: dict[str, Any]) -> None:
    """Publish ``spec['streams']`` for ``spec['duration']`` s after the go file appears."""
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rclpy.serialization import serialize_message

    rclpy.init()
    node = rclpy.create_node(f"bench_pub_{os.getpid()}")
    streams = []
    for s in spec["streams"]:
        msg, _type = _message(s["kind"])
        pub = node.create_publisher(
            type(msg), s["topic"], QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        )
        data = bytearray(serialize_message(msg))
        stamped = hasattr(msg, "header")
        streams.append(
            {
                "topic": s["topic"],
                "pub": pub,
                "data": data,
                "stamped": stamped,
                "period": 1.0 / s["rate_hz"],
                "next": 0.0,
                "sent": 0,
            }
        )
    need = spec.get("subscribers", 1)
    deadline = time.monotonic() + 60
    while any(s["pub"].get_subscription_count() < need for s in streams):
        if time.monotonic() > deadline:
            raise SystemExit(f"no recorder subscribed to {[s['topic'] for s in streams]}")
        rclpy.spin_once(node, timeout_sec=0.05)
    Path(spec["ready"]).touch()
    while not Path(spec["go"]).exists():
        time.sleep(0.01)
    start = time.monotonic()
    for s in streams:
        s["next"] = start
    end = start + spec["duration"]
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = min(streams, key=lambda s: s["next"])
        if due["next"] > now:
            time.sleep(due["next"] - now)
            continue
        if due["stamped"]:
            t = time.time_ns()
            due["data"][4:12] = (t // 10**9).to_bytes(4, "little", signed=True) + (
                t % 10**9
            ).to_bytes(4, "little")
        due["pub"].publish(bytes(due["data"]))
        due["sent"] += 1
        due["next"] += due["period"]
    elapsed = time.monotonic() - start
    Path(spec["report"]).write_text(
        json.dumps({s["topic"]: s["sent"] for s in streams} | {"_elapsed_s": elapsed})
    )
    linger = time.monotonic() + 3  # let reliable retransmissions finish
    while time.monotonic() < linger:
        rclpy.spin_once(node, timeout_sec=0.1)
    node.destroy_node()
    rclpy.shutdown()


# ---------------------------------------------------------------- baseline recorder


def run_baseline(out: str, topics: list[str]) -> None:
    """Deserialize every message and write it with mcap-ros2-support, in the callback."""
    import rclpy
    from mcap_ros2.writer import Writer
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import Image

    from humanoid_teleop.core.bag.msgdefs import MessageDefinitionSource

    rclpy.init()
    node = rclpy.create_node("baseline_recorder")
    stream = Path(out).open("wb")  # noqa: SIM115
    writer = Writer(stream)
    schema = writer.register_msgdef(
        "sensor_msgs/msg/Image", MessageDefinitionSource().get("sensor_msgs/msg/Image").text
    )
    for topic in topics:

        def callback(msg: Any, topic: str = topic) -> None:
            writer.write_message(topic, schema, msg, log_time=time.time_ns())

        node.create_subscription(Image, topic, callback, QoSProfile(depth=100))
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        writer.finish()
        stream.close()
        rclpy.try_shutdown()


# ---------------------------------------------------------------- harness


class Proc:
    """A child process with CPU and RSS sampling from /proc."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log.open("w")
        self.popen = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO)
        self.peak_rss = 0
        self.cpu_start = 0.0

    def cpu_s(self) -> float:
        try:
            fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
        except OSError:
            pass

    def interrupt(self, timeout: float = 120) -> int:
        self.popen.send_signal(signal.SIGINT)
        code = self.popen.wait(timeout)
        self.log.close()
        return code


def _recorder(work: Path, name: str, topics: list[str], baseline: bool) -> tuple[Proc, Path]:
    out = work / name
    if baseline:
        out.mkdir()
        target = out / "baseline.mcap"
        args = [sys.executable, __file__, "--baseline-recorder", str(target), *topics]
    else:
        params = work / f"{name}.yaml"
        params.write_text(
            json.dumps(
                {
                    "recorder": {
                        "ros__parameters": {
                            "bag_dir": str(out),
                            "profile": str(REPO / "config" / "record" / "station.yaml"),
                            "topics": topics,
                            "auto_start_episode": True,
                        }
                    }
                }
            )
        )
        args = [
            sys.executable,
            "-m",
            "humanoid_teleop.nodes.recorder_node",
            "--ros-args",
            "--params-file",
            str(params),
        ]
    return Proc(args, work / f"{name}.log"), out


def _run_load(
    work: Path, name: str, groups: list[list[dict[str, Any]]], duration: float, baseline: bool
) -> dict[str, Any]:
    """Start a recorder and one publisher process per group; return sent/recorded/cpu/rss."""
    topics = [s["topic"] for g in groups for s in g]
    recorder, out = _recorder(work, name, topics, baseline)
    go = work / f"{name}.go"
    pubs = []
    for i, group in enumerate(groups):
        spec = {
            "streams": group,
            "duration": duration,
            "ready": str(work / f"{name}.ready{i}"),
            "go": str(go),
            "report": str(work / f"{name}.sent{i}.json"),
        }
        pubs.append(
            Proc(
                [sys.executable, __file__, "--publisher", json.dumps(spec)],
                work / f"{name}.pub{i}.log",
            )
        )
    try:
        deadline = time.monotonic() + 90
        while not all((work / f"{name}.ready{i}").exists() for i in range(len(groups))):
            if time.monotonic() > deadline or recorder.popen.poll() is not None:
                raise SystemExit(f"{name}: publishers never matched the recorder; see {work}")
            time.sleep(0.1)
        time.sleep(0.5)
        recorder.sample()
        cpu0, t0 = recorder.cpu_s(), time.monotonic()
        go.touch()
        while any(p.popen.poll() is None for p in pubs):
            recorder.sample()
            time.sleep(0.25)
        cpu = (recorder.cpu_s() - cpu0) / (time.monotonic() - t0)
        recorder.interrupt()
    finally:
        for proc in (*pubs, recorder):
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait()
    sent: dict[str, int] = {}
    for i in range(len(groups)):
        report = json.loads((work / f"{name}.sent{i}.json").read_text())
        report.pop("_elapsed_s")
        sent.update(report)
    recorded = _counts(out, baseline)
    return {"sent": sent, "recorded": recorded, "cpu": cpu, "rss": recorder.peak_rss, "out": out}


def _counts(out: Path, baseline: bool) -> dict[str, int]:
    from mcap.reader import make_reader

    if baseline:
        files = [out / "baseline.mcap"]
    else:
        (bag,) = [p for p in out.iterdir() if p.is_dir()]
        files = sorted(bag.glob("*.mcap"))
    counts: dict[str, int] = {}
    for file in files:
        with file.open("rb") as stream:
            summary = make_reader(stream).get_summary()
            if summary is None or summary.statistics is None:
                continue
            for cid, n in summary.statistics.channel_message_counts.items():
                topic = summary.channels[cid].topic
                counts[topic] = counts.get(topic, 0) + n
    return counts


def station(work: Path, duration: float) -> dict[str, Any]:
    cams = [
        [{"topic": f"/camera/{c}/image_raw", "kind": "image", "rate_hz": 30}]
        for c in ("head", "left_wrist", "right_wrist")
    ]
    groups = [
        *cams,
        [
            {"topic": "/wrist/left/wrench", "kind": "wrench", "rate_hz": 1000},
            {"topic": "/wrist/right/wrench", "kind": "wrench", "rate_hz": 1000},
        ],
        [
            {"topic": "/joint_states", "kind": "joints", "rate_hz": 500},
            {"topic": "/command/joint_positions", "kind": "command", "rate_hz": 250},
            {"topic": "/tf", "kind": "tf", "rate_hz": 100},
        ],
    ]
    result = _run_load(work, "station", groups, duration, baseline=False)
    result["rates"] = {s["topic"]: s["rate_hz"] for g in groups for s in g}
    return result


def ramp(
    work: Path, seconds: float, baseline: bool
) -> tuple[float, list[tuple[int, int, int, float, str]]]:
    """Highest 0-loss image rate [Hz] and (rate, sent, recorded, CPU cores) per level tried."""
    best = 0.0
    levels = []
    for hz in RAMP_HZ:
        stream = [[{"topic": "/camera/ramp/image_raw", "kind": "image", "rate_hz": hz}]]
        name = f"{'baseline' if baseline else 'recorder'}_{hz}"
        r = _run_load(work, name, stream, seconds, baseline)
        sent = r["sent"]["/camera/ramp/image_raw"]
        got = r["recorded"].get("/camera/ramp/image_raw", 0)
        note = ""
        if not baseline:
            stats = _recorder_loss(r["out"]).get("/camera/ramp/image_raw", {})
            note = f" (recorder drops {stats.get('dropped', '?')})"
        levels.append((hz, sent, got, r["cpu"], note))
        if got < sent:
            break
        best = sent / seconds
        for path in r["out"].rglob("*.mcap"):
            path.unlink()  # keep the disk free for the next level
    return best, levels


def disk_speed(work: Path, total: int = 512 * 1024 * 1024) -> tuple[float, float]:
    """Buffered and fsync'd sequential write speed [MB/s] of ``work``'s disk."""
    block = os.urandom(8 * 1024 * 1024)
    path = work / "disk_speed.bin"
    start = time.perf_counter()
    with path.open("wb") as f:
        for _ in range(total // len(block)):
            f.write(block)
        buffered = time.perf_counter() - start
        f.flush()
        os.fsync(f.fileno())
    synced = time.perf_counter() - start
    path.unlink()
    return total / buffered / MB, total / synced / MB


def _recorder_loss(out: Path) -> dict[str, Any]:
    """The recorder's own per-topic loss summary of the episode under ``out``."""
    from humanoid_teleop.core.bag.reader import read_bag

    (bag,) = [p for p in out.iterdir() if p.is_dir()]
    loss = read_bag(bag).custom_json("loss") or {}
    topics: dict[str, Any] = loss.get("topics", {})
    return topics


def print_station(work: Path, duration: float) -> None:
    print(
        f"station profile, {duration:.0f} s, publishers in 5 processes; /tf type: {tf_type()}",
        flush=True,
    )
    st = station(work, duration)
    loss = _recorder_loss(st["out"])
    print(
        f"\n{'topic':<31}{'rate Hz':>8}{'sent':>8}{'recorded':>9}{'lost':>6}"
        f"{'dropped in recorder':>21}{'DDS seq gaps':>14}"
    )
    for topic, sent in st["sent"].items():
        got = st["recorded"].get(topic, 0)
        t = loss.get(topic, {})
        print(
            f"{topic:<31}{st['rates'][topic]:>8}{sent:>8}{got:>9}{sent - got:>6}"
            f"{t.get('dropped', '?'):>21}{t.get('sequence_gaps', '?'):>14}"
        )
    sent_total = sum(st["sent"].values())
    got_total = sum(st["recorded"].get(t, 0) for t in st["sent"])
    print(f"{'total':<31}{'':>8}{sent_total:>8}{got_total:>9}{sent_total - got_total:>6}")
    print(
        f"\nrecorder CPU {st['cpu']:.2f} cores (limit 1.0), peak RSS "
        f"{st['rss'] / 2**20:.0f} MiB (limit 500)",
        flush=True,
    )


def print_ramp(work: Path, seconds: float) -> None:
    print(f"\nimage ramp (640x480 rgb8, {seconds:.0f} s per level)", flush=True)
    ours, our_levels = ramp(work, seconds, baseline=False)
    base, base_levels = ramp(work, seconds, baseline=True)
    buffered, synced = disk_speed(work)
    print(f"\n{'writer':<44}{'0-loss MB/s':>12}  levels (Hz: sent/recorded, recorder CPU)")
    for label, best, levels in (
        ("recorder_node (raw CDR, writer thread)", ours, our_levels),
        ("baseline (deserialize + mcap-ros2 Writer)", base, base_levels),
    ):
        text = ", ".join(f"{hz}: {s}/{g} {c:.2f}{n}" for hz, s, g, c, n in levels)
        print(f"{label:<44}{best * IMAGE_BYTES / MB:>12.1f}  {text}")
    print(f"{'raw disk write, buffered':<44}{buffered:>12.1f}")
    print(f"{'raw disk write, fsync':<44}{synced:>12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="station run [s]")
    parser.add_argument("--ramp-seconds", type=float, default=5.0, help="per ramp level [s]")
    parser.add_argument("--skip-ramp", action="store_true", help="only the station load")
    parser.add_argument("--skip-station", action="store_true", help="only the image ramp")
    parser.add_argument("--work", type=Path, default=None, help="folder for bags (default tmp)")
    parser.add_argument("--publisher", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-recorder", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        run_publisher(json.loads(args.publisher))
        return 0
    if args.baseline_recorder:
        run_baseline(args.baseline_recorder[0], args.baseline_recorder[1:])
        return 0

    from humanoid_teleop.isolation.netns import is_isolated

    if not is_isolated():
        wrapper = [sys.executable, "-m", "humanoid_teleop.isolation", "--"]
        return subprocess.call([*wrapper, sys.executable, __file__, *sys.argv[1:]], cwd=REPO)

    with tempfile.TemporaryDirectory(prefix="bench_record_", dir=args.work) as tmp:
        work = Path(tmp)
        if not args.skip_station:
            print_station(work, args.duration)
        if not args.skip_ramp:
            print_ramp(work, args.ramp_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
