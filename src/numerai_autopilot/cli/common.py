"""What the commands share: every setting's option, declared once; building settings from
them; setting up output. Exit codes are :class:`numerai_autopilot.errors.ExitCode`, and the one
place that turns an error into one is :func:`numerai_autopilot.cli.app.run_cli`.

A command names the settings it takes with :func:`with_settings`; they reach it as one
:class:`Flags` value. Options stay after the subcommand (``numerai-autopilot run --workers 2``),
as users expect: a shared callback on the group would force them before it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..config import Settings, SettingsSource, load_settings, salvage_settings


def _opt(help_text: str) -> Any:
    return typer.Option(help=help_text, show_default=False)


SETTING_OPTIONS: dict[str, Any] = {
    # setting -> its option's type; the variable named in each help is config/_settings.py's table.
    "models_dir": Annotated[
        Path | None,
        _opt(
            "Folder with models.toml and the artifacts (env NUMERAI_MODELS_DIR; default ./models)"
        ),
    ],
    "data_dir": Annotated[
        Path | None, _opt("Data cache, ledger and lock (env NUMERAI_DATA_DIR; default ./data)")
    ],
    "state_dir": Annotated[
        Path | None,
        _opt("Ledger, cache and lock, if not under the data dir (env NUMERAI_STATE_DIR)"),
    ],
    "api_url": Annotated[
        str | None,
        _opt("Numerai's GraphQL endpoint (a sandbox URL for tests) (env NUMERAI_API_URL)"),
    ],
    "public_id": Annotated[
        str | None,
        _opt(
            "API key public id; prefer NUMERAI_PUBLIC_ID or NUMERAI_PUBLIC_ID_FILE "
            "(options show up in the process list)"
        ),
    ],
    "secret_key": Annotated[
        str | None, _opt("API key secret; prefer NUMERAI_SECRET_KEY or NUMERAI_SECRET_KEY_FILE")
    ],
    "http_timeout": Annotated[
        float | None,
        _opt("Seconds one API request may take (env NUMERAI_HTTP_TIMEOUT; default 30)"),
    ],
    "workers": Annotated[
        int | None,
        _opt("Models predicting at once (env NUMERAI_WORKERS; default: the cores)"),
    ],
    "model_timeout": Annotated[
        float | None,
        _opt(
            "Seconds one model may predict before it is stopped "
            "(env NUMERAI_MODEL_TIMEOUT; default 900)"
        ),
    ],
    "model_memory_mb": Annotated[
        int | None,
        _opt("Memory bound of each model's worker, in MB (env NUMERAI_MODEL_MEMORY_MB)"),
    ],
    "worker_mode": Annotated[
        str | None,
        _opt(
            "auto (fork server on Linux, spawn elsewhere) or portable (spawn, no /dev/shm, "
            "/proc or libc: what macOS and Windows get) (env NUMERAI_WORKER_MODE)"
        ),
    ],
    "resident": Annotated[
        bool | None,
        typer.Option(
            "--resident/--no-resident",
            help="schedule and serve: keep the model libraries and models loaded between "
            "rounds (env NUMERAI_RESIDENT; default on)",
            show_default=False,
        ),
    ],
    "resident_memory_mb": Annotated[
        int | None,
        _opt(
            "Resident server RSS in MB past which models load per run instead "
            "(env NUMERAI_RESIDENT_MEMORY_MB; default 2048)"
        ),
    ],
    "strict_model_upload": Annotated[
        bool | None,
        typer.Option(
            "--strict-model-upload/--no-strict-model-upload",
            help="Fail a pickle whose output Numerai would refuse as a Model Upload, instead of "
            "reporting it (env NUMERAI_STRICT_MODEL_UPLOAD)",
            show_default=False,
        ),
    ],
    "log_format": Annotated[
        str | None,
        _opt(
            "auto (rich in a terminal, JSON lines otherwise), rich or json (env NUMERAI_LOG_FORMAT)"
        ),
    ],
    "notify_urls": Annotated[
        str | None,
        _opt(
            "Apprise URLs for alerts, comma separated; prefer NUMERAI_NOTIFY_URLS or "
            "NUMERAI_NOTIFY_URLS_FILE (they hold tokens)"
        ),
    ],
    "notify_on_success": Annotated[
        bool | None,
        typer.Option(
            "--notify-on-success/--no-notify-on-success",
            help="Also notify when models were submitted (env NUMERAI_NOTIFY_ON_SUCCESS)",
            show_default=False,
        ),
    ],
    "healthcheck_url": Annotated[
        str | None,
        _opt(
            "Dead-man's-switch URL pinged at start (/start), success and failure (/fail) "
            "(env NUMERAI_HEALTHCHECK_URL)"
        ),
    ],
    "webhook_secret": Annotated[
        str | None,
        _opt(
            "The token webhook calls must carry; prefer NUMERAI_WEBHOOK_SECRET or "
            "NUMERAI_WEBHOOK_SECRET_FILE (options show up in the process list)"
        ),
    ],
    "watch": Annotated[
        bool | None,
        typer.Option(
            "--watch/--no-watch",
            help="After the run, also watch every model of the account, configured or not "
            "(env NUMERAI_WATCH; see `watch`)",
            show_default=False,
        ),
    ],
    "watch_margin": Annotated[
        str | None,
        _opt(
            "How long before a round's close `watch` alerts about a model without a "
            "submission: 900, 15m, 1h (env NUMERAI_WATCH_MARGIN; default 15m)"
        ),
    ],
    "shard": Annotated[
        str | None,
        _opt(
            "Run only shard K/N of the models (K from 0; blends with their parts) (env "
            "NUMERAI_SHARD, or JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX with "
            "NUMERAI_SHARDS; see docs/shards.md)"
        ),
    ],
}

# The groups commands take, so that adding a setting is adding it here and to config/_settings.py.
DIRS = ("models_dir", "data_dir", "state_dir")
API = ("api_url", "public_id", "secret_key", "http_timeout")
ALERTS = ("notify_urls", "notify_on_success", "healthcheck_url")
WATCH = ("watch", "watch_margin")
RUN = (
    *DIRS,
    *API,
    "workers",
    "model_timeout",
    "model_memory_mb",
    "worker_mode",
    "strict_model_upload",
    "log_format",
    *ALERTS,
    "shard",
    *WATCH,
)
RESIDENT = ("resident", "resident_memory_mb")

Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Debug logging, and tracebacks of errors.")
]
Only = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", help="Only this model (repeatable).", show_default=False),
]


@dataclass(frozen=True)
class Flags:
    """The setting options a command was given (absent ones are not in ``values``)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> SettingsSource:
        return SettingsSource(dict(self.values))

    def settings(self) -> Settings:
        """Settings from these options over the environment (ConfigError naming each wrong
        one)."""
        return load_settings(self.values)


R = TypeVar("R")


def with_settings(*names: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command the options of the settings ``names``, passed to it as ``flags``."""
    unknown = [n for n in names if n not in SETTING_OPTIONS]
    if unknown:  # a programming error, found when the module is imported
        raise TypeError(f"no option declared for settings {unknown}")

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "flags"]
        added = [
            inspect.Parameter(
                n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=SETTING_OPTIONS[n]
            )
            for n in names
        ]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> R:
            given = {n: v for n in names if (v := kwargs.pop(n, None)) is not None}
            return fn(*args, flags=Flags(given), **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        # Resolved objects, not fn's strings: typer reads the hints in *this* module's scope.
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer must see the new signature, not fn's
        return command

    return decorate


def open_output(flags: Flags, verbose: bool) -> bool:
    """Configure logging from the settings that are valid, so that even an error about the
    others is logged in the chosen format with every secret masked; True for JSON output."""
    from .logs import configure, use_json

    salvaged, _ = salvage_settings(flags.source)
    configure(salvaged.log_format, salvaged.secret_values(), verbose)
    return use_json(salvaged.log_format)
