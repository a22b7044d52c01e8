"""The code blocks users copy from the documentation work.

Every ``sh``/``bash``, ``python``, ``yaml`` and ``toml`` block of the user documentation is
checked: Python blocks run; shell commands are checked against the real thing they call (the
``humanoid-teleop`` argument parser, the Makefile's targets, the launch files' arguments and
session plan, the node executables' parameters, files and scripts that must exist); YAML
teleop profiles load; blocks quoting a shipped file match it. A block that cannot be checked
here says why in a marker comment on the line before it::

    <!-- doctest: skip: needs a headset -->

Other markers: ``<!-- doctest: teleop-profile -->`` (a YAML block loaded as a teleop profile),
``<!-- doctest: same-as PATH -->`` (the block's code lines appear, in order, in PATH),
``<!-- doctest: run -->`` (run a shell block for real), ``<!-- doctest: python with EPISODE -->``
(a Python block run with ``$EPISODE`` naming a freshly recorded episode).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from humanoid_teleop.cli.main import build_parser, joined_words

REPO = Path(__file__).resolve().parents[1]
USER_DOCS = sorted(
    {
        REPO / "README.md",
        REPO / "DEVELOPING.md",
        REPO / "robots" / "README.md",
        *(REPO / "docs").glob("*.md"),
        *(REPO / "examples").glob("*/README.md"),
    }
)
CHECKED_LANGUAGES = {"sh", "bash", "python", "yaml", "toml"}
EXTERNAL_COMMANDS = {
    "source", "cd", "git", "rosdep", "colcon", "mkdir", "export", "apt-get", "sudo", "adb",
    "bluetoothctl", "xargs", "rm", "cp", "ls", "cat", "ray",
}  # fmt: skip
"""Commands of other projects or the shell: only their file arguments are checked."""


@dataclasses.dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    marker: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def _blocks() -> Iterator[Block]:
    for path in USER_DOCS:
        lines = path.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            opening = re.match(r"^\s*```(\S*)\s*$", lines[i])
            if not opening:
                i += 1
                continue
            end = i + 1
            while not re.match(r"^\s*```\s*$", lines[end]):
                end += 1
            previous = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
            marker = re.match(r"^<!--\s*doctest:\s*(.*?)\s*-->$", previous.strip())
            if opening.group(1) in CHECKED_LANGUAGES:
                indent = len(lines[i]) - len(lines[i].lstrip())
                body = "\n".join(ln[indent:] for ln in lines[i + 1 : end])
                yield Block(path, i + 1, opening.group(1), marker.group(1) if marker else "", body)
            i = end + 1


BLOCKS = list(_blocks())


def _commands(text: str) -> Iterator[list[str]]:
    """Shell commands of a block: continuation lines joined, comments dropped, split on &&,
    variables assigned earlier in the block expanded."""
    variables: dict[str, str] = {}
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        for part in re.split(r"\s&&\s", line):
            words = shlex.split(part, comments=True)
            if len(words) == 1 and re.match(r"^[A-Z_]+=", words[0]):
                name, value = words[0].split("=", 1)
                variables[name] = value
                continue
            expanded: list[str] = []
            for word in words:
                if word.startswith("$") and word[1:] in variables:
                    expanded.extend(shlex.split(variables[word[1:]]))
                else:
                    expanded.append(word)
            if expanded:
                yield expanded


def _makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][\w-]*):", text, flags=re.MULTILINE))


def _node_executables() -> dict[str, str]:
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "NODES" for t in node.targets
        ):
            return dict(ast.literal_eval(node.value))
    raise AssertionError("setup.py defines no NODES")


def _module_sources(module: str) -> str:
    """The source of ``module`` and of the humanoid_teleop modules it imports directly."""
    path = REPO / (module.replace(".", "/") + ".py")
    texts = [path.read_text(encoding="utf-8")]
    for node in ast.walk(ast.parse(texts[0])):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("humanoid_teleop"):
            base = REPO / node.module.replace(".", "/")  # type: ignore[union-attr]
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    texts.append(candidate.read_text(encoding="utf-8"))
    return "\n".join(texts)


def _package_text() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "humanoid_teleop").rglob("*.py")
    )


def _is_placeholder(word: str) -> bool:
    return word.startswith("<") or word.endswith(">") or word == "..."


def _check_path(word: str, block: Block) -> None:
    path = Path(word).expanduser()
    if not path.is_absolute() and not word.startswith("~"):
        assert (REPO / path).exists(), f"{block.where}: {word} does not exist in the repository"


def _check_humanoid_teleop(argv: list[str], block: Block) -> None:
    if any(_is_placeholder(w) for w in argv):
        argv = argv[: next(i for i, w in enumerate(argv) if _is_placeholder(w))]
        if argv and argv[-1] == "--":
            argv = argv[:-1]
    if argv[:1] == ["isolated"] and "--" in argv:
        inner = argv[argv.index("--") + 1 :]
        if inner:
            _check_command(inner, block)
        return
    try:
        build_parser().parse_args(joined_words(argv))
    except SystemExit as exit_:
        raise AssertionError(f"{block.where}: humanoid-teleop {shlex.join(argv)}") from exit_


def _check_python(argv: list[str], block: Block) -> None:
    args = argv[1:]
    if args[:2] == ["-m", "humanoid_teleop.isolation"]:
        inner = args[3:] if args[2:3] == ["--"] else args[2:]
        if inner and not _is_placeholder(inner[0]):
            _check_command(inner, block)
        return
    if args[:2] == ["-m", "pytest"]:
        for word in args[2:]:
            if not word.startswith("-"):
                _check_path(word.split("::")[0], block)
        return
    script = args[0]
    _check_path(script, block)
    text = (REPO / script).read_text(encoding="utf-8")
    for word in args[1:]:
        if word.startswith("--"):
            assert word.split("=")[0] in text, f"{block.where}: {script} has no option {word}"


def _check_ros2(argv: list[str], block: Block) -> None:
    from humanoid_teleop.session.launch_support import launch_arguments
    from humanoid_teleop.session.plan import SessionArgs, session_plan

    verb = argv[1]
    if verb == "launch":
        assert argv[2] == "humanoid_teleop", f"{block.where}: launches another package"
        _check_path(f"launch/{argv[3]}", block)
        values = dict(launch_arguments())
        for word in argv[4:]:
            name, _, value = word.partition(":=")
            assert name in values, f"{block.where}: {argv[3]} has no argument {name!r}"
            values[name] = value
        session_plan(SessionArgs.from_strings(values, f"{block.where}"))
    elif verb in {"service", "topic"}:
        name = argv[3]
        assert f'"{name}"' in _package_text() or f"'{name}'" in _package_text(), (
            f"{block.where}: nothing in humanoid_teleop offers {name}"
        )
    else:
        raise AssertionError(f"{block.where}: no check for `ros2 {verb}`")


def _check_node(argv: list[str], module: str, block: Block) -> None:
    source = _module_sources(f"humanoid_teleop.nodes.{module}")
    words = argv[1:]
    for i, word in enumerate(words):
        if word == "-p":
            name = words[i + 1].split(":=")[0]
            assert re.search(rf"\b{re.escape(name)}\b", source), (
                f"{block.where}: {argv[0]} declares no parameter {name!r}"
            )
        elif word.startswith("--params-file"):
            _check_path(words[i + 1], block)


def _check_command(argv: list[str], block: Block) -> None:
    program = Path(argv[0]).name
    nodes = _node_executables()
    if program == "make":
        targets = _makefile_targets()
        for word in argv[1:]:
            if "=" not in word and not word.startswith("-"):
                assert word in targets, f"{block.where}: the Makefile has no target {word!r}"
    elif program == "humanoid-teleop":
        _check_humanoid_teleop(argv[1:], block)
    elif re.match(r"^python(3(\.\d+)?)?$", program):
        _check_python(argv, block)
    elif program == "ros2":
        _check_ros2(argv, block)
    elif program in nodes:
        _check_node(argv, nodes[program], block)
    elif program == "pip":
        for i, word in enumerate(argv):
            if word.startswith("./") or argv[i - 1] == "-r":
                _check_path(word, block)
    elif program in EXTERNAL_COMMANDS:
        return
    else:
        raise AssertionError(
            f"{block.where}: no check for the command {program!r}; add one to test_docs.py "
            "or mark the block `<!-- doctest: skip: <why> -->`"
        )


def _ids() -> list[str]:
    return [b.where for b in BLOCKS]


@pytest.mark.parametrize("block", BLOCKS, ids=_ids())
def test_documented_code_block_works(block: Block, tmp_path: Path) -> None:
    """The block does what the documentation says (see the module docstring for how)."""
    marker = block.marker
    if marker.startswith("skip:"):
        pytest.skip(f"{block.where}: {marker[5:].strip()}")
    if marker.startswith("same-as "):
        _check_same_as(block, REPO / marker.split(" ", 1)[1])
    elif marker == "teleop-profile":
        _check_teleop_profile(block, tmp_path)
    elif block.language == "python":
        _run_python(block, tmp_path)
    elif block.language in {"sh", "bash"}:
        for argv in _commands(block.text):
            if marker == "run":
                _run_shell(argv, block, tmp_path)
            else:
                _check_command(argv, block)
    elif block.language in {"yaml", "toml"}:
        pytest.skip(f"{block.where}: a {block.language} block without a doctest marker is not run")


def _code_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        stripped = line.split(" #")[0].rstrip() if not line.lstrip().startswith("#") else ""
        if stripped.strip():
            lines.append(stripped.strip())
    return lines


def _check_same_as(block: Block, source: Path) -> None:
    wanted = _code_lines(block.text)
    have = iter(_code_lines(source.read_text(encoding="utf-8")))
    for line in wanted:
        assert any(line == candidate for candidate in have), (
            f"{block.where}: {line!r} is not in {source.relative_to(REPO)} (in this order)"
        )


def _check_teleop_profile(block: Block, tmp_path: Path) -> None:
    from humanoid_teleop.core.retarget.pipeline import TeleopPipeline
    from humanoid_teleop.core.robot import load_robot

    profile = tmp_path / "profile.yaml"
    profile.write_text(block.text, encoding="utf-8")
    TeleopPipeline.create(load_robot("g1"), profile=str(profile))


def _run_python(block: Block, tmp_path: Path) -> None:
    env = dict(os.environ)
    if "EPISODE" in block.marker:
        env["EPISODE"] = str(_record_episode(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", block.text], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, f"{block.where}:\n{result.stderr}"


def _run_shell(argv: list[str], block: Block, tmp_path: Path) -> None:
    program = Path(argv[0]).name
    executable = Path(sys.executable).parent / program
    assert executable.exists(), f"{block.where}: {program} is not installed beside {sys.executable}"
    result = subprocess.run(
        [str(executable), *argv[1:]], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{block.where}: {shlex.join(argv)}\n{result.stderr}"


def _record_episode(tmp_path: Path) -> Path:
    """A short real episode (joint states + an annotation) written by the core recorder."""
    import time

    from rosbags.typesys import Stores, get_typestore

    from humanoid_teleop.core.bag.episode import FileOptions
    from humanoid_teleop.core.bag.qos import QosProfile
    from humanoid_teleop.core.bag.recorder import BagRecorder, EpisodeInfo, RecorderConfig

    store = get_typestore(Stores.ROS2_JAZZY)
    joint_state = store.types["sensor_msgs/msg/JointState"]
    header = store.types["std_msgs/msg/Header"]
    stamp = store.types["builtin_interfaces/msg/Time"]
    import numpy as np

    recorder = BagRecorder(
        RecorderConfig(
            bag_dir=tmp_path / "bags", files=FileOptions(reserve_bytes=4096),
            warn_free_bytes=0, min_free_bytes=0,
        )
    )  # fmt: skip
    try:
        recorder.add_topic("/joint_states", "sensor_msgs/msg/JointState", [QosProfile()])
        recorder.start_episode(EpisodeInfo(task="doc example", robot="g1"))
        for i in range(20):
            now = time.time_ns()
            message = joint_state(
                header=header(stamp=stamp(sec=now // 10**9, nanosec=now % 10**9), frame_id=""),
                name=["j0"], position=np.array([0.01 * i]),
                velocity=np.zeros(0), effort=np.zeros(0),
            )  # fmt: skip
            data = bytes(store.serialize_cdr(message, "sensor_msgs/msg/JointState"))
            recorder.submit("/joint_states", data, now, 0, i + 1)
        return recorder.stop_episode().path
    finally:
        recorder.close()


def test_every_user_doc_is_reachable_from_the_readme() -> None:
    """Each guide in docs/ and the developer notes are linked from the README."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in [*(REPO / "docs").glob("*.md"), REPO / "DEVELOPING.md", REPO / "CHANGELOG.md"]:
        assert path.relative_to(REPO).as_posix() in readme, f"README does not link {path.name}"


def test_user_docs_need_no_shared_folder() -> None:
    """No user document points at ../shared, which a user's clone does not have."""
    for path in USER_DOCS:
        assert "../shared" not in path.read_text(encoding="utf-8"), f"{path} names ../shared"


def test_readme_is_short() -> None:
    """The README stays an entry page (at most ~250 lines); depth lives in docs/."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 260, f"README.md has {lines} lines"
