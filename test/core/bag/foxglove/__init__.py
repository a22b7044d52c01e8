"""Decode bags with Foxglove's own JS stack (the reader data engineers open our bags with).

``decode.mjs`` beside this file runs @mcap/core's indexed and stream readers (CRCs validated,
@mcap/support decompression), @foxglove/rosmsg (``ros2: true``) and
@foxglove/rosmsg2-serialization over every message; the packages are pinned in the committed
package-lock.json and installed by ``make test`` (tools/setup_foxglove.sh)::

    assert_foxglove_reads(bag_dir)                     # every file decodes, counts match
    results = foxglove_decode([a.mcap, b.mcap, ...])   # one node process for many files
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from humanoid_teleop.core.bag.reader import mcap_files, summarize_mcap

HARNESS = Path(__file__).resolve().parent
SCRIPT = HARNESS / "decode.mjs"
_PACKAGES = ("@mcap/core", "@mcap/support", "@foxglove/rosmsg", "@foxglove/rosmsg2-serialization")


def _require_harness() -> None:
    """Skip (saying why) without Node; fail when Node is there but the packages are not."""
    if shutil.which("node") is None:
        pytest.skip("node (Node.js) is not installed: cannot run Foxglove's decoder")
    missing = [p for p in _PACKAGES if not (HARNESS / "node_modules" / p).is_dir()]
    if missing:
        pytest.fail(f"{HARNESS}: {', '.join(missing)} not installed; run tools/setup_foxglove.sh")


def foxglove_decode(files: Sequence[Path], timeout_s: float = 120.0) -> dict[str, dict[str, Any]]:
    """Foxglove's result for each of ``files`` (key: the path as given), in one node process."""
    _require_harness()
    if not files:
        return {}
    done = subprocess.run(
        ["node", str(SCRIPT), *[str(f) for f in files]],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        cwd=HARNESS,
    )
    assert done.returncode == 0, f"decode.mjs failed: {done.stderr[-2000:]}"
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return result


def foxglove_parse_errors(texts: Sequence[str]) -> list[str | None]:
    """@foxglove/rosmsg's error for each ``ros2msg`` text (None where it parses)."""
    _require_harness()
    done = subprocess.run(
        ["node", str(SCRIPT), "--schemas"],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=HARNESS,
    )
    assert done.returncode == 0, f"decode.mjs --schemas failed: {done.stderr[-2000:]}"
    errors: list[str | None] = json.loads(done.stdout)
    return errors


def assert_foxglove_reads(bags: Path | Iterable[Path]) -> dict[str, int]:
    """Every message of every file decodes in Foxglove with the counts the summaries state.

    ``bags``: a bag directory, an MCAP file, or several of either. Returns messages per topic.
    """
    items = [bags] if isinstance(bags, Path) else list(bags)
    files = [f for item in items for f in mcap_files(item)]
    assert files, f"no MCAP files in {items}"
    results = foxglove_decode(files)
    totals: dict[str, int] = {}
    for file in files:
        got = results[str(file)]
        assert got["ok"], f"Foxglove cannot read {file}: {got['error']}"
        assert got["stream_messages"] == got["messages"], f"{file}: stream and index disagree"
        expected = {t.name: t.message_count for t in summarize_mcap(file).topics}
        assert got["topics"] == {k: v for k, v in expected.items() if v}, file
        for topic, count in got["topics"].items():
            totals[topic] = totals.get(topic, 0) + count
    return totals
