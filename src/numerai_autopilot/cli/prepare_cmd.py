"""``numerai-autopilot models prepare``: prepare the LightGBM models outside the round."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from .common import DIRS, Flags, Only, Verbose, open_output, with_settings

if TYPE_CHECKING:
    from ..compiled import Prepared
    from ..config import Settings

MemoryMb = Annotated[
    int, typer.Option(help="Memory bound of the preparation, in MB (the example model: ~300)")
]


def mount(models_app: typer.Typer) -> None:
    models_app.command("prepare")(prepare)


@with_settings(*DIRS, "log_format")
def prepare(
    flags: Flags, only: Only = None, memory_mb: MemoryMb = 2048, verbose: Verbose = False
) -> None:
    """Prepare each LightGBM model for the fast tree walk and verify it against LightGBM on
    stored live rows (seconds); runs use a prepared model once ready, LightGBM until then."""
    as_json = open_output(flags, verbose)
    done = prepare_after(flags.settings(), only, memory_mb=memory_mb, as_json=as_json)
    raise typer.Exit(0 if all(p.ok for p in done) else 1)


def prepare_after(
    settings: Settings,
    only: Sequence[str] | None,
    *,
    memory_mb: int = 2048,
    as_json: bool,
    quiet: bool = False,
) -> list[Prepared]:
    """Prepare and render (also what ``models check`` does after checking, ``quiet`` when
    there is no LightGBM model)."""
    from ..compiled import prepare_models

    done = prepare_models(settings, only, memory_mb=memory_mb)
    if done or not quiet:
        render(done, as_json=as_json)
    return done


def render(done: Sequence[Prepared], *, as_json: bool) -> None:
    from . import render as r

    if as_json:
        for p in done:
            r.emit_json(
                {
                    "event": "compiled",
                    "model": p.model,
                    "status": p.status,
                    "detail": p.detail,
                    "seconds": p.seconds,
                    "peak_mb": p.peak_mb,
                }
            )
        return
    if not done:
        r.console().print("prepared models: no LightGBM model to prepare")
        return
    for p in done:
        took = f" in {p.seconds:.1f} s, {p.peak_mb:.0f} MB" if p.seconds and p.peak_mb else ""
        r.console().print(f"prepared {p.model}: {p.status}{took} ({p.detail})", markup=False)
