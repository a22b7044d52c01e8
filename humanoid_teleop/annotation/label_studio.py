"""The Label Studio round trip: episodes -> preview videos, a labeling config and tasks with
predictions; Label Studio's JSON export -> sidecar records with provenance.

Frames: Label Studio numbers video frames from 1. Frame ``k`` of a preview at ``fps`` is
episode time ``(k - 1) * 10^9 / fps`` [ns] exactly (``fps`` divides 10^9), both ways:
:func:`frame_to_ns` and :func:`ns_to_frame` (nearest frame). A timeline range ``start..end``
(inclusive frames) becomes a span from ``frame_to_ns(start)`` to ``frame_to_ns(end)``; a range
of one frame becomes an instant event.

Arms: a timeline label ``"grasp [right]"`` is the text ``grasp`` on the right arm; a label
without a bracket applies to no particular arm.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from humanoid_teleop.core.bag.reader import bag_content_hash

from .errors import AnnotationError
from .preview import frame_period_ns, write_preview
from .rules import pre_annotations
from .schema import TOOL, Annotation, Provenance
from .sidecar import current, read_sidecar
from .signals import SIDES, EpisodeSignals, read_signals

DEFAULT_FPS = 25
TIMELINE = "phases"
VIDEO = "video"
SIGNALS = "signals"
DEFAULT_VOCABULARY = (
    "approach", "grasp", "transport", "place", "release", "regrasp", "idle", "failure",
)  # fmt: skip
"""Timeline labels offered besides the ones found in the episodes (rules, live labels)."""
CHANNELS = tuple(f"{side}_{kind}" for kind in ("closure", "force_n") for side in SIDES)
"""Time-series columns shown under the video: hand closure [0..1], wrist force [N]."""
SIGNAL_RATE_HZ = 20
OUTCOMES = ("success", "failure")
QUALITY = ("ok", "reject")
_ARM = re.compile(r"^(?P<text>.*) \[(?P<arm>left|right|both)\]$")


def frame_to_ns(frame: int, fps: int) -> int:
    """Episode time [ns] of Label Studio frame ``frame`` (1-based) at ``fps``."""
    if frame < 1:
        raise AnnotationError(f"frame {frame}: Label Studio frames start at 1")
    return (frame - 1) * frame_period_ns(fps)


def ns_to_frame(t_ns: int, fps: int) -> int:
    """The Label Studio frame (1-based) nearest episode time ``t_ns`` [ns]."""
    period = frame_period_ns(fps)
    return (t_ns + period // 2) // period + 1


def label_value(text: str, arm: str) -> str:
    """The timeline label of ``text`` on ``arm`` ("" for none)."""
    return f"{text} [{arm}]" if arm else text


def parse_label(value: str) -> tuple[str, str]:
    """(text, arm) of a timeline label."""
    match = _ARM.match(value)
    return (match["text"], match["arm"]) if match else (value, "")


def labeling_config(vocabulary: Iterable[str], fps: int) -> str:
    """The Label Studio labeling config (XML): the preview video with timeline labels, the
    synced hand-closure and wrist-force series, outcome, quality and the task instruction."""
    labels = []
    for text in dict.fromkeys(vocabulary):
        for arm in ("", "left", "right"):
            labels.append(f"      <Label value={quoteattr(label_value(text, arm))}/>")
    channels = "\n".join(
        f"      <Channel column={quoteattr(c)} legend={quoteattr(c.replace('_', ' '))}/>"
        for c in CHANNELS
    )
    return f"""<View>
  <Header value="$title"/>
  <Video name="{VIDEO}" value="$video" frameRate="{fps}" sync="episode" timelineHeight="200"/>
  <TimelineLabels name="{TIMELINE}" toName="{VIDEO}">
{chr(10).join(labels)}
  </TimelineLabels>
  <TimeSeries name="{SIGNALS}" value="$signals" valueType="json" timeColumn="time"
              sync="episode" overviewChannels="right_closure">
{channels}
  </TimeSeries>
  <Choices name="outcome" toName="{VIDEO}" choice="single" showInline="true">
{chr(10).join(f'    <Choice value="{o}"/>' for o in OUTCOMES)}
  </Choices>
  <Choices name="quality" toName="{VIDEO}" choice="single" showInline="true">
{chr(10).join(f'    <Choice value="{q}"/>' for q in QUALITY)}
  </Choices>
  <TextArea name="instruction" toName="{VIDEO}" maxSubmissions="1" editable="true"
            placeholder="task instruction"/>
