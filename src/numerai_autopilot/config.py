"""One typed configuration, read at the edge: settings (flags > environment > defaults) and the
models file. Only this module reads environment variables and configuration files.

Secrets may come from ``NAME_FILE`` (a path to a file holding the value: Docker and Kubernetes
secrets). A wrong value fails at start-up with a :class:`ConfigError` naming the setting, or the
models file, the entry and the field.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from . import _platform
from .errors import ConfigError
from .tournaments import Tournament

DEFAULT_API_URL = "https://api-tournament.numer.ai"
MODELS_FILE = "models.toml"


# Bounds of the numbers a user sets. A value past them is a typo, and would fail later, far
# from its cause, blamed on the model: setrlimit overflows (OverflowError) on a memory bound
# past a C long, a wait on a huge timeout overflows threading.TIMEOUT_MAX, and a huge blend
# weight makes the weighted sum inf.
MAX_MEMORY_MB = 1024 * 1024
"""1 TiB: more than any machine a run is on; the worker's memory bound (RLIMIT_DATA)."""
MAX_MODEL_TIMEOUT = 7 * 24 * 3600.0
"""A week in seconds: no round stays open that long (the longest window is about 26 h)."""
MAX_HTTP_TIMEOUT = 3600.0
"""An hour per HTTP read: a round's whole window."""
MAX_BLEND_WEIGHT = 1e6
"""Weights are relative: a ratio of a million already makes the smaller one noise."""


def name_key(name: str) -> str:
    """How model names compare everywhere (models file, blends, the plan): Numerai's names are
    case-insensitive, so ``anas`` and ``ANAS`` are one model."""
    return name.casefold()


FORMATS = (
    "pickle",  # pickle/joblib/cloudpickle: an sklearn-API estimator or a Model Upload function
    "joblib",
    "function",  # a cloudpickled Model Upload predict(live_features[, live_benchmark_models])
    "lightgbm",  # LightGBM text model
    "xgboost",  # XGBoost .json / .ubj
    "catboost",  # CatBoost .cbm
    "onnx",
    "entrypoint",  # "module:function" importable from the models dir
    "predictions",  # a ready predictions file (csv/parquet)
    "blend",  # weighted blend of other entries
)
Format = Literal[
    "pickle",
    "joblib",
    "function",
    "lightgbm",
    "xgboost",
    "catboost",
    "onnx",
    "entrypoint",
    "predictions",
    "blend",
]

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
    "http_timeout": "NUMERAI_HTTP_TIMEOUT",
    "log_format": "NUMERAI_LOG_FORMAT",
    "notify_urls": "NUMERAI_NOTIFY_URLS",
    "notify_on_success": "NUMERAI_NOTIFY_ON_SUCCESS",
    "healthcheck_url": "NUMERAI_HEALTHCHECK_URL",
    "webhook_secret": "NUMERAI_WEBHOOK_SECRET",
}
_SECRET_FIELDS = ("public_id", "secret_key", "notify_urls", "healthcheck_url", "webhook_secret")
SECRET_OPTIONS = ("--public-id", "--secret-key", "--webhook-secret")
"""The command-line options that carry a secret (their values are wiped from the process's
command line at start: ``_harden``)."""
_SEALED: dict[str, str] = {}
"""Secret variables moved out of ``os.environ`` by :func:`seal_secret_environ`."""


