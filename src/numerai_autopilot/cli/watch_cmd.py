"""``watch``: one look at every model of the account; alert about those without a submission
near the close (docs/watch.md). Mounted on the main app by ``mount``."""

from __future__ import annotations

import json

import typer

from .common import ALERTS, API, DIRS, Flags, Verbose, open_output, with_settings


def mount(app: typer.Typer) -> None:
    app.command("watch")(watch)


@with_settings(*DIRS, *API, "log_format", *ALERTS, "watch_margin")
def watch(flags: Flags, verbose: Verbose = False) -> None:
    """Alert when any model of the account, configured here or not (a Model Upload, another
    machine), has no submission for the open round within the margin before its close. One
    API request; each model alerted at most once per round. Exit 1 when one is missing."""
    as_json = open_output(flags, verbose)
    from ..watch import watch as look

    report = look(flags.settings())
    if as_json:
        typer.echo(json.dumps({"event": "watch", **report.to_json()}))
    else:
        for m in report.models:
            close = f", closes {m.deadline:%Y-%m-%d %H:%M}Z" if m.deadline else ""
            flag = "  <- alerted" if m in report.alerted else ""
            rnd = f" round {m.round}" if m.round else ""
            typer.echo(f"{m.state:<10} {m.describe}{rnd}{close}{flag}")
    raise typer.Exit(report.exit_code)
