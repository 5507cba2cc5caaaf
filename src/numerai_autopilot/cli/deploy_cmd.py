"""``numerai-autopilot deploy azure|systemd|cron|kubernetes``: set the autopilot up to run by
itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ConfigError
from ..fileio import write_atomic
from .common import DIRS, Flags, with_settings

if TYPE_CHECKING:
    from ..config import Settings
    from ..deploy.azure import AzureParams, Step

app = typer.Typer(
    help="Set the autopilot up to run every round: Azure, systemd, cron, Kubernetes "
    "(docs/deploy.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_PREAMBLE = """\
# numerai-autopilot on Azure Container Apps Jobs (docs/deploy.md).
# Template: {template}
# Parameters: {params}
# Before: az login; export NUMERAI_PUBLIC_ID_FILE=... NUMERAI_SECRET_KEY_FILE=... (files
# holding the API key: the script reads them, the values never reach a command line)."""

# Print mode writes no file: the script itself puts the parameters in a temporary file.
_PARAMS_HEREDOC = """\
PARAMS_DIR="$(mktemp -d)"
trap 'rm -rf "$PARAMS_DIR"' EXIT
PARAMS="$PARAMS_DIR/main.parameters.json"
cat > "$PARAMS" <<'JSON'
{text}JSON"""


@app.command()
def azure(
    resource_group: Annotated[str, typer.Option(help="Resource group to create or use")] = (
        "numerai-autopilot"
    ),
    location: Annotated[str, typer.Option(help="Azure region")] = "westeurope",
    name: Annotated[str, typer.Option(help="Prefix of the resource names")] = "numerai-autopilot",
    cpu: Annotated[float, typer.Option(help="vCPUs of the job (memory: 2 GiB each)")] = 1.0,
    workers: Annotated[int, typer.Option(help="Models predicting at once")] = 2,
    image: Annotated[
        str, typer.Option(help="Run this image instead of building one into a new registry")
    ] = "",
    extras: Annotated[str, typer.Option(help="Model libraries built into the image")] = (
        "models,notify"
    ),
    models_dir: Annotated[
        Path | None,
        typer.Option(help="Models to upload (env NUMERAI_MODELS_DIR)", show_default=False),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the ledger is, for --estimate (env NUMERAI_DATA_DIR)", show_default=False
        ),
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="(env NUMERAI_STATE_DIR)", show_default=False)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write main.bicep and main.parameters.json into this folder and use them; "
            "default: write nothing (the Bicep is the installed package's)",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        Path, typer.Option(help="Folder with the Dockerfile the image is built from")
    ] = Path(),
    apply: Annotated[
        bool, typer.Option("--apply", help="Run the az commands instead of printing them")
    ] = False,
    show_estimate: Annotated[
        bool,
        typer.Option("--estimate", help="Print the monthly cost from the ledger's run times"),
    ] = False,
) -> None:
    """Print (or --apply) the az commands that set up a Container Apps Job on a round-window
    schedule: registry, Key Vault, Azure Files, Log Analytics, the job, a first run."""
    import tempfile

    from ..config import load_settings
    from ..deploy.azure import AzureParams, plan_azure, render_script
    from ..deploy.files import PARAMETERS_NAME, packaged_bicep

    flags = {"models_dir": models_dir, "data_dir": data_dir, "state_dir": state_dir}
    settings = load_settings(flags)
    params = AzureParams(
        resource_group=resource_group,
        location=location,
        name=name,
        cpu=cpu,
        workers=workers,
        image=image,
        extras=extras,
    )
    if show_estimate:
        _print_estimate(params, settings.state_path, settings.models_dir)
        return
    if out is not None:
        template, params_file = _write_templates(out, params)
        preamble = _PREAMBLE.format(template=template, params=params_file)
    else:
        template, params_file = packaged_bicep(), Path("$PARAMS")
        preamble = _PREAMBLE.format(template=template, params="written below, removed on exit")
    if not image and not (source / "Dockerfile").is_file():
        preamble += f"\n# No Dockerfile in {source.resolve()}: pass --source CHECKOUT or --image."

    def steps_for(parameters_file: Path) -> list[Step]:
        return plan_azure(
            params,
            parameters_file=parameters_file,
            models_dir=settings.models_dir,
            template=template,
            source=source,
        )

    if not apply:
        steps = steps_for(params_file)
        if out is None:
            preamble += "\n" + _PARAMS_HEREDOC.format(text=params.parameters_text())
        typer.echo(render_script(steps, preamble=preamble))
        return
    with tempfile.TemporaryDirectory(prefix="numerai-azure-") as tmp:
        if out is None:
            params_file = Path(tmp) / PARAMETERS_NAME
            write_atomic(params_file, params.parameters_text())
        _apply(steps_for(params_file), settings, source, needs_dockerfile=not image)


def _write_templates(out: Path, params: AzureParams) -> tuple[Path, Path]:
    """``out``/main.bicep and main.parameters.json, for a user who keeps (or edits) them."""
    from ..deploy.files import BICEP_NAME, PARAMETERS_NAME, bicep_text

    template, params_file = out / BICEP_NAME, out / PARAMETERS_NAME
    write_atomic(template, bicep_text())
    write_atomic(params_file, params.parameters_text())
    typer.echo(f"wrote {template} and {params_file}", err=True)
    return template, params_file


