"""Keras 3 models: ``.keras`` archives and legacy ``.h5`` files, loaded with ``compile=False``
(inference needs no optimizer) and Keras' safe mode (a Lambda layer's code is not run).

Backend: Keras' ``numpy`` backend unless ``KERAS_BACKEND`` says otherwise. It is inference
only, which is all a worker does, compiles nothing at load (jax took 6-9 s to load and trace
the same model, numpy 0.1 s) and its matrix products run in numpy's BLAS, which the worker's
thread bound already covers. Keras picks its backend once, at import, from the environment or
``~/.keras/keras.json``: setting the variable before that import beats a keras.json left
naming TensorFlow. Keras models store no feature names, so the features are the configured
``features`` (else every ``feature_*`` column), checked against the model's input width.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from ._features import choose_features, select
from ._output import require, threads, to_series
from .formats import LoadRequest

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from ..config import ModelSpec

BACKEND = "numpy"
_BATCH = 65536  # rows per predict call: one call for a whole Numerai live set


class KerasPredictor:
    def __init__(
        self, spec: ModelSpec, model: Any, feature_sets: Mapping[str, list[str]] | None
    ) -> None:
        self.spec = spec
        self.model = model
        self.feature_sets = feature_sets
        inputs = list(getattr(model, "inputs", None) or [])
        if len(inputs) > 1:
            raise ModelError(
                f"model {spec.name!r} takes {len(inputs)} inputs; one input of features is needed"
            )
        shape = tuple(inputs[0].shape) if inputs else ()
        self.width = shape[-1] if len(shape) == 2 and isinstance(shape[-1], int) else None

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        names = choose_features(self.spec, None, self.feature_sets, list(live.columns), self.width)
        # int8 features as the float32 a Keras model was trained on (its default floatx).
        x = select(self.spec, live, names).to_numpy(dtype=np.float32)
        try:
            raw = self.model.predict(x, batch_size=min(_BATCH, max(1, len(x))), verbose=0)
        except MemoryError:
            raise
        except Exception as exc:  # Keras' own errors (shapes, unsupported ops), translated here
            raise ModelError(
                f"model {self.spec.name!r}: Keras failed to predict: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(raw, list | tuple | dict):
            raise ModelError(f"model {self.spec.name!r} has several outputs; one is needed")
        return to_series(np.asarray(raw), live.index, self.spec.name)


def load_keras(req: LoadRequest) -> KerasPredictor:
    """A ``.keras`` or ``.h5`` model on Keras' numpy backend (or ``KERAS_BACKEND``'s)."""
    spec, path = req.spec, req.path
    if path is None:
        raise ModelError(f"model {spec.name!r}: format keras needs an artifact")
    os.environ.setdefault("KERAS_BACKEND", BACKEND)
    keras = require("keras", spec.name)
    _bound_threads(keras)
    try:
        model = keras.models.load_model(str(path), compile=False)
    except MemoryError:
        raise
    except ImportError as exc:  # the backend's library (jax, torch, tensorflow) is missing
        raise ModelError(
            f"model {spec.name!r}: Keras backend {keras.backend.backend()!r} cannot start: "
            f"{exc}; unset KERAS_BACKEND to use numpy"
        ) from exc
    except Exception as exc:  # a corrupt file, an unknown layer, a Lambda in safe mode
        raise ModelError(
            f"model {spec.name!r}: cannot load {path} as a Keras model: {type(exc).__name__}: {exc}"
        ) from exc
    return KerasPredictor(spec, model, req.feature_sets)


def _bound_threads(keras: Any) -> None:
    """The numpy backend is bounded with numpy's BLAS; the torch backend has its own pool."""
    n = threads()
    if n and keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(n)
