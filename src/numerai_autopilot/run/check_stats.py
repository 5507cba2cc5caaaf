"""What ``models check`` says about each model's predictions: rows, mean, std, and the rank
correlation with the data version's example predictions (``live_example_preds``): a model far
from the example is not wrong, but a sign flip or a shuffled id shows up here at once."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..fileio import write_atomic

EXAMPLE_FILE = "live_example_preds.parquet"


def describe(sub: pd.DataFrame, example: pd.Series | None) -> dict[str, float | int | None]:
    """Stats of a submission frame (``[id column, prediction column]``): ``rows``, ``mean``,
    ``std`` and ``corr_example`` (Spearman, over the ids both have; None without example)."""
    ids, values = sub.iloc[:, 0], sub.iloc[:, 1].astype("float64")
    corr: float | None = None
    if example is not None:
        mine = pd.Series(values.to_numpy(), index=ids.to_numpy())
        both = pd.concat([mine, example.astype("float64")], axis=1, join="inner").dropna()
        if len(both) >= 2:
            value = float(both.iloc[:, 0].rank().corr(both.iloc[:, 1].rank()))
            corr = round(value, 4) if math.isfinite(value) else None
    return {
        "rows": len(sub),
        "mean": round(float(values.mean()), 4),
        "std": round(float(values.std()), 4),
        "corr_example": corr,
    }


def example_predictions(frame: pd.DataFrame) -> pd.Series:
    """The example predictions file's values, by id (its one numeric column)."""
    numeric = frame.select_dtypes("number")
    return numeric.iloc[:, 0] if len(numeric.columns) else pd.Series(dtype="float64")


def keep_csv(out_dir: Path, model: str, data: bytes) -> Path:
    """Write a checked model's submission CSV into ``out_dir`` atomically (never a partial)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{model}.csv"
    write_atomic(path, data)
    return path
