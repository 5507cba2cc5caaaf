"""A ready predictions file (csv or parquet): an id column and one prediction column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import ModelSpec
from ..errors import ModelError
from ._output import to_series
from .formats import LoadRequest

_ID_COLUMNS = ("id", "numerai_ticker", "symbol", "ticker")
_PREDICTION_COLUMNS = ("prediction", "signal", "probability")


class PredictionsFilePredictor:
    """Serves the file's values for the live ids; every live id must be in the file."""

    def __init__(self, spec: ModelSpec, values: pd.Series) -> None:
        self.spec = spec
        self.values = values

    def predict(self, live: pd.DataFrame, benchmarks: pd.DataFrame | None) -> pd.Series:
        missing = live.index.difference(self.values.index)
        if len(missing):
            raise ModelError(
                f"model {self.spec.name!r}: {self.spec.artifact} lacks {len(missing)} of the "
                f"{len(live.index)} live ids (e.g. {missing[0]}): is it from an earlier round?"
            )
        return to_series(self.values.reindex(live.index), live.index, self.spec.name)


def load_predictions(req: LoadRequest) -> PredictionsFilePredictor:
    """Read the file; the id column is the tournament's (or id/numerai_ticker/symbol/ticker,
    or the parquet index), the prediction column the only other one (or prediction/signal)."""
    spec, path = req.spec, req.path
    if path is None:
        raise ModelError(f"model {spec.name!r}: format predictions needs an artifact")
    try:
        frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except MemoryError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors, translated here
        raise ModelError(f"model {spec.name!r}: cannot read predictions {path}: {exc}") from exc
    id_names = (spec.tournament.rules.id_column, *_ID_COLUMNS)
    if frame.index.name not in id_names:
        id_col = next((c for c in id_names if c in frame.columns), None)
        if id_col is None:
            raise ModelError(
                f"model {spec.name!r}: {path} has no id column (one of {', '.join(id_names)})"
            )
        frame = frame.set_index(id_col)
    frame.index = frame.index.astype(str)
    if frame.index.has_duplicates:
        raise ModelError(f"model {spec.name!r}: {path} repeats some ids")
    cols = [c for c in frame.columns if c in _PREDICTION_COLUMNS] or list(frame.columns)
    if len(cols) != 1:
        raise ModelError(
            f"model {spec.name!r}: {path} needs exactly one prediction column besides the ids "
            f"(found {', '.join(map(str, frame.columns[:5]))})"
        )
    try:
        values = frame[cols[0]].astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"model {spec.name!r}: {path}: non-numeric predictions") from exc
    return PredictionsFilePredictor(spec, values)
