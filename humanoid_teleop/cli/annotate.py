"""``humanoid-teleop annotate``: pre-annotate episodes and round-trip them through Label Studio.

    annotate pre EPISODES...                      grasp/release/idle/phases + live labels
    annotate to-label-studio EPISODES... -o DIR   preview videos, config.xml, tasks.json
    annotate from-label-studio EXPORT.json        merge annotators' work into the sidecars
    annotate action-config EPISODE                AgiBot-style action_config (JSON)

EPISODES are episodes (bag folders) or folders of episodes. Annotations live in each
episode's append-only ``annotations.jsonl`` (``docs/episode-format.md#annotations``); the
recorded files are never changed. The workflow is in ``docs/annotation.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from humanoid_teleop.annotation.dataset import action_config
from humanoid_teleop.annotation.errors import AnnotationError
from humanoid_teleop.annotation.label_studio import (
    DEFAULT_FPS,
    DEFAULT_VOCABULARY,
    check_output,
    from_label_studio,
    to_label_studio,
)
from humanoid_teleop.annotation.preview import frame_period_ns
from humanoid_teleop.annotation.rules import pre_annotations
from humanoid_teleop.annotation.sidecar import append, sidecar_path
from humanoid_teleop.cli.options import positive_int
from humanoid_teleop.core.bag.reader import find_episodes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "annotate", help="pre-annotate episodes; Label Studio round trip"
    )
    commands = parser.add_subparsers(dest="annotate_command", metavar="COMMAND", required=True)

    pre = commands.add_parser("pre", help="write automatic pre-annotations (predictions)")
    pre.add_argument("episodes", nargs="+", type=Path, metavar="EPISODES")
    pre.add_argument("--dry-run", action="store_true", help="print, do not write")
    pre.add_argument("--json", action="store_true", help="print the records as JSON")
    pre.set_defaults(func=_pre)

    out = commands.add_parser("to-label-studio", help="preview videos, config and tasks")
    out.add_argument("episodes", nargs="+", type=Path, metavar="EPISODES")
    out.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    out.add_argument(
        "--fps", type=int, default=DEFAULT_FPS,
        help=f"preview frame rate [Hz], a divisor of 10^9 (default {DEFAULT_FPS})",
    )  # fmt: skip
    out.add_argument(
        "--url-prefix", default="/data/local-files/?d=",
        help="prefix of the video URLs (default: Label Studio's local files)",
    )  # fmt: skip
    out.add_argument(
        "--vocabulary", type=Path, metavar="FILE",
        help="text file, one timeline label per line (default: the built-in phases)",
    )  # fmt: skip
    out.set_defaults(func=_to_label_studio)

    back = commands.add_parser("from-label-studio", help="merge a Label Studio JSON export")
    back.add_argument("export", type=Path, metavar="EXPORT.json")
    back.add_argument(
        "--root", type=Path, action="append", default=[], metavar="FOLDER",
        help="where to look for episodes that moved since the export (repeatable)",
    )  # fmt: skip
    back.add_argument("--dry-run", action="store_true", help="print, do not write")
    back.set_defaults(func=_from_label_studio)

    agibot = commands.add_parser("action-config", help="AgiBot World-style action_config JSON")
    agibot.add_argument("episode", type=Path)
    agibot.add_argument("--fps", type=positive_int, default=30, help="frame rate [Hz] (default 30)")
    agibot.set_defaults(func=_action_config)


def _episodes(sources: Sequence[Path]) -> list[Path]:
    for source in sources:
        if not source.exists():
            raise AnnotationError(f"{source}: no such file or directory")
    episodes = find_episodes(sources)
    if not episodes:
        raise AnnotationError(f"{', '.join(map(str, sources))}: no episodes (metadata.yaml) here")
    return episodes


def _pre(args: argparse.Namespace) -> int:
    report = []
    for episode in _episodes(args.episodes):
        records = pre_annotations(episode)
        written = records if args.dry_run else append(episode, records)
        report.append((episode, records, written))
        if not args.json:
            print(
                f"{episode}: {len(records)} prediction(s), {len(written)} new"
                + ("" if args.dry_run else f" -> {sidecar_path(episode).name}")
            )
    if args.json:
        print(json.dumps({str(e): [r.to_dict() for r in recs] for e, recs, _ in report}, indent=1))
    return 0


def _to_label_studio(args: argparse.Namespace) -> int:
    vocabulary: Sequence[str] = DEFAULT_VOCABULARY
    if args.vocabulary is not None:
        try:
            lines = args.vocabulary.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise AnnotationError(f"{args.vocabulary}: unreadable ({err})") from err
        vocabulary = [line.strip() for line in lines if line.strip()]
    # refused before the pre-annotations below are written into the episodes' sidecars
    frame_period_ns(args.fps)
    check_output(args.output)
    episodes = _episodes(args.episodes)
    for episode in episodes:
        append(episode, pre_annotations(episode))
    written = to_label_studio(episodes, args.output, args.fps, args.url_prefix, vocabulary)
    for item in written:
        print(f"{item.path.name}: {item.frames} frames, {item.predictions} prediction(s)")
    print(f"wrote {args.output / 'config.xml'}, {args.output / 'tasks.json'}")
    return 0


def _from_label_studio(args: argparse.Namespace) -> int:
    merged = from_label_studio(args.export, args.root)
    for episode, records in merged.items():
        written = records if args.dry_run else append(episode, records)
        print(
            f"{episode}: {len(written)} record(s) merged" + (" (dry run)" if args.dry_run else "")
        )
    return 0


def _action_config(args: argparse.Namespace) -> int:
    episode = _episodes([args.episode])[0]
    print(json.dumps({"episode": episode.name, "action_config": action_config(episode, args.fps)},
                     indent=1))  # fmt: skip
    return 0
