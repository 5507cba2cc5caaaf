"""The grid (``status``) and the per-round history for people: one compact table per
tournament that stays readable at 80 columns (names whole, one character per cell, a legend),
the failures below it with their stage and reason cut to two lines."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..glance import Glance, Mark, RoundRecord, Section
from ..run.ledger import RunRow
from .render import console, emit_json, run_result

GLYPH = {
    Mark.ON_TIME: ("✓", "+", "green"),
    Mark.LATE: ("L", "L", "yellow"),
    Mark.QUEUED: ("Q", "Q", "cyan"),
    Mark.SUBMITTED: ("S", "S", "green"),
    Mark.FAILED: ("F", "F", "bold red"),
    Mark.MISSING: ("!", "!", "red"),
    Mark.DUE: ("…", ".", "blue"),
    Mark.UNKNOWN: ("?", "?", "magenta"),
    Mark.NOT_CONFIGURED: ("·", " ", "dim"),
}
LABEL = {
    Mark.ON_TIME: "on time",
    Mark.LATE: "late",
    Mark.QUEUED: "queued",
    Mark.SUBMITTED: "submitted",
    Mark.FAILED: "failed",
    Mark.MISSING: "missing",
    Mark.DUE: "due",
    Mark.UNKNOWN: "unknown",
    Mark.NOT_CONFIGURED: "not configured",
}
REASON_CHARS = 150
"""A failure's reason in the terminal: about two lines at 80 columns (JSON keeps it whole)."""


def _utf(c: Console) -> bool:
    return (c.encoding or "").lower().replace("-", "").startswith("utf")


def glyph(mark: Mark, *, utf: bool = True) -> str:
    return GLYPH[mark][0 if utf else 1]


def short(text: str | None, limit: int = REASON_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def status(g: Glance, *, as_json: bool) -> None:
    if as_json:
        emit_json({"event": "status", **g.to_json()})
        return
    c = console()
    utf = _utf(c)
    seen: set[Mark] = set()
    for section in g.grid.sections:
        c.print(_section_table(section, c.width, utf))
        seen |= {cell.mark for row in section.rows for cell in row.cells}
    legend = "  ".join(
        f"[{GLYPH[m][2]}]{glyph(m, utf=utf) if glyph(m, utf=utf) != ' ' else '(blank)'}[/] "
        f"{LABEL[m]}"
        for m in Mark
        if m in seen
    )
    if legend:
        c.print(legend)
    for row, cell in g.grid.failures():
        reason = f"at {cell.stage}: {cell.reason}" if cell.stage else (cell.reason or "")
        line = Text.assemble(
            ("failed ", "bold red"), f"{row.model} round {cell.round} ", short(reason)
        )
        c.print(line)
    for problem in g.grid.problems:
        c.print(Text.assemble(("problem ", "bold red"), short(problem)))
    if not g.grid.sections:
        c.print("no models: neither the models file nor the account has any")


def _section_table(section: Section, width: int, utf: bool) -> Table:
    t = section.tournament
    rounds = section.rounds
    title = f"{t.label}"
    if rounds:
        title += f" rounds {rounds[0]}-{rounds[-1]}"
    cur = section.current
    if cur is not None and (d := cur.deadline()) is not None:
        title += f" (round {cur.number} closes {d.strftime('%Y-%m-%d %H:%MZ')})"
    names = max((len(r.model) for r in section.rows), default=5)
    digits = max((len(str(n)) for n in rounds), default=2)
    # Whole round numbers when they fit beside the names; else their last two digits.
    full = names + 2 + len(rounds) * (digits + 1) + 12 <= width
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1, 0, 0), pad_edge=False)
    table.add_column("model", no_wrap=True, min_width=min(names, 40))
    for n in rounds:
        table.add_column(str(n) if full else str(n)[-2:], justify="center", no_wrap=True)
    table.add_column("note", overflow="fold")
    for row in section.rows:
        cells = [Text(glyph(c.mark, utf=utf), style=GLYPH[c.mark][2]) for c in row.cells]
        table.add_row(Text(row.model), *cells, Text(row.note or "", style="dim"))
    return table


def history(runs: Sequence[RunRow], records: Sequence[RoundRecord], *, as_json: bool) -> None:
    """The runs, then each model's outcome per round (the decisive run's)."""
    if as_json:
        for run in runs:
            emit_json({"event": "run", "result": run_result(run), **run.__dict__})
        for r in records:
            emit_json({"event": "round", **r.to_json()})
        return
    c = console()
    if not runs:
        c.print("no runs in the ledger yet")
        return
    t = Table(title="runs", title_justify="left", box=None, padding=(0, 1, 0, 0))
    for col in ("run", "started (UTC)", "command", "result", "exit", "summary / error"):
        t.add_column(col, no_wrap=col != "summary / error", overflow="fold")
    for run in runs:
        summary = ", ".join(f"{k} {v}" for k, v in run.summary.items() if v)
        result = run_result(run)
        t.add_row(
            run.id,
            run.started_at[:16].replace("T", " ") + "Z",
            run.command,
            Text(result, style="red" if result in ("failed", "interrupted") else "green"),
            str(run.exit_code if run.exit_code is not None else "-"),
            Text(short(run.error, 80) if run.error else summary),
        )
    c.print(t)
    if not records:
        return
    t = Table(title="rounds", title_justify="left", box=None, padding=(0, 1, 0, 0))
    for col in ("round", "model", "outcome", "runs", "submission / reason"):
        t.add_column(col, no_wrap=col != "submission / reason", overflow="fold")
    for r in records:
        bad = r.status in ("failed", "interrupted")
        outcome = r.status + (" (late)" if r.late else "")
        # A narrow column beside four others: three lines at most at 80 columns.
        detail = f"at {r.stage}: {short(r.error, 90)}" if bad else (r.submission_id or "")
        t.add_row(
            str(r.round),
            Text(r.model),
            Text(outcome, style="bold red" if bad else "green"),
            str(r.attempts),
            Text(detail),
        )
    c.print(t)
