"""``numerai-autopilot upload-pickle MODEL FILE``: check a pickle as Numerai's runner would,
then upload it as the model's Model Upload (run.model_upload does both)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from .common import API, DIRS, Flags, Verbose, open_output, with_settings


@with_settings(*DIRS, *API, "model_timeout", "model_memory_mb", "log_format")
def upload_pickle(
    flags: Flags,
    model: Annotated[str, typer.Argument(help="The account's Classic model to upload it for")],
    file: Annotated[Path, typer.Argument(help="The cloudpickled predict function (.pkl)")],
    data_version: Annotated[
        str,
        typer.Option(
            help="Data version Numerai runs it on, as Numerai lists them (e.g. v5.2); "
            "the check uses that version's live data",
        ),
    ],
    image: Annotated[
        str,
        typer.Option(help="Numerai's image to run it in (e.g. 'Python 3.11'): this Python's"),
    ],
    verbose: Verbose = False,
) -> None:
    """Check FILE the way Numerai's runner would (load, arity, output on the current live
    data) and, only if Numerai would accept it, upload it as MODEL's Model Upload."""
    as_json = open_output(flags, verbose)
    from ..client import client_from_settings
    from ..run.model_upload import upload_pickle as upload
    from . import render

    settings = flags.settings()
    with client_from_settings(settings) as client:
        result = upload(
            settings, client, model=model, path=file, data_version=data_version, image=image
        )
    if as_json:
        render.emit_json({"event": "upload-pickle", **asdict(result)})
    else:
        render.console().print(
            f"{result.model}: checked on {result.rows} live rows of {result.data_version} "
            f"({result.check_seconds:.1f}s), uploaded as Model Upload {result.upload_id} "
            f"({result.image})"
        )
