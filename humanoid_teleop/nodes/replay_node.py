"""replay_node: a recorded operator played back as live input on ``/operator/*``.

``motion`` is either

- a BVH mocap clip (default: the CMU clip shipped in ``data/mocap/``): head
  and wrist poses in the operator frame (REP-103) on ``/operator/head`` and
  ``/operator/{left,right}_wrist`` (geometry_msgs/PoseStamped, ``frame_id`` parameter), one
  message per clip frame at the clip's rate × ``rate_scale``; the first ``skip_frames`` frames
  (CMU's T-pose and its blend) are dropped; with ``hands`` (recorded MediaPipe keypoints, as
  CMU has no finger motion) also ``/operator/{left,right}_hand`` (25 WebXR joints) at the
  wrists; or
- a recorded bag (folder or ``.mcap`` file): the operator intent the teleop node used
  (``/teleop/intent/*``; for an input without intent, e.g. the head on a robot without one,
  the bag's ``/operator/*`` topic) is republished on the matching ``/operator/*`` topics at
  the recorded pace × ``rate_scale``.

Playback starts once every output topic has a subscriber, or 2 s after the first subscriber
appeared (``wait_for_subscriber``, default true), so the clip begins when the teleop node
listens and nothing is lost to discovery.
Messages are stamped with the time they are published, as a live device would. With ``loop``
the recording starts over; without it the node stops publishing after the end (and keeps
running, so the teleop node sees its input go stale and holds).
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from std_msgs.msg import Bool

from humanoid_teleop.core.bag.reader import iter_messages
from humanoid_teleop.core.errors import ConfigError
from humanoid_teleop.core.motion import cdr
from humanoid_teleop.core.motion.bvh import human_frames_from_bvh, read_bvh
from humanoid_teleop.core.motion.hands import load_mediapipe_right_hand_mano, skeleton_in_world
from humanoid_teleop.core.motion.topics import CALIBRATED_TOPIC, ENGAGED_TOPIC
from humanoid_teleop.core.resources import MOTION_CLIPS
from humanoid_teleop.core.retarget.calibration import engaged_at
from humanoid_teleop.core.sim.replay import ReplaySchedule, TimelineSchedule
from humanoid_teleop.core.sim.settings import ReplaySettings
from humanoid_teleop.nodes import ros_conversions as conv
from humanoid_teleop.nodes.executor import run_node
from humanoid_teleop.nodes.operator_topics import INTENT_PREFIX, OPERATOR_PREFIX, OPERATOR_TOPICS

DEFAULT_CLIP = "cmu_14_05_unscrew_cap_drink_soda"
#: With ``wait_for_subscriber``, how long to wait for the remaining topics' subscribers once
#: one topic has one [s].
PARTIAL_AUDIENCE_WAIT_S = 2.0


def default_clip() -> Path:
    """The BVH clip shipped with the package (``data/mocap/`` on the resource search path)."""
    return MOTION_CLIPS.find(DEFAULT_CLIP)


def is_bag(path: Path) -> bool:
    """True for a bag folder (metadata.yaml or .mcap files) or a single .mcap file."""
    if path.is_dir():
        return (path / "metadata.yaml").is_file() or any(path.glob("*.mcap"))
    return path.suffix == ".mcap"


@dataclass(frozen=True)
class BagInput:
    """The operator input of a recorded bag, as :class:`ReplayNode` publishes it."""

    #: (sample time [ns]: the header stamp, not the log time a late delivery shifts;
    #: /operator/* topic; CDR), in time order.
    messages: list[tuple[int, str, bytes]]
    #: Why a re-centre or pause in the bag is replayed as recorded ("": there is none, or
    #: every one is followed).
    unfollowed: str = ""


def bag_operator_messages(path: Path) -> BagInput:
    """The operator input recorded in a bag.

    Per input (head, each wrist, ...) the intent topic (what teleop used) is preferred; an
    input the bag has no intent for comes from its raw ``/operator/*`` topic, so e.g. a head
    recorded on a robot without a head is still replayed onto one with a head. Raw
    ``/operator/*`` input the device sent while the recording's teleop node held (between a
    disengage and the next engage: :func:`~humanoid_teleop.core.retarget.calibration.engaged_at`)
    is left out, as the intent topics, published only while engaged, leave it out.

    Where the operator re-centred or paused and engaged again (a later
    ``/teleop/intent/calibrated`` or engage), the teleop node mapped the input after it
    through a new calibration, while the teleop node this replay feeds captures one, at its
    engage: the wrists and hands after it are moved and turned into the calibration the
    episode began with, as ``humanoid-teleop port`` does
    (:func:`~humanoid_teleop.portability.port.input_in_first_calibration`), so the robot
    goes on from where it was instead of jumping by the operator's move. A bag that cannot
    be read so is replayed as recorded, and :attr:`BagInput.unfollowed` says why.
    """
    intents = [INTENT_PREFIX + name for name in OPERATOR_TOPICS]
    operators = [OPERATOR_PREFIX + name for name in OPERATOR_TOPICS]
    by_source: dict[str, list[tuple[int, str, bytes]]] = {}
    calibrations = 0
    engaged: list[tuple[int, bool]] = []  # (time [ns], engaged) of the recording's flags
    for m in iter_messages(path, topics=[*intents, *operators, CALIBRATED_TOPIC, ENGAGED_TOPIC]):
        if m.topic == CALIBRATED_TOPIC:
            calibrations += 1
            continue
        if m.topic == ENGAGED_TOPIC:
            engaged.append((m.sample_time_ns, bool(deserialize_message(m.data, Bool).data)))
            continue
        prefix = INTENT_PREFIX if m.topic.startswith(INTENT_PREFIX) else OPERATOR_PREFIX
        name = m.topic[len(prefix) :]
        by_source.setdefault(m.topic, []).append((m.sample_time_ns, OPERATOR_PREFIX + name, m.data))
    for topic, messages in by_source.items():
        messages.sort(key=lambda item: item[0])  # stable: as the port's reader orders them
        if topic.startswith(OPERATOR_PREFIX):
            # raw device input: without what it sent while the teleop node held (a pause),
            # as the intent topics, published only while engaged, are
            kept = engaged_at([t for t, _, _ in messages], engaged)
            messages[:] = [m for m, keep in zip(messages, kept, strict=True) if keep]
    unfollowed = ""
    if max(calibrations, sum(on for _, on in engaged)) > 1:  # a re-centre or a pause
        unfollowed = _replace_with_first_calibration_input(path, by_source)
    chosen: list[tuple[int, str, bytes]] = []
    for name in OPERATOR_TOPICS:
        chosen += by_source.get(INTENT_PREFIX + name) or by_source.get(OPERATOR_PREFIX + name, [])
    if not chosen:
        raise ConfigError(
            f"{path}: bag has no operator input to replay (looked for {', '.join(intents)} "
            f"and {', '.join(operators)})"
        )
    return BagInput(sorted(chosen, key=lambda item: item[0]), unfollowed)


def _replace_with_first_calibration_input(
    path: Path, by_source: dict[str, list[tuple[int, str, bytes]]]
) -> str:
    """Replace the wrist and hand messages of ``by_source`` (recorded topic -> its messages,
    in time order) with the input in the episode's first calibration; returns why they were
    left as recorded ("" when replaced or there was nothing to replace)."""
    from humanoid_teleop.core.errors import TeleopError
    from humanoid_teleop.portability.port import input_in_first_calibration

    try:
        folded = input_in_first_calibration(path)
    except TeleopError as err:
        return f"{err} (re-centres and pauses are replayed as recorded)"
    if folded is None:
        return ""
    prefix = folded.intent_source
    streams = [(f"{prefix}{side}_wrist", samples) for side, samples in folded.wrists.items()]
    streams += [(f"{prefix}{side}_hand", samples) for side, samples in folded.hands.items()]
    for topic, samples in streams:
        if len(by_source.get(topic, [])) != len(samples.values):  # one reader: not expected
            return (
                f"{path}: {topic}: {len(by_source.get(topic, []))} messages, of which the "
                f"port's reader read {len(samples.values)} (re-centres and pauses are "
                "replayed as recorded)"
            )
    for side, wrists in folded.wrists.items():
        topic = f"{prefix}{side}_wrist"
        messages = by_source[topic]
        for i, ((t_ns, name, data), row) in enumerate(zip(messages, wrists.values, strict=True)):
            frame_id = cdr.decode_pose_stamped(data, topic).header.frame_id
            sec, nanosec = divmod(t_ns, 1_000_000_000)
            messages[i] = (t_ns, name, cdr.encode_pose_stamped(sec, nanosec, frame_id, row))
    for side, hands in folded.hands.items():
        topic = f"{prefix}{side}_hand"
        messages = by_source[topic]
        for i, ((t_ns, name, data), points) in enumerate(zip(messages, hands.values, strict=True)):
            header, poses = cdr.decode_pose_array(data, topic)
            # the joints' orientations as recorded: the hand retargeters read positions only
            poses = poses.copy()
            poses[:, :3] = points
            sec, nanosec = divmod(t_ns, 1_000_000_000)
            messages[i] = (t_ns, name, cdr.encode_pose_array(sec, nanosec, header.frame_id, poses))
    return ""


class ReplayNode(Node):
    """Publishes a BVH clip or a bag's operator intent as live operator input."""

    def __init__(self) -> None:
        super().__init__("replay_node")
        values = {
            f.name: self.declare_parameter(f.name, getattr(ReplaySettings(), f.name)).value
            for f in fields(ReplaySettings)
        }
        self.settings = ReplaySettings.from_dict(values)
        path = Path(self.settings.motion).expanduser() if self.settings.motion else default_clip()
        if not path.exists():
            raise ConfigError(f"replay_node parameter 'motion': {path} does not exist")
        self._pubs: dict[str, Any] = {}
        self._start_s: float | None = None
        self._first_audience_s: float | None = None
        self._passes_logged = 0
        self._finished_logged = False
        if is_bag(path):
            self._setup_bag(path)
        elif path.suffix.lower() == ".bvh":
            self._setup_bvh(path)
        else:
            raise ConfigError(
                f"replay_node parameter 'motion': {path} is neither a .bvh clip nor a bag "
                "(folder with metadata.yaml / .mcap files, or a .mcap file)"
            )

    def _publisher(self, name: str) -> Any:
        if name not in self._pubs:
            # ~4 s at 120 Hz: a lost packet is re-requested only after Fast DDS's 3 s heartbeat.
            self._pubs[name] = self.create_publisher(
                OPERATOR_TOPICS[name], OPERATOR_PREFIX + name, 500
            )
        return self._pubs[name]

    # -- BVH ------------------------------------------------------------------------------------

    def _setup_bvh(self, path: Path) -> None:
        clip = read_bvh(path)
        motion = human_frames_from_bvh(
            clip,
            skip_frames=self.settings.skip_frames,
            calibration_frame=self.settings.calibration_frame,
        )
        self._frames = motion.frames
        self._schedule = ReplaySchedule(
            len(self._frames), motion.frame_time_s, self.settings.rate_scale, self.settings.loop
        )
        for name in ("head", "left_wrist", "right_wrist"):
            self._publisher(name)
        self._hands: dict[str, np.ndarray] = {}
        if self.settings.hands:
            right = load_mediapipe_right_hand_mano(str(Path(self.settings.hands).expanduser()))
            # the left-hand frame is the mirror image (thumb toward -y): mirror y
            self._hands = {"right": right, "left": right * np.array([1.0, -1.0, 1.0])}
            for side in self._hands:
                self._publisher(f"{side}_hand")
        self.create_timer(self._schedule.period_s, self._play_bvh_frame)
        self.get_logger().info(
            (f"hands from {self.settings.hands}; " if self._hands else "")
            + f"replaying {path.name}: {len(self._frames)} frames (skipped the first "
            f"{self.settings.skip_frames}) at {1.0 / self._schedule.period_s:.1f} Hz, "
            f"{self._schedule.duration_s:.1f} s per pass"
            + (", looping" if self.settings.loop else ", once")
        )

    def _elapsed_s(self) -> float | None:
        """Seconds since playback started; None while waiting for subscribers.

        Waits until every output topic has a subscriber, or for ``PARTIAL_AUDIENCE_WAIT_S``
        after the first one appeared (a consumer may not want every topic, e.g. no head).
        """
        if self._start_s is None:
            now = time.monotonic()
            counts = [pub.get_subscription_count() for pub in self._pubs.values()]
            if any(counts) and self._first_audience_s is None:
                self._first_audience_s = now
            waited = self._first_audience_s is not None and (
                now - self._first_audience_s >= PARTIAL_AUDIENCE_WAIT_S
            )
            if self.settings.wait_for_subscriber and not (all(counts) or waited):
                return None
            self._start_s = now
            unheard = [
                OPERATOR_PREFIX + name
                for name, count in zip(self._pubs, counts, strict=True)
                if not count
            ]
            self.get_logger().info(
                "playback started"
                + (f" (no subscriber yet on {', '.join(unheard)})" if unheard else "")
            )
        return time.monotonic() - self._start_s

    def _play_bvh_frame(self) -> None:
        elapsed = self._elapsed_s()
        if elapsed is None:
            return
        index = self._schedule.due(elapsed)
        if index is None:
            if self._schedule.finished(elapsed) and not self._finished_logged:
                self._finished_logged = True
                self.get_logger().info("clip finished; operator input stops (loop is false)")
            return
        self._log_pass(self._schedule.passes(elapsed), self._schedule.skipped)
        frame = self._frames[index]
        # Ready CDR bytes (core.motion.cdr), as the headset bridge publishes them.
        sec, nanosec = conv.clock_stamp(self.get_clock())
        frame_id = self.settings.frame_id
        for name, pose in (
            ("head", frame.head),
            ("left_wrist", frame.left_wrist),
            ("right_wrist", frame.right_wrist),
        ):
            if pose is None:
                continue
            values = (*pose.position_m, *pose.quat_xyzw())
            self._pubs[name].publish(cdr.encode_pose_stamped(sec, nanosec, frame_id, values))
        if self._hands:
            clip_s = index * self._schedule.frame_time_s
            for side, local in self._hands.items():
                wrist = frame.wrist(side)
                if wrist is None:
                    continue
                k = int(clip_s * self.settings.hands_rate_hz) % len(local)
                skeleton = skeleton_in_world(local[k], wrist.position_m, wrist.rotation)
                joints = np.zeros((len(skeleton.positions_m), 7))
                joints[:, :3], joints[:, 6] = skeleton.positions_m, 1.0
                hand = cdr.encode_pose_array(sec, nanosec, frame_id, joints)
                self._pubs[f"{side}_hand"].publish(hand)

    def _log_pass(self, passes: int, skipped: int) -> None:
        if passes > self._passes_logged:
            self._passes_logged = passes
            self.get_logger().info(
                f"pass {passes} done, starting over ({skipped} frames skipped for lateness)"
            )

    # -- bag ------------------------------------------------------------------------------------

    def _setup_bag(self, path: Path) -> None:
        bag_input = bag_operator_messages(path)
        if bag_input.unfollowed:
            self.get_logger().warning(bag_input.unfollowed)
        recorded = bag_input.messages
        first_ns = recorded[0][0]
        times = tuple((t - first_ns) * 1e-9 for t, _, _ in recorded)
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        self._timeline = TimelineSchedule(
            times,
            self.settings.rate_scale,
            self.settings.loop,
            gap_s=min(gaps) if gaps else 0.1,
        )
        self._messages = []
        for _, topic, data in recorded:
            name = topic[len(OPERATOR_PREFIX) :]
            message: Any = deserialize_message(data, OPERATOR_TOPICS[name])
            self._messages.append((self._publisher(name), message))
        # Poll about as often as messages were recorded (2-10 ms): all due ones go out.
        typical_gap_s = sorted(gaps)[len(gaps) // 2] if gaps else 0.01
        self.create_timer(
            min(0.01, max(0.002, typical_gap_s / self.settings.rate_scale)), self._play_bag
        )
        self.get_logger().info(
            f"replaying operator input from bag {path}: {len(recorded)} messages on "
            f"{', '.join(sorted(OPERATOR_PREFIX + n for n in self._pubs))}, "
            f"{times[-1]:.1f} s per pass" + (", looping" if self.settings.loop else ", once")
        )

    def _play_bag(self) -> None:
        elapsed = self._elapsed_s()
        if elapsed is None:
            return
        due = self._timeline.due(elapsed)
        if not due:
            if self._timeline.finished() and not self._finished_logged:
                self._finished_logged = True
                self.get_logger().info("bag finished; operator input stops (loop is false)")
            return
        self._log_pass(self._timeline.passes_done, 0)
        stamp = self.get_clock().now().to_msg()
        for index in due:
            pub, msg = self._messages[index]
            if hasattr(msg, "header"):
                msg.header.stamp = stamp
            pub.publish(msg)


def main(args: list[str] | None = None) -> int:
    return run_node("replay_node", ReplayNode, args=args)


if __name__ == "__main__":
    sys.exit(main())
