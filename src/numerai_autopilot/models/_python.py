"""Python objects as models: pickled/joblib sklearn-API estimators (and pickled boosters),
cloudpickled Model Upload functions, and ``module:function`` entry points.

Loading a pickle runs code from the file: that is why it happens in an isolated worker.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import ModelSpec
from ..errors import ModelError
from ._compat import missing_attribute, moved_module, other_python
from ._features import choose_features, real_names, select
from ._output import missing_extra, model_upload_refusal, require, threads, to_series


class FunctionPredictor:
    """Numerai's Model Upload convention: ``predict(live_features)`` or
    ``predict(live_features, live_benchmark_models)``, told apart as numerai-predict does:
    ``len(inspect.signature(f).parameters)`` (defaults and ``*args`` count).

    ``model_upload``: a pickled function, so its raw output is checked against what Numerai
    would accept (``refusal`` says why not); with ``spec.strict_model_upload`` that is an error.
    """

    def __init__(
        self, spec: ModelSpec, fn: Callable[..., Any], *, model_upload: bool = False
    ) -> None:
        self.spec = spec
        self.fn = fn
        self.model_upload = model_upload
        self.refusal: str | None = None
        try:
            self.arity = len(inspect.signature(fn).parameters)
        except (TypeError, ValueError):  # builtins without a signature: the one-argument form
            self.arity = 1
            self.refusal = "Numerai's runner cannot read its signature"
        if self.arity not in (1, 2):
            raise ModelError(
                f"model {spec.name!r}: predict takes {self.arity} parameters; Numerai calls it "
                "with live_features, or live_features and live_benchmark_models"
            )

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        ids = live.index  # the function may edit its (private) frame in place
        if self.arity == 2:
            if benchmarks is None:
                raise ModelError(
                    f"model {self.spec.name!r}: predict takes live_benchmark_models, "
                    "but no benchmark data was loaded"
                )
            raw = _call(self.spec, self.fn, live, benchmarks)
        else:
            raw = _call(self.spec, self.fn, live)
        if self.model_upload:
            self.refusal = self.refusal or model_upload_refusal(raw, ids)
            if self.refusal is not None and self.spec.strict_model_upload:
                raise ModelError(
                    f"model {self.spec.name!r} would be refused as a Model Upload: {self.refusal}"
                )
        return to_series(raw, ids, self.spec.name)


def _call(spec: ModelSpec, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except MemoryError:
        raise
    except Exception as exc:  # the user's code: keep its type and message
        raise ModelError(f"model {spec.name!r} raised {type(exc).__name__}: {exc}") from exc


class EstimatorPredictor:
    """An object with ``predict``: sklearn API (classifiers with two classes give
    ``predict_proba[:, 1]``), or a pickled LightGBM/XGBoost Booster."""

    def __init__(
        self, spec: ModelSpec, model: Any, feature_sets: Mapping[str, list[str]] | None
    ) -> None:
        self.spec = spec
        self.model = model
        self.feature_sets = feature_sets
        self.library = type(model).__module__.split(".")[0]
        self.stored = real_names(_stored_names(model))
        self.width = _width(model)
        self.refusal: str | None = None
        """Set when the entry says ``format = "function"``: Numerai could not call it."""

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        names = choose_features(
            self.spec, self.stored, self.feature_sets, list(live.columns), self.width
        )
        x = select(self.spec, live, names)
        # Named input only when the model knows names (sklearn warns or refuses otherwise).
        data: Any = x if self.stored else x.to_numpy()
        return to_series(_call(self.spec, self._raw, data), live.index, self.spec.name)

    def _raw(self, data: Any) -> Any:
        model = self.model
        kind = type(model).__name__
        if self.library == "lightgbm" and kind == "Booster":
            return model.predict(np.asarray(data, dtype=np.float32), num_threads=threads())
        if self.library == "xgboost" and kind == "Booster":
            xgb = require("xgboost", self.spec.name)
            # Its own names (real or f0, f1...): the columns are already in its order.
            dm = xgb.DMatrix(np.asarray(data, np.float32), feature_names=model.feature_names)
            return model.predict(dm)
        classes = getattr(model, "classes_", None)
        if hasattr(model, "predict_proba") and classes is not None and len(classes) == 2:
            return np.asarray(model.predict_proba(data))[:, 1]
        return model.predict(data)


def _stored_names(model: Any) -> list[str] | None:
    for attr in ("feature_names_in_", "feature_names_"):
        try:
            names = getattr(model, attr, None)
        except Exception:  # noqa: BLE001  LightGBM raises AttributeError subclasses oddly
            names = None
        if names is not None:
            return [str(n) for n in names]
    for getter in _NAME_GETTERS:
        try:
            names = getter(model)
        except Exception:  # noqa: BLE001, S112  not this kind of model: try the next getter
            continue
        if isinstance(names, list | tuple):
            return [str(n) for n in names]
    return None


_NAME_GETTERS: tuple[Callable[[Any], Any], ...] = (
    lambda m: m.booster_.feature_name(),  # LGBMModel
    lambda m: m.get_booster().feature_names,  # XGBModel
    lambda m: m.feature_name(),  # lightgbm.Booster
    lambda m: m.feature_names,  # xgboost.Booster
)


def _width(model: Any) -> int | None:
    n = getattr(model, "n_features_in_", None)
    if isinstance(n, int | np.integer) and n > 0:  # CatBoost reports 0 after unpickling
        return int(n)
    return None


def load_pickle(
    spec: ModelSpec, path: Path, fmt: str, feature_sets: Mapping[str, list[str]] | None
) -> FunctionPredictor | EstimatorPredictor:
    """Unpickle as Numerai's runner does (``pd.read_pickle``: plain pickle, which also reads
    cloudpickle files, then pandas' compat unpickler for pickles of older pandas), or with
    ``joblib`` for its own format, and wrap what was inside: a function, or an estimator."""
    try:
        if fmt == "joblib":
            import joblib

            obj = joblib.load(path)
        else:
            obj = pd.read_pickle(path)
    except ModuleNotFoundError as exc:
        name = exc.name or "?"
        raise moved_module(name, spec.name) or missing_extra(name, spec.name) from exc
    except MemoryError:
        raise
    except Exception as exc:  # corrupt file, a version mismatch, or the pickle's own code
        known = None
        if isinstance(exc, AttributeError):
            known = missing_attribute(exc, spec.name)
        elif isinstance(exc, TypeError):
            known = other_python(exc, spec.name)
        if known is not None:
            raise known from exc
        raise ModelError(
            f"model {spec.name!r}: cannot unpickle {path}: {type(exc).__name__}: {exc}"
        ) from exc
    return wrap_object(spec, obj, feature_sets, model_upload=fmt != "joblib")


def wrap_object(
    spec: ModelSpec,
    obj: Any,
    feature_sets: Mapping[str, list[str]] | None,
    *,
    model_upload: bool = False,
) -> FunctionPredictor | EstimatorPredictor:
    """A callable becomes a FunctionPredictor (called itself, as Numerai calls a Model Upload,
    even when it also has ``predict``); an object with only ``predict`` an EstimatorPredictor.
    ``model_upload``: a pickle, whose function output is checked against Numerai's contract."""
    if callable(obj):
        return FunctionPredictor(spec, obj, model_upload=model_upload)
    if hasattr(obj, "predict"):
        predictor = EstimatorPredictor(spec, obj, feature_sets)
        if spec.format == "function":  # declared a Model Upload, but Numerai cannot call it
            predictor.refusal = (
                f"it is a {type(obj).__name__}, an estimator that is not callable (Numerai "
                "calls the pickle itself, never its predict)"
            )
            if spec.strict_model_upload:
                raise ModelError(
                    f"model {spec.name!r} would be refused as a Model Upload: {predictor.refusal}"
                )
        return predictor
    raise ModelError(
        f"model {spec.name!r}: the artifact holds a {type(obj).__name__}, neither a predict "
        "function nor an object with a predict method"
    )


