"""``shard-times``: each model's measured predict time, the file that balances ``run --shard``
(docs/shards.md). Mounted on the main app by ``mount``."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from .common import DIRS, Flags, Verbose, open_output, with_settings

log = logging.getLogger("numerai_autopilot.cli")


def mount(app: typer.Typer) -> None:
    app.command("shard-times")(shard_times)


@with_settings(*DIRS, "log_format")
def shard_times(
    flags: Flags,
    write: Annotated[
        bool, typer.Option(help="Write them to <models dir>/shard-times.json for every shard")
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Each model's median predict seconds in this ledger: what balances `run --shard`."""
    open_output(flags, verbose)
    from ..config import load_models_file
    from ..run.ledger import Ledger
    from ..run.shard import measured_times, write_times

    settings = flags.settings()
    names = [m.name for m in load_models_file(settings.models_dir).models]
    with Ledger(settings.state_path) as ledger:
        times = measured_times(ledger, names)
    typer.echo(json.dumps(times, indent=2, sort_keys=True))
    if write:
        log.info("wrote %s (%d models timed)", write_times(settings.models_dir, times), len(times))
