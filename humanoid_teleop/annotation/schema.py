"""The annotation schema, version 1 (``docs/episode-format.md#annotations``).

An annotation is one record: an episode-level ``label`` (key + value: the task instruction,
success, a quality flag), a ``span`` (start and end in episode time, text, skill, arm) or an
instant ``event`` (time, text, arm). A ``retract`` record withdraws an earlier record by id:
the sidecar is append-only, so a correction is a retraction plus a new record. Every record
carries its :class:`Provenance` and whether it is a ``prediction`` (made by a rule or taken
from the operator's live labels, for a person to confirm) or confirmed.

Episode time: nanoseconds since the episode's first message (``metadata.yaml``
``starting_time_nanoseconds``, log time), integers, so frame numbers convert exactly.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from humanoid_teleop import __version__

from .errors import AnnotationError

SCHEMA_NAME = "humanoid_teleop.annotations"
SCHEMA_VERSION = 1
KINDS = ("label", "span", "event", "retract")
SOURCES = ("operator-live", "annotator", "rule", "import")
"""Who made a record: the operator while recording (``/recorder/annotation``), a person
annotating afterwards, an automatic rule, or a bulk import from another tool's file."""
ARMS = ("", "left", "right", "both")
TOOL = f"humanoid_teleop {__version__}"


def utc_now() -> str:
    """The current time, ISO 8601 UTC with microseconds (as the episode metadata)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


FIELDS: dict[str, tuple[str, ...]] = {
    "label": ("key", "value"),
    "span": ("start_ns", "end_ns", "text", "skill", "arm"),
    "event": ("time_ns", "text", "arm"),
    "retract": ("target",),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "label": ("key", "value"),
    "span": ("start_ns", "end_ns", "text"),
    "event": ("time_ns", "text"),
    "retract": ("target",),
}
"""Fields of each kind, and which of them a record must have."""


@dataclass(frozen=True)
class Provenance:
    """Who or what made a record, with which tool, when (ISO 8601 UTC)."""

    source: str
    who: str
    tool: str
    time: str

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Provenance:
        fields = _mapping(data, where, required=("source", "who", "tool", "time"), optional=())
        source = _text(fields, "source", where)
        if source not in SOURCES:
            raise AnnotationError(
                f"{where}: provenance.source {source!r} (allowed: {', '.join(SOURCES)})"
            )
        return cls(source, _text(fields, "who", where), _text(fields, "tool", where),
                   _text(fields, "time", where))  # fmt: skip

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "who": self.who, "tool": self.tool, "time": self.time}


@dataclass(frozen=True)
class Annotation:
    """One record of the sidecar. Fields that do not apply to ``kind`` keep their defaults.

    ``start_ns``/``end_ns`` (span) and ``time_ns`` (event) are episode time [ns];
    ``key``/``value`` are an episode label's; ``target`` is the id a retraction withdraws."""

    id: str
    kind: str
    provenance: Provenance
    prediction: bool = False
    text: str = ""
    skill: str = ""
    arm: str = ""
    start_ns: int = 0
    end_ns: int = 0
    time_ns: int = 0
    key: str = ""
    value: str = ""
    target: str = ""

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Annotation:
        """A record from its JSON object; errors name ``where`` (file:line) and the field."""
        if not isinstance(data, dict):
            raise AnnotationError(f"{where}: a record must be a JSON object")
        kind = data.get("kind")
        if kind not in KINDS:
            raise AnnotationError(f"{where}: kind {kind!r} (allowed: {', '.join(KINDS)})")
        own = FIELDS[kind]
        fields = _mapping(
            data, where, required=("id", "kind", "provenance", *REQUIRED[kind]),
            optional=("prediction", *own),
        )  # fmt: skip
        values: dict[str, Any] = {}
        for name in own:
            if name not in fields:
                continue
            if name.endswith("_ns"):
                value = fields[name]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise AnnotationError(f"{where}: {name} {value!r}: a whole number >= 0 [ns]")
                values[name] = value
            else:
                values[name] = _text(fields, name, where)
        if values.get("arm", "") not in ARMS:
            allowed = ", ".join(repr(a) for a in ARMS)
            raise AnnotationError(f"{where}: arm {values['arm']!r} (allowed: {allowed})")
        if kind == "span" and values["end_ns"] < values["start_ns"]:
            raise AnnotationError(
                f"{where}: end_ns {values['end_ns']} is before start_ns {values['start_ns']}"
            )
        prediction = fields.get("prediction", False)
        if not isinstance(prediction, bool):
            raise AnnotationError(f"{where}: prediction {prediction!r}: true or false")
        return cls(
            id=_text(fields, "id", where), kind=kind,
            provenance=Provenance.from_dict(fields["provenance"], f"{where}: provenance"),
            prediction=prediction, **values,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this record (only the fields of its kind)."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for name in FIELDS[self.kind]:
            out[name] = getattr(self, name)
        out["prediction"] = self.prediction
        out["provenance"] = self.provenance.to_dict()
        return out


def _mapping(
    data: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AnnotationError(f"{where}: expected a JSON object")
    allowed = set(required) | set(optional)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise AnnotationError(
            f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    missing = [k for k in required if k not in data]
    if missing:
        raise AnnotationError(f"{where}: missing field {missing[0]!r}")
    return data


def _text(fields: dict[str, Any], name: str, where: str) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str):
        raise AnnotationError(f"{where}: {name} {value!r}: must be a string")
    return value
