"""ONNX models through onnxruntime.

ONNX rejects int8 input, so the live features are cast to the input's declared type (float32
for models converted with skl2onnx). The feature list comes from the model's metadata
(``feature_names`` or ``features``: a JSON list or comma-separated), else the configured
``features``, else every ``feature_*`` column. A model with one input per feature (converted
from a DataFrame) is fed column by column, by input name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..config import ModelSpec
from ..errors import ModelError
from ._features import choose_features, select
from ._output import require, threads, to_series
from .formats import LoadRequest

_ONNX_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}
_METADATA_KEYS = ("feature_names", "features")
_PROBABILITY_OUTPUTS = ("probabilities", "output_probability")


class OnnxPredictor:
    def __init__(
        self, spec: ModelSpec, session: Any, feature_sets: Mapping[str, list[str]] | None
    ) -> None:
        self.spec = spec
        self.session = session
        self.feature_sets = feature_sets
        self.inputs = session.get_inputs()
        self.per_column = len(self.inputs) > 1
        if self.per_column:
            self.stored: list[str] | None = [i.name for i in self.inputs]
            self.width: int | None = len(self.inputs)
        else:
            self.stored = _metadata_features(session)
            shape = self.inputs[0].shape
            self.width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        names = choose_features(
            self.spec, self.stored, self.feature_sets, list(live.columns), self.width
        )
        x = select(self.spec, live, names)
        if self.per_column:
            feed = {
                i.name: x[i.name].to_numpy(dtype=_dtype(i.type)).reshape(-1, 1) for i in self.inputs
            }
        else:
            first = self.inputs[0]
            feed = {first.name: x.to_numpy(dtype=_dtype(first.type))}
        try:
            outputs = self.session.run(None, feed)
        except MemoryError:
            raise
        except Exception as exc:  # onnxruntime's own errors (shape, type), translated here
            raise ModelError(f"model {self.spec.name!r}: onnxruntime failed: {exc}") from exc
        return to_series(self._pick(outputs), live.index, self.spec.name)

    def _pick(self, outputs: list[Any]) -> Any:
        names = [o.name for o in self.session.get_outputs()]
        for wanted in _PROBABILITY_OUTPUTS:
            if wanted in names:
                out = outputs[names.index(wanted)]
                if isinstance(out, list):  # ZipMap: a list of {class: probability}
                    return np.array([list(row.values())[-1] for row in out], dtype=np.float64)
                return np.asarray(out)[:, -1]
        return outputs[0]


def _dtype(onnx_type: str) -> Any:
    return _ONNX_DTYPES.get(onnx_type, np.float32)


def _metadata_features(session: Any) -> list[str] | None:
    meta = session.get_modelmeta().custom_metadata_map
    for key in _METADATA_KEYS:
        if key in meta:
            text = meta[key].strip()
            if text.startswith("["):
                try:
                    names = json.loads(text)
                except json.JSONDecodeError:
                    return None
                return [str(n) for n in names]
            return [n.strip() for n in text.split(",") if n.strip()]
    return None


def load_onnx(req: LoadRequest) -> OnnxPredictor:
    """An ONNX model in an onnxruntime CPU session."""
    spec, path = req.spec, req.path
    if path is None:
        raise ModelError(f"model {spec.name!r}: format onnx needs an artifact")
    ort = require("onnxruntime", spec.name)
    options = ort.SessionOptions()
    if threads():
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt file: onnxruntime says why
        raise ModelError(f"model {spec.name!r}: cannot load {path} as ONNX: {exc}") from exc
    return OnnxPredictor(spec, session, req.feature_sets)
