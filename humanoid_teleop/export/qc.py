"""Quality gates: rules from a YAML file (``config/export/qc.yaml``) and their verdict.

Rules are read with the project's YAML reader, so a bad file names ``file:line: key`` and
unknown keys are rejected. :func:`evaluate` checks one resampled episode and says which
frames to keep (idle start/end trimmed) and why it fails, if it does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.metadata import PORT_KEY_PREFIX
from humanoid_teleop.core.bag.reader import BagSummary
from humanoid_teleop.core.config import Field, read_yaml
from humanoid_teleop.core.resources import EXPORT_RULES
from humanoid_teleop.core.robot import RobotModel

from .errors import ExportInputError
from .layout import EpisodeFrames, driven_joints
from .source import EpisodeData

_KEYS = (
    "schema_version", "max_loss_ratio", "max_sync_skew_ms", "max_missing_image_ratio", "idle",
    "limit_margin_rad", "max_saturated_ratio", "max_estops", "min_duration_s", "max_duration_s",
    "port_targets",
)  # fmt: skip

_FLOAT_KEYS = (
    "max_loss_ratio", "max_sync_skew_ms", "max_missing_image_ratio", "limit_margin_rad",
    "max_saturated_ratio", "min_duration_s", "max_duration_s",
)  # fmt: skip


def shipped_rules() -> Path:
    """The shipped rules, ``config/export/qc.yaml`` (found by ``core.resources``)."""
    return EXPORT_RULES.find("qc")


@dataclass(frozen=True)
class QcRules:
    """Thresholds of the quality gates (see ``config/export/qc.yaml`` for each one's unit)."""

    max_loss_ratio: float = 0.001
    max_sync_skew_ms: float = 50.0
    max_missing_image_ratio: float = 0.2
    idle_speed_rad_s: float = 0.02
    idle_trim: bool = True
    idle_report_mid_s: float = 1.0
    limit_margin_rad: float = 0.005
    max_saturated_ratio: float = 0.5
    max_estops: int = 0
    min_duration_s: float = 1.0
    max_duration_s: float = 1800.0
    #: Portability targets (``portability.report.TARGETS``) a ported episode's port must
    #: have met (its report in ``custom.port.report``); episodes recorded on their own robot
    #: are not held to them.
    port_targets: tuple[str, ...] = ()
    source: str = "<defaults>"

    @classmethod
    def from_field(cls, root: Field) -> QcRules:
        """Rules from a parsed YAML document; errors name file, line and key."""
        root.as_mapping(allowed=_KEYS, required=("schema_version",))
        version = root.child("schema_version")
        if version.as_int() != 1:
            raise version.error(f"unsupported schema_version {version.value}; supported: 1")
        values: dict[str, Any] = {"source": str(root.file)}
        for key in _FLOAT_KEYS:
            item = root.optional(key)
            if item is not None:
                values[key] = item.as_float(minimum=0)
        estops = root.optional("max_estops")
        if estops is not None:
            values["max_estops"] = estops.as_int(minimum=0)
        targets = root.optional("port_targets")
        names = targets.as_str_list(allow_empty=True) if targets is not None else ()
        if targets is not None and names:
            # here, not at the top: the report pulls in the porter's modules (~0.3 s), which
            # an export without this rule does not need
            from humanoid_teleop.portability.report import TARGETS

            for item in targets.elements():
                item.as_choice(TARGETS)
            values["port_targets"] = tuple(t for t in TARGETS if t in names)
        idle = root.optional("idle")
        if idle is not None:
            idle.as_mapping(allowed=("speed_rad_s", "trim", "report_mid_s"))
            if (item := idle.optional("speed_rad_s")) is not None:
                values["idle_speed_rad_s"] = item.as_float()
            if (item := idle.optional("report_mid_s")) is not None:
                values["idle_report_mid_s"] = item.as_positive_float()
            if (item := idle.optional("trim")) is not None:
                if not isinstance(item.value, bool):
                    raise item.error(f"expected true or false, got {item.value!r}")
                values["idle_trim"] = item.value
        rules = cls(**values)
        if rules.min_duration_s > rules.max_duration_s:
            raise root.child("min_duration_s").error(
                f"{rules.min_duration_s} is above max_duration_s {rules.max_duration_s}"
            )
        return rules

    @classmethod
    def load(cls, path: Path | None = None) -> QcRules:
        """Rules from ``path`` (default: the shipped ``config/export/qc.yaml``)."""
        return cls.from_field(read_yaml(path or shipped_rules()))

    @classmethod
    def from_json(cls, text: str) -> QcRules:
        """The rules :meth:`as_json` wrote."""
        values = json.loads(text)
        values["port_targets"] = tuple(values.get("port_targets", ()))
        return cls(**values)

    def as_json(self) -> str:
        """The rules as canonical JSON (part of every shard's settings key); without
        ``port_targets`` when there are none, so shards exported before that rule existed
        keep their key."""
        rules = {k: v for k, v in self.__dict__.items() if k != "source"}
        if not self.port_targets:
            del rules["port_targets"]
        return json.dumps(rules, sort_keys=True)


@dataclass
class QcVerdict:
    """The gates' outcome for one episode: keep frames ``[start, stop)``; ``reasons`` if failed."""

    start: int
    stop: int
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    mid_idle: list[tuple[float, float]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons


def nonfinite_reasons(frames: EpisodeFrames, kept: slice) -> list[str]:
    """A reason per numeric feature whose ``kept`` frames hold a NaN or an infinity (a
    sensor that sent them, a damaged recording): always a failure, so that no such value
    reaches a training set unflagged."""
    reasons = []
    for feature, values in frames.columns.items():
        column = np.asarray(values)[kept]
        if not np.issubdtype(column.dtype, np.floating) or not len(column):
            continue
        bad = ~np.isfinite(column.reshape(len(column), -1)).all(axis=1)
        if bad.any():
            reasons.append(
                f"{feature}: {int(bad.sum())} of {len(column)} frames hold a NaN or an infinity"
            )
    return reasons


@dataclass(frozen=True)
class RecorderVerdict:
    """The gates on what an episode's recorder logged in its metadata (:func:`recorder_verdict`)."""

    #: Messages dropped or missing from their sequences / received (NaN: no readable record).
    loss_ratio: float
    #: The worst topic's max header-stamp skew [ms] (NaN: no readable record).
    max_sync_skew_ms: float
    reasons: tuple[str, ...]


def recorder_verdict(summary: BagSummary, rules: QcRules) -> RecorderVerdict:
    """The loss ratio (metadata ``loss``) and the worst sync skew (``sync``) against
    ``rules``. A record that is not what the recorder writes (edited, another tool's) is a
    reason naming it, and a NaN fails its gate: neither passes for clean. What ``export``
    and the catalog both judge an episode's recording by."""
    reasons = []
    nan = float("nan")
    ratio = worst_ms = nan
    try:
        ratio = _loss_ratio(summary.custom_json("loss"))
    except (BagError, ValueError, TypeError) as err:
        reasons.append(f"metadata.yaml custom_data.loss is not a loss record ({err})")
    else:
        if not ratio <= rules.max_loss_ratio:
            reasons.append(f"loss ratio {ratio:.4f} > {rules.max_loss_ratio}")
    try:
        topic, worst_ms = _worst_skew(summary.custom_json("sync"))
    except (BagError, ValueError, TypeError) as err:
        reasons.append(f"metadata.yaml custom_data.sync is not a sync record ({err})")
    else:
        if not worst_ms <= rules.max_sync_skew_ms:
            reasons.append(f"sync skew {worst_ms:.1f} ms on {topic} > {rules.max_sync_skew_ms} ms")
    return RecorderVerdict(ratio, worst_ms, tuple(reasons))


def _objects(value: Any, what: str) -> dict[str, dict[str, Any]]:
    """``value`` as a JSON object of objects (None: empty); ValueError naming ``what``."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError(f"{what} is not an object of objects")
    return value


def _loss_ratio(loss: Any) -> float:
    if loss is None:
        return 0.0
    if not isinstance(loss, dict):
        raise ValueError("not a JSON object")
    topics = _objects(loss.get("topics"), "topics")
    received = float(loss.get("received", 0) or 0)
    lost = float(loss.get("dropped", 0) or 0) + sum(
        float(t.get("sequence_gaps", 0) or 0) for t in topics.values()
    )
    return lost / received if received else 0.0


def _worst_skew(sync: Any) -> tuple[str, float]:
    """(topic, its max header-stamp skew [ms]) of the worst topic; ("", 0.0) for none."""
    if sync is None:
        return "", 0.0
    if not isinstance(sync, dict):
        raise ValueError("not a JSON object")
    skews = {t: float(v.get("max_ms", 0.0)) for t, v in _objects(sync.get("skew"), "skew").items()}
    return max(skews.items(), key=lambda kv: kv[1], default=("", 0.0))


def port_misses(path: Path, custom: dict[str, str], targets: Sequence[str]) -> list[str]:
    """The reasons a ported episode (``custom``: its metadata's ``custom_data``) fails the
    ``targets`` its port had to meet: each missed one's reason from its report, prefixed
    "port: "; none for an episode recorded on its own robot (no ``custom.port.report``). A
    report that cannot be read raises :class:`ExportInputError` naming the key."""
    text = custom.get(f"{PORT_KEY_PREFIX}report")
    if text is None:
        return []
    from humanoid_teleop.portability.errors import PortInputError
    from humanoid_teleop.portability.report import PortReport

    where = f"{path}: metadata.yaml custom_data.{PORT_KEY_PREFIX}report"
    try:
        report = PortReport.from_dict(json.loads(text), where)
    except PortInputError as err:
        raise ExportInputError(str(err)) from None
    except (ValueError, TypeError) as err:
        raise ExportInputError(f"{where}: not a port report's JSON ({err})") from None
    return [f"port: {reason}" for target, reason in report.misses() if target in targets]


def _idle_runs(idle: np.ndarray) -> list[tuple[int, int]]:
    runs = []
    start = None
    for i, flag in enumerate(idle):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(idle)))
    return runs


def evaluate(
    rules: QcRules, model: RobotModel, data: EpisodeData, frames: EpisodeFrames, fps: int
) -> QcVerdict:
    """Check one episode against ``rules``; trims idle start/end when ``rules.idle_trim``."""
    n = len(frames.grid_ns)
    joints = driven_joints(model)
    index = {name: i for i, name in enumerate(data.joint_names)}
    measured = np.stack(
        [
            np.interp(frames.grid_ns, data.position.t_ns, data.position.values[:, index[j]])
            for j in joints
        ],
        axis=1,
    )
    speed = np.zeros(n)
    if n > 1:
        speed[1:] = np.max(np.abs(np.diff(measured, axis=0)), axis=1) * fps
        speed[0] = speed[1]
    idle = speed < rules.idle_speed_rad_s
    start, stop = 0, n
    if rules.idle_trim and not idle.all():
        moving = np.nonzero(~idle)[0]
        start, stop = int(max(moving[0] - 1, 0)), int(min(moving[-1] + 2, n))
    verdict = QcVerdict(start, stop)
    reasons = verdict.reasons
    for a, b in _idle_runs(idle[start:stop]):
        if (b - a) / fps >= rules.idle_report_mid_s:
            verdict.mid_idle.append(((start + a) / fps, (start + b) / fps))

    recorded = recorder_verdict(data.summary, rules)
    reasons += recorded.reasons
    kept = slice(start, stop)
    for key, flags in frames.image_missing.items():
        ratio = float(np.mean(flags[kept])) if stop > start else 0.0
        verdict.metrics[f"missing_image_ratio.{key}"] = ratio
        if ratio > rules.max_missing_image_ratio:
            reasons.append(
                f"camera {key}: {ratio:.1%} of frames have no image within half a period"
            )
    limits = model.limits
    cols = model.index_of(joints)
    lower = np.asarray(limits.lower)[cols]
    upper = np.asarray(limits.upper)[cols]
    near = (measured[kept] <= lower + rules.limit_margin_rad) | (
        measured[kept] >= upper - rules.limit_margin_rad
    )
    saturated = float(np.mean(near.any(axis=1))) if stop > start else 0.0
    if saturated > rules.max_saturated_ratio:
        worst_joint = joints[int(np.argmax(near.sum(axis=0)))]
        reasons.append(f"joint-limit saturation on {saturated:.0%} of frames (most: {worst_joint})")
    estops = 0
    if data.estop is not None:
        flags = data.estop.values[:, 0] > 0.5
        estops = int(np.sum(flags[1:] & ~flags[:-1]) + (1 if len(flags) and flags[0] else 0))
    if estops > rules.max_estops:
        reasons.append(f"{estops} e-stop(s) > {rules.max_estops}")
    if rules.port_targets:
        reasons += port_misses(data.path, data.custom, rules.port_targets)
    reasons += nonfinite_reasons(frames, kept)
    duration = (stop - start) / fps
    if duration < rules.min_duration_s:
        reasons.append(f"too short: {duration:.2f} s < {rules.min_duration_s} s")
    if duration > rules.max_duration_s:
        reasons.append(f"too long: {duration:.2f} s > {rules.max_duration_s} s")
    verdict.metrics.update(
        loss_ratio=recorded.loss_ratio, max_sync_skew_ms=recorded.max_sync_skew_ms,
        saturated_ratio=saturated,
        estops=float(estops), duration_s=duration, trimmed_start_s=start / fps,
        trimmed_end_s=(n - stop) / fps,
        mid_idle_s=float(sum(b - a for a, b in verdict.mid_idle)),
    )  # fmt: skip
    return verdict
