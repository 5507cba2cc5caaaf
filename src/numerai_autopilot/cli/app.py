"""The numerai-autopilot command line. Each command: parse options, one library call, render,
map errors to exit codes (0 ok, 1 a model failed, 2 usage/configuration, 3 no round open,
4 another run holds the lock)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import AutopilotError, LockedError
from . import reliability_opts as ro
from .common import (
    ApiUrl,
    DataDir,
    LogFormat,
    ModelsDir,
    ModelTimeout,
    Only,
    PublicId,
    SecretKey,
    StateDir,
    Verbose,
    Workers,
    exit_for,
    settings_from,
    setup_output,
)

app = typer.Typer(
    name="numerai-autopilot",
    help="Submits every Numerai model's predictions every round: exactly what is missing, "
    "validated, on time. Settings come from options, NUMERAI_* environment variables "
    "(and NUMERAI_*_FILE for secrets), in that order.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Work with the models file.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command()
def run(
    models_dir: ModelsDir = None,
    data_dir: DataDir = None,
    state_dir: StateDir = None,
    api_url: ApiUrl = None,
    public_id: PublicId = None,
    secret_key: SecretKey = None,
    workers: Workers = None,
    model_timeout: ModelTimeout = None,
    log_format: LogFormat = None,
    only: Only = None,
    trigger_id: Annotated[
        str | None,
        typer.Option(
            help="Numerai's trigger id, passed on to each submission [env TRIGGER_ID]",
            envvar="TRIGGER_ID",
            show_default=False,
        ),
    ] = None,
    wait_lock: Annotated[
        float, typer.Option(help="Seconds to wait for another run to finish before giving up")
    ] = 0.0,
    late: ro.Late = "skip",
    wait_open: ro.WaitOpen = None,
    notify_urls: ro.NotifyUrls = None,
    notify_on_success: ro.NotifyOnSuccess = None,
    healthcheck_url: ro.HealthcheckUrl = None,
    verbose: Verbose = False,
) -> None:
    """Submit every model that has no submission for the current round. Safe to repeat."""
    settings = settings_from(
        models_dir=models_dir,
        data_dir=data_dir,
        state_dir=state_dir,
        api_url=api_url,
        public_id=public_id,
        secret_key=secret_key,
        workers=workers,
        model_timeout=model_timeout,
        log_format=log_format,
        notify_urls=notify_urls,
        notify_on_success=notify_on_success,
        healthcheck_url=healthcheck_url,
    )
    as_json = setup_output(settings, verbose)
    from ..notify import Alerts
    from ..run.runner import Runner
    from . import render

    policy, wait = ro.late_policy(late), ro.parse_duration(wait_open)
    alerts = Alerts.from_settings(settings)
    alerts.start()
    try:
        with Runner(settings) as runner:
            rep = runner.run(
                trigger_id=trigger_id,
                only=only,
                lock_wait=wait_lock,
                late=policy,
                wait_open=wait,
            )
    except LockedError as exc:
        raise exit_for(exc) from None  # the run holding the lock reports
    except Exception as exc:
        alerts.crashed(exc)
        if isinstance(exc, AutopilotError):
            raise exit_for(exc) from None
        raise
    render.report(rep, as_json=as_json)
    alerts.finished(rep)
    raise typer.Exit(rep.exit_code)


@app.command()
def plan(
    models_dir: ModelsDir = None,
    api_url: ApiUrl = None,
    public_id: PublicId = None,
    secret_key: SecretKey = None,
    log_format: LogFormat = None,
    verbose: Verbose = False,
) -> None:
    """Show what a run would do (rounds, status, due models) without doing anything."""
    settings = settings_from(
        models_dir=models_dir,
        api_url=api_url,
        public_id=public_id,
        secret_key=secret_key,
        log_format=log_format,
    )
    as_json = setup_output(settings, verbose)
    from ..run.runner import Runner
    from . import render

    try:
        with Runner(settings) as runner:
            p = runner.plan()
    except AutopilotError as exc:
        raise exit_for(exc) from None
    render.plan(p, as_json=as_json)


@app.command()
def status(
    models_dir: ModelsDir = None,
    data_dir: DataDir = None,
    state_dir: StateDir = None,
    api_url: ApiUrl = None,
    public_id: PublicId = None,
    secret_key: SecretKey = None,
    log_format: LogFormat = None,
    verbose: Verbose = False,
) -> None:
    """Each model's state this round: the API's truth merged with the ledger's last outcome."""
    settings = settings_from(
        models_dir=models_dir,
        data_dir=data_dir,
        state_dir=state_dir,
        api_url=api_url,
        public_id=public_id,
        secret_key=secret_key,
        log_format=log_format,
    )
    as_json = setup_output(settings, verbose)
    from ..run.runner import Runner
    from . import render

    try:
        with Runner(settings) as runner:
            rows = runner.status()
    except AutopilotError as exc:
        raise exit_for(exc) from None
    render.status_rows(rows, as_json=as_json)


