"""Registry loaders for the Python formats, adapting the loaders of _python.py (whose calling
of function pickles is its own business) to the one :class:`LoadRequest` signature."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError
from ._python import EstimatorPredictor, FunctionPredictor, load_entrypoint, load_pickle
from .formats import LoadRequest


def load_pickle_file(req: LoadRequest) -> FunctionPredictor | EstimatorPredictor:
    """``pickle``, ``function`` (pickle's reader, cloudpickle files too) and ``joblib``."""
    kind = "joblib" if req.fmt == "joblib" else "pickle"
    return load_pickle(req.spec, _path(req), kind, req.feature_sets)


def load_entrypoint_module(req: LoadRequest) -> FunctionPredictor | EstimatorPredictor:
    """``module:function`` imported from the models dir."""
    return load_entrypoint(req.spec, req.models_dir, req.feature_sets)


def _path(req: LoadRequest) -> Path:
    if req.path is None:
        raise ModelError(f"model {req.spec.name!r}: format {req.fmt} needs an artifact")
    return req.path
