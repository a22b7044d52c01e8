"""Kinematics of a described robot: a fixed-base pinocchio model with limits and extra frames.

``q`` everywhere is the array of joint positions [rad or m] over :attr:`RobotModel.joint_names`
(the model's 1-DoF joints in pinocchio order). Poses are expressed in the description's
``base_frame``. A RobotModel owns one ``pinocchio.Data``: do not share it between threads.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import numpy as np
import numpy.typing as npt
import pinocchio as pin

from humanoid_teleop.core.config import nearest
from humanoid_teleop.core.finite import all_finite
from humanoid_teleop.core.robot.errors import RobotConfigError, RobotModelError
from humanoid_teleop.core.robot.limits import DEFAULT_VELOCITY_RAD_S, JointLimits
from humanoid_teleop.core.robot.schema import FrameSpec, ModelSource, RobotDescription

T = TypeVar("T")

_log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


def _capture_stderr_fd() -> tuple[int, IO[bytes]]:
    sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _restore_stderr_fd
    saved = os.dup(2)
    os.dup2(sink.fileno(), 2)
    return saved, sink


def _restore_stderr_fd(saved: int, sink: IO[bytes]) -> str:
    os.dup2(saved, 2)
    os.close(saved)
    sink.seek(0)
    text = sink.read().decode("utf-8", "replace")
    sink.close()
    return text


def build_pinocchio_model(source: ModelSource) -> pin.Model:
    """Parse the model file into a fixed-base pinocchio model.

    Raises RobotModelError with the file and pinocchio's (and urdfdom's) message when the file
    is missing or cannot be parsed. urdfdom prints its reason on the C stderr, so that stream
    is captured for the duration of the parse (a few milliseconds).
    """
    path = source.path
    if not path.is_file():
        raise RobotModelError(f"{path}: model file not found (model: {source.describe()})")
    saved, sink = _capture_stderr_fd()
    try:
        if source.format == "urdf":
            model = pin.buildModelFromUrdf(str(path))
        else:
            model = pin.buildModelFromMJCF(str(path))
    except (ValueError, RuntimeError) as err:
        native = _restore_stderr_fd(saved, sink).strip()
        saved = -1
        detail = f"{err}" + (f" ({' '.join(native.split())})" if native else "")
        raise RobotModelError(
            f"{path}: pinocchio cannot parse the {source.format}: {detail}"
        ) from err
    finally:
        if saved >= 0:
            native = _restore_stderr_fd(saved, sink).strip()
            if native:
                _log.debug("%s: parser said: %s", path, native)
    return model


@dataclass(frozen=True)
class MimicJoint:
    """A URDF ``<mimic>``: ``joint = multiplier * source + offset`` [rad or m]."""

    joint: str
    source: str
    multiplier: float
    offset: float


def _sources_first(mimics: list[MimicJoint], path: Path) -> tuple[MimicJoint, ...]:
    """``mimics`` in file order but each after the mimic that sets its source (a chain: a
    finger's distal joint mimicking its proximal one, which mimics the motor), so that one
    pass in this order sets every joint from its source's new value; a cycle is an error
    naming ``path`` and its joints."""
    by_joint = {m.joint: m for m in mimics}
    ordered: list[MimicJoint] = []
    done: set[str] = set()
    for mimic in mimics:
        chain: list[MimicJoint] = []
        link: MimicJoint | None = mimic
        while link is not None and link.joint not in done:
            if link in chain:
                names = " -> ".join(m.joint for m in chain[chain.index(link) :])
                raise RobotModelError(f"{path}: mimic joints form a cycle: {names} -> {link.joint}")
            chain.append(link)
            link = by_joint.get(link.source)
        for m in reversed(chain):
            done.add(m.joint)
            ordered.append(m)
    return tuple(ordered)


def read_urdf_mimics(path: Path) -> tuple[MimicJoint, ...]:
    """The ``<mimic>`` relations of a URDF file, in file order (empty for unreadable XML)."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        _log.debug("%s: no mimic joints read: %s", path, err)
        return ()
    mimics = []
    for joint in root.iter("joint"):
        mimic = joint.find("mimic")
        name = joint.get("name")
        source = mimic.get("joint") if mimic is not None else None
        if mimic is None or not name or not source:
            continue
        try:
            multiplier = float(mimic.get("multiplier", "1"))
            offset = float(mimic.get("offset", "0"))
        except ValueError:
            _log.debug("%s: mimic of joint %r has a non-numeric value; ignored", path, name)
            continue
        mimics.append(MimicJoint(name, source, multiplier, offset))
    return tuple(mimics)


def add_frames(model: pin.Model, frames: Iterable[FrameSpec]) -> None:
    """Add robot.yaml's fixed frames to ``model`` (parents must exist; names must be new)."""
    for spec in frames:
        if not model.existFrame(spec.parent):
            raise RobotConfigError(
                f"frame {spec.name!r}: parent {spec.parent!r} is not in the model; "
                + nearest(spec.parent, [f.name for f in model.frames])
            )
        if model.existFrame(spec.name):
            raise RobotConfigError(f"frame {spec.name!r} already exists in the model")
        parent_id = model.getFrameId(spec.parent)
        parent = model.frames[parent_id]
        placement = parent.placement * pin.SE3(spec.pose.rotation(), spec.pose.translation())
        model.addFrame(
            pin.Frame(spec.name, parent.parentJoint, parent_id, placement, pin.FrameType.OP_FRAME)
        )


class RobotModel:
    """Forward kinematics, Jacobians and limits of a :class:`RobotDescription`."""

    def __init__(self, description: RobotDescription) -> None:
        self.description = description
        model = build_pinocchio_model(description.model)
        add_frames(model, description.frames)
        self.pin_model: pin.Model = model
        self.pin_data: pin.Data = model.createData()
        names: list[str] = []
        self._q_slots: list[tuple[int, int]] = []  # (idx_q, nq) per joint
        for jid in range(1, model.njoints):
            joint = model.joints[jid]
            if joint.nv != 1 or joint.nq not in (1, 2):
                raise RobotModelError(
                    f"{description.model.path}: joint {model.names[jid]!r} "
                    f"({joint.shortname()}) is not a 1-DoF joint; only revolute, continuous "
                    "and prismatic joints are supported (use a fixed base)"
                )
            names.append(model.names[jid])
            self._q_slots.append((joint.idx_q, joint.nq))
        self.joint_names: tuple[str, ...] = tuple(names)
        self._index = {name: i for i, name in enumerate(names)}
        if not model.existFrame(description.base_frame):
            raise RobotConfigError(
                f"{description.source_file}: base_frame {description.base_frame!r} is not in "
                "the model; " + nearest(description.base_frame, [f.name for f in model.frames])
            )
        self._base_id = model.getFrameId(description.base_frame)
        if model.frames[self._base_id].parentJoint != 0:
            raise RobotConfigError(
                f"{description.source_file}: base_frame {description.base_frame!r} moves with "
                f"joint {model.names[model.frames[self._base_id].parentJoint]!r}; it must be "
                "fixed to the model root"
            )
        base = model.frames[self._base_id].placement
        self._base_inv_rotation: FloatArray = np.asarray(base.rotation).T.copy()
        self._base_inv: pin.SE3 = base.inverse()
        #: Limits read from the model and robot.yaml (see :class:`JointLimits`).
        self.limits = self._limits()
        #: ``limits.for_motion()``: what the safety filter and the simulated robot bound
        #: motion by (finite position bounds, a velocity for every joint).
        self.motion_limits = self.limits.for_motion()
        if self.limits.velocity_not_given:
            _log.warning(
                "%s: the model gives no velocity limit for %s; they move at most %.1f rad/s",
                description.name,
                ", ".join(self.limits.velocity_not_given),
                DEFAULT_VELOCITY_RAD_S,
            )
        mimics = (
            read_urdf_mimics(description.model.path) if description.model.format == "urdf" else ()
        )
        #: URDF mimic relations between joints of ``joint_names`` (see :meth:`apply_mimic`),
        #: each after the one that sets its source where a mimic's source is itself a mimic.
        self.mimics: tuple[MimicJoint, ...] = _sources_first(
            [m for m in mimics if m.joint in self._index and m.source in self._index],
            description.model.path,
        )
        #: URDF mimic relations naming a joint the model does not have (ignored).
        self.broken_mimics: tuple[MimicJoint, ...] = tuple(
            m for m in mimics if m not in self.mimics
        )
        # apply_mimic's one vectorized pass (joints, sources, multipliers, offsets, the
        # joints' lower and upper limits), where no mimic's source is itself a mimic and no
        # joint mimics twice (else one by one)
        joints = [self._index[m.joint] for m in self.mimics]
        sources = [self._index[m.source] for m in self.mimics]
        self._mimic_rows = (
            None
            if set(joints) & set(sources) or len(set(joints)) < len(joints)
            else (
                np.array(joints, dtype=np.int64),
                np.array(sources, dtype=np.int64),
                np.array([m.multiplier for m in self.mimics]),
                np.array([m.offset for m in self.mimics]),
                self.limits.lower[joints],
                self.limits.upper[joints],
            )
        )

    # -- names and indices ------------------------------------------------------------------

    @property
    def nq(self) -> int:
        """Number of joints (length of ``q``)."""
        return len(self.joint_names)

    def index_of(self, names: Iterable[str]) -> npt.NDArray[np.intp]:
        """Indices of ``names`` into ``q``; raises KeyError naming the nearest joints."""
        indices = []
        for name in names:
            if name not in self._index:
                raise KeyError(
                    f"no joint {name!r} in {self.description.name}; "
                    + nearest(name, self.joint_names)
                )
            indices.append(self._index[name])
        return np.array(indices, dtype=np.intp)

    def group_indices(self, group: str) -> npt.NDArray[np.intp]:
        """Indices into ``q`` of the joints of ``group``, in group order."""
        if group not in self.description.groups:
            raise KeyError(
                f"no group {group!r} in {self.description.name}; groups: "
                + ", ".join(self.description.groups)
            )
        return self.index_of(self.description.groups[group])

    def has_frame(self, frame: str) -> bool:
        return bool(self.pin_model.existFrame(frame))

    @property
    def frame_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.pin_model.frames)

    # -- limits and postures ----------------------------------------------------------------

    def _limits(self) -> JointLimits:
        model = self.pin_model
        lower, upper, velocity, effort, accel = [], [], [], [], []
        overrides = self.description.limits.joints
        for name, (idx_q, nq) in zip(self.joint_names, self._q_slots, strict=True):
            jid = model.getJointId(name)
            idx_v = model.joints[jid].idx_v
            lo, hi = (
                (float(model.lowerPositionLimit[idx_q]), float(model.upperPositionLimit[idx_q]))
                if nq == 1
                else (-math.inf, math.inf)
            )
            vel = float(model.velocityLimit[idx_v])
            eff = float(model.effortLimit[idx_v])
            acc = self.description.limits.default_acceleration
            override = overrides.get(name)
            if override is not None:
                lo = lo if override.lower is None else override.lower
                hi = hi if override.upper is None else override.upper
                vel = vel if override.velocity is None else override.velocity
                eff = eff if override.effort is None else override.effort
                acc = acc if override.acceleration is None else override.acceleration
            lower.append(lo)
            upper.append(hi)
            velocity.append(vel)
            effort.append(eff)
            accel.append(acc)
        return JointLimits(
            names=self.joint_names,
            lower=np.array(lower),
            upper=np.array(upper),
            velocity=np.array(velocity),
            acceleration=np.array(accel),
            effort=np.array(effort),
        )

    def clamp(self, q: npt.ArrayLike) -> FloatArray:
        """``q`` clipped into the position limits."""
        return np.clip(self._check_q(q), self.limits.lower, self.limits.upper)

    def apply_mimic(self, q: npt.ArrayLike) -> FloatArray:
        """``q`` with every URDF mimic joint set from its source joint, clipped to its limits.

        Passive joints (e.g. the fingers of a 1-motor gripper) then follow the commanded one in
        ``fk`` and in published joint states; ``fk`` itself uses ``q`` exactly as given.
        """
        out = np.array(self._check_q(q), dtype=float)
        if self._mimic_rows is not None:
            joints, sources, multipliers, offsets, lower, upper = self._mimic_rows
            values = multipliers * out[sources] + offsets
            out[joints] = np.minimum(np.maximum(values, lower), upper)
            return out
        for mimic in self.mimics:
            i = self._index[mimic.joint]
            value = mimic.multiplier * out[self._index[mimic.source]] + mimic.offset
            out[i] = min(max(value, self.limits.lower[i]), self.limits.upper[i])
        return out

    def apply_mimic_rows(self, q: FloatArray) -> FloatArray:
        """:meth:`apply_mimic` at each row of ``q`` (n x joints, finite), the same numbers,
        column by column (a recorded path: ~3-10 us a row one by one)."""
        rows = np.array(q, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != self.nq:
            raise ValueError(f"q must have shape (n, {self.nq}), got {rows.shape}")
        if self._mimic_rows is None:  # a chain of mimics: each after its source, as there
            for mimic in self.mimics:
                i = self._index[mimic.joint]
                values = mimic.multiplier * rows[:, self._index[mimic.source]] + mimic.offset
                rows[:, i] = np.minimum(
                    np.maximum(values, self.limits.lower[i]), self.limits.upper[i]
                )
            return rows
        joints, sources, multipliers, offsets, lower, upper = self._mimic_rows
        values = multipliers * rows[:, sources] + offsets
        rows[:, joints] = np.minimum(np.maximum(values, lower), upper)
        return rows

    def home_positions(self) -> FloatArray:
        """The home posture over ``joint_names``: robot.yaml's ``home``, else 0 within limits.

        URDF mimic joints follow their source joints (see :meth:`apply_mimic`).
        """
        q = np.zeros(self.nq)
        for name, value in self.description.home.items():
            q[self._index[name]] = value
        return self.apply_mimic(self.clamp(q))

    # -- kinematics -------------------------------------------------------------------------

    def _check_q(self, q: npt.ArrayLike) -> FloatArray:
        array = np.asarray(q, dtype=float)
        if array.shape != (self.nq,):
            raise ValueError(
                f"q must have shape ({self.nq},) over joint_names of "
                f"{self.description.name}, got {array.shape}"
            )
        if not all_finite(array):
            bad = [self.joint_names[i] for i in np.flatnonzero(~np.isfinite(array))]
            raise ValueError(f"q is not finite for joints {', '.join(bad)}")
        return array

    def to_pinocchio(self, q: npt.ArrayLike) -> FloatArray:
        """``q`` as a pinocchio configuration vector (continuous joints as cos/sin)."""
        array = self._check_q(q)
        out = np.zeros(self.pin_model.nq)
        for value, (idx_q, nq) in zip(array, self._q_slots, strict=True):
            if nq == 1:
                out[idx_q] = value
            else:
                out[idx_q] = math.cos(value)
                out[idx_q + 1] = math.sin(value)
        return out

    def _frame_id(self, frame: str) -> int:
        if not self.pin_model.existFrame(frame):
            raise KeyError(
                f"no frame {frame!r} in {self.description.name}; "
                + nearest(frame, self.frame_names)
            )
        return int(self.pin_model.getFrameId(frame))

    def fk(self, q: npt.ArrayLike, frame: str) -> tuple[FloatArray, FloatArray]:
        """Pose of ``frame`` in the base frame at ``q``: (3×3 rotation, 3 position [m])."""
        fid = self._frame_id(frame)
        pin.framesForwardKinematics(self.pin_model, self.pin_data, self.to_pinocchio(q))
        pose = self._base_inv * self.pin_data.oMf[fid]
        return np.array(pose.rotation), np.array(pose.translation)

    def fk_all(self, q: npt.ArrayLike) -> dict[str, tuple[FloatArray, FloatArray]]:
        """Poses of every frame in the base frame at ``q`` (one kinematics pass)."""
        pin.framesForwardKinematics(self.pin_model, self.pin_data, self.to_pinocchio(q))
        result = {}
        for fid, frame in enumerate(self.pin_model.frames):
            pose = self._base_inv * self.pin_data.oMf[fid]
            result[frame.name] = (np.array(pose.rotation), np.array(pose.translation))
        return result

    def jacobian(self, q: npt.ArrayLike, frame: str) -> FloatArray:
        """6×n Jacobian of ``frame`` at ``q`` (LOCAL_WORLD_ALIGNED, axes of the base frame).

        Rows are (linear [m/s], angular [rad/s]) of the frame origin per unit joint velocity;
        columns follow ``joint_names``.
        """
        fid = self._frame_id(frame)
        jac = np.array(
            pin.computeFrameJacobian(
                self.pin_model,
                self.pin_data,
                self.to_pinocchio(q),
                fid,
                pin.ReferenceFrame.LOCAL_WORLD_ALIGNED,
            )
        )
        rot = self._base_inv_rotation
        jac[:3] = rot @ jac[:3]
        jac[3:] = rot @ jac[3:]
        return jac


def per_model_and_side(build: Callable[[RobotModel, str], T]) -> Callable[[RobotModel, str], T]:
    """``build(model, side)`` made once per robot model and arm side: the returned function
    keeps what it built for as long as the model lives (held weakly), for things derived from
    a model that take milliseconds to build (an arm's tool kinematics, a hand's geometry)."""
    built: weakref.WeakKeyDictionary[RobotModel, dict[str, T]] = weakref.WeakKeyDictionary()

    def get(model: RobotModel, side: str) -> T:
        by_side = built.setdefault(model, {})
        value = by_side.get(side)
        if value is None:
            value = by_side[side] = build(model, side)
        return value

    get.__doc__ = f"{build.__name__} of ``model``'s ``side``, built at its first use."
    return get
