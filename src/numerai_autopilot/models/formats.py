"""The one registry of model formats: everything the project knows about a format is its
:class:`FormatSpec` entry in :data:`REGISTRY`.

Config validation (the names), format inference (suffixes, magic bytes), the loaders, the
missing-extra messages, the fork server's preloads and the worker's private-copy decision all
read this table. Adding a format is one loader (``module:function`` in this package, taking a
:class:`LoadRequest`) and one entry here.

This module imports nothing heavy (no pandas, numpy or model library): the config package reads
it at import time, and the command line starts without pandas. Loaders are therefore named, not
imported, and resolved on first use by :meth:`FormatSpec.load`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from ..config import ModelSpec

__all__ = [
    "FORMAT_NAMES",
    "REGISTRY",
    "FormatSpec",
    "LoadRequest",
    "Predictor",
    "extra_for_library",
    "format_for_head",
    "format_for_suffix",
    "get_format",
]


class Predictor(Protocol):
    """A loaded model."""

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        """Float64 predictions indexed exactly like ``live.index``, all finite.

        ``live`` is indexed by the live ids with the feature columns (in any order: each
        predictor selects its own, in its own order). Raises ModelError (or a subclass such
        as MissingFeatureError) when it cannot predict.
        """
        ...


@dataclass(frozen=True)
class LoadRequest:
    """What a loader gets: the entry, its artifact, the feature sets, the models dir."""

    spec: ModelSpec
    path: Path | None
    """The artifact; None only for formats without one (``entrypoint``)."""
    feature_sets: Mapping[str, list[str]] | None
    models_dir: Path | None
    fmt: str
    """The registry name the entry resolved to (``pickle`` and ``joblib`` share a loader)."""
    compiled: Path | None = None
    """The compiled-model cache a LightGBM model may be served from (compiled/)."""


Loader = Callable[[LoadRequest], Predictor]


@dataclass(frozen=True)
class FormatSpec:
    """One model format."""

    name: str
    """As written in the models file's ``format =``."""
    summary: str
    suffixes: tuple[str, ...] = ()
    """Lower-case artifact suffixes that mean this format when ``format`` is not set."""
    magic: tuple[bytes, ...] = ()
    """First bytes that mean this format whatever the suffix (checked before suffixes)."""
    loader: str | None = None
    """``module:function`` inside this package; None for ``blend`` (computed, not loaded)."""
    libraries: tuple[str, ...] = ()
    """Importable modules the loader needs (preloaded by the fork server when installed)."""
    extra: str | None = None
    """The pip extra that installs ``libraries``; None when they come with the base install."""
    user_code: bool = False
    """Runs the user's own Python: gets a private writable copy of the live frame (Numerai's
    column order), and may take ``live_benchmark_models`` as a second parameter."""
    stores_features: bool = False
    """The artifact records its input feature names and order, which the loader checks."""
    feature_dtype: str | None = None
    """The dtype the int8 live features are converted to before predicting (None: as is, or
    the model decides)."""
    needs_artifact: bool = True
    preload: bool = True
    """Whether the fork server may import ``libraries`` ahead (False when importing fixes a
    choice a model's process must make itself, such as Keras' backend)."""

    def load(self) -> Loader:
        """The loader function, imported now (model libraries load with it, lazily)."""
        if self.loader is None:
            raise LookupError(f"format {self.name} has no loader")
        module, _, attr = self.loader.partition(":")
        fn: Loader = getattr(importlib.import_module(module, __package__), attr)
        return fn


_PY_LIBS = ("sklearn", "joblib")

