"""Settings: CLI options over the environment (``NUMERAI_*`` and ``NUMERAI_*_FILE``) over
defaults, and the sealing of secret variables out of ``os.environ``."""

from __future__ import annotations

import os
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import _platform
from ..errors import ConfigError
from ._duration import parse_seconds
from ._fields import (
    Problem,
    SecretStr,
    as_bool,
    as_float,
    as_int,
    as_path,
    as_secret,
    as_str,
    build,
    instance_of,
    one_of,
    spec,
)
from ._limits import MAX_HTTP_TIMEOUT, MAX_MEMORY_MB, MAX_MODEL_TIMEOUT
from ._models_file import MODELS_FILE
from ._shard import SHARD_VAR, ShardSpec, parse_shard, shard_from_engine

DEFAULT_API_URL = "https://api-tournament.numer.ai"

_SETTINGS_ENV = {
    # field name -> environment variable (every one also has a CLI option)
    "public_id": "NUMERAI_PUBLIC_ID",
    "secret_key": "NUMERAI_SECRET_KEY",
    "models_dir": "NUMERAI_MODELS_DIR",
    "data_dir": "NUMERAI_DATA_DIR",
    "state_dir": "NUMERAI_STATE_DIR",
    "api_url": "NUMERAI_API_URL",
    "workers": "NUMERAI_WORKERS",
    "model_timeout": "NUMERAI_MODEL_TIMEOUT",
    "model_memory_mb": "NUMERAI_MODEL_MEMORY_MB",
    "worker_mode": "NUMERAI_WORKER_MODE",
    "resident": "NUMERAI_RESIDENT",
    "resident_memory_mb": "NUMERAI_RESIDENT_MEMORY_MB",
    "strict_model_upload": "NUMERAI_STRICT_MODEL_UPLOAD",
    "http_timeout": "NUMERAI_HTTP_TIMEOUT",
    "log_format": "NUMERAI_LOG_FORMAT",
    "notify_urls": "NUMERAI_NOTIFY_URLS",
    "notify_on_success": "NUMERAI_NOTIFY_ON_SUCCESS",
    "healthcheck_url": "NUMERAI_HEALTHCHECK_URL",
    "webhook_secret": "NUMERAI_WEBHOOK_SECRET",
    "shard": SHARD_VAR,
    "watch": "NUMERAI_WATCH",
    "watch_margin": "NUMERAI_WATCH_MARGIN",
}
# The seed blog post's variable names, still read (below NUMERAI_* and NUMERAI_*_FILE), so a
# setup made after it works unchanged: its "user name" is what numerapi takes as the public id.
_ALIASES = {
    "public_id": "NumeraiUserName",
    "secret_key": "NumeraiAccessKey",
    "data_dir": "Numerai_DataDir",
    "models_dir": "Numerai_ModelsDir",
}
_SECRET_FIELDS = ("public_id", "secret_key", "notify_urls", "healthcheck_url", "webhook_secret")
SECRET_OPTIONS = ("--public-id", "--secret-key", "--webhook-secret")
"""The command-line options that carry a secret (their values are wiped from the process's
command line at start: ``_harden``)."""
_SEALED: dict[str, str] = {}
"""Secret variables moved out of ``os.environ`` by :func:`seal_secret_environ`."""


def _check_url(v: str) -> str:
    if not re.match(r"^https?://[^\s/]+", v):
        raise ValueError("must be an http(s) URL such as https://api-tournament.numer.ai")
    return v.rstrip("/") + "/"


def _parse_shard(v: object) -> object:
    return parse_shard(v) if isinstance(v, str) else v


