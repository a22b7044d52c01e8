"""Find and load ``robot.yaml`` files into validated :class:`RobotDescription` records.

:func:`load_robot` parses the YAML (schema checks in ``RobotDescription.from_dict``), parses
the model with pinocchio and checks every name and limit in the YAML against it, so a
description it returns always builds a :class:`~humanoid_teleop.core.robot.model.RobotModel`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pinocchio as pin

from humanoid_teleop.core.config import Field, nearest, read_yaml
from humanoid_teleop.core.robot.errors import RobotConfigError, RobotNotFoundError
from humanoid_teleop.core.robot.locate import (
    ROBOT_FILE,
    ROBOTS_PATH_ENV,
    find_package_share,
    package_share_candidates,
    robot_search_path,
)
from humanoid_teleop.core.robot.model import add_frames, build_pinocchio_model
from humanoid_teleop.core.robot.schema import MODEL_FORMATS, ModelSource, RobotDescription

_log = logging.getLogger(__name__)

# Slack when comparing limits [rad or m]: URDF values are often printed rounded.
_LIMIT_SLACK = 1e-6


@dataclass(frozen=True)
class RobotEntry:
    """A robot folder found on the search path (not yet loaded)."""

    name: str
    file: Path


def list_robots(search_path: Sequence[Path] | None = None) -> list[RobotEntry]:
    """Robots on the search path, sorted by name; a name found twice keeps the first folder.

    ``search_path`` defaults to :func:`~humanoid_teleop.core.robot.locate.robot_search_path`
    (``HUMANOID_TELEOP_ROBOTS_PATH`` then the shipped robots).
    """
    dirs = robot_search_path() if search_path is None else list(search_path)
    found: dict[str, RobotEntry] = {}
    for directory in dirs:
        if not directory.is_dir():
            what = "is not a folder" if directory.exists() else "does not exist"
            _log.warning("robot folder %s %s (from the search path)", directory, what)
            continue
        try:
            candidates = sorted(directory.iterdir())
        except OSError as err:
            _log.warning("robot folder %s cannot be read: %s", directory, err.strerror or err)
            continue
        for candidate in candidates:
            file = candidate / ROBOT_FILE
            # Any robot.yaml entry counts (even a dangling link or a folder), so loading it
            # reports what is wrong instead of the robot silently missing from the list.
            if os.path.lexists(file) and candidate.name not in found:
                found[candidate.name] = RobotEntry(candidate.name, file)
    return sorted(found.values(), key=lambda entry: entry.name)


def find_robot_file(name_or_path: str | Path, search_path: Sequence[Path] | None = None) -> Path:
    """The robot.yaml for a robot name, a robot folder or a YAML file path."""
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = (
        isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml"))
    )
    if looks_like_path:
        if path.is_dir():
            path = path / ROBOT_FILE
        if not path.is_file():
            raise RobotNotFoundError(f"{path}: robot file not found")
        return path
    entries = list_robots(search_path)
    for entry in entries:
        if entry.name == text:
            return entry.file
    dirs = robot_search_path() if search_path is None else list(search_path)
    raise RobotNotFoundError(
        f"no robot {text!r} in {', '.join(str(d) for d in dirs) or '(empty search path)'} "
        f"(extra folders come from {ROBOTS_PATH_ENV}); " + nearest(text, [e.name for e in entries])
    )


def robot_model_hash(description: RobotDescription) -> str:
    """``sha256:<16 hex>`` of the robot's robot.yaml bytes: the ``robot_model_hash`` an
    episode's metadata records (recorder, port, scripted episodes) and a dataset's robot
    info carries, so a robot.yaml changed since is told apart."""
    digest = hashlib.sha256(Path(description.source_file).read_bytes()).hexdigest()[:16]
    return f"sha256:{digest}"


def load_robot(
    name_or_path: str | Path, search_path: Sequence[Path] | None = None
) -> RobotDescription:
    """Load and validate a robot by name (on the search path) or by robot.yaml / folder path."""
    file = find_robot_file(name_or_path, search_path).resolve()
    root = read_yaml(file, RobotConfigError)
    root.as_mapping()
    # Model and group joints first: a misspelt joint is then reported where it is written,
    # not where another section refers to it.
    source = _ResolveModel(file)(root.child("model"))
    model = build_pinocchio_model(source)
    _check_group_joints(root.child("groups"), model, source.path.name)
    description = RobotDescription.from_dict(root, lambda _field: source)
    _validate_against_model(description, root, model)
    return description


def _check_group_joints(groups: Field, model: pin.Model, model_file: str) -> None:
    """Every joint listed under ``groups`` is a 1-DoF joint of ``model``."""
    joints = {model.names[j]: j for j in range(1, model.njoints)}
    for _group, listed in groups.items():
        for item in listed.elements():
            joint = item.as_str()
            if joint not in joints:
                raise item.error(
                    f"joint {joint!r} is not in {model_file}; " + nearest(joint, joints)
                )
            jmodel = model.joints[joints[joint]]
            if jmodel.nv != 1:
                raise item.error(
                    f"joint {joint!r} is {jmodel.shortname()} with {jmodel.nv} DoF; group "
                    "joints must be 1-DoF actuated joints (revolute, continuous, prismatic)"
                )


class _ResolveModel:
    """Turns the ``model`` section into a ModelSource, resolving files and packages."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def __call__(self, f: Field) -> ModelSource:
        f.as_mapping(allowed=("file", "package", "format"), required=("file",))
        rel = f.child("file").as_str()
        package_field = f.optional("package")
        if package_field is None:
            path = (self.file.parent / rel).resolve()
            package = None
        else:
            package = package_field.as_str()
            share = find_package_share(package)
            if share is None:
                tried = ", ".join(str(c) for c in package_share_candidates(package)[:6])
                raise package_field.error(
                    f"package {package!r} is not installed (looked for share/{package} in "
                    f"{tried}, ...); install it (e.g. `pip install {package}`) or use a file "
                    "path relative to robot.yaml"
                )
            path = share / rel
        if not path.is_file():
            raise f.child("file").error(f"model file not found: {path}")
        fmt_field = f.optional("format")
        if fmt_field is not None:
            fmt = fmt_field.as_choice(MODEL_FORMATS)
        elif path.suffix.lower() in (".urdf", ".xacro_urdf"):
            fmt = "urdf"
        elif path.suffix.lower() == ".xml":
            fmt = "mjcf"
        else:
            raise f.child("file").error(
                f"cannot tell the format of {path.name!r}; add 'format' with one of: "
                + ", ".join(MODEL_FORMATS)
            )
        return ModelSource(
            path=path, file=rel, package=package, format="urdf" if fmt == "urdf" else "mjcf"
        )