class Settings(BaseModel):
    """Everything a run needs to know that is not in the models file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    public_id: SecretStr | None = None
    secret_key: SecretStr | None = None
    models_dir: Path = Path("models")
    data_dir: Path = Path("data")
    state_dir: Path | None = None
    api_url: str = Field(default=DEFAULT_API_URL, validate_default=True)
    workers: int = Field(default_factory=_platform.cpu_count, ge=1)
    model_timeout: float = Field(default=900.0, gt=0, le=MAX_MODEL_TIMEOUT, allow_inf_nan=False)
    model_memory_mb: int | None = Field(default=None, gt=0, le=MAX_MEMORY_MB)
    http_timeout: float = Field(default=30.0, gt=0, le=MAX_HTTP_TIMEOUT, allow_inf_nan=False)
    log_format: Literal["auto", "rich", "json"] = "auto"
    notify_urls: SecretStr | None = None
    notify_on_success: bool = False
    healthcheck_url: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    """The token `serve` requires of every webhook call (see docs/scheduling.md)."""

    @field_validator("api_url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL such as https://api-tournament.numer.ai")
        return v.rstrip("/") + "/"

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
        )


def secret_env_names() -> list[str]:
    """The variables that hold a secret, and their ``_FILE`` forms."""
    names = [_SETTINGS_ENV[f] for f in _SECRET_FIELDS]
    return names + [n + "_FILE" for n in names]


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
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems += _describe_settings_error(exc)
    else:
        if not problems:
            return settings
    raise ConfigError("invalid settings: " + "; ".join(problems))


def salvage_settings(source: SettingsSource) -> tuple[Settings, set[str]]:
    """The settings that are valid, with defaults for the others, and the names of those
    dropped: enough to log, alert and record a run whose settings are wrong."""
    env = process_environ() if source.environ is None else source.environ
    values, _ = _read_values(source.flags, env)
    dropped = {n for n in _SETTINGS_ENV if n not in values and source.explicit(n)}
    for _ in range(len(values) + 1):  # each pass drops at least one bad field
        try:
            return Settings(**values), dropped
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not bad & values.keys():
                break
            dropped |= bad
            values = {k: v for k, v in values.items() if k not in bad}
    return Settings(), dropped | set(values)


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
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
    return values, problems


def _describe_settings_error(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        var = _SETTINGS_ENV.get(name, name)
        # Never echo the input: it may be a secret.
        lines.append(f"{name} ({var} / --{name.replace('_', '-')}): {err['msg']}")
    return lines


# ---------------------------------------------------------------------------------------------
# The models file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelDefaults(_Strict):
    tournament: str = "classic"
    data_version: str | None = None
    features: str | None = None
    rank: bool = False
    timeout: float | None = Field(default=None, gt=0, le=MAX_MODEL_TIMEOUT, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, gt=0, le=MAX_MEMORY_MB)


class _ModelEntry(_Strict):
    name: str = Field(min_length=1)
    tournament: str | None = None
    artifact: str | None = None
    format: Format | None = None
    features: str | None = None
    sha256: str | None = None
    entrypoint: str | None = None
    blend: dict[str, float] | None = None
    data_version: str | None = None
    rank: bool | None = None
    timeout: float | None = Field(default=None, gt=0, le=MAX_MODEL_TIMEOUT, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, gt=0, le=MAX_MEMORY_MB)
    enabled: bool = True

    @field_validator("sha256")
    @classmethod
    def _check_sha(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", v):
            raise ValueError("must be 64 hexadecimal digits (sha256sum of the artifact)")
        return v.lower() if v else v

    @field_validator("entrypoint")
    @classmethod
    def _check_entrypoint(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[\w.]+:[\w]+", v):
            raise ValueError("must look like 'module:function'")
        return v

    @field_validator("blend")
    @classmethod
    def _check_blend(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            if not v:
                raise ValueError("needs at least one entry name with a weight")
            if not all(math.isfinite(w) and 0 < w <= MAX_BLEND_WEIGHT for w in v.values()):
                bad = ", ".join(f"{k} = {w}" for k, w in v.items() if not 0 < w <= MAX_BLEND_WEIGHT)
                raise ValueError(
                    f"weights must be positive finite numbers up to {MAX_BLEND_WEIGHT:g} "
                    f"(weights are relative): {bad}"
                )
        return v


class _ModelsFile(_Strict):
    defaults: ModelDefaults = ModelDefaults()
    model: list[_ModelEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the models file, defaults applied and paths resolved."""

    name: str
    tournament: Tournament
    format: str | None
    """One of FORMATS, or None when it is to be inferred from the artifact."""
    artifact: Path | None
    """Absolute path of the artifact (None for blends and entry points without a file)."""
    features: str | None = None
    """A feature set name of features.json, or a path (absolute) to a list of features."""
    sha256: str | None = None
    entrypoint: str | None = None
    blend: dict[str, float] | None = None
    data_version: str | None = None
    rank: bool = False
    timeout: float | None = None
    memory_mb: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class ModelsConfig:
    """The parsed models file."""

    path: Path
    models: list[ModelSpec] = field(default_factory=list)

    def by_name(self) -> dict[str, ModelSpec]:
        return {m.name: m for m in self.models}

    def enabled(self) -> list[ModelSpec]:
        return [m for m in self.models if m.enabled]