_TIMEOUT: dict[str, Any] = {"gt": 0, "finite": True}


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know that is not in the models file. Build it with
    :func:`load_settings` (which checks every value, config/_fields.py), not directly."""

    public_id: SecretStr | None = spec(as_secret)
    secret_key: SecretStr | None = spec(as_secret)
    models_dir: Path = spec(as_path, Path("models"))
    data_dir: Path = spec(as_path, Path("data"))
    state_dir: Path | None = spec(as_path)
    api_url: str = spec(as_str, DEFAULT_API_URL + "/", after=_check_url)
    workers: int = spec(as_int, factory=_platform.cpu_count, ge=1)
    model_timeout: float = spec(as_float, 900.0, le=MAX_MODEL_TIMEOUT, **_TIMEOUT)
    model_memory_mb: int | None = spec(as_int, gt=0, le=MAX_MEMORY_MB)
    worker_mode: Literal["auto", "portable"] = spec(one_of("auto", "portable"), "auto")
    """``portable``: spawned workers and a frame file in the data dir, as on macOS/Windows."""
    resident: bool = spec(as_bool, True)
    """``schedule`` and ``serve`` keep a server with the model libraries and models loaded
    between rounds (run/resident.py); ``run`` never does."""
    resident_memory_mb: int = spec(as_int, 2048, gt=0, le=MAX_MEMORY_MB)
    """The resident server's RSS past which models are no longer kept loaded."""
    strict_model_upload: bool = spec(as_bool, False)
    """Fail a pickled function whose output Numerai would refuse as a Model Upload (every
    model; the models file can also ask it per model)."""
    http_timeout: float = spec(as_float, 30.0, le=MAX_HTTP_TIMEOUT, **_TIMEOUT)
    log_format: Literal["auto", "rich", "json"] = spec(one_of("auto", "rich", "json"), "auto")
    notify_urls: SecretStr | None = spec(as_secret)
    notify_on_success: bool = spec(as_bool, False)
    healthcheck_url: SecretStr | None = spec(as_secret)
    webhook_secret: SecretStr | None = spec(as_secret)
    """The token `serve` requires of every webhook call (see docs/scheduling.md)."""
    watch: bool = spec(as_bool, False)
    """After each run (run, schedule, serve), also watch the whole account (docs/watch.md)."""
    watch_margin: float = spec(as_float, 900.0, before=parse_seconds, ge=0, le=86400, finite=True)
    """Seconds before a round's close from which `watch` alerts about a model without a
    submission (docs/watch.md)."""
    shard: ShardSpec | None = spec(instance_of(ShardSpec, "K/N, such as 0/3"), before=_parse_shard)
    """Run only this shard's share of the models (see run/shard.py); None: all of them."""

    @property
    def state_path(self) -> Path:
        """Where the cache, ledger and lock live: ``state_dir``, else ``data_dir``."""
        return self.state_dir if self.state_dir is not None else self.data_dir

    @property
    def models_file(self) -> Path:
        return self.models_dir / MODELS_FILE

    def require_credentials(self) -> tuple[str, str]:
        """Both API key halves, or a ConfigError naming the variables to set."""
        if self.public_id is None or self.secret_key is None:
            missing = [
                _SETTINGS_ENV[n] for n in ("public_id", "secret_key") if getattr(self, n) is None
            ]
            raise ConfigError(
                f"missing Numerai API key: set {' and '.join(missing)} "
                f"(or {' / '.join(m + '_FILE' for m in missing)}) or pass the matching options"
            )
        return self.public_id.get_secret_value(), self.secret_key.get_secret_value()

    def secret_values(self) -> list[str]:
        """Every secret value, for log redaction and leak checks."""
        out: list[str] = []
        for name in _SECRET_FIELDS:
            v = getattr(self, name)
            if isinstance(v, SecretStr) and v.get_secret_value():
                out.append(v.get_secret_value())
        return out


@dataclass(frozen=True)
class SettingsSource:
    """Where settings come from: CLI options (``None`` = not given) over an environment."""

    flags: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None
    """``None``: the process environment."""

    def explicit(self, name: str) -> bool:
        """Whether the setting ``name`` was given by an option or a variable (not defaulted)."""
        env = process_environ() if self.environ is None else self.environ
        var = _SETTINGS_ENV.get(name, "")
        return (
            self.flags.get(name) is not None
            or bool(env.get(var, "").strip())
            or bool(env.get(var + "_FILE"))
            or bool(env.get(_ALIASES.get(name, ""), "").strip())
        )


