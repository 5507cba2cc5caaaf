"""The benchmark's models: trained once on the sandbox's train.parquet, cached, then copied
under N model names into a models dir that the autopilot and both baselines read.

Three artifacts, all on the ``medium`` feature set (780 features) like Numerai's example model:

- ``lgbm``: Numerai's example model (LightGBM, 2,000 trees, learning rate 0.01, depth 5,
  31 leaves, 10% of the columns per tree), saved as LightGBM text;
- ``lgbm_pkl``: the same fitted ``LGBMRegressor``, pickled with joblib (a Model Upload-style
  estimator: the sklearn wrapper's overhead is part of the measure);
- ``xgb``: XGBoost, 1,000 trees, depth 4, saved as XGBoost JSON.

Model i of N uses ``KINDS[i % 3]``. Copies of one trained file under many names are what a
user with many models costs at inference (each copy is loaded and predicted on its own); only
the training is shared, to keep the benchmark's set-up short. ``quick`` trains tiny versions
(100 / 50 trees, on the first 10,000 rows) so that CI finishes in well under a minute.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KINDS = ("lgbm", "lgbm_pkl", "xgb")
FILES = {"lgbm": "model.lgb.txt", "lgbm_pkl": "model.joblib", "xgb": "model.xgb.json"}
FEATURE_SET = "medium"

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
QUICK = {"lgbm": 100, "xgb": 50}
QUICK_ROWS = 10_000


@dataclass(frozen=True)
class Trained:
    """The cached artifacts of one size (full or quick), and what training them took."""

    dir: Path
    features: list[str]
    train_seconds: dict[str, float]

    def path(self, kind: str) -> Path:
        return self.dir / FILES[kind]


def train(train_parquet: Path, features_json: Path, cache: Path, *, quick: bool) -> Trained:
    """Train (or reuse from ``cache``) the three artifacts on ``train_parquet``'s medium set."""
    import pandas as pd

    out = cache / ("models-quick" if quick else "models-full")
    meta_path = out / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return Trained(out, meta["features"], meta["train_seconds"])
    feats: list[str] = json.loads(features_json.read_text())["feature_sets"][FEATURE_SET]
    frame = pd.read_parquet(train_parquet, columns=[*feats, "target"])
    if quick:
        frame = frame.iloc[:QUICK_ROWS]  # CI: seconds, not minutes
    X, y = frame[feats], frame["target"]
    tmp = out.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    seconds = {
        "lgbm": _train_lgbm(X, y, tmp, quick),
        "xgb": _train_xgb(X, y, tmp, quick),
    }
    (tmp / "meta.json").write_text(json.dumps({"features": feats, "train_seconds": seconds}))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return Trained(out, feats, seconds)


def _train_lgbm(X: Any, y: Any, out: Path, quick: bool) -> float:
    import joblib
    import lightgbm as lgb

    params = dict(LGBM_FULL, n_estimators=QUICK["lgbm"]) if quick else dict(LGBM_FULL)
    t0 = time.perf_counter()
    model = lgb.LGBMRegressor(**params, random_state=0, verbose=-1)
    model.fit(X, y)
    seconds = time.perf_counter() - t0
    model.booster_.save_model(str(out / FILES["lgbm"]))
    joblib.dump(model, out / FILES["lgbm_pkl"])
    log.info("trained LightGBM (%d trees) in %.1f s", params["n_estimators"], seconds)
    return seconds


def _train_xgb(X: Any, y: Any, out: Path, quick: bool) -> float:
    import xgboost as xgb

    params = dict(XGB_FULL, n_estimators=QUICK["xgb"]) if quick else dict(XGB_FULL)
    t0 = time.perf_counter()
    model = xgb.XGBRegressor(**params, random_state=0)
    model.fit(X, y)
    seconds = time.perf_counter() - t0
    model.get_booster().save_model(str(out / FILES["xgb"]))
    log.info("trained XGBoost (%d trees) in %.1f s", params["n_estimators"], seconds)
    return seconds


@dataclass(frozen=True)
class ModelsDir:
    """A models dir of N models: models.toml for the autopilot, seed.json for the baselines."""

    dir: Path
    names: list[str]
    kinds: dict[str, str]
    artifact_bytes: dict[str, int]


def model_names(n: int) -> list[str]:
    return [f"bench_{i:03d}" for i in range(n)]


def build_models_dir(trained: Trained, n: int, target: Path) -> ModelsDir:
    """Copy the artifacts under ``n`` model names into ``target`` (replacing it)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    names = model_names(n)
    kinds = {name: KINDS[i % len(KINDS)] for i, name in enumerate(names)}
    toml, sizes = [], {}
    for name, kind in kinds.items():
        artifact = f"{name}/{FILES[kind]}"
        (target / name).mkdir()
        shutil.copyfile(trained.path(kind), target / artifact)
        sizes[name] = (target / artifact).stat().st_size
        toml.append(f'[[model]]\nname = "{name}"\nartifact = "{artifact}"\n')
    (target / "models.toml").write_text('[defaults]\ntournament = "classic"\n\n' + "\n".join(toml))
    # The seed script keeps its feature list next to the models (featuresFilePath in the post)
    # and knows each model's file and kind by heart; here they come from one small file.
    (target / "features.json").write_text(json.dumps(trained.features))
    seed = {
        name: {"artifact": f"{name}/{FILES[kind]}", "kind": kind} for name, kind in kinds.items()
    }
    (target / "seed_models.json").write_text(json.dumps(seed, indent=1))
    return ModelsDir(target, names, kinds, sizes)
