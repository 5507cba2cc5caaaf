"""Model artifacts behind one interface: every format loads into a :class:`Predictor`.

Public API:

- :func:`infer_format`, :func:`declared_features`, :func:`needs_benchmarks`,
  :func:`verify_artifact`: cheap, no model library imported (the run plans with them);
- :func:`load_predictor`: loads the artifact (runs inside a prediction worker: unpickling
  executes code) and returns a :class:`Predictor`.

Formats: pickle/joblib sklearn-API estimators, LightGBM text, XGBoost json/ubj, CatBoost cbm,
ONNX, cloudpickled Model Upload functions, ``module:function`` entry points, ready prediction
files. Model libraries are imported lazily; a missing one raises MissingExtraError naming the
pip extra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import pandas as pd

from ..config import ModelSpec
from ..errors import ModelError
from ._files import load_predictions
from ._native import load_catboost, load_lightgbm, load_xgboost
from ._onnx import load_onnx
from ._python import load_entrypoint, load_pickle
from ._spec import declared_features, infer_format, needs_benchmarks, verify_artifact

__all__ = [
    "Predictor",
    "declared_features",
    "infer_format",
    "load_predictor",
    "needs_benchmarks",
    "verify_artifact",
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


def load_predictor(
    spec: ModelSpec,
    feature_sets: Mapping[str, list[str]] | None,
    *,
    models_dir: Path | None = None,
    compiled: Path | None = None,
) -> Predictor:
    """Verify and load the entry's artifact into a Predictor.

        ``feature_sets`` (features.json's sets) resolves a ``features`` set name; ``models_dir``
        is where ``module:function`` entry points are imported from; ``compiled`` the compiled-model
    cache a LightGBM model is taken from when a verified entry is there. Raises ModelError (with
        ArtifactChangedError, MissingExtraError, MissingFeatureError as the cause says) or
        ConfigError for a wrong ``features`` setting.
    """
    fmt = infer_format(spec)
    verify_artifact(spec)
    if fmt == "entrypoint":
        return load_entrypoint(spec, models_dir, feature_sets)
    if fmt == "blend":
        raise ModelError(
            f"model {spec.name!r} is a blend: it is computed from its components' predictions"
        )
    path = spec.artifact
    if path is None:
        raise ModelError(f"model {spec.name!r}: format {fmt} needs an artifact")
    if fmt in ("pickle", "joblib", "function"):
        return load_pickle(spec, path, "joblib" if fmt == "joblib" else "pickle", feature_sets)
    if fmt == "predictions":
        return load_predictions(spec, path)
    if fmt == "lightgbm":
        return load_lightgbm(spec, path, feature_sets, compiled)
    loader = _FILE_LOADERS.get(fmt)
    if loader is None:
        raise ModelError(f"model {spec.name!r}: unknown format {fmt!r}")
    return loader(spec, path, feature_sets)


_FILE_LOADERS: dict[str, Callable[[ModelSpec, Path, Mapping[str, list[str]] | None], Predictor]] = {
    "lightgbm": load_lightgbm,
    "xgboost": load_xgboost,
    "catboost": load_catboost,
    "onnx": load_onnx,
}
