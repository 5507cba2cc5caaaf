"""Shared helpers of the loaders: optional libraries, thread counts, and turning whatever a
model returned into one float64 Series indexed exactly like the live frame."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingExtraError, ModelError
from .formats import extra_for_library

_PREDICTION_COLUMNS = ("prediction", "signal", "probability")


def require(module: str, model: str) -> ModuleType:
    """Import a model library, or raise MissingExtraError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(module, model) from exc


def missing_extra(module: str, model: str) -> MissingExtraError:
    """The error for a model whose library ``module`` is not installed."""
    top = module.split(".", maxsplit=1)[0]
    extra = extra_for_library(top)
    fix = (
        f"pip install 'numerai-autopilot[{extra}]'"
        if extra
        else f"install {top} into the autopilot's environment"
    )
    return MissingExtraError(f"model {model!r} needs the Python package {top}: {fix}")


def threads() -> int:
    """Threads one model may use: OMP_NUM_THREADS as the worker set it, else 0 (library default)."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


def to_series(raw: Any, index: pd.Index, model: str) -> pd.Series:
    """Coerce a model's output to float64 values indexed exactly like ``index``.

    Accepts a Series or a one-column DataFrame (aligned by id when indexed by the live ids,
    by position when it has a plain RangeIndex), or an array of shape (n,), (n, 1) or (n, 2)
    (probabilities: the second column). Raises ModelError on wrong length, unknown ids,
    non-numeric or non-finite values.
    """
    if isinstance(raw, pd.DataFrame):
        if index.name is not None and index.name in raw.columns:
            raw = raw.set_index(index.name)  # ids returned as a column: align by them
        raw = _one_column(raw, model)
    if isinstance(raw, pd.Series):
        values = _align(raw, index, model)
    else:
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelError(
                f"model {model!r} returned {type(raw).__name__}, not numbers: {exc}"
            ) from exc
        if arr.ndim == 2 and arr.shape[1] in (1, 2):
            arr = arr[:, -1]
        if arr.ndim != 1:
            raise ModelError(
                f"model {model!r} returned an array of shape {arr.shape}; "
                "one prediction per live row is needed"
            )
        values = arr
    if len(values) != len(index):
        raise ModelError(
            f"model {model!r} returned {len(values)} predictions for {len(index)} live rows"
        )
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ModelError(
            f"model {model!r} returned {bad} NaN or infinite predictions of {len(values)}"
        )
    return pd.Series(values, index=index, dtype=np.float64, name="prediction")


def model_upload_refusal(raw: Any, live_index: pd.Index) -> str | None:
    """Why Numerai would refuse ``raw``, a Model Upload function's output, or None.

    First its runner's checks (numerai-predict: exactly a ``pd.DataFrame``, not empty, no NaN
    in any column, the first column within [0, 1]), then its backend's, on the CSV the runner
    writes (index and every column): a submission is exactly ``id,prediction`` (or
    ``probability``) with every live id once.
    """
    if raw is None:
        return "returns None"
    if type(raw) is not pd.DataFrame:
        kind = "numpy ndarray" if isinstance(raw, np.ndarray) else type(raw).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return f"returns {article} {kind}, not a pandas DataFrame"
    if len(raw) == 0:
        return "returns no rows"
    nan = [str(c) for c in raw.columns if raw[c].isna().any()]
    if nan:
        return f"returns NaN in column {nan[0]!r}"
    first = raw.iloc[:, 0] if raw.shape[1] else None
    if first is None:
        return "returns a DataFrame without columns"
    try:
        inside = bool(first.between(0, 1).all())
    except TypeError:  # the runner's between() raises on text, and refuses the pickle
        return f"its first column {str(raw.columns[0])!r} is not numbers"
    if not inside:
        return f"its first column {str(raw.columns[0])!r} has values outside [0, 1]"
    if raw.shape[1] > 1:
        names = ", ".join(repr(str(c)) for c in raw.columns[:5])
        return (
            f"returns {raw.shape[1]} columns ({names}): the CSV Numerai writes would not be "
            "a submission of exactly id and prediction"
        )
    if str(raw.columns[0]) not in ("prediction", "probability"):
        return f"its column is named {str(raw.columns[0])!r}, not 'prediction'"
    # The tournament's id column: id (Classic), numerai_ticker (Signals), symbol (Crypto).
    key = live_index.name or "id"
    if raw.index.name != key:
        return f"its index is not named {key!r}: the CSV Numerai writes would have no {key} column"
    if raw.index.has_duplicates:
        return "returns duplicate ids"
    missing = len(live_index.difference(raw.index))
    unknown = len(raw.index.difference(live_index))
    if missing or unknown:
        return f"its ids are not the live ids ({missing} missing, {unknown} unknown)"
    return None


def _one_column(frame: pd.DataFrame, model: str) -> pd.Series:
    if frame.shape[1] == 1:
        return frame.iloc[:, 0]
    named = [c for c in _PREDICTION_COLUMNS if c in frame.columns]
    if named:
        return frame[named[0]]
    raise ModelError(
        f"model {model!r} returned a DataFrame with {frame.shape[1]} columns "
        f"({', '.join(map(str, frame.columns[:5]))}); return one prediction column"
    )


def _align(series: pd.Series, index: pd.Index, model: str) -> np.ndarray[Any, np.dtype[Any]]:
    try:
        s = series.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"model {model!r} returned non-numeric predictions: {exc}") from exc
    if s.index.equals(index):
        return s.to_numpy()
    if isinstance(s.index, pd.RangeIndex) and not isinstance(index, pd.RangeIndex):
        return s.to_numpy()  # positional output (e.g. pd.Series(model.predict(x)))
    if s.index.has_duplicates:
        raise ModelError(f"model {model!r} returned duplicate ids")
    unknown = s.index.difference(index)
    missing = index.difference(s.index)
    if len(unknown) or len(missing):
        raise ModelError(
            f"model {model!r} returned {len(s)} predictions for {len(index)} live rows: "
            f"{len(missing)} live ids missing, {len(unknown)} unknown ids"
        )
    return s.reindex(index).to_numpy()
