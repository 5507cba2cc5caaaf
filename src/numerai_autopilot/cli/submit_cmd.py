"""``numerai-autopilot submit FILE --model NAME``: one predictions file, submitted as a run
submits it (same checks, same look for a submission first, a ledger row, same exit codes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from . import reliability_opts as ro
from .common import ALERTS, API, DIRS, Flags, Verbose, open_output, with_settings


@with_settings(*DIRS, *API, "log_format", *ALERTS)
def submit(
    flags: Flags,
    file: Annotated[
        Path,
        typer.Argument(
            help="Predictions: .csv or .parquet with the id column and one prediction column",
            show_default=False,
        ),
    ],
    model: Annotated[
        str,
        typer.Option("--model", "-m", help="The Numerai model to submit for", show_default=False),
    ],
    tournament: Annotated[
        str | None,
        typer.Option(
            help="classic, signals or crypto; default: the model's, asked from the API",
            show_default=False,
        ),
    ] = None,
    rank: Annotated[
        bool, typer.Option("--rank", help="Rank the predictions into (0, 1] first")
    ] = False,
    trigger_id: ro.TriggerId = None,
    late: ro.Late = "skip",
    verbose: Verbose = False,
) -> None:
    """Validate a predictions file and submit it for one model's current round, unless it
    already has a submission there. Exit codes as for run."""
    as_json = open_output(flags, verbose)
    from ..run.one_shot import submit_file
    from ..tournaments import Tournament
    from . import render

    chosen = None
    if tournament is not None:
        try:
            chosen = Tournament.from_label(tournament)
        except ValueError as exc:
            raise ConfigError(f"--tournament: {exc}") from None
    result = submit_file(
        flags.source,
        file,
        model,
        tournament=chosen,
        rank=rank,
        trigger_id=trigger_id,
        late=ro.late_policy(late),
    )
    if result.report is not None:
        render.report(result.report, as_json=as_json, title="submit")
    raise typer.Exit(result.exit_code)


def mount(app: typer.Typer) -> None:
    app.command("submit")(submit)