@app.command()
def history(
    data_dir: DataDir = None,
    state_dir: StateDir = None,
    log_format: LogFormat = None,
    limit: Annotated[int, typer.Option(help="How many runs to show")] = 10,
    model: Annotated[str | None, typer.Option(help="Only this model's outcomes")] = None,
    verbose: Verbose = False,
) -> None:
    """Past runs and per-model outcomes from the ledger."""
    settings = settings_from(data_dir=data_dir, state_dir=state_dir, log_format=log_format)
    as_json = setup_output(settings, verbose)
    from ..run.ledger import Ledger
    from . import render

    try:
        with Ledger(settings.state_path) as ledger:
            runs = ledger.runs(limit)
            outcomes = (
                ledger.outcomes(model=model, limit=limit * 10)
                if model
                else (ledger.outcomes(run_id=runs[0].id) if runs else [])
            )
    except AutopilotError as exc:
        raise exit_for(exc) from None
    render.history(runs, outcomes, as_json=as_json)


@models_app.command("check")
def models_check(
    models_dir: ModelsDir = None,
    data_dir: DataDir = None,
    state_dir: StateDir = None,
    api_url: ApiUrl = None,
    public_id: PublicId = None,
    secret_key: SecretKey = None,
    workers: Workers = None,
    model_timeout: ModelTimeout = None,
    log_format: LogFormat = None,
    only: Only = None,
    verbose: Verbose = False,
) -> None:
    """Load and predict every model on the current live data and validate; upload nothing."""
    settings = settings_from(
        models_dir=models_dir,
        data_dir=data_dir,
        state_dir=state_dir,
        api_url=api_url,
        public_id=public_id,
        secret_key=secret_key,
        workers=workers,
        model_timeout=model_timeout,
        log_format=log_format,
    )
    as_json = setup_output(settings, verbose)
    from ..run.runner import Runner
    from . import render

    try:
        with Runner(settings) as runner:
            rep = runner.run(only=only, check=True)
    except AutopilotError as exc:
        raise exit_for(exc) from None
    render.report(rep, as_json=as_json, title="check")
    raise typer.Exit(rep.exit_code)


@app.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option(
            help="Keep the demo's models and data in this folder instead of a temporary one",
            show_default=False,
        ),
    ] = None,
    log_format: LogFormat = None,
    verbose: Verbose = False,
) -> None:
    """Start a local sandbox Numerai, train three example models, run twice, show both."""
    from ..config import load_settings
    from ..demo import run_demo
    from . import render

    settings = load_settings({"log_format": log_format} if log_format else {}, environ={})
    as_json = setup_output(settings, verbose)
    try:
        first, second = run_demo(keep)
    except AutopilotError as exc:
        raise exit_for(exc) from None
    render.report(first, as_json=as_json, title="run #1")
    render.report(second, as_json=as_json, title="run #2 (nothing left to do)")
    raise typer.Exit(max(first.exit_code, second.exit_code))


def _mount_sandbox() -> None:
    from .sandbox_cmd import app as sandbox_app

    app.add_typer(sandbox_app, name="sandbox", help="A local Numerai for tests and demos.")


_mount_sandbox()


def _mount_schedule() -> None:
    from .schedule_cmd import mount

    mount(app)


_mount_schedule()


def _mount_deploy() -> None:
    from .deploy_cmd import app as deploy_app

    app.add_typer(deploy_app, name="deploy", help="Set it up to run every round by itself.")


_mount_deploy()


def run_cli(argv: list[str] | None) -> int:
    """Run the CLI and return its exit code instead of exiting (callable from tests)."""
    try:
        rv = app(args=argv, prog_name="numerai-autopilot", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return 2
    return rv if isinstance(rv, int) else 0
