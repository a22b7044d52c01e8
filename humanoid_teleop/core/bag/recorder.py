"""The recorder: callbacks hand over serialized messages, a writer thread writes episodes.

``submit`` never blocks and never touches the disk: it appends to a write queue bounded in
bytes; when the queue is full the message is dropped and counted (memory never grows without
bound). The writer thread owns every file: it writes messages, flushes the open chunk at least
every ``flush_period_s``, splits files, watches free disk space, and runs episode commands in
order with the messages around them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .accounting import EpisodeAccounting, header_stamp_ns
from .episode import (
    CachedMessage,
    EpisodeWriter,
    FileOptions,
    RecordedTopic,
    episode_name_taken,
)
from .errors import BagError, DiskFullError
from .msgdefs import MessageDefinitionSource
from .qos import QosProfile

LOG = logging.getLogger(__name__)
MIB = 1024 * 1024
OUTCOMES = ("success", "failure", "unknown")


@dataclass(frozen=True)
class RecorderConfig:
    """Where and how episodes are written.

    bag_dir: Directory that receives one bag directory per episode.
    flush_period_s: Longest time [s] a message waits before reaching the operating system.
    queue_max_bytes: Write queue bound [bytes]; beyond it messages are dropped and counted.
    min_free_bytes: Below this free space [bytes] the episode stops with an error.
    warn_free_bytes: Below this free space [bytes] the status warns.
    sync_reference: Topic whose header stamps other streams are compared with.
    episode_prefix: First part of an episode's default name, ``<prefix>_<UTC start>_<n>``
        (:func:`episode_prefix`).
    """

    bag_dir: Path
    files: FileOptions = field(default_factory=FileOptions)
    flush_period_s: float = 0.5
    queue_max_bytes: int = 256 * MIB
    min_free_bytes: int = 64 * MIB
    warn_free_bytes: int = 1024 * MIB
    sync_reference: str | None = "/joint_states"
    episode_prefix: str = "episode"


def episode_prefix(station: str) -> str:
    """The first part of a station's episode names: its id, with each run of characters other
    than letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` (a folder name on any
    file system), so that episodes of a centre's stations keep apart in one archive;
    ``episode`` without a station. The station's own id is stored in the metadata as given."""
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "-", station).strip(".-")
    return prefix or "episode"


EPISODE_FORMAT = "1"
"""Version of the episode format this recorder writes (docs/episode-format.md); stored in every
episode as ``episode_format``."""


@dataclass(frozen=True)
class EpisodeInfo:
    """What an episode is about; stored in the bag and in metadata.yaml ``custom_data``."""

    task: str = ""
    operator: str = ""
    robot: str = ""
    robot_model_hash: str = ""
    device: str = ""
    station: str = ""
    software_version: str = ""
    custom: Mapping[str, str] = field(default_factory=dict)

    def custom_data(self) -> dict[str, str]:
        data = {
            "episode_format": EPISODE_FORMAT,
            "task": self.task,
            "operator": self.operator,
            "robot": self.robot,
            "robot_model_hash": self.robot_model_hash,
            "device": self.device,
            "station": self.station,
            "software_version": self.software_version,
        }
        data.update({f"custom.{k}": str(v) for k, v in self.custom.items()})
        return data


@dataclass(frozen=True)
class EpisodeResult:
    """A closed episode: where it is and how it went.

    messages: Messages in its files (latched copies at file starts not counted).
    lost_on_error: Messages accepted for it that an error kept out of its files.
    """

    path: Path
    outcome: str
    messages: int
    bytes: int
    error: str = ""
    lost_on_error: int = 0


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot for the status topic and the console line."""

    state: str  # idle | recording | error
    episode: str
    elapsed_s: float
    bytes_written: int
    messages_written: int
    messages_per_s: float
    dropped: int
    queue_bytes: int
    free_bytes: int
    low_disk: bool
    error: str
    topics: dict[str, dict[str, Any]]

    def console_line(self) -> str:
        """One line: state, elapsed, size, rate, drops (and warnings)."""
        line = (
            f"[{self.state}] {self.episode or '-'} {self.elapsed_s:7.1f} s "
            f"{self.bytes_written / MIB:9.1f} MiB {self.messages_per_s:8.0f} msg/s "
            f"drops {self.dropped}"
        )
        if self.low_disk:
            line += f" LOW DISK ({self.free_bytes / MIB:.0f} MiB free)"
        if self.error:
            line += f" ERROR: {self.error}"
        return line


@dataclass
class _Message:
    topic: str
    receive_ns: int
    publish_ns: int
    sequence: int
    data: bytes
    publisher: str


@dataclass
class _Command:
    name: str
    args: dict[str, Any]
    future: Future[Any]


class BagRecorder:
    """Thread-safe front of the writer thread (see module docstring)."""

    def __init__(
        self,
        config: RecorderConfig,
        definitions: MessageDefinitionSource | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self._definitions = definitions or MessageDefinitionSource()
        self._clock_ns = clock_ns
        self._lock = threading.Condition()
        self._queue: deque[_Message | _Command] = deque()
        self._batch: deque[_Message | _Command] = deque()  # taken from the queue, being run
        self._queue_bytes = 0
        self._topics: dict[str, RecordedTopic] = {}
        self._latched: dict[str, deque[CachedMessage]] = {}
        self._recording = False
        self._accounting = EpisodeAccounting(config.sync_reference)
        self._episode: EpisodeWriter | None = None
        self._episode_start_ns = 0
        self._episode_info = EpisodeInfo()
        self._outcome = "unknown"
        self._annotations: list[dict[str, Any]] = []
        self._error = ""
        self._last_result: EpisodeResult | None = None
        self._free_bytes = self._disk_free()
        self._episode_counter = 0
        self._rate = (time.monotonic(), 0, 0.0)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="bag-writer", daemon=True)
        self._thread.start()

    # ---- called from subscription callbacks (never block, never touch the disk) ----

    def add_topic(self, name: str, type_name: str, qos: Sequence[QosProfile]) -> RecordedTopic:
        """Record ``name`` from now on; raises MessageDefinitionError for unknown types."""
        definition = self._definitions.get(type_name)
        latched = any(q.latched for q in qos)
        topic = RecordedTopic(name, definition, tuple(qos), latched)
        with self._lock:
            self._topics[name] = topic
            if latched:
                depth = max((q.depth for q in qos), default=1) or 1
                self._latched[name] = deque(maxlen=depth)
            if self._recording:
                self._put(_Command("add_topic", {"topic": topic}, Future()))
        return topic

    @property
    def topics(self) -> dict[str, RecordedTopic]:
        with self._lock:
            return dict(self._topics)

    def submit(
        self,
        topic: str,
        data: bytes,
        receive_ns: int,
        publish_ns: int = 0,
        sequence: int = 0,
        publisher: str = "",
    ) -> bool:
        """Queue one serialized message; False when it was dropped (queue full).

        Times in [ns]; ``sequence`` is the publisher's sequence number and ``publisher`` its
        id (both optional: they let the loss summary count gaps per publisher).
        """
        with self._lock:
            cache = self._latched.get(topic)
            if cache is not None:
                cache.append(CachedMessage(receive_ns, publish_ns, sequence, data))
            if not self._recording:
                return True
            stats = self._accounting.topic(topic)
            stats.received += 1
            if self._queue_bytes + len(data) > self.config.queue_max_bytes:
                stats.dropped += 1
                return False
            self._queue_bytes += len(data)
            self._queue.append(_Message(topic, receive_ns, publish_ns, sequence, data, publisher))
            self._lock.notify()
            return True

    def note_lost(self, topic: str, count: int) -> None:
        """Count ``count`` samples of ``topic`` that DDS reported lost before reaching us.

        Such samples never reach :meth:`submit`; the publisher's sequence gaps count them
        already, so this only attributes the loss to the transport (outside the recorder).
        Ignored when no episode is being recorded.
        """
        with self._lock:
            if self._recording and count > 0:
                self._accounting.topic(topic).lost_in_transport += count

    # ---- episode commands (block until the writer thread ran them) ----

    def _call(self, command: str, timeout_s: float = 60.0, **args: Any) -> Any:
        future: Future[Any] = Future()
        with self._lock:
            if self._stopping and command != "shutdown":
                raise BagError("the recorder is shut down")
            self._put(_Command(command, args, future))
        return future.result(timeout=timeout_s)

    def _put(self, item: _Message | _Command) -> None:
        self._queue.append(item)
        self._lock.notify()

    def start_episode(self, info: EpisodeInfo, name: str | None = None) -> Path:
        """Start an episode; returns its ``.partial`` directory."""
        result: Path = self._call("start", info=info, name=name)
        return result

    def stop_episode(self) -> EpisodeResult:
        """Close the episode cleanly (metadata.yaml, rename); returns where it is."""
        result: EpisodeResult = self._call("stop")
        return result

    def discard_episode(self) -> Path:
        """Stop the episode and delete it."""
        result: Path = self._call("discard")
        return result

    def mark_outcome(self, success: bool) -> None:
        """Mark the running episode a success or a failure."""
        with self._lock:
            if not self._recording:
                raise BagError("no episode is being recorded")
            self._outcome = "success" if success else "failure"

    def annotate(self, text: str, time_ns: int | None = None) -> None:
        """Attach a timed free-text label (e.g. "grasp") to the running episode."""
        with self._lock:
            if not self._recording:
                raise BagError("no episode is being recorded")
            self._annotations.append(
                {"time_ns": time_ns if time_ns is not None else self._clock_ns(), "text": text}
            )

    @property
    def recording(self) -> bool:
        with self._lock:
            return self._recording

    @property
    def last_result(self) -> EpisodeResult | None:
        """The last episode closed, cleanly or after an error (``outcome == "error"``)."""
        with self._lock:
            return self._last_result

    def status(self) -> RecorderStatus:
        """Snapshot of the recorder for the status topic and console."""
        with self._lock:
            episode = self._episode
            elapsed = (self._clock_ns() - self._episode_start_ns) / 1e9 if episode else 0.0
            topics = {n: s.summary() for n, s in self._accounting.topics.items()}
            written = sum(s.written for s in self._accounting.topics.values())
            dropped = sum(s.dropped for s in self._accounting.topics.values())
            now = time.monotonic()
            last_t, last_n, last_rate = self._rate
            rate = last_rate
            if now - last_t >= 0.5:
                rate = max(0.0, (written - last_n) / (now - last_t))
                self._rate = (now, written, rate)
            return RecorderStatus(
                state="error" if self._error else ("recording" if episode else "idle"),
                episode=episode.name if episode else "",
                elapsed_s=elapsed,
                bytes_written=episode.bytes_written if episode else 0,
                messages_written=written,
                messages_per_s=rate,
                dropped=dropped,
                queue_bytes=self._queue_bytes,
                free_bytes=self._free_bytes,
                low_disk=self._free_bytes < self.config.warn_free_bytes,
                error=self._error,
                topics=topics,
            )

    def close(self, timeout_s: float = 60.0) -> EpisodeResult | None:
        """Close any running episode cleanly and stop the writer thread."""
        result: EpisodeResult | None = None
        if self._thread.is_alive():
            result = self._call("shutdown", timeout_s)
            self._thread.join(timeout_s)
        return result

    # ---- writer thread ----

    def _disk_free(self) -> int:
        root = self.config.bag_dir
        while not root.exists() and root != root.parent:
            root = root.parent
        try:
            return int(shutil.disk_usage(root).free)
        except OSError:
            return 0

    def _run(self) -> None:
        last_flush = time.monotonic()
        last_disk = 0.0
        period = self.config.flush_period_s
        while True:
            with self._lock:
                if not self._queue:
                    self._lock.wait(timeout=period / 2)
                self._batch.extend(self._queue)
                self._queue.clear()
            done = False
            while True:
                with self._lock:
                    if not self._batch:
                        break
                    item = self._batch.popleft()
                if isinstance(item, _Command):
                    done = self._command(item) or done
                else:
                    self._write(item)
            now = time.monotonic()
            if now - last_disk >= 1.0:
                last_disk = now
                self._check_disk()
            if self._episode is not None and now - last_flush >= period:
                last_flush = now
                self._guarded(self._episode.flush)
            if done:
                return

    def _write(self, msg: _Message) -> None:
        with self._lock:
            self._queue_bytes -= len(msg.data)
            episode = self._episode
            topic = self._topics.get(msg.topic)
        if episode is None or topic is None:
            return
        # A failed write is settled by _fail: the files are counted after their repair.
        if not self._guarded(
            lambda: episode.write(
                msg.topic, msg.receive_ns, msg.publish_ns, msg.sequence, msg.data, self._latched_now
            )
        ):
            return
        stamp = header_stamp_ns(msg.data) if topic.definition.stamped else None
        with self._lock:
            self._accounting.on_written(
                msg.topic, msg.receive_ns, msg.sequence, stamp, msg.publisher
            )

    def _latched_now(self) -> dict[str, list[CachedMessage]]:
        """A copy of the latched-message caches (taken only when a file is opened)."""
        with self._lock:
            return {k: list(v) for k, v in self._latched.items()}

    def _guarded(self, action: Callable[[], None]) -> bool:
        """Run a disk action; on failure stop the episode with an error, keeping its data."""
        try:
            action()
            return True
        except BagError as err:
            LOG.error("%s", err)
            self._fail(str(err))
            return False

    def _fail(self, error: str, clean: bool = False) -> None:
        """Stop the episode after ``error``: keep and count what reached the disk.

        Every message accepted for this episode and not in the closed files (the torn
        chunk, the message whose write failed, those still queued) is counted per topic as
        ``lost_on_error``; ``written`` is what the files hold. ``clean``: the files are
        intact (e.g. free space fell below the minimum), so try closing them normally first.
        """
        episode = self._episode
        with self._lock:
            self._error = error
            self._recording = False
            self._drop_queued_messages(count_as_dropped=False)
        if episode is None:
            return
        if clean:
            with self._lock:
                in_files = {name: s.written for name, s in self._accounting.topics.items()}
            try:
                path = episode.close(self._settle_after_error(in_files, error))
            except (BagError, OSError) as err:
                LOG.error(
                    "%s: closing failed too (%s); repairing what is on disk", episode.path, err
                )
            else:
                LOG.error(
                    "episode %s stopped with an error (%s); closed %s", episode.name, error, path
                )
                with self._lock:
                    self._episode = None
                    self._last_result = EpisodeResult(
                        path, "error", sum(in_files.values()), _du(path), error, self._lost()
                    )
                return
        try:
            path, kept = episode.close_after_error(
                lambda on_disk: self._settle_after_error(on_disk, error)
            )
            written = sum(kept.values())
            LOG.error(
                "episode %s stopped with an error (%s); %d messages kept in %s",
                episode.name,
                error,
                written,
                path,
            )
            result = EpisodeResult(path, "error", written, _du(path), error, self._lost())
        except (BagError, OSError) as err:
            LOG.error(
                "%s: could not repair after the error (%s); run `bag recover`", episode.path, err
            )
            result = EpisodeResult(episode.path, "error", 0, _du(episode.path), error, self._lost())
        with self._lock:
            self._episode = None
            self._last_result = result

    def _lost(self) -> int:
        with self._lock:
            return sum(s.lost_on_error for s in self._accounting.topics.values())

    def _settle_after_error(self, on_disk: Mapping[str, int], error: str) -> dict[str, str]:
        """Make the loss summary match ``on_disk`` (live messages per topic in the files)."""
        with self._lock:
            for name in set(on_disk) | set(self._accounting.topics):
                self._accounting.topic(name).settle_written(on_disk.get(name, 0))
        return self._final_custom("error", error)

    def _drop_queued_messages(self, count_as_dropped: bool = True) -> None:
        """Forget queued messages (the writer thread's batch too); commands stay queued."""
        kept: deque[_Message | _Command] = deque()
        for item in (*self._batch, *self._queue):
            if isinstance(item, _Command):
                kept.append(item)
            else:
                self._queue_bytes -= len(item.data)
                if count_as_dropped:
                    self._accounting.topic(item.topic).dropped += 1
        self._batch.clear()
        self._queue = kept

    def _check_disk(self) -> None:
        free = self._disk_free()
        with self._lock:
            self._free_bytes = free
        if free < self.config.warn_free_bytes:
            LOG.warning("low disk space: %.0f MiB free under %s", free / MIB, self.config.bag_dir)
        if self._episode is not None and free < self.config.min_free_bytes:
            self._fail(
                f"{self.config.bag_dir}: only {free / MIB:.1f} MiB free "
                f"(minimum {self.config.min_free_bytes / MIB:.1f} MiB)",
                clean=True,
            )

    def _final_custom(self, outcome: str, error: str = "") -> dict[str, str]:
        end_ns = self._clock_ns()
        with self._lock:
            custom = self._episode_info.custom_data()
            custom.update(
                {
                    "episode": self._episode.name if self._episode else "",
                    "start_time": _iso(self._episode_start_ns),
                    "end_time": _iso(end_ns),
                    "outcome": outcome,
                    "error": error,
                    "annotations": json.dumps(self._annotations),
                    "loss": json.dumps(self._accounting.loss_summary()),
                    "sync": json.dumps(self._accounting.sync_summary()),
                }
            )
        return custom

    def _command(self, cmd: _Command) -> bool:
        try:
            handler = getattr(self, f"_cmd_{cmd.name}")
            cmd.future.set_result(handler(**cmd.args))
        except Exception as err:  # the caller gets the error through the future
            cmd.future.set_exception(err)
        return cmd.name == "shutdown"

    def _cmd_add_topic(self, topic: RecordedTopic) -> None:
        if self._episode is not None:
            self._guarded(lambda: self._episode.add_topic(topic) if self._episode else None)

    def _cmd_start(self, info: EpisodeInfo, name: str | None) -> Path:
        if self._episode is not None:
            raise BagError(f"episode {self._episode.name} is already being recorded")
        bag_dir = self.config.bag_dir
        created = not bag_dir.exists()
        try:
            # Creating the folder first makes a bad path fail with its real reason
            # (permission, read-only, not a folder), not as "no free space".
            bag_dir.mkdir(parents=True, exist_ok=True)
            free = int(shutil.disk_usage(bag_dir).free)
        except FileExistsError:  # mkdir(exist_ok=True) raises it only for a non-folder
            what = next((p for p in (bag_dir, *bag_dir.parents) if p.is_file()), bag_dir)
            raise BagError(
                f"{bag_dir}: cannot create the bag folder: {what} is a file, not a folder"
            ) from None
        except OSError as err:
            raise BagError(
                f"{bag_dir}: cannot create the bag folder: {err.strerror or err}"
            ) from err
        if free < self.config.min_free_bytes:
            if created:
                with contextlib.suppress(OSError):
                    bag_dir.rmdir()
            raise DiskFullError(
                f"{self.config.bag_dir}: only {free / MIB:.1f} MiB free, need "
                f"{self.config.min_free_bytes / MIB:.1f} MiB to start an episode"
            )
        start_ns = self._clock_ns()
        self._episode_counter += 1
        if name is None:
            stamp = datetime.fromtimestamp(start_ns / 1e9, timezone.utc).strftime("%Y%m%dT%H%M%S")
            name = self._free_name(f"{self.config.episode_prefix}_{stamp}")
        record = info.custom_data()
        record.update({"episode": name, "start_time": _iso(start_ns), "outcome": "incomplete"})
        episode = EpisodeWriter(self.config.bag_dir, name, self.config.files, record)
        with self._lock:
            for topic in self._topics.values():
                episode.add_topic(topic)
            latched = {k: list(v) for k, v in self._latched.items()}
        try:
            episode.begin(start_ns, latched)
        except BagError:
            episode.discard()
            raise
        with self._lock:
            self._episode = episode
            self._episode_start_ns = start_ns
            self._episode_info = info
            self._outcome = "unknown"
            self._annotations = []
            self._error = ""
            self._accounting = EpisodeAccounting(self.config.sync_reference)
            self._recording = True
        LOG.info("recording episode %s", episode.path)
        return episode.path

    def _free_name(self, stem: str) -> str:
        """``<stem>_<n>`` with this recorder's episode count as ``n``, counted on past
        names already in the bag folder (a recorder restarted within the second of its
        last episode's start, a second recorder of the station writing there)."""
        while True:
            name = f"{stem}_{self._episode_counter:04d}"
            if not episode_name_taken(self.config.bag_dir, name):
                return name
            self._episode_counter += 1

    def _cmd_stop(self) -> EpisodeResult:
        """Close the episode; if its files cannot be finished (disk full), close it as
        :meth:`_fail` does and return that result (``outcome == "error"``)."""
        episode = self._episode
        if episode is None:
            raise BagError("no episode is being recorded")
        with self._lock:
            self._recording = False
            # Messages queued before the stop are already written (the queue is ordered);
            # those accepted while this command waited are written too, so `received` is
            # `written` + `dropped` (no later episode's message can be queued yet).
            late = [m for m in (*self._batch, *self._queue) if isinstance(m, _Message)]
            self._batch = deque(c for c in self._batch if isinstance(c, _Command))
            self._queue = deque(c for c in self._queue if isinstance(c, _Command))
        for msg in late:
            self._write(msg)
        if self._episode is None:  # a write failed: _fail closed the episode
            failed = self._last_result
            assert failed is not None
            return failed
        custom = self._final_custom(self._outcome)
        try:
            path = episode.close(custom)
        except (BagError, OSError) as err:
            LOG.error("%s", err)
            self._fail(str(err))
            result = self._last_result
            assert result is not None
            return result
        written = sum(s.written for s in self._accounting.topics.values())
        LOG.info("episode closed: %s (%s, %d messages)", path, self._outcome, written)
        result = EpisodeResult(path, self._outcome, written, _du(path))
        with self._lock:
            self._episode = None
            self._last_result = result
        return result

    def _cmd_discard(self) -> Path:
        episode = self._episode
        if episode is None:
            raise BagError("no episode is being recorded")
        with self._lock:
            self._recording = False
            self._drop_queued_messages()
            self._episode = None
        LOG.info("episode discarded: %s", episode.path)
        return episode.discard()

    def _cmd_shutdown(self) -> EpisodeResult | None:
        with self._lock:
            self._stopping = True
        if self._episode is None:
            return None
        return self._cmd_stop()


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).isoformat(timespec="milliseconds")


def _du(path: Path) -> int:
    with contextlib.suppress(OSError):
        return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return 0


__all__ = [
    "BagRecorder",
    "EpisodeInfo",
    "EpisodeResult",
    "RecorderConfig",
    "RecorderStatus",
    "replace",
]