def _apply(steps: list[Step], settings: Settings, source: Path, needs_dockerfile: bool) -> None:
    import shutil

    from ..deploy import apply_steps

    if shutil.which("az") is None:
        raise ConfigError("--apply needs the Azure CLI `az` on PATH (then `az login`)")
    if needs_dockerfile and not (source / "Dockerfile").is_file():
        raise ConfigError(f"{source / 'Dockerfile'} not found: pass --source or --image")
    public_id, secret_key = settings.require_credentials()

    def show(step: Step) -> None:
        if step.title:
            typer.echo(f"==> {step.title}")

    done = apply_steps(
        steps,
        {"public_id": public_id, "secret_key": secret_key},
        on_step=show,
    )
    typer.echo("done: " + ", ".join(f"{k}={v}" for k, v in sorted(done.items())))


def _print_estimate(params: AzureParams, state_path: Path, models_dir: Path) -> None:
    from ..deploy.estimate import estimate, folder_gib
    from ..run.ledger import Ledger, RunRow

    runs: list[RunRow] = []
    if (state_path / Ledger.FILENAME).is_file():
        with Ledger(state_path) as ledger:
            runs = ledger.runs(500)
    est = estimate(params, runs, models_gib=folder_gib(models_dir), data_gib=folder_gib(state_path))
    typer.echo(f"Monthly cost estimate, {len(runs)} runs in the ledger at {state_path}")
    for line in est.lines:
        typer.echo(f"  {line.item:<38} {line.quantity:<48} ${line.monthly_usd:8.2f}")
    typer.echo(f"  {'total':<38} {'':<48} ${est.total_usd:8.2f}")
    for note in est.notes:
        typer.echo(f"  - {note}")


def _configured_dirs(flags: Flags) -> dict[str, Path]:
    """The models, data (and state, if set) folders from the settings, made absolute: a timer
    or cron starts the run elsewhere than the current folder."""
    settings = flags.settings()
    dirs = {
        "NUMERAI_MODELS_DIR": settings.models_dir,
        "NUMERAI_DATA_DIR": settings.data_dir,
    }
    if settings.state_dir is not None:
        dirs["NUMERAI_STATE_DIR"] = settings.state_dir
    return {name: path.expanduser().resolve() for name, path in dirs.items()}


@app.command()
@with_settings(*DIRS)
def systemd(
    flags: Flags,
    install: Annotated[
        bool, typer.Option("--install", help="Write the units to ~/.config/systemd/user")
    ] = False,
    unit_dir: Annotated[Path | None, typer.Option(help="Where --install writes")] = None,
) -> None:
    """Print the systemd user service and timer (or --install them), with the configured
    models and data folders as absolute paths."""
    from ..deploy.slots import RECOMMENDED
    from ..deploy.triggers import render_trigger, systemd_units

    dirs = _configured_dirs(flags)
    if not install:
        typer.echo(render_trigger("systemd", dirs=dirs))
        return
    target = unit_dir or Path.home() / ".config" / "systemd" / "user"
    target.mkdir(parents=True, exist_ok=True)
    for file_name, text in systemd_units(RECOMMENDED, dirs=dirs).items():
        write_atomic(target / file_name, text)
        typer.echo(f"wrote {target / file_name}")
    typer.echo("with " + ", ".join(f"{k}={v}" for k, v in dirs.items()))
    typer.echo(
        "next: put NUMERAI_PUBLIC_ID_FILE / NUMERAI_SECRET_KEY_FILE lines in "
        "~/.config/numerai-autopilot/env, then\n"
        "  systemctl --user daemon-reload\n"
        "  systemctl --user enable --now numerai-autopilot.timer\n"
        "  loginctl enable-linger $USER   # run while logged out\n"
        "  systemctl --user list-timers numerai-autopilot.timer"
    )


@app.command()
@with_settings(*DIRS)
def cron(flags: Flags) -> None:
    """Print the crontab lines (UTC slots, under flock), with the configured models and data
    folders as absolute paths."""
    from ..deploy.triggers import render_trigger

    typer.echo(render_trigger("cron", dirs=_configured_dirs(flags)), nl=False)


@app.command()
def kubernetes(
    shards: Annotated[
        int | None,
        typer.Option(help="Run N pods per slot, pod K running shard K/N (an Indexed Job)"),
    ] = None,
    image: Annotated[str, typer.Option(help="The image the pods run")] = "",
) -> None:
    """Print the Kubernetes CronJob (with --shards N: of Indexed Jobs, docs/shards.md)."""
    from ..deploy.k8s_shards import k8s_sharded_cronjob
    from ..deploy.triggers import DEFAULT_IMAGE, k8s_cronjob

    if shards is None:
        typer.echo(k8s_cronjob(image=image or DEFAULT_IMAGE), nl=False)
    else:
        typer.echo(k8s_sharded_cronjob(shards, image=image or DEFAULT_IMAGE), nl=False)
