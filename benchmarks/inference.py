"""Pure inference cost of each artifact: CPU seconds of ``predict`` alone, one thread, in this
process, on the live frame already loaded (no process start, no import, no I/O, no model load).
This is the compute part of the lower bound: no tool can predict N models for less."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from .artifacts import KINDS, Trained


def _predictor(kind: str, path: Path) -> Any:
    if kind == "lgbm":
        import lightgbm as lgb

        booster = lgb.Booster(model_file=str(path))
        return lambda X: booster.predict(X, num_threads=1)
    if kind == "xgb":
        import xgboost as xgb

        xb = xgb.Booster()
        xb.load_model(str(path))
        xb.set_param({"nthread": 1})
        return lambda X: xb.predict(xgb.DMatrix(X, nthread=1))
    import joblib

    model = joblib.load(path)
    return lambda X: model.predict(X, n_jobs=1) if kind == "lgbm_pkl" else model.predict(X)


def pure_inference(trained: Trained, live_parquet: Path, repeats: int = 3) -> dict[str, float]:
    """Median CPU seconds of one prediction over the live rows, per artifact kind."""
    import pandas as pd

    X = pd.read_parquet(live_parquet, columns=trained.features)
    out: dict[str, float] = {}
    for kind in KINDS:
        predict = _predictor(kind, trained.path(kind))
        predict(X.iloc[:100])  # warm caches and lazy initialisation
        samples = []
        for _ in range(repeats):
            c0 = time.process_time()
            predict(X)
            samples.append(time.process_time() - c0)
        out[kind] = statistics.median(samples)
    return out
