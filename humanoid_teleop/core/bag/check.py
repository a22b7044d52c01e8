"""``bag check``: find every defect of a bag directory (or single MCAP file).

Defects: missing or inconsistent metadata.yaml; a file that is damaged or not closed (every
chunk's lengths and CRC, the data-section CRC, the summary's CRC and that the summary and
message indexes describe exactly what the data section holds: the scan ``bag recover`` uses);
messages read front to back (CRCs validated) differing from those read through the index; a
channel without a ``ros2msg`` schema or with schema text Foxglove's parser rejects; a message
that does not decode with its schema; log time or header stamps going backwards; a latched
(transient-local) topic missing from a file; and loss (recorder drops + publisher sequence
gaps) above the allowed ratio.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcap.exceptions import McapError
from mcap.reader import SeekingReader
from mcap.stream_reader import StreamReader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from .accounting import header_stamp_ns
from .episode import PARTIAL_SUFFIX
from .errors import BagFormatError
from .metadata import METADATA_FILE, BagMetadata, read_metadata_yaml
from .msgdefs import ros2msg_problems
from .reader import FileSummary, mcap_files, summarize_mcap
from .recover import scan_mcap

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Defect:
    """One problem: what kind, where (file or topic), and the details."""

    kind: str
    where: str
    detail: str


@dataclass
class CheckReport:
    """All defects found, plus what was looked at."""

    path: Path
    defects: list[Defect] = field(default_factory=list)
    files: int = 0
    messages: int = 0
    loss_ratio: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.defects

    def add(self, kind: str, where: str, detail: str) -> None:
        self.defects.append(Defect(kind, where, detail))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "files": self.files,
            "messages": self.messages,
            "loss_ratio": self.loss_ratio,
            "defects": [d.__dict__ for d in self.defects],
        }


def check_bag(
    path: Path,
    *,
    max_loss_ratio: float = 0.0,
    required_latched: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> CheckReport:
    """Check ``path`` and return every defect found (an empty list means a good bag)."""
    report = CheckReport(path)
    metadata: BagMetadata | None = None
    if not path.exists():
        raise BagFormatError(f"{path}: no such file or directory")
    if path.is_dir():
        if path.name.endswith(PARTIAL_SUFFIX):
            report.add("not closed", str(path), "episode was not closed; run `bag recover`")
        listed = path / METADATA_FILE
        if listed.exists() and not listed.is_file():
            report.add("metadata", str(listed), "not a file; move it away and run `bag recover`")
            files = mcap_files(path)
        elif not listed.is_file():
            report.add("metadata", str(path), f"no {METADATA_FILE}; run `bag recover`")
            files = mcap_files(path)
        else:
            try:
                metadata = read_metadata_yaml(path)
            except BagFormatError as err:
                report.add("metadata", str(path / METADATA_FILE), str(err))
            files = (
                mcap_files(path) if metadata is None else [path / f.path for f in metadata.files]
            )
    else:
        files = [path]
    summaries: list[FileSummary] = []
    for file in files:
        if not file.is_file():
            found = "a folder in its place" if file.is_dir() else "absent"
            report.add("missing file", str(file), f"listed in metadata.yaml but {found}")
            continue
        try:
            scan = scan_mcap(file)
        except BagFormatError as err:
            report.add("unreadable", str(file), str(err))
            continue
        if not scan.healthy:
            kind = "damaged" if scan.finished or scan.gaps else "not closed"
            report.add(kind, str(file), f"{scan.problem or 'no summary'}; run `bag recover`")
            continue
        try:
            summaries.append(summarize_mcap(file))
        except BagFormatError as err:
            report.add("unreadable", str(file), str(err))
    report.files = len(summaries)
    if metadata is not None:
        _compare_metadata(report, metadata, summaries)
    total = sum(s.message_count for s in summaries)
    # A latched topic that has messages must have them in every file (each file stands alone).
    in_bag = {t.name for s in summaries for t in s.topics if t.message_count}
    latched = {
        t.name
        for s in summaries
        for t in s.topics
        if t.name in in_bag and any(q.latched for q in t.offered_qos_profiles)
    } | set(required_latched)
    done = 0
    for summary in summaries:
        done = _check_file(report, summary, latched, done, total, progress)
    report.messages = done
    custom = metadata.custom_data if metadata else (summaries[-1].custom_data if summaries else {})
    _check_loss(report, custom, max_loss_ratio)
    _check_annotations(report, custom)
    return report


def _compare_metadata(
    report: CheckReport, metadata: BagMetadata, summaries: list[FileSummary]
) -> None:
    where = str(report.path / METADATA_FILE)
    counts: dict[str, int] = {}
    for summary in summaries:
        for topic in summary.topics:
            counts[topic.name] = counts.get(topic.name, 0) + topic.message_count
    listed = {t.name: t.message_count for t in metadata.topics}
    if listed != counts:
        diff = {
            k: (listed.get(k), counts.get(k))
            for k in sorted(set(listed) | set(counts))
            if listed.get(k) != counts.get(k)
        }
        report.add("metadata", where, f"topic counts (metadata.yaml, files) differ: {diff}")
    files_total = sum(s.message_count for s in summaries)
    if metadata.message_count != files_total:
        report.add(
            "metadata",
            where,
            f"message_count {metadata.message_count} != {files_total} in the files",
        )


def _check_file(
    report: CheckReport,
    summary: FileSummary,
    latched: set[str],
    done: int,
    total: int,
    progress: Progress | None,
) -> int:
    where = str(summary.path)
    if summary.profile != "ros2":
        report.add("profile", where, f"MCAP profile {summary.profile!r}, expected 'ros2'")
    for info in summary.topics:
        encoding = summary.schema_encodings.get(info.type)
        if not info.type or encoding != "ros2msg":
            report.add("schema", info.name, f"no ros2msg schema in {summary.path.name}")
    seen: dict[str, int] = {}
    last_log: dict[str, int] = {}
    last_stamp: dict[str, int] = {}
    decoders: dict[int, Any] = {}
    bad_schemas: set[tuple[str, int]] = set()
    try:
        sequential = _read_sequential(summary.path)
        indexed = _read_indexed(summary.path)
    except (McapError, EOFError, OSError, ValueError, KeyError) as err:
        report.add("unreadable", where, f"{type(err).__name__}: {err}")
        sequential, indexed = [], []
    if sorted(m[1:] for m in sequential) != sorted(m[1:] for m in indexed):
        report.add(
            "index mismatch",
            where,
            f"{len(sequential)} messages read front to back, {len(indexed)} through the index",
        )
    for schema, topic, log_time, data in sequential:
        done += 1
        if progress is not None and done % 500 == 0:
            progress(done, total)
        seen[topic] = seen.get(topic, 0) + 1
        previous_log = last_log.get(topic, -1)
        if log_time < previous_log:
            report.add(
                "time backwards",
                topic,
                f"log time {log_time} after {previous_log} in {summary.path.name}",
            )
        last_log[topic] = max(previous_log, log_time)
        if schema is None:
            continue
        if schema.id not in decoders:
            decoders[schema.id] = _decoder(schema.name, schema.data.decode("utf-8", "replace"))
        decoder = decoders[schema.id]
        if isinstance(decoder, str):
            if (topic, schema.id) not in bad_schemas:  # once per topic, not per message
                bad_schemas.add((topic, schema.id))
                report.add("schema", topic, f"{schema.name}: {decoder}")
            continue
        try:
            decoded = decoder(data)
        except Exception as err:  # any decode failure is the defect we report
            report.add("unreadable message", topic, f"{type(err).__name__}: {err}")
            continue
        header = getattr(decoded, "header", None)
        if header is not None and hasattr(header, "stamp"):
            stamp = header_stamp_ns(data)
            previous = last_stamp.get(topic)
            if stamp is not None and previous is not None and stamp < previous:
                report.add(
                    "time backwards",
                    topic,
                    f"header stamp {stamp} before {previous} in {summary.path.name}",
                )
            if stamp is not None:
                last_stamp[topic] = stamp
    for name in sorted(latched):
        if not seen.get(name):
            report.add("missing latched", name, f"no message in {summary.path.name}")
    if progress is not None:
        progress(done, total)
    return done


def _read_sequential(path: Path) -> list[tuple[Any, str, int, bytes]]:
    """(schema, topic, log time, data) front to back, chunk and data-section CRCs validated."""
    schemas: dict[int, Any] = {}
    channels: dict[int, Any] = {}
    out = []
    with path.open("rb") as stream:
        for record in StreamReader(stream, validate_crcs=True).records:
            kind = type(record).__name__
            if kind == "Schema":
                schemas[record.id] = record  # type: ignore[attr-defined]
            elif kind == "Channel":
                channels[record.id] = record  # type: ignore[attr-defined]
            elif kind == "Message":
                channel = channels[record.channel_id]  # type: ignore[attr-defined]
                schema = schemas.get(channel.schema_id)
                out.append((schema, channel.topic, record.log_time, record.data))  # type: ignore[attr-defined]
    return out


def _read_indexed(path: Path) -> list[tuple[Any, str, int, bytes]]:
    """The same through the summary's chunk indexes (chunk CRCs validated)."""
    with path.open("rb") as stream:
        reader = SeekingReader(stream, validate_crcs=True)
        return [
            (schema, channel.topic, message.log_time, message.data)
            for schema, channel, message in reader.iter_messages(log_time_order=False)
        ]


