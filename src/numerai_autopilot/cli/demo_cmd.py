"""``demo``: the sandbox, three example models, two runs. Mounted on the main app by
``mount``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import Verbose


def mount(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    keep: Annotated[
        Path | None,
        typer.Option(
            help="Keep the demo's models and data in this folder instead of a temporary one",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="auto, rich or json", show_default=False)
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Start a local sandbox Numerai, train three example models, run twice, show both."""
    from ..config import SettingsSource, load_settings
    from ..demo import run_demo
    from . import render
    from .logs import configure, use_json

    # The demo's sandbox holds its own key: the user's NUMERAI_* environment is not read.
    source = SettingsSource({"log_format": log_format} if log_format else {}, environ={})
    settings = load_settings(source.flags, source.environ)
    configure(settings.log_format, [], verbose)
    as_json = use_json(settings.log_format)
    first, second = run_demo(keep)
    render.report(first, as_json=as_json, title="run #1")
    render.report(second, as_json=as_json, title="run #2 (nothing left to do)")
    from ..demo import next_steps

    typer.echo(next_steps(keep), err=as_json)  # JSON mode: stdout stays JSON lines only
    raise typer.Exit(max(first.exit_code, second.exit_code))
