"""``schedule``, ``serve`` and ``webhook register``: the round-aware triggers (docs/scheduling.md).

Thin commands over :mod:`numerai_autopilot.schedule`; mounted on the main app by ``mount``.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import AutopilotError, ConfigError
from .common import API, RESIDENT, RUN, Flags, Verbose, open_output, with_settings

if TYPE_CHECKING:
    from ..run.lifecycle import Lifecycle

webhook_app = typer.Typer(help="Numerai's round-open webhook.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    """Add the commands to the main app."""
    app.command("schedule")(schedule)
    app.command("serve")(serve)
    app.add_typer(webhook_app, name="webhook")


def _on_stop(stop: Callable[[], None]) -> None:
    """First SIGTERM/SIGINT: finish the current step, then stop; a second one: stop now."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Logged (JSON lines when not a TTY), so that stderr stays one format.
        logging.getLogger(__name__).info("signal %d: stopping after the current step", signum)
        stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


@with_settings(*RUN, *RESIDENT)
def schedule(
    flags: Flags,
    print_kind: Annotated[
        str | None,
        typer.Option(
            "--print",
            help="Print a ready trigger (systemd, cron, aca or k8s) instead of running",
            show_default=False,
        ),
    ] = None,
    once_per_round: Annotated[
        bool,
        typer.Option(help="After a round's run succeeded, do not re-check it until it closes"),
    ] = False,
    max_runs: Annotated[
        int | None, typer.Option(help="Stop after this many runs (tests)", show_default=False)
    ] = None,
    poll: Annotated[
        float, typer.Option(help="Seconds between looks at the API when no round is known")
    ] = 300.0,
    verbose: Verbose = False,
) -> None:
    """Stay in the foreground and run every round: wake when it opens, retry until it closes.

    Open and close times come from the API. Safe to restart at any time. Each run goes
    through the same lifecycle as `run`: alerts, healthcheck pings, ledger."""
    if print_kind is not None:
        _print_trigger(print_kind)
        return
    as_json = open_output(flags, verbose)
    from ..run.lifecycle import Lifecycle
    from ..schedule import Scheduler
    from . import render

    lifecycle = Lifecycle(flags.source, trigger="schedule")
    with _reported(lifecycle):
        sched = Scheduler(
            lifecycle.settings,
            poll=poll,
            once_per_round=once_per_round,
            lifecycle=lifecycle,
            on_report=lambda rep: render.report(rep, as_json=as_json, title="scheduled run"),
        )
        _on_stop(sched.stop)
        try:
            sched.run(max_runs=max_runs)
        finally:
            sched.close()


@contextlib.contextmanager
def _reported(lifecycle: Lifecycle) -> Iterator[None]:
    """An error that stops ``schedule`` or ``serve`` (settings, models file, key) is reported
    like a failed run's: one line, an alert, a ledger row, the exit code."""
    try:
        yield
    except AutopilotError as exc:
        if not exc.reported:
            lifecycle.failed(exc)
        raise


def _print_trigger(kind: str) -> None:
    try:
        # The deployment renderers are only needed here.
        from ..deploy.triggers import render_trigger
    except ImportError as exc:
        typer.echo(f"error: triggers are not available in this installation ({exc})", err=True)
        raise typer.Exit(2) from None
    try:
        typer.echo(render_trigger(kind), nl=False)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@with_settings(*RUN, *RESIDENT, "webhook_secret")
def serve(
    flags: Flags,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 in a container, behind TLS)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    verbose: Verbose = False,
) -> None:
    """Serve the webhook Numerai calls when a round opens; one run at a time.

    POST /webhook/<secret> starts a run, GET /health reports the last one, GET / (with
    Authorization: Bearer <secret>) is the report page. Each run goes through the same
    lifecycle as `run`: alerts, healthcheck pings, ledger."""
    as_json = open_output(flags, verbose)
    from ..config import load_models_file
    from ..run.lifecycle import Lifecycle
    from ..schedule.serve import start_server

    lifecycle = Lifecycle(flags.source, trigger="serve")
    stopped = threading.Event()
    with _reported(lifecycle):
        settings = lifecycle.settings
        load_models_file(settings.models_dir)
        settings.require_credentials()
        server = start_server(settings, host=host, port=port, lifecycle=lifecycle)
    _on_stop(stopped.set)
    if not as_json:  # in JSON mode the server's own log line says it: stderr stays JSON
        routes = "POST /webhook/<secret>, GET /health, GET / (the report)"
        typer.echo(f"listening on {server.url} ({routes})", err=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        server.stop()


@webhook_app.command("register")
@with_settings("models_dir", *API, "webhook_secret", "log_format")
def webhook_register(
    url: Annotated[
        str | None,
        typer.Argument(
            help="Public https base URL where `serve` is reachable; /webhook/<secret> is added",
            show_default=False,
        ),
    ] = None,
    clear: Annotated[bool, typer.Option(help="Remove the models' webhooks instead")] = False,
    *,
    flags: Flags,
    verbose: Verbose = False,
) -> None:
    """Set the round-open webhook of every enabled model of the models file to `serve`'s URL."""
    as_json = open_output(flags, verbose)
    from ..client import client_from_settings
    from ..config import load_models_file
    from ..schedule.register import register_webhooks, webhook_url
    from ..schedule.webhook import require_secret
    from . import render

    settings = flags.settings()
    if clear == (url is not None):
        raise ConfigError("give the URL to register, or --clear (not both)")
    full = None if url is None else webhook_url(url, require_secret(settings))
    models = load_models_file(settings.models_dir)
    with client_from_settings(settings) as c:
        results = register_webhooks(c, models, full)
    shown = None if url is None else url.rstrip("/") + "/webhook/***"
    doc: dict[str, Any] = {
        "event": "webhook.register",
        "url": shown,
        "models": [r.__dict__ for r in results],
    }
    if as_json:
        render.emit_json(doc)
    else:
        for r in results:
            typer.echo(f"{r.model:<30} {r.tournament:<8} {r.result}")
        if shown:
            typer.echo(f"webhook: {shown}")
    ok = ("set", "cleared")
    raise typer.Exit(0 if all(r.result in ok for r in results) else 1)