def _decoder(type_name: str, text: str) -> Callable[[bytes], Any] | str:
    """A strict CDR decoder built from a ros2msg schema (rosbags), or why there is none.

    Text Foxglove's parser would reject counts as no decoder: our users open bags there.
    """
    problems = ros2msg_problems(text)
    if problems:
        return f"schema Foxglove cannot parse: {problems[0]}"
    store = get_typestore(Stores.EMPTY)
    try:
        sections = text.split("\n" + "=" * 80 + "\n")
        types = dict(get_types_from_msg(sections[0], type_name))
        for section in sections[1:]:
            first, _, body = section.partition("\n")
            types.update(get_types_from_msg(body, first.removeprefix("MSG: ").strip()))
        store.register(types)
    except Exception as err:  # rosbags raises several parser error types
        return f"schema does not parse: {err}"

    def decode(data: bytes) -> Any:
        return store.deserialize_cdr(data, type_name)

    return decode


def _check_loss(report: CheckReport, custom: Any, max_ratio: float) -> None:
    text = custom.get("loss") if custom else None
    if not text:
        return
    try:
        loss = json.loads(text)
    except json.JSONDecodeError:
        report.add("metadata", "custom_data.loss", "not JSON")
        return
    try:
        _add_loss(report, loss, max_ratio)
    except (AttributeError, TypeError, ValueError) as err:  # not the recorder's record
        report.add("metadata", "custom_data.loss", f"not a loss record ({err})")