</View>
"""


@dataclass(frozen=True)
class ExportedEpisode:
    """One episode written by :func:`to_label_studio`."""

    path: Path
    video: Path
    frames: int
    predictions: int


def to_label_studio(
    episodes: Sequence[Path], out: Path, fps: int = DEFAULT_FPS,
    url_prefix: str = "/data/local-files/?d=", vocabulary: Sequence[str] = DEFAULT_VOCABULARY,
) -> list[ExportedEpisode]:  # fmt: skip
    """Write ``out/config.xml``, ``out/tasks.json`` and ``out/<episode>/preview.mp4``.

    A task's video URL is ``url_prefix`` + the video's path relative to the folder holding
    ``out``: Label Studio's local-files URL when it serves that folder as its document root
    (``LOCAL_FILES_DOCUMENT_ROOT``) with a local storage on ``out`` in the project."""
    frame_period_ns(fps)
    check_output(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = []
    written = []
    words = list(vocabulary)
    for episode in episodes:
        signals = read_signals(episode)
        records = current(read_sidecar(episode)) or pre_annotations(episode, signals=signals)
        video = out / episode.name / "preview.mp4"
        frames = write_preview(episode, video, fps)
        result = _prediction_results(records, fps, frames)
        for item in result:
            if item["type"] == "timelinelabels":
                text, _arm = parse_label(item["value"]["timelinelabels"][0])
                words.append(text)
        custom = signals.custom
        task = custom.get("task", "")
        tasks.append(
            {
                "data": {
                    "video": url_prefix + str(video.resolve().relative_to(out.resolve().parent)),
                    "signals": _signal_table(signals),
                    "title": f"{episode.name}: {task or 'no task given'}",
                    "episode": episode.name,
                    "episode_path": str(episode.resolve()),
                    "content_hash": bag_content_hash(episode),
                    "fps": fps,
                    "frames": frames,
                    "task": task,
                    "robot": custom.get("robot", ""),
                    "operator": custom.get("operator", ""),
                },
                "predictions": [{"model_version": f"{TOOL} pre-annotate", "result": result}],
            }
        )
        written.append(ExportedEpisode(episode, video, frames, len(result)))
    (out / "config.xml").write_text(labeling_config(words, fps))
    (out / "tasks.json").write_text(json.dumps(tasks, indent=1))
    return written


def check_output(out: Path) -> None:
    """An AnnotationError naming ``out`` when it, or a folder on its path, is a file: the
    output of :func:`to_label_studio` is a folder."""
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is" if existing == out else f"is inside {existing}, which is"
        raise AnnotationError(f"{out}: {where} a file, not a folder (-o names the output folder)")


def _prediction_results(records: list[Annotation], fps: int, frames: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for k, record in enumerate(records):
        base = {"id": f"p{k}", "from_name": TIMELINE, "to_name": VIDEO, "origin": "prediction"}
        if record.kind in ("span", "event"):
            start = record.start_ns if record.kind == "span" else record.time_ns
            end = record.end_ns if record.kind == "span" else record.time_ns
            first = min(ns_to_frame(start, fps), frames)
            last = min(max(ns_to_frame(end, fps), first), frames)
            value = {
                "ranges": [{"start": first, "end": last}],
                "timelinelabels": [label_value(record.text, record.arm)],
            }
            results.append(base | {"type": "timelinelabels", "value": value})
        elif record.kind == "label" and record.key == "outcome" and record.value in OUTCOMES:
            results.append(
                base | {"from_name": "outcome", "type": "choices",
                        "value": {"choices": [record.value]}}
            )  # fmt: skip
    return results


def _signal_table(signals: EpisodeSignals) -> dict[str, list[float]]:
    """The synced series at SIGNAL_RATE_HZ: ``time`` [s] from 0 and each of CHANNELS."""
    step = 1_000_000_000 // SIGNAL_RATE_HZ
    grid = np.arange(0, signals.duration_ns + 1, step, dtype=np.int64)
    table = {"time": [round(float(t) / 1e9, 3) for t in grid]}
    for side in SIDES:
        for kind, source in (("closure", signals.closure), ("force_n", signals.force_n)):
            series = source.get(side)
            if series is None or not len(series.t_ns):
                values = np.zeros(len(grid))
            else:
                values = np.interp(grid, series.t_ns, series.values)
            table[f"{side}_{kind}"] = [round(float(v), 3) for v in values]
    return table


def from_label_studio(export: Path, roots: Sequence[Path] = ()) -> dict[Path, list[Annotation]]:
    """The sidecar records of each episode in a Label Studio JSON export (not yet written).

    A task names its episode by path and content hash; when the episode moved, it is looked
    for by name under ``roots``. An annotation merged before and edited since in Label Studio
    retracts its earlier records. A field of the wrong type raises :class:`AnnotationError`
    naming the export, the task (its id, else its index) and the field."""
    try:
        tasks = json.loads(export.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AnnotationError(f"{export}: not a Label Studio JSON export ({err})") from err
    if not isinstance(tasks, list):
        raise AnnotationError(f"{export}: expected a JSON list of tasks (Label Studio 'JSON')")
    out: dict[Path, list[Annotation]] = {}
    for number, task in enumerate(tasks):
        where = f"{export}: task {task.get('id', number) if isinstance(task, dict) else number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise AnnotationError(f"{where}: no 'data' object")
        data = task["data"]
        for key in ("episode", "episode_path", "content_hash", "fps"):
            if key not in data:
                raise AnnotationError(
                    f"{where}: data.{key} missing (not a task made by annotate to-label-studio)"
                )
        for key in ("episode", "episode_path", "content_hash"):
            if not isinstance(data[key], str) or not data[key]:
                raise AnnotationError(f"{where}: data.{key} {data[key]!r}: not a non-empty string")
        fps = data["fps"]
        if not _is_int(fps) or fps <= 0 or 1_000_000_000 % fps:
            raise AnnotationError(
                f"{where}: data.fps {fps!r}: not a frame rate (an integer > 0 dividing "
                "1000000000, as annotate to-label-studio writes)"
            )
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise AnnotationError(f"{where}: annotations {annotations!r}: not a list")
        for k, annotation in enumerate(annotations):
            if not isinstance(annotation, dict):
                raise AnnotationError(f"{where}: annotations[{k}] {annotation!r}: not an object")
        episode = _find_episode(data, roots, where)
        existing = current(read_sidecar(episode))
        records = out.setdefault(episode, [])
        for k, annotation in enumerate(annotations):
            if annotation.get("was_cancelled"):
                continue
            records.extend(
                _annotation_records(annotation, fps, existing, f"{where}: annotations[{k}]")
            )
    return out


def _is_int(value: object) -> bool:
    """``value`` is a JSON integer (``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value: object) -> int | None:
    """``value`` as an int if it is a JSON integer or a whole float (``3.0``), else None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strings(value: object, where: str) -> list[str]:
    """``value`` as a list of strings ([] for none); an AnnotationError naming ``where`` if it
    is anything else (a bare string would be split into its characters)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AnnotationError(f"{where} {value!r}: not a list of strings")
    return value


