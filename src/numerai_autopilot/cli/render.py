"""Rendering results for people (rich tables) and machines (one JSON document per line)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..run.ledger import OutcomeRow, RunRow
from ..run.plan import Plan
from ..run.report import RunReport, Status

_STYLE = {
    Status.SUBMITTED: "green",
    Status.ALREADY: "cyan",
    Status.CHECKED: "green",
    Status.SKIPPED: "yellow",
    Status.FAILED: "bold red",
    Status.INTERRUPTED: "bold red",
}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, default=str) + "\n")
    sys.stdout.flush()


def report(r: RunReport, *, as_json: bool, title: str = "run") -> None:
    if as_json:
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")  # "run #1" -> "run-1"
        emit_json({"event": f"{slug}.summary", **r.to_json()})
        return
    c = console()
    t = Table(title=f"numerai-autopilot {title} {r.run_id or ''}".strip(), title_justify="left")
    t.add_column("model", no_wrap=True)
    t.add_column("tournament", no_wrap=True)
    t.add_column("round", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("s", justify="right", no_wrap=True)
    t.add_column("submission / reason", overflow="fold", min_width=12)
    for o in r.outcomes:
        if o.status in (Status.FAILED, Status.INTERRUPTED):
            detail = f"at {o.stage}: {o.error}"
        elif o.status is Status.SKIPPED:
            detail = o.error or o.skip or ""
        else:
            detail = o.submission_id or ""
        if o.warning:
            detail = f"{detail} ({o.warning})" if detail else o.warning
        seconds = sum(o.timings.values())
        t.add_row(
            o.name,
            o.tournament.label,
            str(o.round_number or "-"),
            f"[{_STYLE[o.status]}]{o.status}[/]",
            f"{seconds:.1f}" if seconds else "",
            detail,
        )
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


def _problem_cell(problem: object) -> str:
    return f"[bold red]{escape(str(problem))}[/]" if problem else ""


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
    t = Table(title="plan", title_justify="left")
    for col in ("model", "tournament", "round", "state", "action", "reason"):
        t.add_column(col)
    for row in rows:
        action = "submit" if row["upload"] else ("predict for blend" if row["predict"] else "-")
        t.add_row(
            str(row["model"]),
            str(row["tournament"]),
            str(row["round"] or "-"),
            str(row["state"]),
            action,
            _problem_cell(row["problem"]) or escape(str(row["reason"] or "")),
        )
    c = console()
    c.print(t)
    c.print(f"{len(p.pending)} of {len(p.models)} models due")
    for name, text in p.problems:
        c.print(f"[bold red]problem[/] {escape(name)}: {escape(text)}")


def status_rows(rows: Sequence[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        emit_json({"event": "status", "models": list(rows)})
        return
    t = Table(title="status", title_justify="left")
    cols = ("model", "tournament", "round", "api", "ledger", "submission", "error")
    for col in cols:
        t.add_column(col)
    for row in rows:
        t.add_row(*(str(row.get(k) if row.get(k) is not None else "-") for k in cols))
    console().print(t)


def history(runs: Sequence[RunRow], outcomes: Sequence[OutcomeRow], *, as_json: bool) -> None:
    if as_json:
        for run in runs:
            emit_json({"event": "run", "result": run_result(run), **run.__dict__})
        for o in outcomes:
            emit_json({"event": "outcome", **o.__dict__})
        return
    c = console()
    t = Table(title="runs", title_justify="left")
    for col in ("run", "started", "finished", "command", "result", "exit", "summary / error"):
        t.add_column(col)
    for run in runs:
        summary = ", ".join(f"{k} {v}" for k, v in run.summary.items() if v)
        result = run_result(run)
        t.add_row(
            run.id,
            run.started_at[:19],
            (run.finished_at or "-")[:19],
            run.command,
            f"[{'red' if result in ('failed', 'interrupted') else 'green'}]{result}[/]",
            str(run.exit_code if run.exit_code is not None else "-"),
            Text(run.error or summary),  # Text: an error's [brackets] are not markup
        )
    c.print(t)
    if outcomes:
        t = Table(title="outcomes", title_justify="left")
        for col in ("run", "model", "round", "status", "stage", "submission", "error"):
            t.add_column(col)
        for o in outcomes:
            t.add_row(
                o.run_id,
                o.model,
                str(o.round or "-"),
                o.status,
                o.stage,
                o.submission_id or "",
                o.error or "",
            )
        c.print(t)


def run_result(run: RunRow) -> str:
    """A run as a person reads it: ok, idle (no round open), failed, interrupted, running."""
    if run.finished_at is None:
        return "running"
    return {0: "ok", 3: "idle", 4: "locked", 130: "interrupted"}.get(
        run.exit_code if run.exit_code is not None else -1, "failed"
    )