def _check_annotations(report: CheckReport, custom: Any) -> None:
    """The operator's live labels: a JSON list of ``{"time_ns": int, "text": str}``, as the
    recorder writes them and ``export`` reads them."""
    text = custom.get("annotations") if custom else None
    if not text:
        return
    try:
        labels = json.loads(text)
        if not isinstance(labels, list):
            raise TypeError(f"a JSON {type(labels).__name__}, not a list")
        for label in labels:
            int(label["time_ns"]), str(label["text"])
    except (ValueError, KeyError, TypeError) as err:
        report.add("metadata", "custom_data.annotations", f"not a list of labels ({err})")


def _add_loss(report: CheckReport, loss: Any, max_ratio: float) -> None:
    lost = 0
    expected = 0
    for name, stats in loss.get("topics", {}).items():
        on_error = int(stats.get("lost_on_error", 0))  # accepted, not in the closed files
        topic_lost = int(stats.get("dropped", 0)) + int(stats.get("sequence_gaps", 0)) + on_error
        topic_expected = int(stats.get("received", 0)) + int(stats.get("sequence_gaps", 0))
        lost += topic_lost
        expected += topic_expected
        if topic_expected and topic_lost / topic_expected > max_ratio:
            transport = int(stats.get("lost_in_transport", 0))
            where = ""
            if transport:
                where = f"; DDS reported {transport} lost before the recorder"
            report.add(
                "loss",
                name,
                f"{topic_lost} of {topic_expected} messages lost "
                f"({stats.get('dropped', 0)} dropped in the recorder, "
                + (f"{on_error} lost on the episode's error, " if on_error else "")
                + f"{stats.get('sequence_gaps', 0)} sequence gaps{where}); "
                f"allowed ratio {max_ratio}",
            )
    report.loss_ratio = lost / expected if expected else 0.0