def secret_env_names() -> list[str]:
    """The variables that hold a secret, their ``_FILE`` forms and the seed's aliases."""
    names = [_SETTINGS_ENV[f] for f in _SECRET_FIELDS]
    aliases = [_ALIASES[f] for f in _SECRET_FIELDS if f in _ALIASES]
    return names + [n + "_FILE" for n in names] + aliases


def process_environ() -> Mapping[str, str]:
    """The process environment, with the secret variables the CLI sealed at start."""
    return ChainMap(os.environ, _SEALED)


def seal_secret_environ() -> list[str]:
    """Move the secret variables out of ``os.environ`` (no child process inherits them; a
    model's code cannot find them there); :func:`load_settings` still reads them. Called once
    by the CLI process at start (``cli.main``), never by the library on its own. Returns the
    names moved."""
    moved = [n for n in secret_env_names() if n in os.environ]
    for name in moved:
        _SEALED[name] = os.environ.pop(name)
    return moved


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from ``overrides`` (CLI flags; ``None`` values ignored) over the
    environment (``NUMERAI_*``, and ``NUMERAI_*_FILE`` for each) over defaults. Every mistake
    is reported at once, in one :class:`ConfigError` naming each setting."""
    env = process_environ() if environ is None else environ
    values, problems = _read_values(overrides or {}, env)
    settings, wrong = build(Settings, values, strict=False)
    problems += _describe_settings_error(wrong)
    if settings is not None and not problems:
        return settings
    raise ConfigError("invalid settings: " + "; ".join(problems))


def salvage_settings(source: SettingsSource) -> tuple[Settings, set[str]]:
    """The settings that are valid, with defaults for the others, and the names of those
    dropped: enough to log, alert and record a run whose settings are wrong."""
    env = process_environ() if source.environ is None else source.environ
    values, _ = _read_values(source.flags, env)
    dropped = {n for n in _SETTINGS_ENV if n not in values and source.explicit(n)}
    settings, wrong = build(Settings, values, strict=False)
    if settings is not None:
        return settings, dropped
    bad = {p.loc[0] for p in wrong if p.loc}
    settings, _ = build(Settings, {k: v for k, v in values.items() if k not in bad}, strict=False)
    if settings is None:  # every problem is a field's own: none is left once they are dropped
        return Settings(), dropped | set(values)
    return settings, dropped | bad


def _read_values(
    overrides: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Raw values by field name (flags over variables over ``*_FILE``), and the problems
    met reading them; a field with a problem is left out."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, var in _SETTINGS_ENV.items():
        file_var = var + "_FILE"
        given, from_file = env.get(var, "").strip(), env.get(file_var, "").strip()
        if given and from_file and overrides.get(name) is None:
            # Which one wins would be a guess: a stale variable beside a mounted secret
            # (or the reverse) must not silently decide which key is used.
            problems.append(f"{var} and {file_var} are both set: unset one of them")
        elif given:
            # Stripped: secret stores and `echo` often leave a trailing newline in a key.
            values[name] = given
        elif from_file:
            try:
                values[name] = Path(from_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"{file_var}: cannot read {from_file}: {exc.strerror}")
            except UnicodeDecodeError:
                # Never echo the bytes: the file may hold a secret.
                problems.append(f"{file_var}: {from_file} is not UTF-8 text")
        elif env.get(_ALIASES.get(name, ""), "").strip():
            values[name] = env[_ALIASES[name]].strip()
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
    if "shard" not in values:
        # An engine's replica index (Kubernetes, AWS Batch) with its count, if set.
        engine_shard, problem = shard_from_engine(env)
        if problem is not None:
            problems.append(problem)
        elif engine_shard is not None:
            values["shard"] = engine_shard
    return values, problems


def _describe_settings_error(problems: list[Problem]) -> list[str]:
    lines = []
    for p in problems:
        name = p.loc[0] if p.loc else "?"
        var = _SETTINGS_ENV.get(name, name)
        # Never echo the input (Problem.value): it may be a secret.
        lines.append(f"{name} ({var} / --{name.replace('_', '-')}): {p.msg}")
    return lines
