"""``numerai-autopilot sandbox serve``: a local Numerai on the loopback interface."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
from pathlib import Path
from typing import Annotated, Literal

import typer

from ..fileio import write_atomic

app = typer.Typer(
    help="A local Numerai (GraphQL API, datasets, uploads, faults) for tests and demos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LOOPBACK = ("127.0.0.1", "localhost")


@app.callback()
def sandbox() -> None:
    """A local Numerai (GraphQL API, datasets, uploads, faults) for tests and demos."""


def write_state_file(directory: Path, info: dict[str, object]) -> Path:
    """Write ``directory/sandbox.json`` atomically, readable by the owner only (it holds a key)."""
    target = directory / "sandbox.json"
    write_atomic(target, json.dumps(info, indent=2), mode=0o600)
    return target


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on; 0 picks a free port")] = 0,
    host: Annotated[
        str, typer.Option(help="Address to bind: loopback only (127.0.0.1 or localhost)")
    ] = "127.0.0.1",
    scale: Annotated[
        str,
        typer.Option(
            help="Synthetic data size: tiny (a few hundred rows, for tests) or full "
            "(about 6,800 live rows x 2,748 features, like v5.2)"
        ),
    ] = "tiny",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data, ids and keys")] = 0,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Folder for uploads, DIR/sandbox.json (url, public_id, secret_key, models) and "
            "DIR/secret_key; default: a temporary folder, removed on exit",
            show_default=False,
        ),
    ] = None,
    clock: Annotated[
        str,
        typer.Option(
            help="now: a round is open in every tournament from start-up (1 h); "
            "schedule: Numerai's real Tue-Sat 12:00 UTC windows"
        ),
    ] = "now",
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Folder caching generated data between runs; default: a temporary folder",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve a local Numerai until Ctrl-C and print its URL (GraphQL: POST /, admin: /_sandbox/)."""
    from ..sandbox import Sandbox

    if host not in LOOPBACK:
        raise typer.BadParameter("the sandbox only listens on loopback", param_hint="--host")
    if scale not in ("tiny", "full"):
        raise typer.BadParameter("use tiny or full", param_hint="--scale")
    if clock not in ("now", "schedule"):
        raise typer.BadParameter("use now or schedule", param_hint="--clock")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    scale_value: Literal["tiny", "full"] = "full" if scale == "full" else "tiny"
    clock_value: Literal["now", "schedule"] = "schedule" if clock == "schedule" else "now"
    sandbox = Sandbox(
        scale=scale_value,
        seed=seed,
        state_dir=state,
        port=port,
        host=host,
        clock=clock_value,
        cache_dir=cache,
    )
    sandbox.start()
    # `kill` (SIGTERM) stops it as Ctrl-C does: the temporary state dir holds a key, and goes.
    # Set before anything is printed: whoever read the output may stop it at once.
    signal.signal(signal.SIGTERM, lambda *_: sandbox.stopping.set())
    # Always a state file (and the key in a file of its own), so that what is printed below
    # can be pasted as is; without --state they live in the sandbox's temporary folder.
    path = write_state_file(sandbox.state_dir, sandbox.info())
    key_file = write_key_file(sandbox.state_dir, sandbox.secret_key)
    gone = "" if state is not None else "  (a temporary folder, removed on exit)"
    typer.echo(f"state file: {path}{gone}")
    typer.echo(sandbox.url)
    typer.echo(
        "# In another terminal, point numerai-autopilot at this sandbox:\n"
        + export_lines(sandbox.url, sandbox.public_id, key_file)
    )
    names = ", ".join(str(m["name"]) for m in sandbox.models)
    typer.echo(f"# The account's models: {names}")
    typer.echo("# then: numerai-autopilot init   (writes models/models.toml for them)")
    typer.echo("Ctrl-C stops it.", err=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: serve_forever stops the sandbox
        sandbox.serve_forever()
    typer.echo("stopped", err=True)


def write_key_file(directory: Path, secret_key: str) -> Path:
    """Write the secret key alone to ``directory/secret_key``, owner-only, for
    NUMERAI_SECRET_KEY_FILE (a key on a command line or in the environment shows in ``ps``)."""
    target = directory / "secret_key"
    write_atomic(target, secret_key + "\n", mode=0o600)
    return target


def export_lines(url: str, public_id: str, key_file: Path) -> str:
    """The shell line that points the autopilot at a sandbox (quoted for POSIX shells)."""
    import shlex

    return (
        f"export NUMERAI_API_URL={shlex.quote(url)} NUMERAI_PUBLIC_ID={shlex.quote(public_id)} "
        f"NUMERAI_SECRET_KEY_FILE={shlex.quote(str(key_file.resolve()))}"
    )
