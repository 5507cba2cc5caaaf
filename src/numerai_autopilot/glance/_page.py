"""The report page: one self-contained HTML document (inline CSS and SVG, no script, no
external asset, a Content-Security-Policy that forbids both) with the grid, the last runs'
stage timings and every failure with its reason. Every name and text from the models file,
the API or the ledger is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from ..clock import format_time
from ..run.ledger import RunRow
from ._chart import stage_chart
from ._grid import Grid, Mark, Section

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
COLOUR = {  # background, text
    Mark.ON_TIME: ("#2da44e", "#ffffff"),
    Mark.LATE: ("#d4a72c", "#1f2328"),
    Mark.QUEUED: ("#8250df", "#ffffff"),
    Mark.SUBMITTED: ("#4ac26b", "#1f2328"),
    Mark.FAILED: ("#cf222e", "#ffffff"),
    Mark.MISSING: ("#fb8f44", "#1f2328"),
    Mark.DUE: ("#54aeff", "#1f2328"),
    Mark.UNKNOWN: ("#6e7781", "#ffffff"),
    Mark.NOT_CONFIGURED: ("#eaeef2", "#57606a"),
}
GLYPH = {
    Mark.ON_TIME: "✓",
    Mark.LATE: "L",
    Mark.QUEUED: "Q",
    Mark.SUBMITTED: "S",
    Mark.FAILED: "F",
    Mark.MISSING: "!",
    Mark.DUE: "…",
    Mark.UNKNOWN: "?",
    Mark.NOT_CONFIGURED: "·",
}
_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;
background:#ffffff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#57606a;margin:0 0 16px}
.banner{background:#ffebe9;border:1px solid #cf222e;padding:8px 12px;border-radius:6px}
table{border-collapse:collapse}
th,td{padding:3px 6px;text-align:left;vertical-align:middle}
.grid td.cell{width:26px;height:22px;text-align:center;font-weight:600;border:2px solid #fff}
.grid th.r{text-align:center;font-weight:500;color:#57606a;font-size:12px}
.grid td.name{font-family:ui-monospace,monospace;white-space:nowrap}
.note{color:#57606a;font-size:12px}
.legend span.cell{display:inline-block;width:20px;text-align:center;font-weight:600;
margin:0 4px 0 12px}
.failures td,.failures th{border-bottom:1px solid #d0d7de}
.failures td.reason{white-space:pre-wrap;word-break:break-word;max-width:640px}
.chart text{font:12px ui-monospace,monospace;fill:#1f2328}.chart .secs{fill:#57606a}
.empty{color:#57606a}
"""


def render_page(
    grid: Grid | None,
    runs: Sequence[RunRow],
    *,
    now: datetime,
    results: dict[str, str],
    error: str | None = None,
) -> str:
    """The whole page. ``grid`` None (with ``error`` saying why): the API could not be read,
    and the page shows what the ledger knows. ``results``: run id -> ok/failed/idle..."""
    cells_css = "".join(
        f".m-{m.value}{{background:{bg};color:{fg}}}" for m, (bg, fg) in COLOUR.items()
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>numerai-autopilot report</title>",
        f"<style>{_STYLE}{cells_css}</style></head><body>",
        "<h1>numerai-autopilot: the last rounds</h1>",
        f'<p class="meta">Generated {escape(format_time(now))}.</p>',
    ]
    if error is not None:
        out.append(
            f'<p class="banner" id="api-error">The API could not be read: {escape(error)}. '
            "The runs below come from the ledger.</p>"
        )
    if grid is not None:
        out += [_section(s) for s in grid.sections]
        out.append(_legend(grid))
        if not grid.sections:
            out.append('<p class="empty">No models: neither the models file nor the account.</p>')
    out.append("<h2>Last runs: stage timings</h2>")
    out.append(stage_chart(runs, results))
    out.append(_failures(grid, runs, results))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _section(s: Section) -> str:
    head = "".join(f'<th class="r" scope="col">{n}</th>' for n in s.rounds)
    title = f"{s.tournament.label.capitalize()}"
    if s.current is not None and (d := s.current.deadline()) is not None:
        title += f": round {s.current.number} closes {format_time(d)}"
    rows = []
    for row in s.rows:
        cells = []
        for c in row.cells:
            tip = f"{row.model}, round {c.round}: {c.mark.value}"
            if c.stage:
                tip += f" at {c.stage}"
            if c.reason:
                tip += f": {c.reason}"
            if c.submission_id:
                tip += f" ({c.submission_id})"
            cells.append(
                f'<td class="cell m-{c.mark.value}" data-round="{c.round}" '
                f'data-mark="{c.mark.value}" title="{escape(tip)}">{GLYPH[c.mark]}</td>'
            )
        rows.append(
            f'<tr data-model="{escape(row.model)}"><td class="name">{escape(row.model)}</td>'
            f'{"".join(cells)}<td class="note">{escape(row.note or "")}</td></tr>'
        )
    return (
        f'<h2 id="t-{s.tournament.label}">{escape(title)}</h2>'
        f'<table class="grid" data-tournament="{s.tournament.label}">'
        f'<thead><tr><th scope="col">model</th>{head}<th scope="col">note</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _legend(grid: Grid) -> str:
    seen = {c.mark for s in grid.sections for r in s.rows for c in r.cells}
    items = "".join(
        f'<span class="cell m-{m.value}">{GLYPH[m]}</span>{m.value.replace("-", " ")}'
        for m in Mark
        if m in seen
    )
    return f'<p class="legend">{items}</p>' if items else ""


def _failures(grid: Grid | None, runs: Sequence[RunRow], results: dict[str, str]) -> str:
    rows = []
    for row, c in grid.failures() if grid is not None else []:
        rows.append(
            f'<tr class="failure"><td>{escape(row.model)}</td><td>{c.round}</td>'
            f'<td>{escape(c.stage or "")}</td><td class="reason">{escape(c.reason or "")}</td>'
            "</tr>"
        )
    for problem in grid.problems if grid is not None else []:
        name, _, text = problem.partition(": ")
        rows.append(
            f'<tr class="failure problem"><td>{escape(name)}</td><td></td><td>models file</td>'
            f'<td class="reason">{escape(text)}</td></tr>'
        )
    for run in runs:
        if run.error and results.get(run.id) not in ("ok", "idle"):
            rows.append(
                f'<tr class="failure"><td>run {escape(run.id)}</td><td></td>'
                f'<td>{escape(run.command)}</td><td class="reason">{escape(run.error)}</td></tr>'
            )
    if not rows:
        return '<h2>Failures</h2><p class="empty" id="no-failures">None in these rounds.</p>'
    return (
        '<h2>Failures</h2><table class="failures"><thead><tr><th>model</th><th>round</th>'
        f"<th>stage</th><th>reason</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
