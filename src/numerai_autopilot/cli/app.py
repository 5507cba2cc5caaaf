"""The numerai-autopilot command line. Each command: parse options, one library call, render.
Errors are raised, and :func:`run_cli` is the one place that turns them into an exit code
(:class:`~numerai_autopilot.errors.ExitCode`) and one line on stderr."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ExitCode
from . import (
    demo_cmd,
    glance_cmd,
    init_cmd,
    prepare_cmd,
    schedule_cmd,
    shard_cmd,
    submit_cmd,
    upload_pickle_cmd,
    watch_cmd,
)
from . import reliability_opts as ro
from .common import (
    API,
    DIRS,
    RUN,
    Flags,
    Only,
    Verbose,
    open_output,
    with_settings,
)
from .deploy_cmd import app as deploy_app
from .sandbox_cmd import app as sandbox_app

log = logging.getLogger("numerai_autopilot.cli")

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


def _show_version(value: bool) -> None:
    if value:
        from .version import version_line

        typer.echo(version_line())
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """The group's own options (its help text is the Typer's above)."""


@app.command()
@with_settings(*RUN)
def run(
    flags: Flags,
    only: Only = None,
    trigger_id: ro.TriggerId = None,
    wait_lock: Annotated[
        float, typer.Option(help="Seconds to wait for another run to finish before giving up")
    ] = 0.0,
    late: ro.Late = "skip",
    wait_open: ro.WaitOpen = None,
    verbose: Verbose = False,
) -> None:
    """Submit every model that has no submission for the current round. Safe to repeat."""
    as_json = open_output(flags, verbose)
    policy, wait = ro.late_policy(late), ro.parse_duration(wait_open)
    from ..run.lifecycle import Lifecycle
    from . import render
    from .progress_view import showing

    with showing(as_json):
        result = Lifecycle(flags.source, trigger="run").run(
            trigger_id=trigger_id, only=only, lock_wait=wait_lock, late=policy, wait_open=wait
        )
    if result.report is not None:
        render.report(result.report, as_json=as_json, verbose=verbose)
    raise typer.Exit(result.exit_code)


@app.command()
@with_settings("models_dir", *API, "log_format", "shard")
def plan(flags: Flags, verbose: Verbose = False) -> None:
    """Show what a run would do (rounds, status, due models) without doing anything."""
    as_json = open_output(flags, verbose)
    from ..run.runner import Runner
    from . import render

    with Runner(flags.settings()) as runner:
        p = runner.plan()
    render.plan(p, as_json=as_json)
    if p.problems:  # what run would fail on: a scheduler or a pre-commit hook can act on it
        raise typer.Exit(ExitCode.MODEL_FAILED)


@app.command()
@with_settings(*DIRS, *API, "log_format")
def status(
    flags: Flags,
    rounds: Annotated[
        int, typer.Option(help="How many of the latest rounds to show per model", min=1, max=100)
    ] = 10,
    verbose: Verbose = False,
) -> None:
    """Every model's last rounds: on time, late, queued, failed (stage and reason), missing.
    The API's submissions (one request) merged with the ledger."""
    as_json = open_output(flags, verbose)
    from ..run.runner import Runner
    from . import glance_render

    with Runner(flags.settings()) as runner:
        glance = runner.status(rounds)
    glance_render.status(glance, as_json=as_json)
    from ..run.resident import describe, read_state

    resident = read_state(runner.settings.state_path)  # a schedule or serve keeping models
    if resident is not None:
        from .render import console, emit_json

        if as_json:
            emit_json({"event": "resident", **resident})
        else:
            console().print(describe(resident), markup=False, highlight=False)


