"""Pure inference cost of one model: CPU seconds of ``predict`` alone, one thread, in this
process, on the live frame already loaded (no process start, import, I/O or model load).

This is the compute part of the lower bound: no tool predicts N such models for less than N
times this, spread over the cores. It is measured with the library (LightGBM, XGBoost, the
joblib pickle) and with the fastest *correct* engine the autopilot has prepared for the model
(the compiled cache after ``models prepare``): an engine counts only if it agrees with LightGBM
on the whole live frame (max difference under 1e-9, no rank change).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .artifacts import Trained

TOLERANCE = 1e-9


def _cpu(predict: Callable[[Any], Any], x: Any, repeats: int) -> float:
    predict(x[:100])  # warm caches and lazy initialisation
    samples = []
    for _ in range(repeats):
        c0 = time.process_time()
        predict(x)
        samples.append(time.process_time() - c0)
    return statistics.median(samples)


def _library(kind: str, path: Path) -> Callable[[Any], Any]:
    if kind == "lgbm":
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
        return lambda x: booster.predict(x, num_threads=1)
    if kind == "xgb":
        import xgboost as xgb

        xb = xgb.Booster()
        xb.load_model(str(path))
        xb.set_param({"nthread": 1})
        return lambda x: xb.predict(xgb.DMatrix(x, nthread=1))
    import joblib

    model = joblib.load(path)
    return lambda x: model.predict(x, n_jobs=1)


def library_cpu(
    trained: Trained, seeds: dict[str, int], live: Path, repeats: int = 3
) -> dict[str, float]:
    """Median CPU seconds of one prediction, per kind, of the model of that kind and seed."""
    import pandas as pd

    x = pd.read_parquet(live, columns=trained.features)
    return {k: _cpu(_library(k, trained.path(k, s)), x, repeats) for k, s in seeds.items()}


def engine_cpu(
    trained: Trained, compiled_dir: Path, live: Path, repeats: int = 3
) -> dict[str, Any]:
    """The prepared engine of the seed-0 LightGBM model: its name, predict CPU (one thread)
    and agreement with LightGBM on the live rows; ``available`` False when none is ready."""
    import pandas as pd

    from numerai_autopilot.compiled import CompiledStore, open_verified
    from numerai_autopilot.fileio import sha256_file

    path = trained.path("lgbm", 0)
    forest, why = open_verified(CompiledStore(compiled_dir), sha256_file(path))
    if forest is None:
        return {"available": False, "why": why or "no prepared entry for the model"}
    frame = pd.read_parquet(live, columns=trained.features)
    x = frame[list(forest.features)].to_numpy(dtype=np.float64)
    got = np.asarray(forest.predict(x))
    lgb_predict = _library("lgbm", path)
    want = np.asarray(lgb_predict(frame))
    max_diff = float(np.max(np.abs(got - want))) if len(want) else 0.0
    rank_changes = _rank_changes(got, want)
    return {
        "available": True,
        "name": f"{type(forest).__module__}.{type(forest).__name__}",
        "cpu": _cpu(forest.predict, x, repeats),
        "max_diff": max_diff,
        "rank_changes": rank_changes,
        "rows": len(want),
        "correct": max_diff < TOLERANCE and rank_changes == 0,
    }


def _rank_changes(got: np.ndarray[Any, Any], want: np.ndarray[Any, Any]) -> int:
    """Rows whose rank differs (ties kept as ties: values rounded to 1e-12 first, as trees
    give many equal predictions that a last-digit difference must not reorder)."""
    import pandas as pd

    a = pd.Series(np.round(got, 12)).rank(method="average")
    b = pd.Series(np.round(want, 12)).rank(method="average")
    return int((a != b).sum())
