"""What the commands share: the options (each also an environment variable, see config.py),
building settings from them, setting up output, and mapping errors to exit codes:
0 ok, 1 a model failed, 2 usage/configuration, 3 no round open, 4 another run holds the lock."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import AuthError, AutopilotError, ConfigError, LockedError

EXIT_LOCKED = 4

log = logging.getLogger("numerai_autopilot.cli")

ModelsDir = Annotated[
    Path | None,
    typer.Option(
        help="Folder with models.toml and the artifacts [env NUMERAI_MODELS_DIR; default ./models]",
        show_default=False,
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        help="Data cache, ledger and lock [env NUMERAI_DATA_DIR; default ./data]",
        show_default=False,
    ),
]
StateDir = Annotated[
    Path | None,
    typer.Option(
        help="Ledger, cache and lock, if not under the data dir [env NUMERAI_STATE_DIR]",
        show_default=False,
    ),
]
ApiUrl = Annotated[
    str | None,
    typer.Option(
        help="Numerai's GraphQL endpoint (a sandbox URL for tests) [env NUMERAI_API_URL]",
        show_default=False,
    ),
]
PublicId = Annotated[
    str | None,
    typer.Option(
        help="API key public id; prefer NUMERAI_PUBLIC_ID or NUMERAI_PUBLIC_ID_FILE "
        "(options show up in the process list)",
        show_default=False,
    ),
]
SecretKey = Annotated[
    str | None,
    typer.Option(
        help="API key secret; prefer NUMERAI_SECRET_KEY or NUMERAI_SECRET_KEY_FILE",
        show_default=False,
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        help="Models predicting at once [env NUMERAI_WORKERS; default: the cores]",
        show_default=False,
    ),
]
ModelTimeout = Annotated[
    float | None,
    typer.Option(
        help="Seconds one model may predict before it is stopped "
        "[env NUMERAI_MODEL_TIMEOUT; default 900]",
        show_default=False,
    ),
]
LogFormat = Annotated[
    str | None,
    typer.Option(
        help="auto (rich in a terminal, JSON lines otherwise), rich or json "
        "[env NUMERAI_LOG_FORMAT]",
        show_default=False,
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
Only = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="Only this model (repeatable).", show_default=False),
]


def settings_from(**flags: Any) -> Any:
    """Settings from the given options (None = not given) over the environment."""
    from ..config import load_settings

    return load_settings({k: v for k, v in flags.items() if v is not None})


def setup_output(settings: Any, verbose: bool) -> bool:
    """Configure logging; return True when output should be JSON."""
    from .logs import configure, use_json

    configure(settings.log_format, settings.secret_values(), verbose)
    return use_json(settings.log_format)


def exit_for(exc: AutopilotError) -> typer.Exit:
    """Log ``exc`` (secrets are masked by the log filter) and map it to an exit code."""
    if isinstance(exc, LockedError):
        code = EXIT_LOCKED
    elif isinstance(exc, ConfigError | AuthError):
        code = 2
    else:
        code = 1
    from ..redact import redact
    from .logs import configured

    if configured():
        log.error("%s", exc)  # through the redacting handler
    else:  # a command that sets up no logging (deploy): straight to stderr
        typer.echo(f"error: {redact(str(exc), _env_secrets())}", err=True)
    return typer.Exit(code)


def _env_secrets() -> list[str]:
    """Secrets of the environment, for masking when settings could not even be built."""
    from ..config import load_settings
    from ..errors import ConfigError as _ConfigError

    try:
        return load_settings().secret_values()
    except _ConfigError:
        return []
