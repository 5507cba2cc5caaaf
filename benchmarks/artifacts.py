"""The benchmark's models: distinct models, each trained with its own seed, cached on disk.

Every model of a benchmark of N is a different model (issue 11: copies of one artifact under
N names share OS pages, file caches and compiled entries, which flatters the tool): model *i*
is trained with seed *i*, which sets LightGBM's bagging and feature-fraction seeds (XGBoost's
``random_state``), picks its own slice of the training rows and adds its own noise to the
target. The shape is Numerai's example model (``LGBM_FULL``: 2,000 trees, 31 leaves, depth 5,
learning rate 0.01, 10% of the 780 ``medium`` features per tree), trained on a few thousand rows
with one thread (6-8 s of CPU each), so the trees are as deep and as many as the example
model's and predicting costs what it costs.

Two model sets are built from them:

- ``lgbm``: N LightGBM text models (seeds 0..N-1);
- ``mix``: model *i* is LightGBM text, the same regressor pickled with joblib, or XGBoost JSON
  (``MIX_KINDS[i % 3]``), each with seed *i*.

The cache lives outside the repository (``~/.cache/numerai-autopilot-bench`` unless told) under
a key made of every parameter that changes a model (the training file's identity, rows, noise,
library versions, model parameters), so a change of any of them trains again.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FEATURE_SET = "medium"
FILES = {"lgbm": "model.lgb.txt", "lgbm_pkl": "model.joblib", "xgb": "model.xgb.json"}
MIX_KINDS = ("lgbm", "lgbm_pkl", "xgb")

# Numerai's example model (example_model.ipynb): LGBMRegressor with these parameters.
LGBM_FULL: dict[str, Any] = {
    "n_estimators": 2000,
    "learning_rate": 0.01,
    "max_depth": 5,
    "num_leaves": 2**5 - 1,
    "colsample_bytree": 0.1,
}
XGB_FULL: dict[str, Any] = {
    "n_estimators": 1000,
    "learning_rate": 0.02,
    "max_depth": 4,
    "colsample_bytree": 0.1,
    "tree_method": "hist",
}


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained model, except its seed."""

    lgbm: dict[str, Any]
    xgb: dict[str, Any]
    rows: int = 4000
    noise: float = 0.05
    """Standard deviation of the seeded noise added to the target."""

    @staticmethod
    def full() -> Recipe:
        return Recipe(dict(LGBM_FULL), dict(XGB_FULL))

    @staticmethod
    def quick() -> Recipe:
        """Small models for ``--quick``: the same shape with few trees."""
        return Recipe(dict(LGBM_FULL, n_estimators=30), dict(XGB_FULL, n_estimators=20), rows=2000)

    def key(self, train_id: str) -> str:
        import lightgbm
        import xgboost

        doc = {
            "train": train_id,
            "lgbm": self.lgbm,
            "xgb": self.xgb,
            "rows": self.rows,
            "noise": self.noise,
            "features": FEATURE_SET,
            "versions": [lightgbm.__version__, xgboost.__version__],
        }
        text = json.dumps(doc, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Trained:
    """The cached models of one recipe: ``path(kind, seed)``, and what training took."""

    dir: Path
    features: list[str]
    seconds: dict[str, float]
    """CPU seconds of training, per "kind-seed" (measured when trained; cached with them)."""

    def path(self, kind: str, seed: int) -> Path:
        model = "xgb" if kind == "xgb" else "lgbm"
        return self.dir / f"{model}-{seed:03d}" / FILES[kind]


def train_all(
    train_parquet: Path,
    features_json: Path,
    cache: Path,
    recipe: Recipe,
    *,
    lgbm_seeds: int,
    xgb_seeds: list[int],
    workers: int,
) -> Trained:
    """Train what the cache lacks (``workers`` processes of one thread each); return them."""
    features: list[str] = json.loads(features_json.read_text())["feature_sets"][FEATURE_SET]
    train_id = f"{train_parquet.parent.parent.parent.name}/{train_parquet.stat().st_size}"
    out = cache / f"models-{recipe.key(train_id)}"
    out.mkdir(parents=True, exist_ok=True)
    jobs = [("lgbm", s) for s in range(lgbm_seeds)] + [("xgb", s) for s in xgb_seeds]
    todo = [(m, s) for m, s in jobs if not (out / f"{m}-{s:03d}" / "done.json").exists()]
    if todo:
        t0 = time.perf_counter()
        ctx = multiprocessing.get_context("spawn")  # the driver has threads: never fork it
        with concurrent.futures.ProcessPoolExecutor(max(1, workers), mp_context=ctx) as pool:
            futures = [
                pool.submit(
                    _train_one,
                    m,
                    s,
                    train_parquet=train_parquet,
                    features=features,
                    recipe=recipe,
                    out=out,
                )
                for m, s in todo
            ]
            for f in concurrent.futures.as_completed(futures):
                f.result()
        log.info("trained %d models in %.1f s", len(todo), time.perf_counter() - t0)
    seconds = {}
    for m, s in jobs:
        seconds[f"{m}-{s:03d}"] = json.loads((out / f"{m}-{s:03d}" / "done.json").read_text())[
            "cpu_seconds"
        ]
    return Trained(out, features, seconds)


def _train_one(
    model: str, seed: int, *, train_parquet: Path, features: list[str], recipe: Recipe, out: Path
) -> None:
    """Train one model with ``seed`` and write it atomically into ``out/<model>-<seed>``."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(train_parquet, columns=[*features, "target"])
    # Each seed its own rows (a window moved by the seed) and its own target noise.
    start = (seed * 997) % max(1, len(frame) - recipe.rows)
    rows = frame.iloc[start : start + recipe.rows]
    rng = np.random.default_rng(10_000 + seed)
    y = (rows["target"] + rng.normal(0.0, recipe.noise, len(rows))).clip(0, 1)
    x = rows[features]
    tmp = out / f".{model}-{seed:03d}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    if model == "lgbm":
        import joblib
        import lightgbm as lgb

        c0 = time.process_time()
        reg = lgb.LGBMRegressor(**recipe.lgbm, random_state=seed, n_jobs=1, verbose=-1)
        reg.fit(x, y)
        reg.booster_.save_model(str(tmp / FILES["lgbm"]))
        joblib.dump(reg, tmp / FILES["lgbm_pkl"])
    else:
        import xgboost as xgb

        c0 = time.process_time()
        xreg = xgb.XGBRegressor(**recipe.xgb, random_state=seed, n_jobs=1)
        xreg.fit(x, y)
        xreg.get_booster().save_model(str(tmp / FILES["xgb"]))
    done = {"cpu_seconds": round(time.process_time() - c0, 3), "rows": [start, len(rows)]}
    (tmp / "done.json").write_text(json.dumps(done))
    final = out / f"{model}-{seed:03d}"
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
