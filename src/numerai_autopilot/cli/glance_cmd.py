"""``report --html FILE``: the last rounds as one self-contained page (docs in README).

Mounted on the main app by ``mount``; thin, over :func:`numerai_autopilot.glance.report_page`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from .common import API, DIRS, Flags, Verbose, open_output, with_settings

log = logging.getLogger("numerai_autopilot.cli")


def mount(app: typer.Typer) -> None:
    """Add the commands to the main app."""
    app.command("report")(report)


@with_settings(*DIRS, *API, "log_format")
def report(
    flags: Flags,
    html: Annotated[
        Path,
        typer.Option(
            "--html",
            help="Write the page to this file (one self-contained HTML file: no script, "
            "no external asset)",
            dir_okay=False,
            show_default=False,
        ),
    ],
    rounds: Annotated[
        int, typer.Option(help="How many of the latest rounds to show per model", min=1, max=100)
    ] = 10,
    runs: Annotated[int, typer.Option(help="How many runs to chart", min=1, max=500)] = 20,
    verbose: Verbose = False,
) -> None:
    """Every model's last rounds, the last runs' stage timings and every failure, as a page.
    When the API cannot be read, the page still shows the ledger's part (and the exit code
    says what went wrong)."""
    as_json = open_output(flags, verbose)
    from ..errors import exit_code_for
    from ..fileio import write_atomic
    from ..glance import report_page
    from ..run.runner import Runner
    from .render import console, emit_json

    with Runner(flags.settings()) as runner:
        page = report_page(
            runner.client,
            runner.models.models,
            runner.settings.state_path,
            runner.now(),
            rounds=rounds,
            runs=runs,
        )
    try:
        write_atomic(html, page.html, mode=0o644)  # a page to open or publish: not a secret
    except OSError as exc:
        from ..errors import ConfigError

        raise ConfigError(f"cannot write the report to {html}: {exc.strerror or exc}") from exc
    failed = len(page.grid.failures()) if page.grid is not None else None
    if as_json:
        emit_json(
            {
                "event": "report",
                "path": str(html),
                "failures": failed,
                "error": None if page.error is None else str(page.error),
            }
        )
    else:
        console().print(f"wrote {html}" + ("" if failed is None else f" ({failed} failures)"))
    if page.error is not None:
        log.error("the page lacks the grid: %s", page.error)
        raise typer.Exit(int(exit_code_for(page.error)))
