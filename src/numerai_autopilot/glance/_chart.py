"""The last runs' stage timings as an inline SVG bar chart (no script, no external asset).

One bar per run, newest on top, split into its stages' seconds. Stages overlap in a run
(uploads start while other models predict), so a bar's length is the sum of its stages; the
label gives the run's wall time too."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..run.ledger import RunRow
from ..run.report import STAGES

STAGE_COLOUR = {
    "resolve": "#8c959f",
    "download": "#0969da",
    "load": "#8250df",
    "predict": "#bf3989",
    "validate": "#bf8700",
    "upload": "#1a7f37",
}
BAR_H, GAP, LABEL_W, BAR_W = 18, 6, 300, 420


def stage_chart(runs: Sequence[RunRow], result: dict[str, str]) -> str:
    """``runs`` (newest first) as an SVG element; ``result``: run id -> ok/failed/idle..."""
    if not runs:
        return '<p class="empty">No runs in the ledger yet.</p>'
    longest = max((sum(_stages(r).values()) for r in runs), default=0.0) or 1.0
    height = len(runs) * (BAR_H + GAP) + 28
    width = LABEL_W + BAR_W + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        "<title>Stage timings of the last runs</title>",
    ]
    for i, run in enumerate(runs):
        y = i * (BAR_H + GAP)
        stages = _stages(run)
        total = float(run.timings.get("total", 0.0))
        label = f"{run.started_at[:16].replace('T', ' ')}Z {run.command} {result.get(run.id, '')}"
        parts.append(
            f'<text x="0" y="{y + 13}" class="run-label">{escape(label)} '
            f'<tspan class="secs">{total:.1f} s</tspan></text>'
        )
        x = float(LABEL_W)
        for stage, secs in stages.items():
            w = max(secs / longest * BAR_W, 1.0)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                f'fill="{STAGE_COLOUR[stage]}" class="stage stage-{stage}">'
                f"<title>{escape(run.id)} {stage}: {secs:.2f} s</title></rect>"
            )
            x += w
        if not stages:
            parts.append(f'<text x="{LABEL_W}" y="{y + 13}" class="secs">no stage timed</text>')
    legend_y = len(runs) * (BAR_H + GAP) + 14
    x = 0
    for stage in STAGES:
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" '
            f'fill="{STAGE_COLOUR[stage]}"/>'
            f'<text x="{x + 16}" y="{legend_y}" class="legend">{stage}</text>'
        )
        x += 16 + 8 * len(stage) + 14
    parts.append("</svg>")
    return "".join(parts)


def _stages(run: RunRow) -> dict[str, float]:
    """The run's stages that took measurable time, in pipeline order."""
    out = {}
    for stage in STAGES:
        secs = run.timings.get(stage)
        if isinstance(secs, int | float) and secs >= 0.005:
            out[stage] = float(secs)
    return out