def load_entrypoint(
    spec: ModelSpec, models_dir: Path | None, feature_sets: Mapping[str, list[str]] | None
) -> FunctionPredictor | EstimatorPredictor:
    """``module:function`` imported with the models dir first on ``sys.path``."""
    if spec.entrypoint is None or ":" not in spec.entrypoint:
        raise ModelError(f"model {spec.name!r}: entrypoint must look like 'module:function'")
    module_name, attr = spec.entrypoint.split(":", 1)
    root = models_dir
    if root is None and spec.artifact is not None:
        root = spec.artifact if spec.artifact.is_dir() else spec.artifact.parent
    if root is None:
        raise ModelError(
            f"model {spec.name!r}: cannot import {spec.entrypoint}: the models dir is unknown"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ModelError(f"model {spec.name!r}: no module {module_name!r} in {root}") from exc
        raise missing_extra(exc.name or "?", spec.name) from exc
    except MemoryError:
        raise
    except Exception as exc:  # the user's module failed at import
        raise ModelError(
            f"model {spec.name!r}: importing {module_name} raised {type(exc).__name__}: {exc}"
        ) from exc
    obj = getattr(module, attr, None)
    if obj is None:
        raise ModelError(f"model {spec.name!r}: {module_name} has no attribute {attr!r}")
    return wrap_object(spec, obj, feature_sets)