@app.command()
@with_settings("data_dir", "state_dir", "log_format")
def history(
    flags: Flags,
    limit: Annotated[int, typer.Option(help="How many runs to show")] = 10,
    rounds: Annotated[
        int, typer.Option(help="How many of the latest rounds to show outcomes of", min=1)
    ] = 10,
    model: Annotated[str | None, typer.Option(help="Only this model's outcomes")] = None,
    verbose: Verbose = False,
) -> None:
    """Past runs, then each model's outcome per round: the run that submitted it, or the
    newest failure (stage and reason) and how many runs tried."""
    as_json = open_output(flags, verbose)
    from ..glance import round_history
    from ..run.ledger import Ledger
    from . import glance_render

    with Ledger(flags.settings().state_path) as ledger:
        runs = ledger.runs(limit)
        records = round_history(ledger, rounds, model)
    glance_render.history(runs, records, as_json=as_json)


@models_app.command("check")
@with_settings(*DIRS, *API, "workers", "model_timeout", "model_memory_mb", "log_format")
def models_check(
    flags: Flags,
    only: Only = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Keep each model's predictions CSV in this folder", show_default=False),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Load and predict every model on the current live data and validate; upload nothing.
    Shows each model's rows, mean, std and correlation with the example predictions."""
    as_json = open_output(flags, verbose)
    from ..run.lifecycle import Lifecycle
    from . import render
    from .progress_view import showing

    with showing(as_json):
        result = Lifecycle(flags.source, trigger="check").run(only=only, keep_dir=out)
    if result.report is not None:
        render.report(result.report, as_json=as_json, title="check", verbose=verbose)
        # Outside the round, with the live rows the check just stored: compile what is new.
        from .prepare_cmd import prepare_after

        prepare_after(flags.settings(), only, as_json=as_json, quiet=True)
    raise typer.Exit(result.exit_code)


app.command("upload-pickle")(upload_pickle_cmd.upload_pickle)


app.add_typer(sandbox_app, name="sandbox", help="A local Numerai for tests and demos.")
for _commands in (demo_cmd, schedule_cmd, watch_cmd, glance_cmd, shard_cmd, init_cmd, submit_cmd):
    _commands.mount(app)
app.add_typer(deploy_app, name="deploy", help="Set it up to run every round by itself.")
prepare_cmd.mount(models_app)


def run_cli(argv: list[str] | None) -> int:
    """Run the CLI and return its exit code instead of exiting (callable from tests). The one
    place where an error becomes an exit code and one line on stderr."""
    from ..errors import AutopilotError, exit_code_for

    try:
        rv = app(args=argv, prog_name="numerai-autopilot", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        rv = ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return int(ExitCode.CONFIG)
    except AutopilotError as exc:
        if not exc.reported:  # the run lifecycle logs (and alerts) what it handled
            _error_line(exc)
        return int(exit_code_for(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback only with -v
        _error_line(exc, bug=True)
        return int(ExitCode.MODEL_FAILED)
    if rv == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into this code
        # The run recorded its models as interrupted; a traceback would only hide that.
        _interrupted_line()
    return rv if isinstance(rv, int) else 0


def _interrupted_line() -> None:
    """One line, through logging when it is set up (a JSON log stays JSON), else plain."""
    from .logs import configured

    text = "interrupted; the next run resumes where this one stopped"
    if configured():
        log.warning("%s", text)
    else:
        typer.echo(text, err=True)


def _error_line(exc: BaseException, *, bug: bool = False) -> None:
    """Log ``exc`` as one line through the redacting handler (set up here, from the
    environment's secrets, when the command failed before it could set up logging)."""
    from .logs import configure, configured

    if not configured():
        from ..config import SettingsSource, salvage_settings

        settings, _ = salvage_settings(SettingsSource())
        configure(settings.log_format, settings.secret_values())
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    if bug:
        log.error(
            "internal error: %s: %s%s",
            type(exc).__name__,
            exc,
            "" if verbose else " (run again with -v for the traceback, and please report it)",
            exc_info=exc if verbose else None,
        )
    else:
        log.error("%s", exc, exc_info=exc if verbose else None)