def _validate_against_model(description: RobotDescription, root: Field, model: pin.Model) -> None:
    """Check every frame and limit named in robot.yaml against the parsed model.

    ``model`` is modified: robot.yaml's extra frames are added to it.
    """
    model_file = description.model.path.name
    joints = {model.names[j]: j for j in range(1, model.njoints)}
    frame_names = [frame.name for frame in model.frames]

    # Extra frames first: sensors and EE frames may refer to them.
    frames_by_name = {spec.name: spec for spec in description.frames}
    for spec in description.frames:
        where = _frame_field(root, spec.name)
        if spec.parent not in frame_names:
            raise where.error(
                f"parent {spec.parent!r} of frame {spec.name!r} is not in {model_file}; "
                + nearest(spec.parent, frame_names)
            )
        if spec.name in frame_names:
            raise where.error(
                f"frame {spec.name!r} already exists in {model_file}; drop 'parent'/'xyz'/'rpy' "
                "to use it as is, or choose a new name"
            )
    add_frames(model, description.frames)
    all_frames = [frame.name for frame in model.frames]

    def need_frame(f: Field) -> None:
        name = f.as_str()
        if name not in all_frames:
            raise f.error(
                f"frame {name!r} is not in {model_file} nor in 'frames'; "
                + nearest(name, all_frames)
            )

    need_frame(root.child("base_frame"))
    for side in description.arms:
        need_frame(root.child("arms").child(side).child("ee_frame"))
    for side, hand in description.hands.items():
        tips = root.child("hands").child(side).optional("fingertip_frames")
        for finger in hand.fingertip_frames:
            assert tips is not None
            need_frame(tips.child(finger))
    if description.head is not None:
        need_frame(root.child("head").child("frame"))
    sensors = root.optional("sensors")
    for key in ("cameras", "wrenches"):
        listed = sensors.optional(key) if sensors else None
        for item in listed.elements() if listed else []:
            frame = item.child("frame_id").as_str()
            if frame not in frames_by_name:
                need_frame(item.child("frame_id"))

    limits = _validate_limits(description, root, model, joints, model_file)
    for joint, value_field in root.child("home").items():
        lo, hi = limits[joint]
        value = description.home[joint]
        if not lo - _LIMIT_SLACK <= value <= hi + _LIMIT_SLACK:
            raise value_field.error(
                f"home position {value} of {joint!r} is outside its limits [{lo:.4f}, {hi:.4f}]"
            )
    for side, hand in description.hands.items():
        if hand.group is None:
            continue
        hand_field = root.child("hands").child(side)
        for key, values in (("open", hand.open_positions), ("closed", hand.closed_positions)):
            items = hand_field.child(key).elements()
            for joint, value, item in zip(
                description.groups[hand.group], values, items, strict=True
            ):
                lo, hi = limits[joint]
                if not lo - _LIMIT_SLACK <= value <= hi + _LIMIT_SLACK:
                    raise item.error(
                        f"{key} position {value} of {joint!r} is outside its limits "
                        f"[{lo:.4f}, {hi:.4f}]"
                    )


