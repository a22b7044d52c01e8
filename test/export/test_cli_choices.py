"""The CLI's choices are the exporter's own (the CLI lists them without importing it)."""

from __future__ import annotations

from humanoid_teleop.cli import export as cli
from humanoid_teleop.export.layout import LAYOUTS
from humanoid_teleop.export.video import CODECS


def test_cli_layout_and_codec_choices_match_the_exporter() -> None:
    """--layout and --video-codec offer exactly what the exporter supports."""
    assert cli.LAYOUTS == LAYOUTS
    assert tuple(CODECS) == cli.CODECS
