"""Real model artifacts of every format, trained on the sandbox's own training data, plus the
independent reference predictions the end-to-end tests compare submissions against."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import joblib
import numpy as np
import pandas as pd

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.config import Settings, load_settings
from numerai_autopilot.data import DataCache, load_frame, read_feature_sets
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

C, S, K = Tournament.CLASSIC, Tournament.SIGNALS, Tournament.CRYPTO


@dataclass
class Entry:
    name: str
    tournament: Tournament
    toml: str
    reference: Callable[[pd.DataFrame, pd.DataFrame | None], pd.Series] | None
    """Predictions computed independently from the artifact (None: checked another way)."""


class Workshop:
    """Trains artifacts against one sandbox into one models dir."""

    def __init__(self, sb: Sandbox, models_dir: Path, cache_dir: Path) -> None:
        self.sb = sb
        self.dir = models_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.client = NumeraiClient(sb.url, sb.public_id, sb.secret_key)
        self.cache = DataCache(cache_dir, self.client)
        self.entries: list[Entry] = []
        rnd = self.client.current_round(C)
        assert rnd is not None
        self.round = rnd.number
        self.fsets = read_feature_sets(self.cache.fetch(C, rnd.number, "v5.2/features.json"))
        self.small = self.fsets["small"]
        train = load_frame(self.cache.fetch(C, rnd.number, "v5.2/train.parquet"))
        self.X, self.y = train[self.small].astype("float32"), train["target"]

    def close(self) -> None:
        self.client.close()

    def model(self, name: str, tournament: Tournament) -> str:
        """Register ``name`` in the sandbox account (if new) and return it."""
        if not any(m["name"] == name for m in self.sb.models):
            self.sb.add_model(name, int(tournament))
        return name

    def add(
        self,
        name: str,
        t: Tournament,
        toml: str,
        ref: Callable[[pd.DataFrame, pd.DataFrame | None], pd.Series] | None,
    ) -> None:
        self.model(name, t)
        body = f'[[model]]\nname = "{name}"\ntournament = "{t.label}"\n' + textwrap.dedent(toml)
        self.entries.append(Entry(name, t, body, ref))

    def write_toml(self) -> None:
        (self.dir / "models.toml").write_text("\n".join(e.toml for e in self.entries))

    # -- formats --------------------------------------------------------------------------

    def lightgbm(self, name: str, *, rename: dict[str, str] | None = None) -> None:
        """A LightGBM text model; ``rename`` trains it under other feature names (to make a
        model that needs a feature the live data lacks)."""
        import lightgbm as lgb

        X = self.X.rename(columns=rename) if rename else self.X
        booster = lgb.train(
            {
                "objective": "regression",
                "verbose": -1,
                "num_leaves": 7,
                "num_threads": 1,
                "seed": 0,
            },
            lgb.Dataset(X, self.y),
            20,
        )
        path = self.dir / f"{name}.txt"
        booster.save_model(str(path))
        feats = list(X.columns)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            b = lgb.Booster(model_file=str(path))
            return pd.Series(b.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def xgboost(self, name: str) -> None:
        import xgboost as xgb

        m = xgb.XGBRegressor(n_estimators=15, max_depth=3, n_jobs=1)
        m.fit(self.X, self.y)
        path = self.dir / f"{name}.json"
        m.get_booster().save_model(str(path))
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            b = xgb.Booster()
            b.load_model(str(path))
            d = xgb.DMatrix(live[feats].astype("float32"), feature_names=feats)
            return pd.Series(b.predict(d), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def catboost(self, name: str) -> None:
        from catboost import CatBoostRegressor

        m = CatBoostRegressor(iterations=20, depth=3, verbose=False, thread_count=1, random_seed=0)
        m.fit(self.X, self.y)
        path = self.dir / f"{name}.cbm"
        m.save_model(str(path))
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            c = CatBoostRegressor()
            c.load_model(str(path))
            return pd.Series(c.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def onnx(self, name: str) -> None:
        import onnxruntime as ort
        from skl2onnx import to_onnx
        from sklearn.linear_model import Ridge

        m = Ridge().fit(self.X.to_numpy(), self.y)
        path = self.dir / f"{name}.onnx"
        path.write_bytes(to_onnx(m, self.X.to_numpy()[:1]).SerializeToString())
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            x = live[feats].to_numpy(dtype=np.float32)
            out = s.run(None, {s.get_inputs()[0].name: x})[0]
            return pd.Series(np.asarray(out).reshape(-1), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nfeatures = "small"\nrank = true\n', ref)

    def sklearn_pickle(self, name: str, *, use_joblib: bool = False) -> None:
        import pickle

        from sklearn.ensemble import HistGradientBoostingRegressor

        m = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(self.X, self.y)
        path = self.dir / (f"{name}.joblib" if use_joblib else f"{name}.pkl")
        if use_joblib:
            joblib.dump(m, path)
        else:
            path.write_bytes(pickle.dumps(m))
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return pd.Series(m.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def function(self, name: str, *, two_params: bool = False) -> None:
        feats = list(self.small)
        if two_params:

            def predict(live: pd.DataFrame, bench: pd.DataFrame) -> pd.DataFrame:
                col = bench.columns[0]
                return bench.loc[live.index, [col]].rename(columns={col: "prediction"})
        else:

            def predict(live: pd.DataFrame) -> pd.DataFrame:  # type: ignore[misc]
                s = live[feats].astype("float32").mean(axis=1)
                return s.rank(pct=True).to_frame("prediction")

        path = self.dir / f"{name}.pkl"
        path.write_bytes(cloudpickle.dumps(predict))

        def ref(live: pd.DataFrame, bench: pd.DataFrame | None) -> pd.Series:
            out = predict(live, bench) if two_params else predict(live)  # type: ignore[call-arg]
            return out["prediction"]

        self.add(name, C, f'artifact = "{path.name}"\n', ref)

    def entrypoint(self, name: str) -> None:
        (self.dir / "my_models.py").write_text(
            textwrap.dedent("""
            def predict(live):
                cols = [c for c in live.columns if c.startswith("feature_")][:5]
                return live[cols].astype("float32").sum(axis=1).rank(pct=True)
        """)
        )

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            cols = [c for c in live.columns if c.startswith("feature_")][:5]
            return live[cols].astype("float32").sum(axis=1).rank(pct=True)

        self.add(name, C, 'entrypoint = "my_models:predict"\n', ref)

    def predictions_file(self, name: str) -> None:
        ids = self.sb.live_ids(int(C))
        preds = pd.Series(np.linspace(0.01, 0.99, len(ids)), index=pd.Index(ids, name="id"))
        preds.rename("prediction").to_frame().to_csv(self.dir / f"{name}.csv")

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return preds.reindex(live.index)

        self.add(name, C, f'artifact = "{name}.csv"\n', ref)

    def blend(self, name: str, parts: dict[str, float]) -> None:
        weights = ", ".join(f"{k} = {v}" for k, v in parts.items())
        self.add(name, C, f"blend = {{ {weights} }}\n", None)

    def signals_joblib(self, name: str) -> None:
        from sklearn.linear_model import Ridge

        rnd = self.client.current_round(S)
        assert rnd is not None
        train = load_frame(self.cache.fetch(S, rnd.number, "signals/v2.1/train.parquet"))
        feats = [c for c in train.columns if c.startswith("feature_")]
        m = Ridge().fit(train[feats].astype("float32"), train["target"])
        joblib.dump(m, self.dir / f"{name}.joblib")

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return pd.Series(m.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, S, f'artifact = "{name}.joblib"\nrank = true\n', ref)

    def crypto_function(self, name: str) -> None:
        def predict(live: pd.DataFrame) -> pd.Series:
            cols = [c for c in live.columns if c.startswith("feature_")]
            return live[cols].astype("float32").mean(axis=1).rank(pct=True)

        (self.dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(predict))

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return predict(live)

        self.add(name, K, f'artifact = "{name}.pkl"\n', ref)


def settings_for(sb: Sandbox, base: Path, **extra: object) -> Settings:
    return load_settings(
        {
            "api_url": sb.url,
            "public_id": sb.public_id,
            "secret_key": sb.secret_key,
            "models_dir": base / "models",
            "data_dir": base / "data",
            "workers": 2,
            "model_timeout": 60,
            **extra,
        },
        environ={},
    )


def env_for(sb: Sandbox, base: Path) -> dict[str, str]:
    """The environment a CLI subprocess gets: everything through NUMERAI_* variables."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMERAI_")}
    env.update(
        NUMERAI_API_URL=sb.url,
        NUMERAI_PUBLIC_ID=sb.public_id,
        NUMERAI_SECRET_KEY=sb.secret_key,
        NUMERAI_MODELS_DIR=str(base / "models"),
        NUMERAI_DATA_DIR=str(base / "data"),
        NUMERAI_LOG_FORMAT="json",
    )
    return env