def _frame_field(root: Field, name: str) -> Field:
    """The YAML field that defines extra frame ``name`` (in 'frames' or a sensor)."""
    frames = root.optional("frames")
    for item in frames.elements() if frames else []:
        if item.child("name").value == name:
            return item
    sensors = root.optional("sensors")
    for key in ("cameras", "wrenches"):
        listed = sensors.optional(key) if sensors else None
        for item in listed.elements() if listed else []:
            if item.child("frame_id").value == name:
                return item
    return root


def _validate_limits(
    description: RobotDescription,
    root: Field,
    model: pin.Model,
    joints: Mapping[str, int],
    model_file: str,
) -> dict[str, tuple[float, float]]:
    """Check overrides only tighten; return effective (lower, upper) of every group joint."""
    effective: dict[str, tuple[float, float]] = {}
    for joint in joints:
        jm = model.joints[joints[joint]]
        if jm.nv != 1:
            continue
        if jm.nq == 1:
            effective[joint] = (
                float(model.lowerPositionLimit[jm.idx_q]),
                float(model.upperPositionLimit[jm.idx_q]),
            )
        else:
            effective[joint] = (-math.inf, math.inf)
    limits_field = root.optional("limits")
    joints_field = limits_field.optional("joints") if limits_field else None
    if joints_field is None:
        return effective
    for key, spec in joints_field.items():
        targets = description.groups.get(key, (key,))
        for joint in targets:
            if joint not in joints:
                raise spec.error(
                    f"{key!r} is neither a joint of {model_file} nor a group; "
                    + nearest(key, [*joints, *description.groups])
                )
            jm = model.joints[joints[joint]]
            override = description.limits.joints[joint]
            lo, hi = effective[joint]
            vel = float(model.velocityLimit[jm.idx_v])
            eff = float(model.effortLimit[jm.idx_v])
            checks = (
                (
                    "lower",
                    override.lower,
                    lo,
                    override.lower is not None and override.lower < lo - _LIMIT_SLACK,
                ),
                (
                    "upper",
                    override.upper,
                    hi,
                    override.upper is not None and override.upper > hi + _LIMIT_SLACK,
                ),
                (
                    "velocity",
                    override.velocity,
                    vel,
                    override.velocity is not None
                    and vel > 0
                    and override.velocity > vel + _LIMIT_SLACK,
                ),
                (
                    "effort",
                    override.effort,
                    eff,
                    override.effort is not None
                    and eff > 0
                    and override.effort > eff + _LIMIT_SLACK,
                ),
            )
            for name, value, model_value, wider in checks:
                if wider:
                    raise spec.child(name).error(
                        f"{value} is wider than {model_file}'s {name} limit {model_value:.6g} "
                        f"of joint {joint!r}; overrides may only tighten limits"
                    )
            new_lo = lo if override.lower is None else override.lower
            new_hi = hi if override.upper is None else override.upper
            if new_lo > new_hi:
                raise spec.error(
                    f"effective limits of {joint!r} are empty: lower {new_lo} > upper {new_hi}"
                )
            effective[joint] = (new_lo, new_hi)
    return effective
