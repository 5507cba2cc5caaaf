"""The models file: ``<models_dir>/models.toml`` read, validated and turned into one
:class:`ModelSpec` per entry, defaults applied, paths resolved and blends checked."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..tournaments import Tournament
from ._models_schema import did_you_mean, validate_document

MODELS_FILE = "models.toml"


def name_key(name: str) -> str:
    """How model names compare everywhere (models file, blends, the plan): Numerai's names are
    case-insensitive, so ``anas`` and ``ANAS`` are one model."""
    return name.casefold()


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
    strict_model_upload: bool = False
    """A pickled function whose output Numerai would refuse as a Model Upload fails the model
    (otherwise the run reports it and submits)."""


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
    defaults, entries, problems = validate_document(raw, path)
    base = path.parent
    specs: list[ModelSpec] = []
    seen: dict[str, tuple[int, str]] = {}
    for i, e in entries:
        where = f"{path}: model #{i + 1} ({e.name!r})"
        first = seen.setdefault(name_key(e.name), (i, e.name))
        if first[0] != i:
            case = "" if first[1] == e.name else " (Numerai names ignore case)"
            problems.append(
                f"{where}: name: duplicate model name: model #{first[0] + 1} ({first[1]!r}) is "
                f"the same model{case}; both would submit to it"
            )
        try:
            tournament = Tournament.from_label(e.tournament or defaults.tournament)
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
        features = e.features or defaults.features
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
                data_version=e.data_version or defaults.data_version,
                rank=e.rank if e.rank is not None else defaults.rank,
                timeout=e.timeout or defaults.timeout,
                memory_mb=e.memory_mb or defaults.memory_mb,
                enabled=e.enabled,
                strict_model_upload=(
                    e.strict_model_upload
                    if e.strict_model_upload is not None
                    else defaults.strict_model_upload
                ),
            )
        )
    names: dict[str, ModelSpec] = {}
    for s in specs:
        names.setdefault(name_key(s.name), s)
    # A blend naming an entry written but wrong: that entry's own line says what to fix.
    written = [str(m.get("name")) for m in _tables(raw.get("model"))]
    specs = [_resolve_blend(s, names, written, path, problems) for s in specs]
    if problems:
        raise ConfigError("invalid models file:\n  " + "\n  ".join(problems))
    return ModelsConfig(path=path, models=specs)


def _tables(value: object) -> list[dict[str, Any]]:
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def _resolve_blend(
    s: ModelSpec,
    names: Mapping[str, ModelSpec],
    written: Sequence[str],
    path: Path,
    problems: list[str],
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
            if name_key(comp) not in {name_key(w) for w in written}:
                hint = did_you_mean(comp, written)
                problems.append(f"{where}: no entry named {comp!r}{hint}")
        elif other.blend is not None:
            problems.append(f"{where}: {comp!r} is itself a blend")
        elif other.tournament != s.tournament:
            problems.append(f"{where}: {comp!r} is in another tournament")
        elif other.name in resolved:
            problems.append(f"{where}: {comp!r} names {other.name!r} a second time")
        else:
            resolved[other.name] = weight
    return replace(s, blend=resolved)


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