REGISTRY: tuple[FormatSpec, ...] = (
    FormatSpec(
        "pickle",
        "pickle/cloudpickle: an sklearn-API estimator or a Model Upload function",
        suffixes=(".pkl", ".pickle", ".cloudpickle"),
        loader="._loaders:load_pickle_file",
        libraries=_PY_LIBS,
        user_code=True,
    ),
    FormatSpec(
        "joblib",
        "joblib dump of an estimator or function",
        suffixes=(".joblib",),
        loader="._loaders:load_pickle_file",
        libraries=_PY_LIBS,
        user_code=True,
    ),
    FormatSpec(
        "function",
        "a cloudpickled Model Upload predict(live_features[, live_benchmark_models])",
        loader="._loaders:load_pickle_file",
        libraries=_PY_LIBS,
        user_code=True,
    ),
    FormatSpec(
        "lightgbm",
        "LightGBM text model (recognised by its first line, whatever the suffix)",
        magic=(b"tree\n", b"tree\r\n"),
        loader="._native:load_lightgbm",
        libraries=("lightgbm",),
        extra="lightgbm",
        stores_features=True,
        feature_dtype="float32",
    ),
    FormatSpec(
        "xgboost",
        "XGBoost .json / .ubj",
        suffixes=(".json", ".ubj"),
        loader="._native:load_xgboost",
        libraries=("xgboost",),
        extra="xgboost",
        stores_features=True,
        feature_dtype="float32",
    ),
    FormatSpec(
        "catboost",
        "CatBoost .cbm",
        suffixes=(".cbm",),
        magic=(b"CBM1",),
        loader="._native:load_catboost",
        libraries=("catboost",),
        extra="catboost",
        stores_features=True,
    ),
    FormatSpec(
        "onnx",
        "ONNX through onnxruntime (CPU)",
        suffixes=(".onnx",),
        loader="._onnx:load_onnx",
        libraries=("onnxruntime",),
        extra="onnx",
        stores_features=True,  # in its metadata, or one input per feature
        feature_dtype="float32",  # the input's declared type, float32 for skl2onnx models
    ),
    FormatSpec(
        "keras",
        "Keras 3 model (.keras, legacy .h5) on Keras' numpy backend",
        suffixes=(".keras", ".h5", ".hdf5"),
        loader="._keras:load_keras",
        libraries=("keras", "jax"),
        extra="keras",
        feature_dtype="float32",
        preload=False,  # Keras fixes its backend at import: each model process picks it
    ),
    FormatSpec(
        "torchscript",
        "PyTorch TorchScript module (.pt, torch.jit.save) on the CPU",
        suffixes=(".pt", ".pth"),  # a .pth state_dict is refused, saying how to save the model
        loader="._torch:load_torchscript",
        libraries=("torch",),
        extra="torch",
        feature_dtype="float32",  # or the dtype of its first floating parameter
    ),
    FormatSpec(
        "torch_export",
        "PyTorch torch.export program (.pt2, torch.export.save) on the CPU",
        suffixes=(".pt2",),
        loader="._torch:load_torch_export",
        libraries=("torch",),
        extra="torch",
        feature_dtype="float32",  # or the dtype its input was exported with
    ),
    FormatSpec(
        "entrypoint",
        '"module:function" importable from the models dir',
        loader="._loaders:load_entrypoint_module",
        user_code=True,
        needs_artifact=False,
    ),
    FormatSpec(
        "predictions",
        "a ready predictions file (csv/parquet)",
        suffixes=(".csv", ".parquet"),
        loader="._files:load_predictions",
    ),
    FormatSpec("blend", "weighted blend of other entries", needs_artifact=False),
)

_BY_NAME: dict[str, FormatSpec] = {f.name: f for f in REGISTRY}
FORMAT_NAMES: tuple[str, ...] = tuple(_BY_NAME)
_BY_SUFFIX: dict[str, FormatSpec] = {s: f for f in REGISTRY for s in f.suffixes}
_EXTRAS: dict[str, str] = {
    lib: f.extra for f in REGISTRY if f.extra is not None for lib in f.libraries
}


def get_format(name: str) -> FormatSpec:
    """The entry for ``name``; KeyError when there is none (config has validated names)."""
    return _BY_NAME[name]


def format_for_suffix(suffix: str) -> FormatSpec | None:
    """The format an artifact suffix (``.onnx``) means, if any."""
    return _BY_SUFFIX.get(suffix.lower())


def format_for_head(head: bytes) -> FormatSpec | None:
    """The format an artifact's first bytes mean, if any."""
    return next((f for f in REGISTRY if f.magic and head.startswith(f.magic)), None)


def extra_for_library(module: str) -> str | None:
    """The pip extra that installs the top-level module ``module``, if one does."""
    return _EXTRAS.get(module.split(".", maxsplit=1)[0])
