"""The HTML page of ``catalog report --html``: bar charts (plotly, its JavaScript inlined so the
page opens offline) of episodes, usable hours, success rate and QC rejections per group, and
the same numbers as a table."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from plotly.subplots import make_subplots  # type: ignore[import-untyped]

from .query import REPORT_NUMBERS, report_cell

METRICS = (
    ("episodes", "episodes"),
    ("usable_hours", "usable hours [h]"),
    ("success_rate", "success rate"),
    ("qc_rejections", "QC rejections"),
)


def report_page(rows: Sequence[dict[str, Any]], by: Sequence[str], title: str) -> str:
    """A standalone HTML page of the ``report`` rows grouped ``by``."""
    groups = [" / ".join(str(row[k]) or "-" for k in by) for row in rows]
    figure = make_subplots(rows=2, cols=2, subplot_titles=[label for _, label in METRICS])
    for i, (key, label) in enumerate(METRICS):
        values = [row[key] if row[key] is not None else 0 for row in rows]
        figure.add_trace(go.Bar(x=groups, y=values, name=label), row=i // 2 + 1, col=i % 2 + 1)
    figure.update_layout(height=760, showlegend=False, title_text=title, margin={"t": 80})
    charts = figure.to_html(include_plotlyjs=True, full_html=False, div_id="catalog-charts")
    columns = [*by, *REPORT_NUMBERS]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(report_cell(row[c]))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head>
<body><h1>{html.escape(title)}</h1>
{charts}
<table id="catalog-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
