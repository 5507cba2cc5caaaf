"""Cheap questions about a model entry, answered without importing any model library."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ArtifactChangedError, ConfigError, ModelError
from ..fileio import sha256_file
from ._features import (
    configured_features,
    lightgbm_header_features,
    real_names,
    xgboost_json_features,
)
from ._torch_files import archive_features
from .formats import FORMAT_NAMES, format_for_head, format_for_suffix, get_format

if TYPE_CHECKING:
    from ..config import ModelSpec


def infer_format(spec: ModelSpec, *, head: bytes | None = None) -> str:
    """The entry's format: ``spec.format`` when set, else from the artifact's content and name.

    A LightGBM text model is recognised by its first line (``tree``) whatever its extension.
    ``head``: the artifact's first bytes when the caller has read them already. Raises
    ConfigError naming the model when the format cannot be told.
    """
    if spec.format is not None:
        return spec.format
    if spec.blend is not None:
        return "blend"
    if spec.entrypoint is not None:
        return "entrypoint"
    if spec.artifact is None:
        raise ConfigError(f"model {spec.name!r}: no artifact, so no format to infer")
    if head is None:
        head = _head(spec.artifact)
    fmt = format_for_head(head) or format_for_suffix(spec.artifact.suffix)
    if fmt is None and not spec.artifact.exists():
        raise ModelError(f"model {spec.name!r}: artifact {spec.artifact} does not exist")
    if fmt is None:
        loadable = [n for n in FORMAT_NAMES if get_format(n).needs_artifact]
        raise ConfigError(
            f"model {spec.name!r}: cannot tell the format of {spec.artifact.name}: set "
            f"format = one of {', '.join(loadable)}"
        )
    return fmt.name


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(16)
    except FileNotFoundError:
        return b""  # the suffix may still tell; verify_artifact reports the missing file
    except OSError as exc:
        raise ModelError(f"cannot read artifact {path}: {exc.strerror}") from exc


def declared_features(
    spec: ModelSpec, feature_sets: Mapping[str, list[str]] | None
) -> list[str] | None:
    """The ordered feature list the model will use, when knowable without loading it.

    The model's own list when cheap to read (a LightGBM text header, XGBoost JSON, a PyTorch
    archive's ``features.json``), else the configured ``features`` (a feature set name or a
    file), else None: unknown, so the run loads every feature. Matches what
    :func:`load_predictor` will select.
    """
    fmt = infer_format(spec)
    own: list[str] | None = None
    if spec.artifact is not None and spec.artifact.is_file():
        if fmt == "lightgbm":
            own = real_names(lightgbm_header_features(spec.artifact))
        elif fmt == "xgboost" and spec.artifact.suffix.lower() == ".json":
            own = real_names(xgboost_json_features(spec.artifact))
        elif fmt in ("torchscript", "torch_export"):
            own = real_names(archive_features(spec.artifact))
    if own is not None:
        return own
    return configured_features(spec, feature_sets)


def needs_benchmarks(spec: ModelSpec) -> bool:
    """True when the model may call for ``live_benchmark_models``: Model Upload style
    functions (pickles and entry points) take it as their second parameter."""
    return get_format(infer_format(spec)).user_code


def verify_artifact(spec: ModelSpec) -> None:
    """Check the artifact exists and, when pinned, matches ``spec.sha256``.

    Raises ModelError naming the path when it is missing, ArtifactChangedError on a mismatch.
    """
    if spec.artifact is None:
        return
    if not spec.artifact.is_file():
        raise ModelError(f"model {spec.name!r}: artifact {spec.artifact} does not exist")
    if spec.sha256 is None:
        return
    try:
        actual = sha256_file(spec.artifact)
    except OSError as exc:
        raise ModelError(
            f"model {spec.name!r}: cannot read artifact {spec.artifact}: {exc.strerror}"
        ) from exc
    if actual != spec.sha256.lower():
        raise ArtifactChangedError(
            f"model {spec.name!r}: {spec.artifact} changed: sha256 is {actual}, the models file "
            f"pins {spec.sha256}; update the pin if the new artifact is intended"
        )
