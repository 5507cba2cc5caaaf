"""Loaders for native model files: LightGBM text, XGBoost json/ubj, CatBoost cbm.

Each predictor selects exactly the model's stored features in the model's order before
predicting (LightGBM would otherwise predict garbage on reordered columns, silently).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import ModelSpec
from ..errors import ModelError
from ._features import choose_features, select
from ._output import require, threads, to_series
from .formats import LoadRequest

log = logging.getLogger(__name__)
_CLASSIFIER_LOSSES = ("Logloss", "CrossEntropy")


class _NativePredictor:
    """Common shape: choose the columns once per live frame, then call the library."""

    def __init__(
        self,
        spec: ModelSpec,
        model: Any,
        stored: list[str] | None,
        n_features: int | None,
        feature_sets: Mapping[str, list[str]] | None,
    ) -> None:
        self.spec = spec
        self.model = model
        self.stored = stored
        self.n_features = n_features
        self.feature_sets = feature_sets

    def features(self, live: pd.DataFrame) -> pd.DataFrame:
        names = choose_features(
            self.spec, self.stored, self.feature_sets, list(live.columns), self.n_features
        )
        return select(self.spec, live, names)

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        x = self.features(live)
        try:
            raw = self.raw_predict(x)
        except MemoryError:
            raise
        except Exception as exc:  # the library's own errors, translated once, here
            raise ModelError(
                f"model {self.spec.name!r}: {type(exc).__name__} while predicting: {exc}"
            ) from exc
        return to_series(raw, live.index, self.spec.name)

    def raw_predict(self, x: pd.DataFrame) -> Any:
        raise NotImplementedError


class LightGBMPredictor(_NativePredictor):
    def raw_predict(self, x: pd.DataFrame) -> Any:
        # Positional input (numpy) after our own selection: LightGBM matches by position.
        return self.model.predict(x.to_numpy(dtype=np.float32), num_threads=threads())


class CompiledLightGBMPredictor(_NativePredictor):
    """A LightGBM model prepared as a forest (``models prepare``), verified against LightGBM
    on its stored sample in this process before this first use."""

    engine = "forest"

    def raw_predict(self, x: pd.DataFrame) -> Any:
        # Integer features (Numerai's int8) are walked as they are: the same values LightGBM
        # reads, a quarter of the bytes. Others as the LightGBM path feeds them: float32.
        integer = all(pd.api.types.is_integer_dtype(d) for d in x.dtypes)
        rows = x.to_numpy() if integer else x.to_numpy(dtype=np.float32)
        return self.model.predict(rows, max(1, threads()))


class XGBoostPredictor(_NativePredictor):
    def raw_predict(self, x: pd.DataFrame) -> Any:
        xgb = require("xgboost", self.spec.name)
        # The booster's own names (real or f0, f1...): the columns are already in its order.
        dm = xgb.DMatrix(x.to_numpy(dtype=np.float32), feature_names=self.stored)
        return self.model.predict(dm)


class CatBoostPredictor(_NativePredictor):
    def raw_predict(self, x: pd.DataFrame) -> Any:
        loss = str(self.model.get_all_params().get("loss_function", ""))
        kind = "Probability" if loss in _CLASSIFIER_LOSSES else "RawFormulaVal"
        out = self.model.predict(x.to_numpy(), prediction_type=kind, thread_count=threads() or -1)
        return out[:, 1] if kind == "Probability" else out


def _unpack(req: LoadRequest) -> tuple[ModelSpec, Path, Mapping[str, list[str]] | None]:
    if req.path is None:
        raise ModelError(f"model {req.spec.name!r}: format {req.fmt} needs an artifact")
    return req.spec, req.path, req.feature_sets


def _load(spec: ModelSpec, what: str, fn: Any) -> Any:
    try:
        return fn()
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt or foreign file: the library says why
        raise ModelError(
            f"model {spec.name!r}: cannot load {spec.artifact} as {what}: {exc}"
        ) from exc


def load_lightgbm(req: LoadRequest) -> LightGBMPredictor | CompiledLightGBMPredictor:
    """A LightGBM text model; always fed its stored ``feature_name()`` list, in order. With a
    compiled cache (``req.compiled``) holding a verified entry for this file, engine and CPU,
    the compiled model instead (same features, same order); LightGBM for anything else."""
    spec, path, feature_sets = _unpack(req)
    if req.compiled is not None:
        forest = _compiled(spec, path, req.compiled)
        if forest is not None:
            return CompiledLightGBMPredictor(
                spec, forest, forest.features, forest.n_features, feature_sets
            )
    lgb = require("lightgbm", spec.name)
    booster = _load(spec, "a LightGBM model", lambda: lgb.Booster(model_file=str(path)))
    return LightGBMPredictor(
        spec, booster, booster.feature_name(), booster.num_feature(), feature_sets
    )


def _compiled(spec: ModelSpec, path: Path, root: Path) -> Any:
    """The verified forest of ``path``, or None (no entry, no ``fast`` extra, or an entry
    that failed its check: said, and rejected for later runs too)."""
    from ..compiled import CompiledStore, Engine, open_verified
    from ..fileio import sha256_file

    if Engine.installed() is None or not root.is_dir():
        return None
    try:
        forest, why = open_verified(CompiledStore(root), sha256_file(path))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001  LLVM or a damaged entry: LightGBM predicts
        log.warning("model %s: compiled model not usable (%s); using LightGBM", spec.name, exc)
        return None
    if why is not None:
        log.warning("model %s: %s; using LightGBM", spec.name, why)
    return forest


def load_xgboost(req: LoadRequest) -> XGBoostPredictor:
    """An XGBoost .json/.ubj model; features from ``Booster.feature_names`` when stored."""
    spec, path, feature_sets = _unpack(req)
    xgb = require("xgboost", spec.name)
    booster = _load(spec, "an XGBoost model", lambda: xgb.Booster(model_file=str(path)))
    if threads():
        booster.set_param({"nthread": threads()})
    return XGBoostPredictor(
        spec, booster, booster.feature_names, booster.num_features(), feature_sets
    )


def load_catboost(req: LoadRequest) -> CatBoostPredictor:
    """A CatBoost .cbm model; classifiers give the positive class probability."""
    spec, path, feature_sets = _unpack(req)
    cb = require("catboost", spec.name)

    def load() -> Any:
        model = cb.CatBoost()
        model.load_model(str(path))
        return model

    model = _load(spec, "a CatBoost model", load)
    names = list(model.feature_names_ or [])
    return CatBoostPredictor(spec, model, names, len(names) or None, feature_sets)
