"""``numerai-autopilot init``: write a first models.toml from the account's models."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ConfigError
from .common import API, Flags, Verbose, open_output, with_settings

Tournaments = Annotated[
    list[str] | None,
    typer.Option(
        "--tournament",
        "-t",
        help="Only this tournament's models: classic, signals or crypto (repeatable)",
        show_default=False,
    ),
]


@with_settings("models_dir", *API, "log_format")
def init(flags: Flags, tournament: Tournaments = None, verbose: Verbose = False) -> None:
    """Write <models dir>/models.toml listing the account's models (asks the API); never
    overwrites one. Fill in each artifact line, then run `models check`."""
    open_output(flags, verbose)
    from ..client import client_from_settings
    from ..starter import init_models_file
    from ..tournaments import Tournament

    wanted = []
    for label in tournament or []:
        try:
            wanted.append(Tournament.from_label(label))
        except ValueError as exc:
            raise ConfigError(f"--tournament: {exc}") from None
    settings = flags.settings()
    with client_from_settings(settings) as client:
        done = init_models_file(client, settings.models_dir, wanted)
    pinned = ", ".join(f"{t.label} {v}" for t, v in sorted(done.versions.items()))
    typer.echo(f"wrote {done.path}: {len(done.models)} models ({pinned})")
    typer.echo(
        "next: put each model's file in that folder and fill in its `artifact` line, then\n"
        f"  numerai-autopilot models check --models-dir {settings.models_dir}"
    )


def mount(app: typer.Typer) -> None:
    app.command("init")(init)
