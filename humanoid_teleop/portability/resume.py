"""A port run that can be run again: what an earlier run into the same folder left there.

A centre ports its archive in one long run (hours, on a cluster) that a preempted node, a
killed job or a full disk can stop. Run again with the same arguments, ``humanoid-teleop
port`` keeps every episode an earlier run already ported from the same source (its
metadata's ``custom.port.source_content_hash`` and ``custom.port.physics`` match; its report
is read back from ``custom.port.report``), redoes every one an earlier run left unfinished
(``<name>.partial``: derived data, removed; its source is untouched) and ports the rest.

An output name that holds a port of another source, or the same source ported with the
other physics setting, is that episode's one line (the run goes on) and stays as it is: a
port never overwrites an episode. One run writes a folder at a time (:func:`hold_output`)
and names each of its episodes once, so a ``.partial`` of an episode's name found when its
job starts is an earlier run's, not a running one's.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from humanoid_teleop.core.bag.episode import PARTIAL_SUFFIX
from humanoid_teleop.core.bag.errors import BagError
from humanoid_teleop.core.bag.metadata import PORT_KEY_PREFIX
from humanoid_teleop.core.bag.reader import read_bag

from .errors import PortError
from .report import PortReport
from .source import PHYSICS_HASH_KEY

#: The lock file a run holds in its output folder (hidden: not an episode).
LOCK_NAME = ".port.lock"
#: ``custom.port.physics`` of a port with and without the physics replay.
PHYSICS = {True: "mujoco", False: "none"}


def ported_name(source_name: str, target_robot: str) -> str:
    """The name of ``source_name``'s episode ported to ``target_robot``."""
    return f"{source_name}_to_{target_robot}"


@contextmanager
def hold_output(out_dir: Path) -> Iterator[Path]:
    """Create ``out_dir`` and hold its lock for the ``with`` block (an advisory ``flock``,
    released when this process ends, however it ends). Another run holding it raises
    :class:`PortError` naming the folder and that run's host and pid."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock_path = out_dir / LOCK_NAME
        handle = lock_path.open("a+")
    except OSError as err:
        raise PortError(f"{out_dir}: cannot write the output folder: {err.strerror}") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise PortError(
                f"{out_dir}: another port run is writing this folder ({holder}); wait for "
                "it to end or port into another folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"host {socket.gethostname()} pid {os.getpid()}\n")
        handle.flush()
        yield out_dir
    finally:
        handle.close()


@dataclass(frozen=True)
class EarlierPort:
    """An episode an earlier run ported from the same source, kept as it is."""

    path: Path
    report: PortReport
    #: ``custom.port.tool_version`` of the run that wrote it.
    tool_version: str


def check_kept_robot(
    custom: Mapping[str, str],
    where: str,
    robot: str,
    *,
    model_hash: str,
    physics_hash: str,
    made: str,
    advice: str,
) -> None:
    """Refuse (:class:`PortError`, one line) an episode kept from an earlier run whose
    ``custom_data`` says it was ``made`` ("ported", "recorded") of ``robot`` as it was before
    its robot.yaml changed (``robot_model_hash`` is not ``model_hash``; a missing one is
    refused) or its physics.yaml changed (``custom.physics_hash`` is not ``physics_hash``;
    not compared where either is "": made before the key was kept, or a port without
    physics). ``where`` names the metadata file; ``advice`` ends the line."""
    recorded_model = custom.get("robot_model_hash", "")
    if recorded_model != model_hash:
        raise PortError(
            f"{where}: robot_model_hash {recorded_model or '(none)'} is not {robot}'s "
            f"robot.yaml now ({model_hash}): {made} before that robot.yaml changed; {advice}"
        )
    recorded_physics = custom.get(PHYSICS_HASH_KEY, "")
    if physics_hash and recorded_physics not in ("", physics_hash):
        raise PortError(
            f"{where}: {PHYSICS_HASH_KEY} {recorded_physics} is not {robot}'s physics.yaml "
            f"now ({physics_hash}): {made} before that physics.yaml changed; {advice}"
        )


def earlier_port(
    out_dir: Path,
    name: str,
    source_hash: str,
    physics: bool,
    *,
    target_model_hash: str,
    target_physics_hash: str = "",
) -> tuple[EarlierPort | None, str]:
    """What an earlier run left under ``out_dir`` for the episode ``name`` of the source
    whose content hash is ``source_hash``, ported with (``physics``) or without the physics
    replay to the target whose robot.yaml now hashes to ``target_model_hash``
    (:func:`~humanoid_teleop.core.robot.robot_model_hash`) and, in physics, whose
    physics.yaml hashes to ``target_physics_hash`` (:func:`~humanoid_teleop.core.sim.
    physics_config.physics_hash`; "": not compared): ``(the episode to keep or None, a line
    saying what was done or "")``.

    Call it holding the folder's lock (:func:`hold_output`). A ``<name>.partial`` (a run
    killed or stopped while writing it) is removed: the episode is ported again. An episode
    ``name`` of another source, or ported with the other physics setting, or to the target
    robot as its robot.yaml (or, in physics, its physics.yaml) was before a change, or whose
    metadata cannot be read, raises
    :class:`PortError` naming it; it is left as it is."""
    note = ""
    partial = out_dir / f"{name}{PARTIAL_SUFFIX}"
    if partial.exists():
        shutil.rmtree(partial)
        note = f"{partial}: left unfinished by an earlier run; removed, ported again"
    final = out_dir / name
    if not final.exists():
        return None, note
    where = f"{final}/metadata.yaml"
    try:
        custom = read_bag(final).metadata.custom_data
    except (BagError, OSError) as err:
        raise PortError(
            f"{final}: an episode with this name exists and its metadata cannot be read "
            f"({err}); remove it to port the source again"
        ) from None
    recorded_hash = custom.get(f"{PORT_KEY_PREFIX}source_content_hash", "")
    if recorded_hash != source_hash:
        raise PortError(
            f"{where}: custom.port.source_content_hash {recorded_hash or '(none)'} is not "
            f"this source's ({source_hash}): an episode of another source has this name; "
            "port into another folder"
        )
    recorded_physics = custom.get(f"{PORT_KEY_PREFIX}physics", "")
    if recorded_physics != PHYSICS[physics]:
        raise PortError(
            f"{where}: custom.port.physics {recorded_physics or '(none)'}, this run "
            f"{PHYSICS[physics]}: port into another folder"
        )
    check_kept_robot(
        custom,
        where,
        custom.get("robot", "") or "the target",
        model_hash=target_model_hash,
        physics_hash=target_physics_hash if physics else "",
        made="it was ported in physics" if physics else "it was ported",
        advice="port into another folder, or remove it to port it again",
    )
    text = custom.get(f"{PORT_KEY_PREFIX}report", "")
    try:
        report = PortReport.from_dict(json.loads(text), f"{where} custom.port.report")
    except (ValueError, TypeError):
        raise PortError(f"{where}: custom.port.report is not a port report's JSON") from None
    return EarlierPort(final, report, custom.get(f"{PORT_KEY_PREFIX}tool_version", "")), note