def load_models_file(models_dir: Path) -> ModelsConfig:
    """Read and validate ``<models_dir>/models.toml``. Errors name the file, entry and field."""
    path = models_dir / MODELS_FILE
    if not models_dir.is_dir():
        raise ConfigError(
            f"models dir {models_dir} does not exist: set NUMERAI_MODELS_DIR or --models-dir"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no models file; create it with one [[model]] entry per model "
            "(see README, 'The models file')"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_models(raw, path)


def parse_models(raw: Mapping[str, Any], path: Path) -> ModelsConfig:
    """Validate an already-parsed models document (``path`` is used in messages and to resolve
    relative artifact paths)."""
    try:
        doc = _ModelsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe_models_error(exc, raw, path)) from None
    base = path.parent
    problems: list[str] = []
    specs: list[ModelSpec] = []
    seen: dict[str, tuple[int, str]] = {}
    for i, e in enumerate(doc.model):
        where = f"{path}: model #{i + 1} ({e.name!r})"
        first = seen.setdefault(name_key(e.name), (i, e.name))
        if first[0] != i:
            case = "" if first[1] == e.name else " (Numerai names ignore case)"
            problems.append(
                f"{where}: name: duplicate model name: model #{first[0] + 1} ({first[1]!r}) is "
                f"the same model{case}; both would submit to it"
            )
        try:
            tournament = Tournament.from_label(e.tournament or doc.defaults.tournament)
        except ValueError as exc:
            problems.append(f"{where}: tournament: {exc}")
            continue
        fmt: str | None = e.format
        if e.blend is not None:
            fmt = fmt or "blend"
        elif e.entrypoint is not None:
            fmt = fmt or "entrypoint"
        if fmt == "blend" and e.blend is None:
            problems.append(f"{where}: blend: format 'blend' needs a blend table of name = weight")
        if fmt == "entrypoint" and e.entrypoint is None:
            problems.append(f"{where}: entrypoint: format 'entrypoint' needs 'module:function'")
        if fmt not in ("blend", "entrypoint") and e.artifact is None:
            problems.append(f"{where}: artifact: missing (path relative to {base})")
        if e.blend is not None and e.artifact is not None:
            problems.append(f"{where}: artifact: a blend has no artifact of its own")
        artifact = _resolve(base, e.artifact) if e.artifact else None
        if (
            artifact is not None
            and not Path(e.artifact or "").is_absolute()
            and not _inside(artifact, base)
        ):
            problems.append(f"{where}: artifact: {e.artifact!r} points outside the models dir")
        features = e.features or doc.defaults.features
        if features is not None and _looks_like_path(features):
            features = str(_resolve(base, features))
        specs.append(
            ModelSpec(
                name=e.name,
                tournament=tournament,
                format=fmt,
                artifact=artifact,
                features=features,
                sha256=e.sha256,
                entrypoint=e.entrypoint,
                blend=dict(e.blend) if e.blend else None,
                data_version=e.data_version or doc.defaults.data_version,
                rank=e.rank if e.rank is not None else doc.defaults.rank,
                timeout=e.timeout or doc.defaults.timeout,
                memory_mb=e.memory_mb or doc.defaults.memory_mb,
                enabled=e.enabled,
            )
        )
    names: dict[str, ModelSpec] = {}
    for s in specs:
        names.setdefault(name_key(s.name), s)
    specs = [_resolve_blend(s, names, path, problems) for s in specs]
    if problems:
        raise ConfigError("invalid models file:\n  " + "\n  ".join(problems))
    return ModelsConfig(path=path, models=specs)


def _resolve_blend(
    s: ModelSpec, names: Mapping[str, ModelSpec], path: Path, problems: list[str]
) -> ModelSpec:
    """``s`` with its blend's keys resolved as names compare (case-insensitively) and written
    as the components' own entries spell them (the run keys predictions by entry name)."""
    if not s.blend:
        return s
    where = f"{path}: model {s.name!r}: blend"
    resolved: dict[str, float] = {}
    for comp, weight in s.blend.items():
        other = names.get(name_key(comp))
        if other is None:
            problems.append(f"{where}: no entry named {comp!r}")
        elif other.blend is not None:
            problems.append(f"{where}: {comp!r} is itself a blend")
        elif other.tournament != s.tournament:
            problems.append(f"{where}: {comp!r} is in another tournament")
        elif other.name in resolved:
            problems.append(f"{where}: {comp!r} names {other.name!r} a second time")
        else:
            resolved[other.name] = weight
    return replace(s, blend=resolved)


def _describe_models_error(exc: ValidationError, raw: Mapping[str, Any], path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = str(path)
        if len(loc) >= 2 and loc[0] == "model" and isinstance(loc[1], int):
            idx = loc[1]
            entries = raw.get("model")
            name = None
            if isinstance(entries, list) and idx < len(entries) and isinstance(entries[idx], dict):
                name = entries[idx].get("name")
            where += f": model #{idx + 1}" + (f" ({name!r})" if name else "")
            loc = loc[2:]
        elif loc and loc[0] == "defaults":
            where += ": [defaults]"
            loc = loc[1:]
        fieldname = ".".join(str(p) for p in loc) or "(entry)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (typo?)"
        elif err["type"] == "literal_error":
            msg = f"unknown format: use one of {', '.join(FORMATS)}"
        lines.append(f"{where}: {fieldname}: {msg}")
    return "invalid models file:\n  " + "\n  ".join(lines)


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.endswith((".json", ".txt"))


def _resolve(base: Path, rel: str) -> Path:
    p = Path(rel).expanduser()
    return (p if p.is_absolute() else base / p).resolve()


def _inside(path: Path, base: Path) -> bool:
    try:
        path.relative_to(base.resolve())
    except ValueError:
        return False
    return True