def _find_episode(data: dict[str, Any], roots: Sequence[Path], where: str) -> Path:
    candidates = [Path(data["episode_path"])]
    for root in roots:
        candidates += sorted(root.glob(f"**/{data['episode']}"))
    for candidate in candidates:
        is_episode = (candidate / "metadata.yaml").is_file()
        if is_episode and bag_content_hash(candidate) == data["content_hash"]:
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise AnnotationError(
        f"{where}: episode {data['episode']} with content {data['content_hash'][:19]}… not found "
        f"(looked at {looked}; pass --root FOLDER where the episodes are now)"
    )


def _frame_range(rng: object, where: str) -> tuple[int, int]:
    """(start, end) frames of a timeline range: whole numbers >= 1 (Label Studio numbers
    frames from 1); an AnnotationError naming ``where`` otherwise."""
    if isinstance(rng, dict):
        start, end = _whole(rng.get("start")), _whole(rng.get("end"))
        if start is not None and end is not None and min(start, end) >= 1:
            return start, end
    raise AnnotationError(
        f"{where} {rng!r}: not a frame range (start and end integers >= 1: Label Studio "
        "numbers frames from 1)"
    )


def _annotation_records(
    annotation: dict[str, Any], fps: int, existing: list[Annotation], where: str
) -> list[Annotation]:
    ann_id = annotation.get("id")
    when = str(annotation.get("updated_at") or annotation.get("created_at") or "")
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("username") or who.get("id")
    prov = Provenance("annotator", str(who or "unknown"), "label-studio", when)
    prefix = f"ls:{ann_id}:"
    stamp = re.sub(r"[^0-9A-Za-z]", "", when)
    records: list[Annotation] = []
    if any(r.id.startswith(prefix) and not r.id.startswith(prefix + stamp + ":") for r in existing):
        for old in existing:
            if old.id.startswith(prefix) and not old.id.startswith(prefix + stamp + ":"):
                records.append(
                    Annotation(f"{prefix}{stamp}:retract:{old.id}", "retract", prov, target=old.id)
                )
    result = annotation.get("result") or []
    if not isinstance(result, list):
        raise AnnotationError(f"{where}: result {result!r}: not a list")
    for j, item in enumerate(result):
        at = f"{where}: result[{j}]"
        if not isinstance(item, dict):
            raise AnnotationError(f"{at} {item!r}: not an object")
        rid = f"{prefix}{stamp}:{item.get('id', len(records))}"
        kind, value = item.get("type"), item.get("value") or {}
        if not isinstance(value, dict):
            raise AnnotationError(f"{at}.value {value!r}: not an object")
        if kind == "timelinelabels":
            ranges = value.get("ranges") or []
            if not isinstance(ranges, list):
                raise AnnotationError(f"{at}.value.ranges {ranges!r}: not a list")
            labels = _strings(value.get("timelinelabels"), f"{at}.value.timelinelabels")
            for k, rng in enumerate(ranges):
                first, last = _frame_range(rng, f"{at}.value.ranges[{k}]")
                start, end = frame_to_ns(first, fps), frame_to_ns(last, fps)
                for label in labels:
                    text, arm = parse_label(label)
                    if end == start:
                        records.append(Annotation(f"{rid}:{k}:{text}", "event", prov, text=text,
                                                  skill=text, arm=arm, time_ns=start))  # fmt: skip
                    else:
                        records.append(Annotation(f"{rid}:{k}:{text}", "span", prov, text=text,
                                                  skill=text, arm=arm, start_ns=min(start, end),
                                                  end_ns=max(start, end)))  # fmt: skip
        elif kind == "choices" and item.get("from_name") in ("outcome", "quality"):
            for choice in _strings(value.get("choices"), f"{at}.value.choices"):
                records.append(Annotation(f"{rid}:{choice}", "label", prov,
                                          key=item["from_name"], value=choice))  # fmt: skip
        elif kind == "textarea" and item.get("from_name") == "instruction":
            for text in _strings(value.get("text"), f"{at}.value.text"):
                if text.strip():
                    records.append(
                        Annotation(f"{rid}:task", "label", prov, key="task", value=text.strip())
                    )
    return records
