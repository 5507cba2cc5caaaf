"""Rendering results for people (rich tables) and machines (one JSON document per line).

rich is imported by the tables only: a run whose output is JSON (cron, a container, a
scheduler's log) never imports it (about 35 ms of the idle run's start)."""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

from ..run.report import RunReport, Status

if TYPE_CHECKING:
    from rich.console import Console

    from ..run.ledger import RunRow
    from ..run.plan import Plan

_STYLE = {
    Status.SUBMITTED: "green",
    Status.ALREADY: "cyan",
    Status.CHECKED: "green",
    Status.SKIPPED: "yellow",
    Status.FAILED: "bold red",
    Status.INTERRUPTED: "bold red",
}


def console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, default=str) + "\n")
    sys.stdout.flush()


def report(r: RunReport, *, as_json: bool, title: str = "run", verbose: bool = False) -> None:
    """The run's table and summary line; with ``verbose``, what each model printed."""
    if as_json:
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")  # "run #1" -> "run-1"
        emit_json({"event": f"{slug}.summary", **r.to_json()})
        return
    from rich.text import Text

    from . import _tables

    c = console()
    tournaments = sorted({o.tournament.label for o in r.outcomes})
    many = len(tournaments) > 1  # one tournament: named in the title, not on every row
    head = (
        ("model", "tournament", "round", "status", "time")
        if many
        else ("model", "round", "status", "time")
    )
    cells: list[tuple[str, ...]] = [head]
    for o in r.outcomes:
        seconds = sum(o.timings.values())
        took = f"{seconds:.1f}s" if seconds else ""
        row = [o.name, o.tournament.label, str(o.round_number or "-"), str(o.status), took]
        if not many:
            del row[1]
        cells.append(tuple(row))
    room = _tables.room(c, cells)
    details = []
    for o in r.outcomes:
        if o.status in (Status.FAILED, Status.INTERRUPTED):
            details.append(f"at {o.stage}: {o.error}")
        elif o.status is Status.SKIPPED:
            details.append(o.error or o.skip or "")
        else:  # a submission id too long for the room: its start (whole in --json, history)
            sid = o.submission_id or ""
            details.append(sid if len(sid) <= room else sid[: max(8, room - 1)] + "…")
        if o.warning:  # e.g. Numerai would refuse this pickle as a Model Upload
            details[-1] = f"{details[-1]} ({o.warning})" if details[-1] else o.warning
    where = "" if many or not tournaments else f" ({tournaments[0]})"
    t = _tables.table(
        f"numerai-autopilot {title} {r.run_id or ''}".strip() + where, head, ["submission / reason"]
    )
    for cell, o, detail in zip(cells[1:], r.outcomes, _tables.fit(c, cells, details), strict=True):
        status = Text(cell[-2], style=_STYLE[o.status])
        t.add_row(*(Text(x) for x in cell[:-2]), status, cell[-1], detail)
    c.print(t)
    s = r.summary()
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in r.timings.items() if v >= 0.005)
    c.print(
        f"submitted {s['submitted']}, already {s['already']}, failed {s['failed']}, "
        f"skipped {s['skipped']}"
        + (f", checked {s['checked']}" if s["checked"] else "")
        + (f", interrupted {s['interrupted']}" if s["interrupted"] else "")
        + f" | downloaded {r.bytes_downloaded / 1e6:.1f} MB | {timing} | exit {r.exit_code}"
    )
    _stats(c, r)
    printed = [o for o in r.outcomes if o.output]
    if verbose:
        for o in printed:
            c.rule(f"{o.name} printed", align="left")
            c.print(Text(o.output or ""))  # Text: a model's output is not markup
    elif printed:
        names = ", ".join(o.name for o in printed)
        c.print(f"{names} printed output: run with -v to see it (kept in the ledger too)")


def _stats(c: Console, r: RunReport) -> None:
    """``models check``: each model's predictions described (rows, spread, example corr)."""
    checked = [o for o in r.outcomes if o.stats]
    if not checked:
        return
    from rich.table import Table

    t = Table(title="predictions", title_justify="left")
    t.add_column("model", no_wrap=True)
    for col in ("rows", "mean", "std", "corr with example"):
        t.add_column(col, justify="right", no_wrap=True)
    for o in checked:
        s = o.stats or {}
        corr = s.get("corr_example")
        t.add_row(
            o.name,
            str(s.get("rows")),
            f"{s.get('mean'):.4f}",
            f"{s.get('std'):.4f}",
            "-" if corr is None else f"{corr:+.3f}",
        )
    c.print(t)


def plan(p: Plan, *, as_json: bool) -> None:
    rows = [
        {
            "model": m.name,
            "tournament": m.spec.tournament.label,
            "round": m.round.number if m.round else None,
            "state": str(m.state),
            "predict": m.predict,
            "upload": m.upload,
            "submission": m.submission.id if m.submission else None,
            "reason": m.reason,
            "problem": m.problem,
        }
        for m in p.models
    ]
    problems = [{"model": n, "problem": text} for n, text in p.problems]
    if as_json:
        emit_json(
            {"event": "plan", "models": rows, "pending": len(p.pending), "problems": problems}
        )
        return
    from rich.markup import escape
    from rich.text import Text

    from . import _tables

    c = console()
    head = ("model", "tournament", "round", "state", "action")
    cells = [head]
    for row in rows:
        action = "submit" if row["upload"] else ("predict for blend" if row["predict"] else "-")
        cells.append(
            (
                str(row["model"]),
                str(row["tournament"]),
                str(row["round"] or "-"),
                str(row["state"]),
                action,
            )
        )
    reasons = [str(row["problem"] or row["reason"] or "") for row in rows]
    t = _tables.table("plan", head, ["reason"])
    for cell, row, reason in zip(cells[1:], rows, _tables.fit(c, cells, reasons), strict=True):
        if row["problem"]:
            reason.stylize("bold red")
        t.add_row(*(Text(x) for x in cell), reason)
    c.print(t)
    c.print(f"{len(p.pending)} of {len(p.models)} models due")
    for name, text in p.problems:
        c.print(f"[bold red]problem[/] {escape(name)}: {escape(text)}")


def run_result(run: RunRow) -> str:
    """A run as a person reads it: ok, idle (no round open), failed, interrupted, running."""
    return run.result
